using FlatMinima.Cli.Infrastructure;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Penalties;
using FlatMinima.Replica;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima erm</c>: the replica (saddle-point) prediction for ERM, docs/theory.md#erm-saddle-point.</summary>
public sealed class ErmCommand : ICommand
{
    public string Name => "erm";
    public string Summary => "replica fixed point of ERM (N -> infinity): errors, training loss, m, q, V, bias";
    public string Usage =>
        "usage: flatminima erm --loss square|logistic|hinge --alpha A --delta D (--lambda L | --penalty sphere --norm Q)\n" +
        "                      [--penalty ridge|sphere|l1] [--rho R] [--json]\n\n" +
        "  --loss NAME      square, logistic or hinge\n" +
        CommonOptions.MixtureUsage +
        ReplicaOptions.PenaltyUsage +
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
        "  --damping D      weight of the old iterate in [0,1) (default 0; Anderson-accelerated)\n" +
        "  --tolerance T    residual tolerance (default 1e-11)\n" +
        "  --max-iterations K  cap on the evaluations of the fixed-point map in one solve, Newton and continuation included;\n                      'iterations' in the output counts them (default 5000)\n";

    public static IMarginLoss Loss(Args a) => MarginLosses.Parse(a.Choice("loss", MarginLosses.Names));

    public const string PenaltyUsage =
        "  --lambda L       ridge (or L1) strength lambda > 0 (the bias is not penalised)\n" +
        "  --penalty P      ridge (default), sphere (fixed norm |w|^2 = N Q) or l1\n" +
        "  --norm Q         squared norm per component Q > 0, for --penalty sphere\n" +
        "  --no-bias        fix the bias at 0 (default: learned, unpenalised)\n";

    public static ErmProblem Problem(Args a)
    {
        var p = ProblemWithBias(a);
        return a.Flag("no-bias") ? p with { LearnBias = false } : p;
    }

    private static ErmProblem ProblemWithBias(Args a)
    {
        var loss = Loss(a);
        string pen = a.Choice("penalty", WeightPenalties.Names, "ridge");
        double alpha = a.Double("alpha"), delta = a.Double("delta");
        // the penalty's rules (ridge and l1 take --lambda, sphere takes --norm) live in Core
        var penalty = WeightPenalties.FromParameters(pen, a.OptionalDouble("lambda"), a.OptionalDouble("norm"));
        return new(loss, new MixtureModel(alpha, delta, a.Double("rho", 0.5)), penalty);
    }

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
    public static Dictionary<string, object?> Row(ErmFixedPoint fp) => new Dictionary<string, object?>
    {
        ["loss"] = fp.Problem.Loss.Name,
        ["alpha"] = fp.Problem.Alpha, ["delta"] = fp.Problem.Delta, ["lambda"] = fp.Problem.Lambda, ["rho"] = fp.Problem.Rho,
        ["test_error"] = fp.TestError, ["train_error"] = fp.TrainError, ["train_loss"] = fp.TrainLoss,
        ["m"] = fp.M, ["q"] = fp.Q, ["v"] = fp.V, ["bias"] = fp.Bias,
        ["m_hat"] = fp.MHat, ["q_hat"] = fp.QHat, ["v_hat"] = fp.VHat,
        ["iterations"] = fp.Iterations, ["converged"] = fp.Converged,
    }.WithPenalty(fp);

    private static Dictionary<string, object?> WithPenalty(this Dictionary<string, object?> row, ErmFixedPoint fp)
    {
        if (!fp.Problem.LearnBias) row["learn_bias"] = false;
        var penalty = fp.Problem.Penalty;
        if (penalty.Name == "ridge") return row; // the default --penalty: lambda says it all
        row["penalty"] = penalty.Name;
        if (penalty.Norm is { } norm) { row["norm"] = norm; row["lambda"] = null; }
        row["multiplier"] = fp.Multiplier;
        return row;
    }
}
