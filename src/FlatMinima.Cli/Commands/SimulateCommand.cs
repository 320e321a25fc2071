using System.Diagnostics;
using System.Globalization;
using System.Text;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Experiments;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima simulate</c>: finite-N Monte Carlo of an estimator over S datasets.</summary>
public sealed class SimulateCommand : ICommand
{
    public string Name => "simulate";
    public string Summary => "finite-N Monte Carlo of Bayes-optimal or ERM estimators, mean ± standard error";
    public string Usage =>
        "usage: flatminima simulate --estimator bayes|square|logistic|hinge --alpha A --delta D [--rho R]\n" +
        "                           [--lambda L] [--n N] [--seeds S] [--seed K] [--out DIR] [--json]\n\n" +
        "  --estimator E    bayes (docs/theory.md#e2) or ERM with the square, logistic or hinge loss\n" +
        CommonOptions.MixtureUsage +
        "  --lambda L       ridge strength lambda >= 0 (required for ERM; > 0 for hinge)\n" +
        "  --penalty P      ridge (default), sphere (ERM at fixed norm |w|^2 = N Q) or l1 (square or smooth losses)\n" +
        "  --norm Q         squared norm per component Q > 0, for --penalty sphere\n" +
        "  --no-bias        fix the ERM bias at 0 (square and smooth losses)\n" +
        "  --tolerance T    ERM optimality tolerance (default 1e-10; see ErmOptions)\n" +
        CommonOptions.SimulationUsage +
        "  --out DIR        run directory: manifest.json, summary.json, per_seed.csv (written atomically)\n" +
        "  --json           print one JSON object (means and standard errors, inputs echoed)\n";

    public int Run(Args a, CommandContext ctx)
    {
        var estimator = CommonOptions.Estimator(a);
        var spec = CommonOptions.Mixture(a);
        int seeds = CommonOptions.Seeds(a);
        int? threads = CommonOptions.Threads(a);
        string? outDir = a.OptionalString("out");
        bool json = a.Flag("json");
        a.EnsureAllUsed();

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
        MonteCarloResult r;
        using (var progress = new Progress(ctx, $"simulate {estimator.Name} N={spec.N}", seeds))
            r = MonteCarlo.Run(spec, seeds, estimator, threads, progress.Tick);
        clock.Stop();

        var result = ResultObject(inputs, r);
        // The results are printed before the run directory's files are written, so a write that fails loses nothing.
        if (json) Output.WriteJson(ctx.Out, result);
        else
        {
            ctx.Out.WriteLine($"{estimator.Name} estimator, alpha = {spec.Alpha:G6}, Delta = {spec.Delta:G6}, rho = {spec.Rho:G6}" +
                              (estimator.Loss is null ? "" : $", lambda = {estimator.Lambda:G6}") +
                              $"; N = {spec.N}, P = {spec.P}, {seeds} datasets ({clock.Elapsed.TotalSeconds:F1} s)");
            ctx.Out.Write(Output.Table(["observable", "mean ± s.e."],
                Observables.Names.Select(n => (IReadOnlyList<string>)[n, Output.Pm(r[n].Mean, r[n].StdError)])));
        }
        if (run is not null)
        {
            run.WriteFile("summary.json", Output.Json(result));
            run.WriteFile("per_seed.csv", PerSeedCsv(r));
            run.Set("wall_seconds", clock.Elapsed.TotalSeconds);
            run.Finish();
            if (!json) ctx.Out.WriteLine($"results written to {run.Path}");
        }
        return 0;
    }

    /// <summary>The JSON summary: inputs, then each observable's mean and standard error.</summary>
    internal static Dictionary<string, object?> ResultObject(Dictionary<string, object?> inputs, MonteCarloResult r)
    {
        var result = new Dictionary<string, object?>(inputs);
        foreach (var n in Observables.Names)
        {
            result[n] = r[n].Mean;
            result[n + "_se"] = r[n].StdError;
        }
        return result;
    }

    private static string PerSeedCsv(MonteCarloResult r)
    {
        var sb = new StringBuilder();
        sb.AppendLine("seed," + string.Join(",", Observables.Names));
        for (int k = 0; k < r.PerSeed.Count; k++)
            sb.AppendLine(r.Seeds[k].ToString(CultureInfo.InvariantCulture) + "," +
                          string.Join(",", r.PerSeed[k].Values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        return sb.ToString();
    }
}
