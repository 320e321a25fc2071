using FlatMinima.Cli.Infrastructure;
using FlatMinima.Losses;
using FlatMinima.Replica;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima erm</c>: the replica (saddle-point) prediction for ERM, SPEC §4.1.</summary>
public sealed class ErmCommand : ICommand
{
    public string Name => "erm";
    public string Summary => "replica fixed point of ERM (N -> infinity): errors, training loss, m, q, V, bias";
    public string Usage =>
        "usage: flatminima erm --loss square|logistic|hinge --alpha A --delta D --lambda L [--rho R] [--json]\n\n" +
        "  --loss NAME      square, logistic or hinge\n" +
        CommonOptions.MixtureUsage +
        "  --lambda L       ridge strength lambda > 0 (the bias is not penalised)\n" +
        ReplicaOptions.SolverUsage +
        "  --json           print one JSON object\n";

    public int Run(Args a, CommandContext ctx)
    {
        var problem = ReplicaOptions.Problem(a);
        var options = ReplicaOptions.Solver(a);
        bool json = a.Flag("json");
        a.EnsureAllUsed();
        var fp = new ErmSaddlePoint(problem, options).TrySolve();
        if (!fp.Converged)
        {
            ctx.Err.WriteLine($"flatminima erm: error: saddle point did not converge ({fp.Reason}) after {fp.Iterations} iterations; " +
                              $"last residuals {string.Join(", ", fp.ResidualHistory.TakeLast(3).Select(r => r.ToString("G3")))}.");
            if (json) Output.WriteJson(ctx.Out, ReplicaOptions.Row(fp));
            return 1;
        }
        if (json) { Output.WriteJson(ctx.Out, ReplicaOptions.Row(fp)); return 0; }
        ctx.Out.WriteLine($"ERM replica fixed point: {problem}");
        ctx.Out.Write(Output.Table(["quantity", "value"], ReplicaOptions.Row(fp)
            .Where(kv => kv.Value is double or int or bool)
            .Select(kv => (IReadOnlyList<string>)[kv.Key, kv.Value is double d ? Output.Num(d, "G6") : kv.Value is bool b ? (b ? "true" : "false") : kv.Value!.ToString()!])));
        return 0;
    }
}

/// <summary>Options shared by the replica commands.</summary>
internal static class ReplicaOptions
{
    public const string SolverUsage =
        "  --damping D      weight of the old iterate in [0,1) (default 0.3)\n" +
        "  --tolerance T    residual tolerance (default 1e-11)\n" +
        "  --max-iterations K  iteration cap (default 5000)\n";

    public static IMarginLoss Loss(Args a) => MarginLosses.Parse(a.Choice("loss", MarginLosses.Names));

    public static ErmProblem Problem(Args a) =>
        new(Loss(a), a.Double("alpha"), a.Double("delta"), a.Double("lambda"), a.Double("rho", 0.5));

    public static ErmSaddlePointOptions Solver(Args a)
    {
        var d = SaddlePointOptions.Default;
        var s = new SaddlePointOptions(
            Damping: a.Double("damping", d.Damping),
            Tolerance: a.Double("tolerance", d.Tolerance),
            MaxIterations: a.Int("max-iterations", d.MaxIterations));
        try { s.Validate(); }
        catch (ArgumentOutOfRangeException e) { throw new UsageException(e.Message.Split(" (Parameter")[0]); }
        return new ErmSaddlePointOptions(s);
    }

    /// <summary>The snake_case result row of a fixed point.</summary>
    public static Dictionary<string, object?> Row(ErmFixedPoint fp) => new()
    {
        ["loss"] = fp.Problem.Loss.Name,
        ["alpha"] = fp.Problem.Alpha, ["delta"] = fp.Problem.Delta, ["lambda"] = fp.Problem.Lambda, ["rho"] = fp.Problem.Rho,
        ["test_error"] = fp.TestError, ["train_error"] = fp.TrainError, ["train_loss"] = fp.TrainLoss,
        ["m"] = fp.M, ["q"] = fp.Q, ["v"] = fp.V, ["bias"] = fp.Bias,
        ["m_hat"] = fp.MHat, ["q_hat"] = fp.QHat, ["v_hat"] = fp.VHat,
        ["iterations"] = fp.Iterations, ["converged"] = fp.Converged,
    };
}
