using System.Globalization;
using FlatMinima.Experiments;
using FlatMinima.Numerics;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace FlatMinima.Plots.Figures;

/// <summary>
/// Figure 7 from recorded deep-network sweeps (docs/optim.md): a list file (<see cref="FigureOptions.Sweeps"/>, e.g.
/// <c>{"gm": "gpu/gm", "fashion-mnist": "cpu_fmnist"}</c>) names a sweep directory per data set, each read through
/// Core's <see cref="SweepResults"/>: <c>sweep.csv</c> (one row per run) for figures 7a and 7c, <c>curves.csv</c> (every
/// run's epochs) for figure 7b. Figures are made for every data set listed, so adding a sweep to the list and rerunning
/// <c>flatminima figures</c> draws it.
/// </summary>
public static class DeepNetworkFigures
{
    /// <summary>The figures the list at <paramref name="sweepList"/> supports (none when there is no list): 7a for every
    /// sweep, 7c for those that recorded training errors, 7b for those with per-epoch histories.</summary>
    public static IReadOnlyList<IFigure> For(string sweepList)
    {
        var figs = new List<IFigure>();
        if (File.Exists(sweepList))
        {
            var sweeps = SweepResults.ReadList(sweepList).Select(d => (d.Dataset, d.Directory, Results: SweepResults.Read(d.Directory))).ToList();
            foreach (var s in sweeps) figs.Add(new DeepFlatnessFigure(s.Dataset, s.Directory));
            foreach (var s in sweeps.Where(s => s.Results.Table.Runs.Any(r => r.TrainError is not null)))
                figs.Add(new DeepFlatnessFigure(s.Dataset, s.Directory, DeepFlatnessTarget.GeneralizationGap));
            foreach (var s in sweeps.Where(s => s.Results.Curves is not null)) figs.Add(new PswaCurvesFigure(s.Dataset, s.Directory));
        }
        // Figure 8 (spectral densities, loss landscapes) from the recorded probe data in probes/ beside the list.
        figs.AddRange(ProbeFigures.For(ProbeDirectory(sweepList)));
        return figs;
    }

    /// <summary>The folder of recorded probe data that goes with the sweep list <paramref name="sweepList"/>.</summary>
    public static string ProbeDirectory(string sweepList) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(sweepList))!, "probes");

    internal static string Slug(string s) => new(s.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());
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

/// <summary>Figure 7a (test error) or 7c (generalisation gap) against local energy across optimisers and seeds, for the
/// sweep of one dataset in <paramref name="directory"/>.</summary>
public sealed class DeepFlatnessFigure(string dataset, string directory, DeepFlatnessTarget target = DeepFlatnessTarget.TestError) : IFigure
{
    public string Dataset { get; } = dataset;
    /// <summary>The sweep directory.</summary>
    public string Directory { get; } = directory;
    public DeepFlatnessTarget Target { get; } = target;
    private bool Gap => Target == DeepFlatnessTarget.GeneralizationGap;
    public string Name => Gap ? $"fig7c_deep_gap_{DeepNetworkFigures.Slug(Dataset)}" : $"fig7a_deep_flatness_{DeepNetworkFigures.Slug(Dataset)}";
    public string Caption =>
        $"Deep networks, {Dataset}: {(Gap ? "generalisation gap (test minus training error)" : "test error")} against the local energy " +
        "deltaE_train(sigma) (training error increase in % under " +
        "multiplicative Gaussian weight noise, docs/theory.md#le) of the final model, one point per run, by optimiser; sigma is the " +
        "median of the recorded scales, and the Spearman rank correlation over all runs is given (data: sweep.csv of the recorded sweep, docs/optim.md).";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var table = SweepTable.Read(Path.Combine(Directory, SweepTable.FileName));
        var rows = table.Runs;
        // σ columns with a value for every run; the median one is shown.
        var complete = Enumerable.Range(0, table.Sigmas.Count)
            .Where(i => rows.All(r => r.LocalEnergy[i] is double v && double.IsFinite(v)))
            .OrderBy(i => table.Sigmas[i]).ToList();
        if (complete.Count == 0) throw new InvalidDataException($"{Path.Combine(Directory, SweepTable.FileName)}: no local-energy column complete for dataset '{Dataset}'.");
        int col = complete[(complete.Count - 1) / 2];
        double sigma = table.Sigmas[col];

