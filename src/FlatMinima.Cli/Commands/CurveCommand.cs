using System.CommandLine;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Replica;
using FlatMinima.Storage;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima curve</c>: a warm-started learning curve from the ERM saddle point.</summary>
public sealed class CurveCommand : CliCommand
{
    private readonly Option<string> _loss = CommonOptions.Loss();
    private readonly Option<string> _over = Opt.Choice("--over", "sweep variable: alpha (then --lambda is required) or lambda (then --alpha is required)", ["alpha", "lambda"]);
    private readonly Option<double> _from = Opt.Real("--from", "X", "first point of the sweep", range: "(0, inf)");
    private readonly Option<double> _to = Opt.Real("--to", "Y", "last point of the sweep", range: "(0, inf)");
    private readonly Option<int> _points = Opt.Int("--points", "K", "number of points (a longer curve: several --from/--to ranges)", range: $"[1, {LearningCurve.MaxPoints}]");
    private readonly Option<bool> _log = Opt.Flag("--log", "logarithmic grid (by default linear)");
    private readonly ModelOptions _model = new();
    private readonly Option<double?> _alpha = Opt.OptionalReal("--alpha", "A", "sample ratio α = P/N, with --over lambda", "none (required with --over lambda)", "(0, inf)");
    private readonly Option<double?> _lambda = Opt.OptionalReal("--lambda", "L", "ridge strength λ, with --over alpha", "none (required with --over alpha)", "(0, inf)");
    private readonly ReplicaOptions.Solver _solver = new();
    private readonly Option<string?> _out = Opt.Text("--out", "FILE.csv", "write the table as CSV (atomically)", defaultText: "none");
    private readonly Option<bool> _json = CommonOptions.Json("print one JSON object with a 'points' array");

    public CurveCommand() : base("curve", "replica learning curve over alpha or lambda (warm-started sweep), CSV or JSON")
    {
        Add(_loss, _over, _from, _to, _points, _log, _model.Delta, _alpha, _lambda, _model.Rho);
        Add(_solver.All);
        Add(_out, _json);
    }

    public override IReadOnlyList<string> Usage =>
    [
        "--loss square|logistic|hinge --over alpha --from X --to Y --points K [--log] --delta D --lambda L [--rho R] [--out FILE.csv] [--json]",
        "--loss square|logistic|hinge --over lambda --from X --to Y --points K [--log] --delta D --alpha A [--rho R] [--out FILE.csv] [--json]",
    ];

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        var loss = MarginLosses.Parse(p.Value(_loss));
        string over = p.Value(_over);
        double from = p.Value(_from), to = p.Value(_to);
        int points = p.Value(_points);
        bool log = p.Value(_log);
        double delta = p.Value(_model.Delta), rho = p.Value(_model.Rho);
        // The swept variable starts at --from; the other one is fixed by its option.
        var (fixedOption, sweptOption) = over == "alpha" ? (_lambda, _alpha) : (_alpha, _lambda);
        if (p.Given(sweptOption)) throw new UsageException($"{sweptOption.Name} does not apply with --over {over} (--from and --to set it).");
        double value = p.GetValue(fixedOption) ?? throw new UsageException($"{fixedOption.Name} is required with --over {over}.");
        double alpha = over == "lambda" ? value : from;
        double lambda = over == "alpha" ? value : from;
        var options = _solver.Read(p);
        string? outFile = p.GetValue(_out);
        bool json = p.Value(_json);
        var problem = new ErmProblem(loss, new MixtureModel(alpha, delta, rho), lambda);
        var grid = LearningCurve.Grid(from, to, points, log);
        return () =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var curve = ctx.WithProgress($"curve {loss.Name} over {over}", points,
                tick => LearningCurve.Sweep(problem, over == "alpha" ? SweepVariable.Alpha : SweepVariable.Lambda, grid, options,
                    onPoint: (_, _) => tick()));
            clock.Stop();
            var rows = curve.Select(fp => fp.CurvePoint()).ToList();
            var columns = ResultRows.CurveColumns;
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
                ctx.Table(columns, rows.Select(r => (IReadOnlyList<string>)columns.Select(c => Output.Cell(r[c], "G6")).ToList()));
            }
            if (failed > 0) ctx.Err.WriteLine($"flatminima curve: warning: {failed} of {points} points did not converge (converged = false).");
            // The results are printed before the optional file is written, so a write that fails loses nothing.
            if (outFile is not null)
            {
                AtomicFile.CleanOrphans(Path.GetDirectoryName(Path.GetFullPath(outFile))!, Path.GetFileName(outFile));
                AtomicFile.WriteAllText(outFile, Csv.Text(columns, rows.Select(r => columns.Select(c => r[c]))));
                if (!json) ctx.Out.WriteLine($"written to {outFile}");
            }
            return 0;
        };
    }
}
