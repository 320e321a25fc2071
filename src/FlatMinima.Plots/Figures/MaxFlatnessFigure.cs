using FlatMinima.Experiments;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace FlatMinima.Plots.Figures;

/// <summary>Figure 6: maximum flatness reaches the Bayes-optimal estimator (cosine, or test error, against σ; data:
/// <see cref="MaxFlatnessScan"/>, computed once per options for both panels).</summary>
public sealed class MaxFlatnessFigure(bool cosine) : IFigure
{
    /// <summary>The σ of the quick scan.</summary>
    internal static readonly double[] QuickSigmas = [0.3, 1, 3, 30];
    private static readonly Dictionary<FigureOptions, MaxFlatnessScan> Cache = [];

    public string Name => cosine ? "fig6a_maxflat_cosine" : "fig6b_maxflat_error";
    public string Caption => cosine
        ? "Maximum flatness reaches the Bayes-optimal direction: cosine between the replicated-descent centre and the BO " +
          "(Hebbian) vector of the same training set against the flatness scale sigma, for the norm-independent classifier " +
          "objective E_sigma and the noise-smoothed logistic loss (alpha = 2, Delta = 1, rho = 1/2; mean ± s.e. over datasets)."
        : "Test error of the maximally flat estimator against the flatness scale sigma, for both objectives, with the test " +
          "error of the BO estimator on the same training sets and the theory eps_BO (alpha = 2, Delta = 1, rho = 1/2).";

    private static MaxFlatnessScan Scan(FigureOptions options, Action<double>? progress)
    {
        lock (Cache)
        {
            if (Cache.TryGetValue(options, out var scan)) { progress?.Invoke(1); return scan; }
            scan = MaxFlatnessScan.Compute(options.Quick ? QuickSigmas : MaxFlatnessScan.Sigmas, options.Pick(500, 200), options.Pick(3, 1),
                options.Seed, options.Threads, progress);
            Cache[options] = scan;
            return scan;
        }
    }

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var data = Scan(options, progress);
        return new FigureResult(Draw(data, cosine), cosine ? data.CosineTable() : data.ErrorTable(), []);
    }

    /// <summary>The plot of <paramref name="data"/>: the cosine panel or the test-error panel.</summary>
    public static PlotModel Draw(MaxFlatnessScan data, bool cosine)
    {
        var model = FigureStyle.NewModel(legend: cosine ? LegendPosition.BottomRight : LegendPosition.TopRight);
        model.Axes.Add(FigureStyle.Log(AxisPosition.Bottom, "flatness scale σ", 0.07, 45));
        model.Axes.Add(cosine
            ? FigureStyle.Linear(AxisPosition.Left, "cosine with the BO direction", 0.6, 1.02)
            : FigureStyle.Linear(AxisPosition.Left, "test error ε_{g}", 0.195, 0.30));
        for (int o = 0; o < MaxFlatnessScan.Objectives.Count; o++)
        {
            string name = MaxFlatnessScan.Objectives[o].Name;
            var color = FigureStyle.Palette[o];
            var line = new LineSeries { Color = color, StrokeThickness = 1, LineStyle = LineStyle.Dot };
            var pts = new ScatterErrorSeries
            {
                Title = name, MarkerType = o == 0 ? MarkerType.Circle : MarkerType.Square, MarkerSize = 2.6,
                MarkerFill = color, ErrorBarColor = color, ErrorBarStrokeThickness = 0.8, ErrorBarStopWidth = 2,
            };
            foreach (var p in data.Points.Where(p => p.Objective == name))
            {
                var s = cosine ? p.CosineBo : p.TestError;
                line.Points.Add(new DataPoint(p.Sigma, s.Mean));
                pts.Points.Add(new ScatterErrorPoint(p.Sigma, s.Mean, 0, double.IsFinite(s.StdError) ? s.StdError : 0));
            }
            model.Series.Add(line);
            model.Series.Add(pts);
        }
        if (cosine) FigureHelpers.AddHorizontal(model, 1, 0.07, 45, "BO direction", OxyColors.Black, LineStyle.Solid);
        else
        {
            FigureHelpers.AddHorizontal(model, data.BoTestErrorSameData, 0.07, 45, "BO estimator, same data", OxyColors.Black, LineStyle.Solid);
            FigureHelpers.AddHorizontal(model, MaxFlatnessScan.BayesOptimalError, 0.07, 45, "Bayes-optimal error (theory)", OxyColors.Gray, LineStyle.Dash);
        }
        model.Subtitle = $"replicated descent (y = 3), N = {data.N}, α = 2, Δ = 1, ρ = 1/2";
        model.SubtitleFontSize = 7.5;
        return model;
    }
}
