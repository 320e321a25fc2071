using FlatMinima.Experiments;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace FlatMinima.Plots.Figures;

/// <summary>How the estimators of <see cref="LocalEnergyComparison"/> are drawn.</summary>
internal static class LocalEnergyStyle
{
    // One colour per estimator of LocalEnergyComparison.Estimators (black for BO), chosen so the ones drawn in figure 4a
    // contrast well.
    private static readonly int[] PaletteIndex = [6, 5, 2, 4, 0, 1, 7, 3];
    public static OxyColor Color(LocalEnergyEstimator e) =>
        FigureStyle.Palette[PaletteIndex[LocalEnergyComparison.Estimators.ToList().IndexOf(e)]];

    /// <summary>Where a label sits relative to its point in figure 4b, so that close points do not collide.</summary>
    public static (HorizontalAlignment H, VerticalAlignment V, double Dx, double Dy) LabelPlacement(string name) => name switch
    {
        "Bayes-optimal" => (HorizontalAlignment.Center, VerticalAlignment.Bottom, 0, -5),
        "logistic λ=10" => (HorizontalAlignment.Left, VerticalAlignment.Top, 4, 2),
        "hinge λ=1e-3" => (HorizontalAlignment.Right, VerticalAlignment.Bottom, -4, -2),
        "hinge λ=1" => (HorizontalAlignment.Right, VerticalAlignment.Bottom, -4, -2),
        _ => (HorizontalAlignment.Left, VerticalAlignment.Top, 4, 2),
    };
}

/// <summary>Figure 4a: local energy δE(σ) of the BO estimator and of ERM minimisers, theory and simulation with the
/// simulation's N → ∞ extrapolations (data: <see cref="LocalEnergyCurves"/>).</summary>
public sealed class LocalEnergyFigure : IFigure
{
    public string Name => "fig4a_local_energy";
    public string Caption =>
        "Local energy deltaE(sigma) = E_sigma - E_0 (training error under multiplicative weight noise) of the Bayes-optimal " +
        "estimator and of ERM minimisers at alpha = 2, Delta = 1, rho = 1/2: theory (LE2, LE3; lines) and exact finite-N " +
        "values (LE1) of fitted estimators (markers, mean ± s.e. over datasets with exact label counts). At sigma ~ 1 BO is " +
        "the flattest; at small sigma the interpolators are. The figure compares theory and simulation, so every simulated point has " +
        "its N -> infinity extrapolation beside it (open diamond drawn slightly to the right, bar = 99 % interval): a + b/N fitted to " +
        "the plotted N and to N/4, N/2 on 4 and 2 times as many datasets.";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var data = LocalEnergyCurves.Compute(options.Pick(1000, 200), options.Pick(4, 2), options.Seed, options.Threads, progress);
        return new FigureResult(Draw(data), data.ToTable(), data.Warnings,
            FigureHelpers.ExtrapolationFindings(data.Extrapolated.Select(e => e.Row).ToList()));
    }

    /// <summary>Where an extrapolated point is drawn on the linear σ axis: this far to the right of its N point.</summary>
    public const double ExtrapolationShift = 0.035;

    /// <summary>The plot of <paramref name="data"/>.</summary>
    public static PlotModel Draw(LocalEnergyCurves data)
    {
        var model = FigureStyle.NewModel(legend: LegendPosition.TopLeft);
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Bottom, "noise scale σ", 0, 2));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "local energy δE(σ)", 0, 0.32));
        foreach (var c in data.Curves)
        {
            var color = LocalEnergyStyle.Color(c.Estimator);
            var line = new LineSeries { Title = c.Estimator.Name, Color = color, StrokeThickness = c.Estimator.Loss is null ? 1.6 : 1.2 };
            for (int k = 0; k < c.Sigmas.Count; k++) line.Points.Add(new DataPoint(c.Sigmas[k], c.DeltaE[k]));
            model.Series.Add(line);
            var pts = new ScatterErrorSeries
            {
                MarkerType = MarkerType.Circle, MarkerSize = 2.2, MarkerFill = color, ErrorBarColor = color,
                ErrorBarStrokeThickness = 0.8, ErrorBarStopWidth = 2,
            };
            for (int k = 0; k < c.SimulatedSigmas.Count; k++)
                pts.Points.Add(new ScatterErrorPoint(c.SimulatedSigmas[k], c.SimulatedDeltaE[k].Mean, 0, c.SimulatedDeltaE[k].StdError));
            model.Series.Add(pts);
            if (c.Extrapolations is { } ext)
            {
                var xs = FigureHelpers.ExtrapolationSeries(color);
                for (int k = 0; k < ext.Count; k++)
                    xs.Points.Add(new ScatterErrorPoint(c.SimulatedSigmas[k] + ExtrapolationShift, ext[k].Fit.Intercept, 0, ext[k].HalfWidth));
                model.Series.Add(xs);
            }
        }
        if (data.Extrapolated.Any()) FigureHelpers.AddExtrapolationLegend(model);
        model.Subtitle = $"α = 2, Δ = 1, ρ = 1/2; lines: theory; markers: N = {data.N}, {data.Seeds} datasets";
        model.SubtitleFontSize = 7.5;
        return model;
    }
}

