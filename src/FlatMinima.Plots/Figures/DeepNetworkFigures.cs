using System.Globalization;
using FlatMinima.Experiments;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace FlatMinima.Plots.Figures;

/// <summary>
/// Recorded deep-network runs in the figures' data folder (written by the sweep experiment, docs/optim.md):
/// <c>deep_sweep.csv</c> (one row per run: dataset, optimizer, seed, test_error, le_delta_pct_sigma{σ}, hessian_top,
/// hessian_trace, …) and <c>pswa_curves.csv</c> (dataset, optimizer, seed, epoch, test_error, …). Figures are made for
/// every dataset found, so adding runs and rerunning <c>flatminima figures</c> redraws them. The probe figures of
/// <see cref="ProbeFigures"/> (figure 8) are found in the same folder.
/// </summary>
public static class DeepNetworkFigures
{
    /// <summary>The figures the data folder supports (none when it holds no recorded runs).</summary>
    public static IReadOnlyList<IFigure> For(string dataDirectory)
    {
        var figs = new List<IFigure>();
        var sweep = Table.Read(Path.Combine(dataDirectory, "deep_sweep.csv"));
        if (sweep is not null)
        {
            foreach (var d in sweep.Rows.Select(r => r["dataset"]).Distinct()) figs.Add(new DeepFlatnessFigure(d));
            if (sweep.Header.Contains("train_error"))
                foreach (var d in sweep.Rows.Select(r => r["dataset"]).Distinct()) figs.Add(new DeepFlatnessFigure(d, DeepFlatnessTarget.GeneralizationGap));
        }
        var curves = Table.Read(Path.Combine(dataDirectory, "pswa_curves.csv"));
        if (curves is not null)
            foreach (var d in curves.Rows.Select(r => r["dataset"]).Distinct()) figs.Add(new PswaCurvesFigure(d));
        figs.AddRange(ProbeFigures.For(dataDirectory));   // figure 8: spectral densities and loss landscapes, if recorded
        return figs;
    }

    internal static string Slug(string s) => new(s.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());