        var model = FigureStyle.NewModel(legend: LegendPosition.RightTop);
        model.Legends[0].LegendPlacement = LegendPlacement.Outside;   // runs fill the plot area; keep the legend beside it
        var xAxis = FigureStyle.Linear(AxisPosition.Bottom, $"local energy δE_{{train}}(σ = {sigma:G3}) (%)");
        var yAxis = FigureStyle.Linear(AxisPosition.Left, Gap ? "test − training error (%)" : "test error (%)");
        xAxis.MinimumPadding = xAxis.MaximumPadding = yAxis.MinimumPadding = yAxis.MaximumPadding = 0.06;
        model.Axes.Add(xAxis);
        model.Axes.Add(yAxis);
        var data = new SeriesTable("local_energy_pct", Gap ? "gap_pct" : "test_error_pct", "seed", "sigma");
        var optimizers = rows.Select(r => r.Optimizer).Distinct().ToList();
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
            foreach (var r in rows.Where(r => r.Optimizer == optimizers[o]))
            {
                double x = r.LocalEnergy[col]!.Value, y = 100 * (r.TestError ?? double.NaN);
                if (Gap) y -= 100 * (r.TrainError ?? double.NaN);
                s.Points.Add(new ScatterPoint(x, y));
                xs.Add(x); ys.Add(y);
                data.Add(optimizers[o], [x, y, r.Seed, sigma]);
            }
            model.Series.Add(s);
        }
        double rho = xs.Count > 2 ? MathNet.Numerics.Statistics.Correlation.Spearman(xs, ys) : double.NaN;
        data.Add("spearman", [rho, double.NaN, double.NaN, sigma]);
        if (!Gap && rows.Count > 0 && rows[0].EpsilonBo is double eboFraction && double.IsFinite(eboFraction))
        {
            double ebo = 100 * eboFraction;
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

/// <summary>Figure 7b: test error against epoch for SGD and periodic SWA (mean ± s.e. over seeds), for the sweep of one
/// dataset in <paramref name="directory"/>.</summary>
public sealed class PswaCurvesFigure(string dataset, string directory) : IFigure
{
    public string Dataset { get; } = dataset;
    /// <summary>The sweep directory.</summary>
    public string Directory { get; } = directory;
    public string Name => $"fig7b_pswa_curves_{DeepNetworkFigures.Slug(Dataset)}";
    public string Caption =>
        $"Deep networks, {Dataset}: test error against epoch of SGD and of periodic SWA (the averaged model), mean ± s.e. over " +
        "seeds, from curves.csv of the recorded sweep (docs/optim.md): the early-stage advantage of PSWA (Guo, Jin and Liu, 2022 [`guo2022pswa`]).";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var rows = EpochCurves.Read(Path.Combine(Directory, EpochCurves.FileName));
        var model = FigureStyle.NewModel(legend: LegendPosition.TopRight);
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Bottom, "epoch"));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "test error (%)"));
        var data = new SeriesTable("epoch", "test_error_pct", "test_error_pct_se", "seeds");
        int k = 0;
        foreach (var opt in new[] { "sgd", "swa", "pswa" })
        {
            var byEpoch = rows.Where(r => r.Optimizer == opt && r.TestError is double te && double.IsFinite(te))
                .GroupBy(r => r.Epoch).OrderBy(g => g.Key).ToList();
            if (byEpoch.Count == 0) continue;
            var color = FigureStyle.Palette[k++];
            var line = new LineSeries { Title = opt.ToUpperInvariant(), Color = color, StrokeThickness = 1.3 };
            var band = new ScatterErrorSeries { MarkerSize = 0, ErrorBarColor = color, ErrorBarStrokeThickness = 0.6, ErrorBarStopWidth = 1.5 };
            foreach (var g in byEpoch)
            {
                var st = Statistic.Of(g.Select(r => 100 * r.TestError!.Value).ToArray());
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
