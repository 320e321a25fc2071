using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Mixture;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Series;

namespace FlatMinima.Plots.Figures;

/// <summary>
/// Figure 1: the Bayes-optimal error ε_BO(α) (docs/theory.md#e3) for several Δ, balanced (solid) and ρ = ¼ (dashed), with the
/// oracle asymptotes (E4) and finite-N simulations of the BO estimator at Δ = 1.
/// </summary>
public sealed class BayesErrorFigure : IFigure
{
    public string Name => "fig1_bayes_error";
    public string Caption =>
        "Bayes-optimal test error against alpha for Delta = 0.5, 1, 2 (solid: rho = 1/2, dashed: rho = 1/4), with the oracle " +
        "asymptotes (dotted) and simulations of the BO estimator at Delta = 1 (mean ± s.e. over datasets).";

    internal static readonly double[] Deltas = [0.5, 1, 2];
    internal static readonly double[] Rhos = [0.5, 0.25];
    internal static readonly double[] SimAlphas = [0.5, 1, 2, 5, 10];

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var model = FigureStyle.NewModel();
        model.Axes.Add(FigureStyle.Log(AxisPosition.Bottom, "α = P/N", 0.1, 100));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "test error ε_{g}", 0, 0.5));
        var data = new CsvTable("alpha", "test_error", "test_error_se", "delta", "rho");
        var alphas = Enumerable.Range(0, 121).Select(i => Math.Pow(10, -1 + 3.0 * i / 120)).ToArray();

        for (int d = 0; d < Deltas.Length; d++)
        {
            double delta = Deltas[d];
            var color = FigureStyle.Palette[d];
            foreach (var rho in Rhos)
            {
                string series = $"theory delta={delta:G} rho={rho:G}";
                var line = new LineSeries
                {
                    Color = color, StrokeThickness = 1.3,
                    LineStyle = rho == 0.5 ? LineStyle.Solid : LineStyle.Dash,
                    Title = rho == 0.5 ? $"Δ = {delta:G}" : null,
                };
                foreach (var a in alphas)
                {
                    double e = BayesOptimal.Error(new MixtureModel(a, delta, rho));
                    line.Points.Add(new DataPoint(a, e));
                    data.Add(series, [a, e, double.NaN, delta, rho]);
                }
                model.Series.Add(line);
                double oracle = BayesOptimal.OracleError(new MixtureModel(1, delta, rho));
                model.Series.Add(new LineSeries
                {
                    Color = color, StrokeThickness = 0.8, LineStyle = LineStyle.Dot,
                    Points = { new DataPoint(0.1, oracle), new DataPoint(100, oracle) },
                });
                data.Add($"oracle delta={delta:G} rho={rho:G}", [double.NaN, oracle, double.NaN, delta, rho]);
            }
        }

        int n = options.Pick(1000, 200), seeds = options.Pick(12, 4);
        int done = 0, total = SimAlphas.Length * Rhos.Length;
        foreach (var rho in Rhos)
        {
            var pts = new ScatterErrorSeries
            {
                MarkerType = rho == 0.5 ? MarkerType.Circle : MarkerType.Square, MarkerSize = 2.2,
                MarkerFill = OxyColors.Black, ErrorBarColor = OxyColors.Black, ErrorBarStrokeThickness = 0.8,
                Title = rho == 0.5 ? $"BO simulation (Δ = 1), N = {n}" : null,
            };
            foreach (var a in SimAlphas)
            {
                var r = MonteCarlo.Run(new MixtureSpec(new MixtureModel(a, 1, rho), n, options.Seed), seeds, EstimatorKind.Bayes, options.Threads);
                pts.Points.Add(new ScatterErrorPoint(a, r.TestError.Mean, 0, r.TestError.StdError));
                data.Add($"simulation delta=1 rho={rho:G} n={n} seeds={seeds}", [a, r.TestError.Mean, r.TestError.StdError, 1, rho]);
                progress?.Invoke(++done / (double)total);
            }
            model.Series.Add(pts);
        }
        FigureStyle.AddLegendOnlyLine(model, "ρ = 1/4", LineStyle.Dash);
        FigureStyle.AddLegendOnlyLine(model, "oracle (knows v)", LineStyle.Dot);
        return new FigureResult(model, data, []);
    }
}