    internal static double Num(string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;

    /// <summary>A CSV file with a header, read into dictionaries (no quoting: the sweep writes none).</summary>
    internal sealed class Table
    {
        public required string[] Header { get; init; }
        public required List<Dictionary<string, string>> Rows { get; init; }

        public static Table? Read(string path)
        {
            if (!File.Exists(path)) return null;
            var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
            if (lines.Length == 0) throw new InvalidDataException($"{path}: empty file (expected a CSV header).");
            var header = lines[0].Split(',');
            var rows = new List<Dictionary<string, string>>();
            for (int i = 1; i < lines.Length; i++)
            {
                var cells = lines[i].Split(',');
                if (cells.Length != header.Length)
                    throw new InvalidDataException($"{path}: line {i + 1} has {cells.Length} fields, the header has {header.Length}.");
                rows.Add(header.Zip(cells).ToDictionary(t => t.First, t => t.Second));
            }
            return new Table { Header = header, Rows = rows };
        }
    }

    internal static Table Load(FigureOptions options, string file) =>
        Table.Read(Path.Combine(options.DataDirectory, file))
        ?? throw new FileNotFoundException($"{Path.Combine(options.DataDirectory, file)} not found: figure 7 is drawn from recorded runs (docs/optim.md).");
}

/// <summary>What figure 7a/7c puts against the local energy.</summary>
public enum DeepFlatnessTarget
{
    /// <summary>The test error (figure 7a; the papers' comparison).</summary>
    TestError,
    /// <summary>The generalisation gap, test − train error (figure 7c): what flatness is meant to predict, and what the
    /// test error reduces to only when every run fits the training set equally well.</summary>
    GeneralizationGap,
}

/// <summary>Figure 7a (test error) or 7c (generalisation gap) against local energy across optimisers and seeds, for one dataset.</summary>
public sealed class DeepFlatnessFigure(string dataset, DeepFlatnessTarget target = DeepFlatnessTarget.TestError) : IFigure
{
    public string Dataset { get; } = dataset;
    public DeepFlatnessTarget Target { get; } = target;
    private bool Gap => Target == DeepFlatnessTarget.GeneralizationGap;
    public string Name => Gap ? $"fig7c_deep_gap_{DeepNetworkFigures.Slug(Dataset)}" : $"fig7a_deep_flatness_{DeepNetworkFigures.Slug(Dataset)}";
    public string Caption =>
        $"Deep networks, {Dataset}: {(Gap ? "generalisation gap (test minus training error)" : "test error")} against the local energy " +
        "deltaE_train(sigma) (training error increase in % under " +
        "multiplicative Gaussian weight noise, docs/theory.md#le) of the final model, one point per run, by optimiser; sigma is the " +
        "median of the recorded scales, and the Spearman rank correlation over all runs is given (data: figures/data/deep_sweep.csv).";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var table = DeepNetworkFigures.Load(options, "deep_sweep.csv");
        var rows = table.Rows.Where(r => r["dataset"] == Dataset).ToList();
        // σ columns with a value for every run of this dataset; the median one is shown.
        var sigmaCols = table.Header.Where(h => h.StartsWith("le_delta_pct_sigma", StringComparison.Ordinal))
            .Where(h => rows.All(r => double.IsFinite(DeepNetworkFigures.Num(r[h]))))
            .OrderBy(h => DeepNetworkFigures.Num(h["le_delta_pct_sigma".Length..])).ToList();
        if (sigmaCols.Count == 0) throw new InvalidDataException($"deep_sweep.csv: no local-energy column complete for dataset '{Dataset}'.");
        string col = sigmaCols[(sigmaCols.Count - 1) / 2];
        double sigma = DeepNetworkFigures.Num(col["le_delta_pct_sigma".Length..]);

        var model = FigureStyle.NewModel(legend: LegendPosition.RightTop);
        model.Legends[0].LegendPlacement = LegendPlacement.Outside;   // runs fill the plot area; keep the legend beside it
        var xAxis = FigureStyle.Linear(AxisPosition.Bottom, $"local energy δE_{{train}}(σ = {sigma:G3}) (%)");
        var yAxis = FigureStyle.Linear(AxisPosition.Left, Gap ? "test − training error (%)" : "test error (%)");
        xAxis.MinimumPadding = xAxis.MaximumPadding = yAxis.MinimumPadding = yAxis.MaximumPadding = 0.06;
        model.Axes.Add(xAxis);
        model.Axes.Add(yAxis);
        var data = new CsvTable("local_energy_pct", Gap ? "gap_pct" : "test_error_pct", "seed", "sigma");
        var optimizers = rows.Select(r => r["optimizer"]).Distinct().ToList();
        var markers = new[] { MarkerType.Circle, MarkerType.Square, MarkerType.Triangle, MarkerType.Diamond, MarkerType.Cross, MarkerType.Star, MarkerType.Plus };
        var xs = new List<double>(); var ys = new List<double>();
        for (int o = 0; o < optimizers.Count; o++)
        {
            var s = new ScatterSeries
            {
                Title = optimizers[o], MarkerType = markers[o % markers.Length], MarkerSize = 3,
                MarkerFill = FigureStyle.Palette[o % FigureStyle.Palette.Length],
                MarkerStroke = FigureStyle.Palette[o % FigureStyle.Palette.Length], MarkerStrokeThickness = 1,
            };
            foreach (var r in rows.Where(r => r["optimizer"] == optimizers[o]))
            {
                double x = DeepNetworkFigures.Num(r[col]), y = 100 * DeepNetworkFigures.Num(r["test_error"]);
                if (Gap) y -= 100 * DeepNetworkFigures.Num(r["train_error"]);
                s.Points.Add(new ScatterPoint(x, y));
                xs.Add(x); ys.Add(y);
                data.Add(optimizers[o], [x, y, DeepNetworkFigures.Num(r["seed"]), sigma]);
            }
            model.Series.Add(s);
        }
        double rho = xs.Count > 2 ? MathNet.Numerics.Statistics.Correlation.Spearman(xs, ys) : double.NaN;
        data.Add("spearman", [rho, double.NaN, double.NaN, sigma]);
        if (!Gap && rows.Count > 0 && rows[0].TryGetValue("epsilon_bo", out var eboText) && double.IsFinite(DeepNetworkFigures.Num(eboText)))
        {
            double ebo = 100 * DeepNetworkFigures.Num(eboText);
            double x0 = xs.Min(), x1 = xs.Max();
            FigureHelpers.AddHorizontal(model, ebo, x0, x1, "Bayes-optimal error", OxyColors.Black, LineStyle.Dash);
            data.Add("bayes-optimal", [double.NaN, ebo, double.NaN, sigma]);
        }
        model.Subtitle = $"{Dataset}: {rows.Count} runs; Spearman ρ = {rho:F2}";
        model.SubtitleFontSize = 7.5;
        progress?.Invoke(1);
        return new FigureResult(model, data, []);
    }
}

