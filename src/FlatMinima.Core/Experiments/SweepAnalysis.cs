using System.Globalization;
using System.Text;
using FlatMinima.Numerics;

namespace FlatMinima.Experiments;

/// <summary>What a flatness measure is correlated with.</summary>
public enum SweepTarget
{
    /// <summary>The test error (the papers' comparison; <c>correlation.csv</c>).</summary>
    TestError,
    /// <summary>The generalisation gap, test − training error (<c>correlation_gap.csv</c>): what flatness is meant to
    /// predict, and what the test error reduces to only when every run fits its training set equally well.</summary>
    Gap,
}

/// <summary>
/// Per optimiser (with its <c>@tag</c>) and grid point of a sweep: the number of runs, mean and sample standard deviation
/// (n − 1) of the test and training errors, and the mean of every flatness measure over the runs that have it. A row of
/// <c>summary.csv</c>.
/// </summary>
public sealed record SweepSummaryRow(
    string Optimizer, IReadOnlyList<string> GridValues, int Runs, int Epochs, Statistic TestError, Statistic TrainError,
    IReadOnlyList<double> MeasureMeans, double TrainSeconds);

/// <summary>
/// The tables <c>sweep --collect</c> derives from <c>sweep.csv</c>: rank correlations of every flatness measure with the
/// test error and with the generalisation gap (Spearman and Kendall with 95 % intervals, <see cref="RankCorrelation"/>),
/// and the per-optimiser summary, as CSV and as Markdown for the docs.
/// </summary>
public static class SweepAnalysis
{
    /// <summary>
    /// Spearman's ρ and Kendall's τ-b of every measure of <paramref name="table"/> against <paramref name="target"/>, over
    /// the runs that <paramref name="include"/> admits and that have finite values of both; a measure with fewer than two
    /// such runs is left out.
    /// </summary>
    public static List<SweepCorrelation> Correlate(SweepTable table, SweepTarget target, Func<SweepRun, bool>? include = null)
    {
        var list = new List<SweepCorrelation>();
        foreach (var (measure, value) in table.Measures)
        {
            var pairs = table.Runs
                .Where(r => include?.Invoke(r) ?? true)
                .Select(r => (X: value(r), Y: target == SweepTarget.Gap ? r.Gap : r.TestError))
                .Where(p => p.X is double x && double.IsFinite(x) && p.Y is double y && double.IsFinite(y))
                .Select(p => (X: p.X!.Value, Y: p.Y!.Value)).ToList();
            if (pairs.Count < 2) continue;
            var xs = pairs.Select(p => p.X).ToList();
            var ys = pairs.Select(p => p.Y).ToList();
            foreach (var r in new[] { RankCorrelation.Spearman(xs, ys), RankCorrelation.Kendall(xs, ys) })
                list.Add(new SweepCorrelation(measure, r.Method, r.Value, r.Lower, r.Upper, r.N, r.Level));
        }
        return list;
    }

    /// <summary>The summary rows, one per optimiser and grid point, in the order they first appear in the table.</summary>
    public static List<SweepSummaryRow> Summarise(SweepTable table)
    {
        var rows = new List<SweepSummaryRow>();
        var measures = table.Measures;
        foreach (var g in table.Runs.GroupBy(r => (r.Optimizer, Key: string.Join('\u001f', r.GridValues))))
        {
            var runs = g.ToList();
            static Statistic Of(IEnumerable<double?> v) => Statistic.Of(v.Where(x => x is double d && double.IsFinite(d)).Select(x => x!.Value).ToArray());
            rows.Add(new SweepSummaryRow(g.Key.Optimizer, runs[0].GridValues, runs.Count, runs[0].Epochs,
                Of(runs.Select(r => r.TestError)), Of(runs.Select(r => r.TrainError)),
                measures.Select(m => Of(runs.Select(m.Value)).Mean).ToList(), Of(runs.Select(r => r.TrainSeconds)).Mean));
        }
        return rows;
    }

