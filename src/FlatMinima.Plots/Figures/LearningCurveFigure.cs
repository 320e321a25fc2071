using FlatMinima.Experiments;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;

namespace FlatMinima.Plots.Figures;

/// <summary>
/// Figure 2: ERM learning curves ε_g(α) from the replica fixed point (docs/theory.md#erm-saddle-point) for the square, logistic and hinge
/// losses at λ = 0.1 (solid, with finite-N simulations) and at λ = 10⁻⁴ (dashed: the λ → 0 limit, whose interpolation
/// peaks sit at α = 1 for the square loss and at the separability threshold α_c for logistic and hinge), Δ = 1, ρ = ½,
/// with the N → ∞ extrapolation of every λ = 0.1 simulation (data: <see cref="ErmLearningCurves"/>).
/// </summary>
public sealed class LearningCurveFigure : IFigure
{
    public string Name => "fig2_learning_curves";
    public string Caption =>
        "ERM test error against alpha (Delta = 1, rho = 1/2) from the replica fixed point: lambda = 0.1 (solid, with " +
        "finite-N simulations, mean ± s.e.) and lambda = 1e-4 (dashed), whose interpolation peaks sit at alpha = 1 (square) " +
        "and at the separability threshold alpha_c = 3.70 (logistic, hinge; dotted line); black: Bayes-optimal error. " +
        "The figure is a comparison of theory and simulation at lambda = 0.1, so every simulated point there has its N -> infinity " +
        "extrapolation beside it (open diamond drawn slightly to the right, bar = 99 % interval): a + b/N fitted to the plotted N and to " +
        "N/4, N/2 on 4 and 2 times as many datasets. The lambda = 1e-4 curve shows where the peaks are; near them the finite-size " +
        "form is not established, so its simulations are not extrapolated.";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var data = ErmLearningCurves.Compute(options.Pick(241, 121), options.Pick(400, 100), options.Pick(8, 3), options.Seed, options.Threads, progress);
        return new FigureResult(Draw(data), data.ToTable(), data.Warnings,
            FigureHelpers.ExtrapolationFindings(data.Simulations.SelectMany(s => s.Extrapolated.Select(e => e.Row)).ToList()));
    }

    /// <summary>Where an extrapolated point is drawn on the log α axis: 6 % to the right of its N point.</summary>
    public const double ExtrapolationShift = 1.06;

    /// <summary>The plot of <paramref name="data"/>.</summary>
    public static PlotModel Draw(ErmLearningCurves data)
    {
        var model = FigureStyle.NewModel(legend: LegendPosition.TopRight);
        model.Axes.Add(FigureStyle.Log(AxisPosition.Bottom, "α = P/N", 0.3, 12));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "test error ε_{g}", 0.1, 0.45));
        foreach (var c in data.Theory)
        {
            bool small = c.Points.Count > 0 && c.Points[0].Problem.Lambda == ErmLearningCurves.SmallLambda;
            FigureHelpers.AddTheoryCurve(model, c, FigureHelpers.LossColor(c.Loss), small ? LineStyle.Dash : LineStyle.Solid, small ? null : c.Loss, small ? 1.0 : 1.3);
        }
        var bo = new OxyPlot.Series.LineSeries { Title = "Bayes-optimal", Color = OxyColors.Black, StrokeThickness = 1 };
        for (int i = 0; i < data.Alphas.Count; i++) bo.Points.Add(new DataPoint(data.Alphas[i], data.BayesOptimalErrors[i]));
        model.Series.Add(bo);
        FigureHelpers.AddVertical(model, data.SeparabilityThreshold, $"separability threshold α = {data.SeparabilityThreshold:F2}");
        foreach (var s in data.Simulations)
        {
            var pts = FigureHelpers.SimulationPoints(s);
            if (s.Lambda == ErmLearningCurves.SmallLambda) pts.MarkerFill = OxyColors.White;
            model.Series.Add(pts);
            if (s.Extrapolations is not null) model.Series.Add(FigureHelpers.ExtrapolationPoints(s, ExtrapolationShift));
        }
        int n = data.Simulations.Count > 0 ? data.Simulations[0].N : 0;
        FigureStyle.AddLegendOnlyLine(model, $"λ = {ErmLearningCurves.SmallLambda:G} (open: sim.)", LineStyle.Dash);
        if (data.Simulations.Any(s => s.Extrapolated.Any())) FigureHelpers.AddExtrapolationLegend(model);
        model.Subtitle = $"λ = {ErmLearningCurves.Lambda:G} (solid; filled: simulation, N = {n})";
        model.SubtitleFontSize = 7.5;
        return model;
    }
}
