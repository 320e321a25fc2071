using FlatMinima.Experiments;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Series;

namespace FlatMinima.Plots.Figures;

/// <summary>
/// Figure 1: the Bayes-optimal error ε_BO(α) (docs/theory.md#e3) for several Δ, balanced (solid) and ρ = ¼ (dashed), with the
/// oracle asymptotes (E4) and finite-N simulations of the BO estimator at Δ = 1 (data: <see cref="BayesOptimalErrorCurves"/>).
/// </summary>
public sealed class BayesErrorFigure : IFigure
{
    public string Name => "fig1_bayes_error";
    public string Caption =>
        "Bayes-optimal test error against alpha for Delta = 0.5, 1, 2 (solid: rho = 1/2, dashed: rho = 1/4), with the oracle " +
        "asymptotes (dotted) and simulations of the BO estimator at Delta = 1 (mean ± s.e. over datasets).";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var data = BayesOptimalErrorCurves.Compute(options.Pick(1000, 200), options.Pick(12, 4), options.Seed, options.Threads, progress);
        return new FigureResult(Draw(data), data.ToTable(), []);
    }

    /// <summary>The plot of <paramref name="data"/>.</summary>
    public static PlotModel Draw(BayesOptimalErrorCurves data)
    {
        var model = FigureStyle.NewModel();
        model.Axes.Add(FigureStyle.Log(AxisPosition.Bottom, "α = P/N", 0.1, 100));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "test error ε_{g}", 0, 0.5));
        foreach (var c in data.Theory)
        {
            var color = FigureStyle.Palette[BayesOptimalErrorCurves.Deltas.ToList().IndexOf(c.Delta)];
            var line = new LineSeries
            {
                Color = color, StrokeThickness = 1.3,
                LineStyle = c.Rho == 0.5 ? LineStyle.Solid : LineStyle.Dash,
                Title = c.Rho == 0.5 ? $"Δ = {c.Delta:G}" : null,
            };
            for (int i = 0; i < c.Alphas.Count; i++) line.Points.Add(new DataPoint(c.Alphas[i], c.TestErrors[i]));
            model.Series.Add(line);
            model.Series.Add(new LineSeries
            {
                Color = color, StrokeThickness = 0.8, LineStyle = LineStyle.Dot,
                Points = { new DataPoint(0.1, c.OracleError), new DataPoint(100, c.OracleError) },
            });
        }
        foreach (var s in data.Simulations)
        {
            var pts = new ScatterErrorSeries
            {
                MarkerType = s.Rho == 0.5 ? MarkerType.Circle : MarkerType.Square, MarkerSize = 2.2,
                MarkerFill = OxyColors.Black, ErrorBarColor = OxyColors.Black, ErrorBarStrokeThickness = 0.8,
                Title = s.Rho == 0.5 ? $"BO simulation (Δ = 1), N = {s.N}" : null,
            };
            for (int i = 0; i < s.Alphas.Count; i++) pts.Points.Add(new ScatterErrorPoint(s.Alphas[i], s.TestErrors[i].Mean, 0, s.TestErrors[i].StdError));
            model.Series.Add(pts);
        }
        FigureStyle.AddLegendOnlyLine(model, "ρ = 1/4", LineStyle.Dash);
        FigureStyle.AddLegendOnlyLine(model, "oracle (knows v)", LineStyle.Dot);
        return model;
    }
}