    /// <summary><c>summary.csv</c>: <c>optimizer, &lt;grid axes&gt;, runs, epochs, test_error_mean, test_error_sd,
    /// train_error_mean, train_error_sd, &lt;measure&gt;_mean…, train_s_mean</c> (errors as fractions, as in sweep.csv).</summary>
    public static string SummaryCsv(SweepTable table, IReadOnlyList<SweepSummaryRow> rows)
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(',', ["optimizer", .. table.Axes, "runs", "epochs", "test_error_mean", "test_error_sd", "train_error_mean", "train_error_sd",
            .. table.Measures.Select(m => m.Measure + "_mean"), "train_s_mean"])).Append('\n');
        foreach (var r in rows)
            sb.Append(string.Join(',', [r.Optimizer, .. r.GridValues, r.Runs.ToString(CultureInfo.InvariantCulture), r.Epochs.ToString(CultureInfo.InvariantCulture),
                Csv.Number(r.TestError.Mean), Csv.Number(r.TestError.StdDev), Csv.Number(r.TrainError.Mean), Csv.Number(r.TrainError.StdDev),
                .. r.MeasureMeans.Select(v => Csv.Number(v)), Csv.Number(r.TrainSeconds)])).Append('\n');
        return sb.ToString();
    }

    /// <summary>The label of a measure in the docs' tables: δE σ=…, λ_max, tr H, adaptive sharpness, λ_max (SLQ), tr H (SLQ).</summary>
    public static string Label(string measure) => measure switch
    {
        "hessian_top" => "λ_max",
        "hessian_trace" => "tr H",
        "adaptive_sharpness" => "adaptive sharpness",
        "slq_top" => "λ_max (SLQ)",
        "slq_trace" => "tr H (SLQ)",
        _ when measure.StartsWith("local_energy_sigma", StringComparison.Ordinal) => "δE σ=" + measure["local_energy_sigma".Length..],
        _ => measure,
    };

    /// <summary>
    /// The summary as a Markdown table: test error in % as mean ± sd over seeds, the means of the training error (%), of
    /// δE (percentage points), of λ_max and tr H (3 significant digits) and of the training time per run.
    /// </summary>
    public static string SummaryMarkdown(SweepTable table, IReadOnlyList<SweepSummaryRow> rows)
    {
        var measures = table.Measures;
        var header = new List<string> { "optimizer" };
        header.AddRange(table.Axes);
        header.AddRange(["runs", "epochs", "test error % (mean ± sd)", "train error %"]);
        header.AddRange(measures.Select(m => Label(m.Measure)));
        header.Add("train s/run");
        var sb = new StringBuilder();
        sb.Append("| ").Append(string.Join(" | ", header)).Append(" |\n");
        sb.Append('|').Append(string.Concat(Enumerable.Repeat("---|", header.Count))).Append('\n');
        foreach (var r in rows)
        {
            var cells = new List<string> { r.Optimizer };
            cells.AddRange(r.GridValues);
            cells.AddRange([r.Runs.ToString(CultureInfo.InvariantCulture), r.Epochs.ToString(CultureInfo.InvariantCulture),
                $"{Fixed(100 * r.TestError.Mean, 2)} ± {Fixed(100 * r.TestError.StdDev, 2)}", Fixed(100 * r.TrainError.Mean, 2)]);
            for (int m = 0; m < measures.Count; m++)
                cells.Add(measures[m].Measure.StartsWith("local_energy", StringComparison.Ordinal) ? Fixed(r.MeasureMeans[m], 2) : Significant(r.MeasureMeans[m], 3));
            cells.Add(Fixed(r.TrainSeconds, 0));
            sb.Append("| ").Append(string.Join(" | ", cells)).Append(" |\n");
        }
        return sb.ToString();
    }

    /// <summary>
    /// The correlations against the test error and against the gap side by side, as a Markdown table: one row per
    /// measure, Spearman ρ and Kendall τ-b with their 95 % intervals, signed to two decimals.
    /// </summary>
    public static string CorrelationMarkdown(IReadOnlyList<SweepCorrelation> testError, IReadOnlyList<SweepCorrelation> gap)
    {
        var sb = new StringBuilder();
        sb.Append("| measure | test error: Spearman ρ [95 % CI] | Kendall τ-b | gap: Spearman ρ [95 % CI] | Kendall τ-b |\n|---|---|---|---|---|\n");
        string Cell(IReadOnlyList<SweepCorrelation> list, string measure, string method) =>
            list.FirstOrDefault(c => c.Measure == measure && c.Method == method) is { } c ? $"{Signed(c.Value)} [{Signed(c.Lower)}, {Signed(c.Upper)}]" : "";
        foreach (var measure in testError.Concat(gap).Select(c => c.Measure).Distinct())
            sb.Append($"| {Label(measure)} | {Cell(testError, measure, "spearman")} | {Cell(testError, measure, "kendall")} | {Cell(gap, measure, "spearman")} | {Cell(gap, measure, "kendall")} |\n");
        int n = testError.Concat(gap).Select(c => c.N).DefaultIfEmpty(0).Max();
        sb.Append($"\n(n = {n.ToString(CultureInfo.InvariantCulture)} runs)\n");
        return sb.ToString();
    }

    private static string Fixed(double v, int digits) => double.IsFinite(v) ? v.ToString("F" + digits, CultureInfo.InvariantCulture) : "—";

    private static string Significant(double v, int digits) => double.IsFinite(v) ? v.ToString("G" + digits, CultureInfo.InvariantCulture) : "—";

    // Typographic minus, as in the docs' tables.
    private static string Signed(double v) => !double.IsFinite(v) ? "—" : (v < 0 ? "\u2212" : "+") + Math.Abs(v).ToString("F2", CultureInfo.InvariantCulture);
}
