using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
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
    /// <summary>The options of the extrapolation.</summary>
    public sealed class Options
    {
        public CliOption<double[]?> Sizes { get; } = Opt.Reals("--finite-size", "N1,N2,N3",
            "ladder of N (>= 3 distinct sizes, each >= 10): simulate at every N, fit the leading finite-size correction a + b/N " +
            "(or --form 1/sqrt(n)) by weighted least squares, and judge the extrapolated a and its interval against the theory " +
            "('agree', 'disagree', or 'form-does-not-fit' when the chi^2 goodness-of-fit p-value is below --fit-threshold)",
            "none (a check at one N)");
        public CliOption<string> Form { get; } = Opt.Choice("--form", "the finite-size correction (see docs/replica.md)", FiniteSizeForms.Names,
            defaultText: "1/n for every observable");
        public CliOption<double> Confidence { get; } = Opt.Real("--confidence", "C", "confidence of the N -> infinity interval",
            FiniteSizeExtrapolation.DefaultConfidence, "(0, 1)");
        public CliOption<double> FitThreshold { get; } = Opt.Real("--fit-threshold", "P", "goodness-of-fit threshold",
            FiniteSizeExtrapolation.DefaultFitThreshold, "(0, 1)");
        public CliOption<string?> Out { get; } = Opt.Text("--out", "DIR",
            "manifest.json, summary.json, per_seed.csv and one figure per observable (finite_size_OBS.png/.svg/.pdf + .csv: " +
            "mean ± s.e. against 1/N, the fit, the theory at 1/N = 0)", defaultText: "none (no files)");

        public Option[] All => [Sizes, Form, Confidence, FitThreshold, Out];

        /// <summary>Throws for an option of the extrapolation given without --finite-size.</summary>
        public void RejectWithoutSizes(ParseResult p)
        {
            foreach (var o in new Option[] { Form, Confidence, FitThreshold, Out })
                if (p.Given(o)) throw new UsageException($"{o.Name} applies to --finite-size.");
        }
    }

    public static Execution Configure(ParseResult p, Options o, CommandContext ctx, ErmProblem problem, int seeds, long seed, int? threads, bool json)
    {
        var raw = p.GetValue(o.Sizes)!;
        if (raw.Any(v => v != Math.Floor(v) || v < 10 || v > int.MaxValue))
            throw new UsageException($"--finite-size must list integers N >= 10 (got '{p.GetResult(o.Sizes)!.Tokens[^1].Value}').");
        var sizes = raw.Select(v => (int)v).Distinct().OrderBy(n => n).ToArray();
        if (sizes.Length < 3) throw new UsageException($"--finite-size needs at least 3 distinct sizes (got {sizes.Length}).");
        FiniteSizeForm? form = p.GetValue(o.Form) is { } f ? FiniteSizeForms.Parse(f) : null;
        double confidence = p.Value(o.Confidence), threshold = p.Value(o.FitThreshold);
        string? outDir = p.GetValue(o.Out);
        return () =>
        {
            var inputs = new Dictionary<string, object?>
            {
                ["loss"] = problem.Loss.Name, ["alpha"] = problem.Alpha, ["delta"] = problem.Delta, ["lambda"] = problem.Penalty.Strength,
                ["penalty"] = problem.Penalty.Name, ["norm"] = problem.Penalty.Norm,
                ["rho"] = problem.Rho, ["learn_bias"] = problem.LearnBias, ["sizes"] = sizes, ["seeds"] = seeds, ["seed"] = seed,
                ["form"] = form?.Name(), ["confidence"] = confidence, ["fit_threshold"] = threshold,
            };
            var run = outDir is null ? null : new RunDirectory(outDir, "check --finite-size", ctx, inputs);
            var clock = Stopwatch.StartNew();
            var r = ctx.WithProgress($"check {problem.Loss.Name} N={string.Join(",", sizes)}", sizes.Length * seeds,
                tick => FiniteSizeExtrapolation.Erm(problem, sizes, seeds, seed, form, confidence, threshold, threads, tick));
            clock.Stop();

            var result = r.ToRow(inputs, [new("wall_seconds", clock.Elapsed.TotalSeconds)]);
            if (run is not null)
            {
                run.WriteFile("summary.json", Output.Json(result));
                run.WriteFile("per_seed.csv", r.PerSeedCsv());
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
            ctx.Table(["observable", "form", "theory", "N -> inf", $"{confidence:P0} interval", "chi2/dof", "p", "z", "verdict"],
                r.Rows.Select(x => (IReadOnlyList<string>)[x.Observable, x.Fit.Form.Name(), Output.Num(x.Theory, "G6"),
                    Output.Pm(x.Fit.Intercept, x.Fit.InterceptStdError), $"[{Output.Num(x.Fit.IntervalLow)}, {Output.Num(x.Fit.IntervalHigh)}]",
                    $"{Output.Num(x.Fit.ChiSquare, "G3")}/{x.Fit.DegreesOfFreedom}", Output.Num(x.Fit.PValue, "G2"), Output.Num(x.Z, "F2"), x.Verdict]));
            ctx.Out.WriteLine($"verdict: {r.Verdict}");
            if (run is not null) ctx.Out.WriteLine($"results written to {run.Path}");
            return 0;
        };
    }
}
