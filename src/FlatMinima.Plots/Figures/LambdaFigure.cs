using FlatMinima.Experiments;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;

namespace FlatMinima.Plots.Figures;

/// <summary>
/// Figure 3: ERM test error against λ at α = 2, Δ = 1 from the replica fixed point, with finite-N simulations and the
/// Bayes-optimal line, and the N → ∞ extrapolation of every simulation but the degenerate hinge points
/// (<see cref="ErmLambdaCurves.Extrapolated"/>). Balanced (ρ = ½): every loss reaches ε_BO as λ → ∞. Unbalanced (ρ = ¼): a gap to ε_BO remains at
/// every λ, and λ → ∞ tends to the majority-class error (docs/theory.md#reaching-bo, docs/theory.md#table-erm; data: <see cref="ErmLambdaCurves"/>).
/// </summary>
public sealed class LambdaFigure(double rho) : IFigure
{
    public double Rho { get; } = rho;
    public string Name => Rho == 0.5 ? "fig3a_lambda_balanced" : "fig3b_lambda_unbalanced";
    public string Caption => Rho == 0.5
        ? "ERM test error against lambda at alpha = 2, Delta = 1, rho = 1/2 (replica theory lines, simulations mean ± s.e.): " +
          "every loss reaches the Bayes-optimal error (black) as lambda grows. Simulations draw exactly rho*P positive labels: with " +
          "i.i.d. labels the O(1/sqrt(P)) label imbalance sets the bias once the weights shrink like 1/lambda, and the finite-N error departs from the N -> infinity theory at lambda >~ 10. " +
          "Hinge at lambda >= 10: every training margin is below 1, so any bias in an interval is a minimiser; the solver returns the " +
          "interval's midpoint, not the theory's symmetric b = 0, hence its excess error there. " + ExtrapolationSentence +
          " Hinge at lambda >= 10 is not extrapolated: the midpoint is an extreme-value statistic of the training scores, whose effect " +
          "decays like 1/ln P, not like 1/N."
        : "ERM test error against lambda at alpha = 2, Delta = 1, rho = 1/4: a gap to the Bayes-optimal error (black) remains " +
          "at every lambda, and large lambda tends to the majority-class error 0.25 (grey). Simulations use exact label counts. " +
          ExtrapolationSentence + " Where every dataset at every N gives exactly the majority-class error 0.25, as the theory does, the fit is exact " +
          "and its interval has zero width.";

    private const string ExtrapolationSentence =
        "The figure is a comparison of theory and simulation, so the simulated points have their N -> infinity extrapolation beside them " +
        "(open diamond drawn slightly to the right, bar = 99 % interval): a + b/N fitted to the plotted N and to N/4, N/2 on 4 and 2 " +
        "times as many datasets, with exact label counts at every N.";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var data = ErmLambdaCurves.Compute(Rho, options.Pick(121, 61), options.Pick(400, 100), options.Pick(8, 3), options.Seed, options.Threads, progress);
        return new FigureResult(Draw(data), data.ToTable(), data.Warnings,
            FigureHelpers.ExtrapolationFindings(data.Simulations.SelectMany(s => s.Extrapolated.Select(e => e.Row)).ToList()));
    }

    /// <summary>The plot of <paramref name="data"/>.</summary>
    public static PlotModel Draw(ErmLambdaCurves data)
    {
        bool balanced = data.Rho == 0.5;
        var model = FigureStyle.NewModel(legend: balanced ? LegendPosition.TopRight : LegendPosition.RightMiddle);
        model.Axes.Add(FigureStyle.Log(AxisPosition.Bottom, "ridge λ", 1e-3, 1e3));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "test error ε_{g}", balanced ? 0.195 : 0.15, balanced ? 0.30 : 0.26));
        foreach (var c in data.Theory) FigureHelpers.AddTheoryCurve(model, c, FigureHelpers.LossColor(c.Loss), LineStyle.Solid, c.Loss);
        FigureHelpers.AddHorizontal(model, data.BayesOptimalError, 1e-3, 1e3, $"Bayes-optimal {data.BayesOptimalError:F4}", OxyColors.Black, LineStyle.Solid);
        if (!balanced) FigureHelpers.AddHorizontal(model, data.MajorityClassError, 1e-3, 1e3, "majority class", OxyColors.Gray, LineStyle.Dash);
        foreach (var s in data.Simulations)
        {
            model.Series.Add(FigureHelpers.SimulationPoints(s));
            if (s.Extrapolations is not null) model.Series.Add(FigureHelpers.ExtrapolationPoints(s, LearningCurveFigure.ExtrapolationShift));
        }
        if (data.Simulations.Any(s => s.Extrapolated.Any())) FigureHelpers.AddExtrapolationLegend(model);
        int n = data.Simulations.Count > 0 ? data.Simulations[0].N : 0;
        model.Subtitle = $"α = {ErmLambdaCurves.Alpha:G}, Δ = {ErmLambdaCurves.Delta:G}, ρ = {(balanced ? "1/2" : data.Rho.ToString("G3"))}; markers: simulation, N = {n}, exact label counts";
        model.SubtitleFontSize = 7.5;
        return model;
    }
}
