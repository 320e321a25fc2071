using System.Diagnostics;
using System.Globalization;
using System.Text;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Experiments;
using FlatMinima.Plots;
using FlatMinima.Plots.Figures;
using FlatMinima.Replica;
using FlatMinima.Storage;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima check ... --finite-size N1,N2,...</c>: the N → ∞ extrapolation of every observable against
/// the replica theory (<see cref="FiniteSizeExtrapolation"/>). Parses, calls, prints.</summary>
internal static class FiniteSizeCheck
{
    public const string Usage =
        "  --finite-size L  comma-separated ladder of N (>= 3 sizes, each >= 10): simulate at every N, fit the leading\n" +
        "                   finite-size correction a + b/N (or --form 1/sqrt(n)) by weighted least squares, and judge the\n" +
        "                   extrapolated a and its interval against the theory ('agree', 'disagree' or 'form-does-not-fit'\n" +
        "                   when the chi^2 goodness-of-fit p-value is below --fit-threshold); replaces --n and --allowance\n" +
        "  --form F         1/n (default for every observable; see docs/replica.md) or 1/sqrt(n)\n" +
        "  --confidence C   confidence of the N -> infinity interval, in (0,1) (default 0.99)\n" +
        "  --fit-threshold P  goodness-of-fit threshold, in (0,1) (default 0.01)\n" +
        "  --out DIR        with --finite-size: manifest.json, summary.json, per_seed.csv and one figure per observable\n" +
        "                   (finite_size_OBS.png/.svg/.pdf + .csv: mean ± s.e. against 1/N, the fit, the theory at 1/N = 0)\n";

