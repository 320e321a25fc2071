using FlatMinima.Storage;
using System.Globalization;
using System.Text;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Mixture;
using FlatMinima.Replica;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima curve</c>: a warm-started learning curve from the ERM saddle point.</summary>
public sealed class CurveCommand : ICommand
{
    public string Name => "curve";
    public string Summary => "replica learning curve over alpha or lambda (warm-started sweep), CSV or JSON";
    public string Usage =>
        "usage: flatminima curve --loss square|logistic|hinge --over alpha|lambda --from X --to Y --points K [--log]\n" +
        "                        --delta D [--alpha A | --lambda L] [--rho R] [--out FILE.csv] [--json]\n\n" +
        "  --over V         sweep variable: alpha (then --lambda is required) or lambda (then --alpha is required)\n" +
        "  --from X --to Y  ends of the sweep (both > 0)\n" +
        "  --points K       number of points, 1 <= K <= 100000 (a longer curve: several ranges)\n" +
        "  --log            logarithmic grid (default linear)\n" +
        "  --delta D        noise variance Delta > 0\n" +
        "  --rho R          fraction of the +1 cluster, in (0,1) (default 0.5)\n" +
        ReplicaOptions.SolverUsage +
        "  --out FILE.csv   write the table as CSV (atomically)\n" +
        "  --json           print one JSON object with a 'points' array\n";

    private static readonly string[] Columns =
        ["alpha", "lambda", "test_error", "train_error", "train_loss", "m", "q", "v", "bias", "iterations", "converged"];

    public int Run(Args a, CommandContext ctx)
    {
        var loss = ReplicaOptions.Loss(a);
        string over = a.Choice("over", ["alpha", "lambda"]);
        double from = a.Double("from"), to = a.Double("to");
        int points = a.Int("points");
        if (points < 1 || points > LearningCurve.MaxPoints)
            throw new UsageException($"--points must be an integer in [1, {LearningCurve.MaxPoints}] (got {points}); split a longer curve into several --from/--to ranges.");
        bool log = a.Flag("log");
        if (!(from > 0)) throw new UsageException($"--from must be > 0 (got {from.ToString(CultureInfo.InvariantCulture)}).");
        if (!(to > 0)) throw new UsageException($"--to must be > 0 (got {to.ToString(CultureInfo.InvariantCulture)}).");
        double delta = a.Double("delta"), rho = a.Double("rho", 0.5);
        double alpha = over == "lambda" ? a.Double("alpha") : from;
        double lambda = over == "alpha" ? a.Double("lambda") : from;
        var options = ReplicaOptions.Solver(a);
        string? outFile = a.OptionalString("out");
        bool json = a.Flag("json");
        a.EnsureAllUsed();

        var problem = new ErmProblem(loss, new MixtureModel(alpha, delta, rho), lambda);
        var grid = LearningCurve.Grid(from, to, points, log);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<ErmFixedPoint> curve;
        using (var progress = new Progress(ctx, $"curve {loss.Name} over {over}", points))
            curve = LearningCurve.Sweep(problem, over == "alpha" ? SweepVariable.Alpha : SweepVariable.Lambda, grid, options,
                onPoint: (_, _) => progress.Tick());
        clock.Stop();
        var rows = curve.Select(Row).ToList();
        int failed = curve.Count(f => !f.Converged);
        if (json)
        {
            Output.WriteJson(ctx.Out, new Dictionary<string, object?>
            {
                ["loss"] = loss.Name, ["over"] = over, ["delta"] = delta, ["rho"] = rho,
                ["seconds"] = clock.Elapsed.TotalSeconds, ["not_converged"] = failed, ["points"] = rows,
            });
        }
        else
        {
            ctx.Out.WriteLine($"{loss.Name} learning curve over {over}, {points} points, Delta = {delta:G6}, rho = {rho:G6} ({clock.Elapsed.TotalSeconds:F3} s)");
            ctx.Out.Write(Output.Table(Columns, rows.Select(r => (IReadOnlyList<string>)Columns.Select(c => Cell(r[c])).ToList())));
        }
        if (failed > 0) ctx.Err.WriteLine($"flatminima curve: warning: {failed} of {points} points did not converge (converged = false).");
        // The results are printed before the optional file is written, so a write that fails loses nothing.
        if (outFile is not null)
        {
            AtomicFile.CleanOrphans(Path.GetDirectoryName(Path.GetFullPath(outFile))!, Path.GetFileName(outFile));
            AtomicFile.WriteAllText(outFile, Csv(rows));
            if (!json) ctx.Out.WriteLine($"written to {outFile}");
        }
        return 0;
    }

    private static Dictionary<string, object?> Row(ErmFixedPoint fp) => new()
    {
        ["alpha"] = fp.Problem.Alpha, ["lambda"] = fp.Problem.Lambda,
        ["test_error"] = fp.TestError, ["train_error"] = fp.TrainError, ["train_loss"] = fp.TrainLoss,
        ["m"] = fp.M, ["q"] = fp.Q, ["v"] = fp.V, ["bias"] = fp.Bias,
        ["iterations"] = fp.Iterations, ["converged"] = fp.Converged,
    };

    private static string Cell(object? v) => v switch
    {
        double d => Output.Num(d, "G6"),
        bool b => b ? "true" : "false",
        _ => v?.ToString() ?? "",
    };

    private static string Csv(List<Dictionary<string, object?>> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(",", Columns));
        foreach (var r in rows)
            sb.AppendLine(string.Join(",", Columns.Select(c => r[c] switch
            {
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                bool b => b ? "true" : "false",
                var o => Convert.ToString(o, CultureInfo.InvariantCulture),
            })));
        return sb.ToString();
    }
}
