using System.CommandLine;
using System.Diagnostics;
using FlatMinima.Storage;
using System.Text;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Plots;
using FlatMinima.Plots.Figures;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima figures</c>: regenerates every figure with its CSV and figures/README.md.</summary>
public sealed class FiguresCommand : CliCommand
{
    private readonly Option<string?> _out = Opt.Text("--out", "DIR", "output folder", "figures");
    private readonly Option<bool> _quick = Opt.Flag("--quick", "smaller simulations (about a minute on 2 cores); by default the full run");
    private readonly Option<string?> _only = Opt.Text("--only", "NAMES", "comma-separated figure names", defaultText: "all");
    private readonly Option<long> _seed = CommonOptions.Seed("first simulation seed");
    private readonly Option<int?> _threads = CommonOptions.Threads();
    private readonly Option<string?> _sweeps = Opt.Text("--sweeps", "FILE", "recorded deep-network sweeps of figure 7, data set → sweep directory", new FigureOptions().Sweeps);
    private readonly Option<bool> _json = CommonOptions.Json("print one JSON object listing the files written");

    public FiguresCommand() : base("figures", "regenerate every figure (PNG, SVG, PDF) with the CSV of its numbers into figures/")
    {
        Add(_out, _quick, _only, _seed, _threads, _sweeps, _json);
    }

    public override IReadOnlyList<string> Usage => ["[--out figures] [--quick] [--only NAME[,NAME...]] [--seed K] [--threads T] [--sweeps FILE] [--json]"];

    public override string Notes =>
        "Figures:\n" + string.Join("\n", FigureCatalog.All.Select(f => $"  {f.Name}")) +
        "\n  fig7a_deep_flatness_*, fig7c_deep_gap_*, fig7b_pswa_curves_*  (one per data set of --sweeps)";

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        string outDir = p.GetValue(_out)!;
        bool quick = p.Value(_quick);
        var only = p.GetValue(_only)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        long seed = p.Value(_seed);
        int? threads = p.GetValue(_threads);
        bool json = p.Value(_json);
        string sweeps = p.GetValue(_sweeps)!;
        var figures = FigureCatalog.All.Concat(DeepNetworkFigures.For(sweeps)).ToList();
        if (only is not null)
        {
            var unknown = only.Where(o => figures.All(f => f.Name != o)).ToList();
            if (unknown.Count > 0)
                throw new UsageException($"--only: unknown figure '{unknown[0]}'; valid: {string.Join(", ", figures.Select(f => f.Name))}.");
            figures = figures.Where(f => only.Contains(f.Name)).ToList();
        }
        var options = new FigureOptions(quick, seed, threads, sweeps);
        return () =>
        {
            AtomicFile.CleanOrphans(outDir);   // what a killed earlier run left half written
            var written = new List<Dictionary<string, object?>>();
            var findings = new Dictionary<string, string>();
            var total = Stopwatch.StartNew();
            foreach (var fig in figures)
            {
                var clock = Stopwatch.StartNew();
                var result = ctx.WithProgress(fig.Name, 100, tick =>
                {
                    int last = 0;
                    return fig.Build(options, f =>
                    {
                        int now = (int)(f * 100);
                        for (; last < now; last++) tick();
                    });
                });
                string stem = Path.Combine(outDir, fig.Name);
                var files = FigureExporter.Export(result.Plot, stem).ToList();
                AtomicFile.WriteAllText(stem + ".csv", result.Data.ToString());
                files.Add(stem + ".csv");
                findings[fig.Name] = result.Findings;
                foreach (var w in result.Warnings) ctx.Err.WriteLine($"{fig.Name}: warning: {w}");
                written.Add(new() { ["name"] = fig.Name, ["files"] = files, ["seconds"] = clock.Elapsed.TotalSeconds, ["warnings"] = result.Warnings.ToList() });
                if (!json) ctx.Out.WriteLine($"{fig.Name}: {string.Join(", ", files.Select(Path.GetFileName))} ({clock.Elapsed.TotalSeconds:F1} s)");
            }
            if (only is null) AtomicFile.WriteAllText(Path.Combine(outDir, "README.md"), Readme(figures, findings, quick, seed));
            if (json) Output.WriteJson(ctx.Out, new Dictionary<string, object?>
            {
                ["quick"] = quick, ["figures"] = written, ["seconds"] = total.Elapsed.TotalSeconds,
                ["linear_algebra"] = FlatMinima.Numerics.LinearAlgebra.Describe(),
            });
            else ctx.Out.WriteLine($"{figures.Count} figures in {total.Elapsed.TotalSeconds:F1} s -> {Path.GetFullPath(outDir)}");
            return 0;
        };
    }

    private static string Readme(IReadOnlyList<IFigure> figures, IReadOnlyDictionary<string, string> findings, bool quick, long seed)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Figures");
        sb.AppendLine();
        sb.AppendLine("Generated by `flatminima figures" + (quick ? " --quick" : "") + (seed != 0 ? $" --seed {seed}" : "") +
                      "` (from the repository root: `dotnet run --project src/FlatMinima.Cli -c Release -- figures" + (quick ? " --quick" : "") + "`).");
        sb.AppendLine("Each figure comes as PNG (300 dpi), SVG and PDF, single-column size (3.4 in × 2.6 in), with a CSV of exactly the");
        sb.AppendLine("plotted numbers (one row per point; `series` names the curve, `note` marks points that need attention). Where a");
        sb.AppendLine("figure shows an N → ∞ extrapolation, its CSV also holds the smaller-N simulations it was fitted to (series");
        sb.AppendLine("`finite-size ...`, noted \"not drawn\") and, per extrapolated point (series `extrapolation ...`), the value, the 99 %");
        sb.AppendLine("half-width in the error column, and the verdict and fit in `note` (docs/replica.md, finite-size extrapolation).");
        sb.AppendLine("Do not edit these files by hand: rerun the command.");
        sb.AppendLine();
        sb.AppendLine("| figure | what it shows |");
        sb.AppendLine("|---|---|");
        foreach (var f in figures)
            sb.AppendLine($"| [{f.Name}]({f.Name}.png) | {f.Caption}{(findings.TryGetValue(f.Name, out var x) && x.Length > 0 ? " " + x : "")} |");
        sb.AppendLine();
        sb.AppendLine("Figure 7 is drawn from the recorded deep-network sweeps listed in `docs/optim/figure_sweeps.json` (each sweep");
        sb.AppendLine("directory's `sweep.csv` and `curves.csv`, written by `flatminima sweep --collect`; see docs/optim.md); one figure");
        sb.AppendLine("per data set listed, redrawn whenever a sweep is added to the list.");
        return sb.ToString();
    }
}