    public static int Run(Args a, CommandContext ctx, ErmProblem problem)
    {
        var raw = a.DoubleList("finite-size") ?? [];
        if (raw.Any(v => v != Math.Floor(v) || v < 10 || v > int.MaxValue))
            throw new UsageException($"--finite-size must list integers N >= 10 (got '{a.Raw["finite-size"]}').");
        var sizes = raw.Select(v => (int)v).Distinct().OrderBy(n => n).ToArray();
        if (sizes.Length < 3) throw new UsageException($"--finite-size needs at least 3 distinct sizes (got {sizes.Length}).");
        if (a.Has("n")) throw new UsageException("--n does not apply with --finite-size (the sizes are the ladder).");
        if (a.Has("allowance")) throw new UsageException("--allowance does not apply with --finite-size (the extrapolation replaces it).");
        int seeds = a.Int("seeds", 8);
        if (seeds < 2) throw new UsageException($"--seeds must be an integer >= 2 (got {seeds}).");
        long seed = a.Long("seed", 0);
        int? threads = CommonOptions.Threads(a);
        string? formName = a.OptionalString("form");
        FiniteSizeForm? form = formName is null ? null : FiniteSizeForms.Parse(formName);
        double confidence = a.Double("confidence", FiniteSizeExtrapolation.DefaultConfidence);
        double threshold = a.Double("fit-threshold", FiniteSizeExtrapolation.DefaultFitThreshold);
        string? outDir = a.OptionalString("out");
        bool json = a.Flag("json");
        a.EnsureAllUsed();

        var inputs = new Dictionary<string, object?>
        {
            ["loss"] = problem.Loss.Name, ["alpha"] = problem.Alpha, ["delta"] = problem.Delta, ["lambda"] = problem.Penalty.Strength,
            ["penalty"] = problem.Penalty.Name, ["norm"] = problem.Penalty.Norm,
            ["rho"] = problem.Rho, ["learn_bias"] = problem.LearnBias, ["sizes"] = sizes, ["seeds"] = seeds, ["seed"] = seed,
            ["form"] = form?.Name(), ["confidence"] = confidence, ["fit_threshold"] = threshold,
        };
        var run = outDir is null ? null : new RunDirectory(outDir, "check --finite-size", ctx, inputs);
        var clock = Stopwatch.StartNew();
        FiniteSizeResult r;
        using (var progress = new Progress(ctx, $"check {problem.Loss.Name} N={string.Join(",", sizes)}", sizes.Length * seeds))
            r = FiniteSizeExtrapolation.Erm(problem, sizes, seeds, seed, form, confidence, threshold, threads, progress.Tick);
        clock.Stop();

        var result = new Dictionary<string, object?>(inputs) { ["verdict"] = r.Verdict, ["wall_seconds"] = clock.Elapsed.TotalSeconds,
            ["linear_algebra"] = r.LinearAlgebra?.ToJson() };
        foreach (var row in r.Rows)
        {
            var f = row.Fit;
            result[row.Observable] = new Dictionary<string, object?>
            {
                ["theory"] = row.Theory, ["form"] = f.Form.Name(),
                ["n"] = row.Sizes, ["mean"] = row.Values.Select(v => v.Mean).ToArray(), ["se"] = row.Values.Select(v => v.StdError).ToArray(),
                ["extrapolated"] = f.Intercept, ["extrapolated_se"] = f.InterceptStdError,
                ["interval"] = new[] { f.IntervalLow, f.IntervalHigh }, ["slope"] = f.Slope, ["slope_se"] = f.SlopeStdError,
                ["chi2"] = f.ChiSquare, ["dof"] = f.DegreesOfFreedom, ["p_value"] = f.PValue, ["inflation"] = f.Inflation,
                ["z"] = row.Z, ["verdict"] = row.Verdict,
            };
        }
        if (run is not null)
        {
            run.WriteFile("summary.json", Output.Json(result));
            run.WriteFile("per_seed.csv", PerSeedCsv(r));
            string subtitle = string.Create(CultureInfo.InvariantCulture,
                $"{problem.Loss.Name}, α = {problem.Alpha:G4}, Δ = {problem.Delta:G4}, {(problem.Penalty.Name == "ridge" ? $"λ = {problem.Lambda:G4}" : problem.Penalty.Name)}, ρ = {problem.Rho:G3}");
            var files = new List<string>();
            foreach (var row in r.Rows)
            {
                var fig = FiniteSizeFigure.Build(row, subtitle);
                string stem = Path.Combine(run.Path, FiniteSizeFigure.Name(row.Observable));
                files.AddRange(FigureExporter.Export(fig.Plot, stem));
                AtomicFile.WriteAllText(stem + ".csv", fig.Data.ToString());
                files.Add(stem + ".csv");
            }
            run.Set("figures", files.Select(Path.GetFileName).ToList());
            run.Set("wall_seconds", clock.Elapsed.TotalSeconds);
            run.Finish();
        }
        if (json) { Output.WriteJson(ctx.Out, result); return 0; }

        ctx.Out.WriteLine($"{problem}; N = {string.Join(", ", sizes)}, {seeds} datasets each ({clock.Elapsed.TotalSeconds:F1} s)");
        ctx.Out.WriteLine($"fit a + b x(N) weighted by 1/se^2; {confidence:P0} interval from the fit covariance, inflated by sqrt(chi2/dof) when > 1");
        ctx.Out.Write(Output.Table(["observable", "form", "theory", "N -> inf", $"{confidence:P0} interval", "chi2/dof", "p", "z", "verdict"],
            r.Rows.Select(x => (IReadOnlyList<string>)[x.Observable, x.Fit.Form.Name(), Output.Num(x.Theory, "G6"),
                Output.Pm(x.Fit.Intercept, x.Fit.InterceptStdError), $"[{Output.Num(x.Fit.IntervalLow)}, {Output.Num(x.Fit.IntervalHigh)}]",
                $"{Output.Num(x.Fit.ChiSquare, "G3")}/{x.Fit.DegreesOfFreedom}", Output.Num(x.Fit.PValue, "G2"), Output.Num(x.Z, "F2"), x.Verdict])));
        ctx.Out.WriteLine($"verdict: {r.Verdict}");
        if (run is not null) ctx.Out.WriteLine($"results written to {run.Path}");
        return 0;
    }

    private static string PerSeedCsv(FiniteSizeResult r)
    {
        var sb = new StringBuilder();
        sb.AppendLine("n,seed," + string.Join(",", Observables.Names));
        foreach (var mc in r.PerSize)
            for (int k = 0; k < mc.PerSeed.Count; k++)
                sb.AppendLine(mc.Spec.N.ToString(CultureInfo.InvariantCulture) + "," + mc.Seeds[k].ToString(CultureInfo.InvariantCulture) + "," +
                              string.Join(",", mc.PerSeed[k].Values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))));
        return sb.ToString();
    }
}
