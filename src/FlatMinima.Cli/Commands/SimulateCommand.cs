using System.CommandLine;
using System.Diagnostics;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima simulate</c>: finite-N Monte Carlo of an estimator over S datasets.</summary>
public sealed class SimulateCommand : CliCommand
{
    private readonly Option<string> _estimator = Opt.Choice("--estimator", "bayes (docs/theory.md#e2) or ERM with the square, logistic or hinge loss", EstimatorKind.Names);
    private readonly ModelOptions _model = new();
    private readonly ErmEstimatorOptions _erm = new();
    private readonly SimulationOptions _sim = new();
    private readonly Option<string?> _out = Opt.Text("--out", "DIR", "run directory: manifest.json, summary.json, per_seed.csv (written atomically)", defaultText: "none (no files)");
    private readonly Option<bool> _json = CommonOptions.Json("print one JSON object (means and standard errors, inputs echoed)");

    public SimulateCommand() : base("simulate", "finite-N Monte Carlo of Bayes-optimal or ERM estimators, mean ± standard error")
    {
        Add(_estimator);
        Add(_model.All);
        Add(_erm.All);
        Add(_sim.All);
        Add(_out, _json);
    }

    public override IReadOnlyList<string> Usage =>
        ["--estimator bayes|square|logistic|hinge --alpha A --delta D [--rho R] [--lambda L] [--n N] [--seeds S] [--seed K] [--out DIR] [--json]"];

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        var estimator = _erm.Read(p, p.Value(_estimator));
        var spec = _sim.Spec(p, _model.Read(p));
        int seeds = p.Value(_sim.Seeds);
        int? threads = p.GetValue(_sim.Threads);
        string? outDir = p.GetValue(_out);
        bool json = p.Value(_json);
        return () =>
        {
            var inputs = new Dictionary<string, object?>
            {
                ["estimator"] = estimator.Name,
                ["alpha"] = spec.Alpha, ["delta"] = spec.Delta, ["rho"] = spec.Rho,
                ["lambda"] = estimator.Loss is null ? null : estimator.Penalty is null ? estimator.Lambda : estimator.Penalty.Strength,
                ["n"] = spec.N, ["p"] = spec.P, ["seeds"] = seeds, ["seed"] = spec.Seed,
                ["exact_labels"] = spec.ExactLabelCounts,
            };
            if (estimator.Penalty?.Norm is { } norm) inputs["norm"] = norm;
            if (estimator.Penalty is not null) inputs["penalty"] = estimator.Penalty.Name;
            if (!estimator.Options.FitBias) inputs["learn_bias"] = false;
            var run = outDir is null ? null : new RunDirectory(outDir, "simulate", ctx, inputs);
            var clock = Stopwatch.StartNew();
            var r = ctx.WithProgress($"simulate {estimator.Name} N={spec.N}", seeds, tick => MonteCarlo.Run(spec, seeds, estimator, threads, tick));
            clock.Stop();

            var result = inputs.WithObservables(r);
            // The results are printed before the run directory's files are written, so a write that fails loses nothing.
            if (json) Output.WriteJson(ctx.Out, result);
            else
            {
                ctx.Out.WriteLine($"{estimator.Name} estimator, alpha = {spec.Alpha:G6}, Delta = {spec.Delta:G6}, rho = {spec.Rho:G6}" +
                                  (estimator.Loss is null ? "" : $", lambda = {estimator.Lambda:G6}") +
                                  $"; N = {spec.N}, P = {spec.P}, {seeds} datasets ({clock.Elapsed.TotalSeconds:F1} s)");
                ctx.Table(["observable", "mean ± s.e."], Observables.Names.Select(n => (IReadOnlyList<string>)[n, Output.Pm(r[n].Mean, r[n].StdError)]));
            }
            if (run is not null)
            {
                run.WriteFile("summary.json", Output.Json(result));
                run.WriteFile("per_seed.csv", r.PerSeedCsv());
                run.Set("wall_seconds", clock.Elapsed.TotalSeconds);
                run.Finish();
                if (!json) ctx.Out.WriteLine($"results written to {run.Path}");
            }
            return 0;
        };
    }
}

/// <summary>The ERM options of an estimator named on the command line (simulate): λ, the penalty with its parameter, a
/// fixed bias, the solver's tolerance; they do not apply to bayes.</summary>
internal sealed class ErmEstimatorOptions
{
    public CliOption<double?> Lambda { get; } = Opt.OptionalReal("--lambda", "L", "ridge strength λ (> 0 for hinge and l1; 0 is unpenalised ERM)",
        "none (required by ERM estimators)", "[0, inf)");
    public CliOption<string> Penalty { get; } = CommonOptions.Penalty("ridge, sphere (ERM at fixed norm ‖w‖² = NQ, needs --norm) or l1 (square or smooth losses)");
    public CliOption<double?> Norm { get; } = CommonOptions.Norm();
    public CliOption<bool> NoBias { get; } = Opt.Flag("--no-bias", "fix the ERM bias at 0 (square and smooth losses)");
    public CliOption<double> Tolerance { get; } = Opt.Real("--tolerance", "T", "ERM optimality tolerance (ErmOptions)", ErmOptions.Default.Tolerance, "(0, inf)");

    public Option[] All => [Lambda, Penalty, Norm, NoBias, Tolerance];

    /// <summary>The estimator <paramref name="name"/> ("bayes" or a loss) with its options; the penalty's rules (ridge and l1
    /// take --lambda, sphere takes --norm) live in Core.</summary>
    public EstimatorKind Read(ParseResult p, string name)
    {
        if (name == "bayes")
        {
            foreach (var o in All)
                if (p.Given(o)) throw new UsageException($"{o.Name} applies to ERM estimators, not to bayes.");
            return EstimatorKind.Bayes;
        }
        var options = new ErmOptions(Tolerance: p.Value(Tolerance), FitBias: !p.Value(NoBias));
        return EstimatorKind.Erm(MarginLosses.Parse(name), p.Value(Penalty), p.GetValue(Lambda), p.GetValue(Norm), options);
    }
}

/// <summary>A finite-N Monte Carlo: N, the number of datasets, the first seed, the workers, exact label counts.</summary>
internal sealed class SimulationOptions
{
    public CliOption<int> N { get; } = CommonOptions.N(1000);
    public CliOption<int> Seeds { get; } = CommonOptions.Seeds(8, description: "number of independent datasets");
    public CliOption<long> Seed { get; } = CommonOptions.Seed();
    public CliOption<int?> Threads { get; } = CommonOptions.Threads();
    public CliOption<bool> ExactLabels { get; } = Opt.Flag("--exact-labels", "exactly round(ρP) labels +1 per dataset (by default labels are i.i.d.)");

    public Option[] All => [N, Seeds, Seed, Threads, ExactLabels];

    public MixtureSpec Spec(ParseResult p, MixtureModel model) =>
        new(model, p.Value(N), p.Value(Seed), ExactLabelCounts: p.Value(ExactLabels));
}