/// <summary>Figure 4b: test error against local energy at σ = 1 across estimators (data: <see cref="FlatnessVersusError"/>).</summary>
public sealed class FlatnessVersusErrorFigure : IFigure
{
    public string Name => "fig4b_flatness_vs_error";
    public string Caption =>
        "Test error against local energy deltaE(sigma = 1) across the estimators of docs/theory.md#table-local-energy (alpha = 2, Delta = 1, " +
        "rho = 1/2): theory (filled) and finite-N simulation (open, mean ± s.e. in both coordinates, exact label counts). " +
        "Flatter estimators generalise better; the Bayes-optimal one is the flattest. No N -> infinity extrapolation here: the figure " +
        "is about the ordering of the estimators, which the finite-N points already show; the agreement of deltaE with the theory " +
        "is extrapolated in figure 4a (at sigma = 1 on the same datasets, for five of these estimators), and that of the test " +
        "errors of ERM at lambda >= 0.1 in figure 3a.";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var data = FlatnessVersusError.Compute(options.Pick(1000, 200), options.Pick(4, 2), options.Seed, options.Threads, progress);
        return new FigureResult(Draw(data), data.ToTable(), []);
    }

    /// <summary>The plot of <paramref name="data"/>.</summary>
    public static PlotModel Draw(FlatnessVersusError data)
    {
        var model = FigureStyle.NewModel(legend: LegendPosition.BottomRight);
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Bottom, "local energy δE(σ = 1)", 0.05, 0.27));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "test error ε_{g}", 0.195, 0.295));
        var theory = new ScatterSeries { Title = "theory (LE2, LE3)", MarkerType = MarkerType.Circle, MarkerSize = 3, MarkerFill = OxyColors.Black };
        var sims = new ScatterErrorSeries
        {
            Title = $"simulation, N = {data.N}", MarkerType = MarkerType.Circle, MarkerSize = 3, MarkerFill = OxyColors.White,
            MarkerStroke = FigureStyle.Palette[1], MarkerStrokeThickness = 1, ErrorBarColor = FigureStyle.Palette[1],
            ErrorBarStrokeThickness = 0.8, ErrorBarStopWidth = 2,
        };
        foreach (var p in data.Points)
        {
            theory.Points.Add(new ScatterPoint(p.DeltaE, p.TestError));
            sims.Points.Add(new ScatterErrorPoint(p.SimulatedDeltaE.Mean, p.SimulatedTestError.Mean, p.SimulatedDeltaE.StdError, p.SimulatedTestError.StdError));
            var (h, v, dx, dy) = LocalEnergyStyle.LabelPlacement(p.Estimator.Name);
            model.Annotations.Add(new OxyPlot.Annotations.TextAnnotation
            {
                Text = p.Estimator.Name, TextPosition = new DataPoint(p.DeltaE, p.TestError), FontSize = 6, Stroke = OxyColors.Transparent,
                TextHorizontalAlignment = h, TextVerticalAlignment = v, Offset = new ScreenVector(dx, dy), TextColor = OxyColors.DimGray,
            });
        }
        model.Series.Add(theory);
        model.Series.Add(sims);
        model.Subtitle = $"α = 2, Δ = 1, ρ = 1/2; Spearman rank correlation (theory) = {data.SpearmanTheory:F2}";
        model.SubtitleFontSize = 7.5;
        return model;
    }
}