/// <summary>Figure 7b: test error against epoch for SGD and periodic SWA (mean ± s.e. over seeds), for one dataset.</summary>
public sealed class PswaCurvesFigure(string dataset) : IFigure
{
    public string Dataset { get; } = dataset;
    public string Name => $"fig7b_pswa_curves_{DeepNetworkFigures.Slug(Dataset)}";
    public string Caption =>
        $"Deep networks, {Dataset}: test error against epoch of SGD and of periodic SWA (the averaged model), mean ± s.e. over " +
        "seeds, from figures/data/pswa_curves.csv: the early-stage advantage of PSWA (Guo, Jin, Liu).";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var table = DeepNetworkFigures.Load(options, "pswa_curves.csv");
        var rows = table.Rows.Where(r => r["dataset"] == Dataset && r["optimizer"] is "sgd" or "pswa" or "swa").ToList();
        var model = FigureStyle.NewModel(legend: LegendPosition.TopRight);
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Bottom, "epoch"));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "test error (%)"));
        var data = new CsvTable("epoch", "test_error_pct", "test_error_pct_se", "seeds");
        int k = 0;
        foreach (var opt in new[] { "sgd", "swa", "pswa" })
        {
            var byEpoch = rows.Where(r => r["optimizer"] == opt && double.IsFinite(DeepNetworkFigures.Num(r["test_error"])))
                .GroupBy(r => (int)DeepNetworkFigures.Num(r["epoch"])).OrderBy(g => g.Key).ToList();
            if (byEpoch.Count == 0) continue;
            var color = FigureStyle.Palette[k++];
            var line = new LineSeries { Title = opt.ToUpperInvariant(), Color = color, StrokeThickness = 1.3 };
            var band = new ScatterErrorSeries { MarkerSize = 0, ErrorBarColor = color, ErrorBarStrokeThickness = 0.6, ErrorBarStopWidth = 1.5 };
            foreach (var g in byEpoch)
            {
                var st = Statistic.Of(g.Select(r => 100 * DeepNetworkFigures.Num(r["test_error"])).ToArray());
                line.Points.Add(new DataPoint(g.Key, st.Mean));
                band.Points.Add(new ScatterErrorPoint(g.Key, st.Mean, 0, double.IsFinite(st.StdError) ? st.StdError : 0));
                data.Add(opt, [g.Key, st.Mean, st.StdError, st.Count]);
            }
            model.Series.Add(line);
            model.Series.Add(band);
        }
        model.Subtitle = $"{Dataset}; averaged model for SWA/PSWA";
        model.SubtitleFontSize = 7.5;
        progress?.Invoke(1);
        return new FigureResult(model, data, []);
    }
}
