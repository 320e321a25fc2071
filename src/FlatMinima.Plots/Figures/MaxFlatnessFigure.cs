using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace FlatMinima.Plots.Figures;

/// <summary>Runs of the max-flatness demonstration shared by figures 6a and 6b (computed once per options).</summary>
internal static class MaxFlatnessRuns
{
    public const double Alpha = 2, Delta = 1, Rho = 0.5;
    public static readonly double[] Sigmas = [0.1, 0.3, 1, 3, 10, 30];
    public static readonly double[] QuickSigmas = [0.3, 1, 3, 30];

    /// <summary>Objective name and loss (null = the classifier's smoothed error E_σ).</summary>
    public static readonly (string Name, IMarginLoss? Loss)[] Objectives =
    [
        ("classifier objective E(σ)", null),
        ("logistic loss", LogisticLoss.Instance),
    ];

    public sealed record Row(string Objective, double Sigma, Statistic Cosine, Statistic TestError, Statistic BoTestError);

    private static readonly Dictionary<FigureOptions, IReadOnlyList<Row>> Cache = [];

    public static IReadOnlyList<Row> Get(FigureOptions options, Action<double>? progress)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(options, out var rows)) { progress?.Invoke(1); return rows; }
            var sigmas = options.Quick ? QuickSigmas : Sigmas;
            int n = N(options), seeds = options.Pick(3, 1);
            var list = new List<Row>();
            int done = 0, total = Objectives.Length * sigmas.Length;
            foreach (var (name, loss) in Objectives)
                foreach (var sigma in sigmas)
                {
                    var fits = Enumerable.Range(0, seeds).Select(k =>
                        MaxFlatness.Fit(MixtureSample.Sample(new MixtureSpec(new MixtureModel(Alpha, Delta, Rho), n, options.Seed + k)),
                            new MaxFlatnessOptions(MaxFlatnessMethod.Replicated, loss, sigma,
                                Replicated: new ReplicatedOptions(Threads: options.Threads ?? 0)))).ToList();
                    list.Add(new Row(name, sigma, Statistic.Of(fits.Select(f => f.CosineBo).ToArray()),
                        Statistic.Of(fits.Select(f => f.TestError).ToArray()), Statistic.Of(fits.Select(f => f.BoTestError).ToArray())));
                    progress?.Invoke(++done / (double)total);
                }
            Cache[options] = list;
            return list;
        }
    }

    public static int N(FigureOptions options) => options.Pick(500, 200);
}

/// <summary>Figure 6: maximum flatness reaches the Bayes-optimal estimator (cosine, or test error, against σ).</summary>
public sealed class MaxFlatnessFigure(bool cosine) : IFigure
{
    public string Name => cosine ? "fig6a_maxflat_cosine" : "fig6b_maxflat_error";
    public string Caption => cosine
        ? "Maximum flatness reaches the Bayes-optimal direction: cosine between the replicated-descent centre and the BO " +
          "(Hebbian) vector of the same training set against the flatness scale sigma, for the norm-independent classifier " +
          "objective E_sigma and the noise-smoothed logistic loss (alpha = 2, Delta = 1, rho = 1/2; mean ± s.e. over datasets)."
        : "Test error of the maximally flat estimator against the flatness scale sigma, for both objectives, with the test " +
          "error of the BO estimator on the same training sets and the theory eps_BO (alpha = 2, Delta = 1, rho = 1/2).";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var rows = MaxFlatnessRuns.Get(options, progress);
        int n = MaxFlatnessRuns.N(options);
        var model = FigureStyle.NewModel(legend: cosine ? LegendPosition.BottomRight : LegendPosition.TopRight);
        model.Axes.Add(FigureStyle.Log(AxisPosition.Bottom, "flatness scale σ", 0.07, 45));
        model.Axes.Add(cosine
            ? FigureStyle.Linear(AxisPosition.Left, "cosine with the BO direction", 0.6, 1.02)
            : FigureStyle.Linear(AxisPosition.Left, "test error ε_{g}", 0.195, 0.30));
        var data = new CsvTable("sigma", cosine ? "cosine_bo" : "test_error", cosine ? "cosine_bo_se" : "test_error_se");
        for (int o = 0; o < MaxFlatnessRuns.Objectives.Length; o++)
        {
            string name = MaxFlatnessRuns.Objectives[o].Name;
            var color = FigureStyle.Palette[o];
            var line = new LineSeries { Color = color, StrokeThickness = 1, LineStyle = LineStyle.Dot };
            var pts = new ScatterErrorSeries
            {
                Title = name, MarkerType = o == 0 ? MarkerType.Circle : MarkerType.Square, MarkerSize = 2.6,
                MarkerFill = color, ErrorBarColor = color, ErrorBarStrokeThickness = 0.8, ErrorBarStopWidth = 2,
            };
            foreach (var r in rows.Where(r => r.Objective == name))
            {
                var s = cosine ? r.Cosine : r.TestError;
                line.Points.Add(new DataPoint(r.Sigma, s.Mean));
                pts.Points.Add(new ScatterErrorPoint(r.Sigma, s.Mean, 0, double.IsFinite(s.StdError) ? s.StdError : 0));
                data.Add($"{name} n={n}", [r.Sigma, s.Mean, s.StdError]);
            }
            model.Series.Add(line);
            model.Series.Add(pts);
        }
        if (cosine)
        {
            FigureHelpers.AddHorizontal(model, 1, 0.07, 45, "BO direction", OxyColors.Black, LineStyle.Solid);
            data.Add("bayes-optimal", [double.NaN, 1, double.NaN]);
        }
        else
        {
            var bo = Statistic.Of(rows.Where(r => r.Objective == rows[0].Objective).Select(r => r.BoTestError.Mean).Take(1).ToArray());
            FigureHelpers.AddHorizontal(model, bo.Mean, 0.07, 45, "BO estimator, same data", OxyColors.Black, LineStyle.Solid);
            data.Add("bo estimator same data", [double.NaN, bo.Mean, double.NaN]);
            double eBo = BayesOptimal.Error(new MixtureModel(MaxFlatnessRuns.Alpha, MaxFlatnessRuns.Delta, MaxFlatnessRuns.Rho));
            FigureHelpers.AddHorizontal(model, eBo, 0.07, 45, "Bayes-optimal error (theory)", OxyColors.Gray, LineStyle.Dash);
            data.Add("bayes-optimal theory", [double.NaN, eBo, double.NaN]);
        }
        model.Subtitle = $"replicated descent (y = 3), N = {n}, α = 2, Δ = 1, ρ = 1/2";
        model.SubtitleFontSize = 7.5;
        return new FigureResult(model, data, []);
    }
}
