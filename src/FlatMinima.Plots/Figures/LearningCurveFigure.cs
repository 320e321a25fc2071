using FlatMinima.Estimators;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Replica;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;

namespace FlatMinima.Plots.Figures;

/// <summary>
/// Figure 2: ERM learning curves ε_g(α) from the replica fixed point (docs/theory.md#erm-saddle-point) for the square, logistic and hinge
/// losses at λ = 0.1 (solid, with finite-N simulations) and at λ = 10⁻⁴ (dashed: the λ → 0 limit, whose interpolation
/// peaks sit at α = 1 for the square loss and at the separability threshold α_c for logistic and hinge), Δ = 1, ρ = ½.
/// </summary>
public sealed class LearningCurveFigure : IFigure
{
    public string Name => "fig2_learning_curves";
    public string Caption =>
        "ERM test error against alpha (Delta = 1, rho = 1/2) from the replica fixed point: lambda = 0.1 (solid, with " +
        "finite-N simulations, mean ± s.e.) and lambda = 1e-4 (dashed), whose interpolation peaks sit at alpha = 1 (square) " +
        "and at the separability threshold alpha_c = 3.70 (logistic, hinge; dotted line); black: Bayes-optimal error.";

    internal const double Delta = 1, Rho = 0.5, Lambda = 0.1, SmallLambda = 1e-4;
    internal static readonly double[] SimAlphas = [0.5, 1, 2, 3, 5, 8];
    internal static readonly double[] SmallLambdaSimAlphas = [0.5, 1.5, 2.5];

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var model = FigureStyle.NewModel(legend: LegendPosition.TopRight);
        model.Axes.Add(FigureStyle.Log(AxisPosition.Bottom, "α = P/N", 0.3, 12));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "test error ε_{g}", 0.1, 0.45));
        var data = new CsvTable("alpha", "test_error", "test_error_se", "lambda", "rho");
        var warnings = new List<string>();
        var alphas = LearningCurve.Grid(0.3, 12, options.Pick(241, 121), log: true);
        double alphaC = SeparabilityThreshold.Of(Delta, Rho, withBias: true);

        foreach (var name in MarginLosses.Names)
        {
            var loss = MarginLosses.Parse(name);
            var color = FigureHelpers.LossColor(name);
            FigureHelpers.AddTheoryCurve(model, data, warnings, $"theory {name} lambda={Lambda:G}",
                LearningCurve.OverAlpha(new ErmProblem(loss, new MixtureModel(alphas[0], Delta, Rho), Lambda), alphas), fp => fp.Problem.Alpha, color, LineStyle.Solid, name);
            FigureHelpers.AddTheoryCurve(model, data, warnings, $"theory {name} lambda={SmallLambda:G}",
                LearningCurve.OverAlpha(new ErmProblem(loss, new MixtureModel(alphas[0], Delta, Rho), SmallLambda), alphas), fp => fp.Problem.Alpha, color, LineStyle.Dash, null, 1.0);
        }
        var bo = new OxyPlot.Series.LineSeries { Title = "Bayes-optimal", Color = OxyColors.Black, StrokeThickness = 1 };
        foreach (var a in alphas)
        {
            double e = BayesOptimal.Error(new MixtureModel(a, Delta, Rho));
            bo.Points.Add(new DataPoint(a, e));
            data.Add("bayes-optimal", [a, e, double.NaN, double.NaN, Rho]);
        }
        model.Series.Add(bo);
        FigureHelpers.AddVertical(model, alphaC, $"separability threshold α = {alphaC:F2}");
        data.Add("separability threshold", [alphaC, double.NaN, double.NaN, double.NaN, Rho]);

        // Simulations: every loss at λ = 0.1; square and logistic also at λ = 1e-4 below α_c (the exact hinge solver
        // is slow at tiny λ, see docs/core.md, so its λ → 0 curve is theory only).
        int n = options.Pick(400, 100), seeds = options.Pick(8, 3);
        var jobs = new List<(string Loss, double Alpha, double Lambda)>();
        foreach (var name in MarginLosses.Names) foreach (var a in SimAlphas) jobs.Add((name, a, Lambda));
        foreach (var name in new[] { "square", "logistic" }) foreach (var a in SmallLambdaSimAlphas) jobs.Add((name, a, SmallLambda));
        int done = 0;
        foreach (var group in jobs.GroupBy(j => (j.Loss, j.Lambda)))
        {
            var pts = FigureHelpers.SimulationSeries(group.Key.Loss, null);
            if (group.Key.Lambda == SmallLambda) pts.MarkerFill = OxyColors.White;
            foreach (var j in group)
            {
                var s = FigureHelpers.Simulate(MarginLosses.Parse(j.Loss), j.Alpha, Delta, j.Lambda, Rho, n, seeds, options);
                pts.Points.Add(new OxyPlot.Series.ScatterErrorPoint(j.Alpha, s.Mean, 0, s.StdError));
                data.Add($"simulation {j.Loss} lambda={j.Lambda:G} n={n} seeds={seeds}", [j.Alpha, s.Mean, s.StdError, j.Lambda, Rho]);
                progress?.Invoke(++done / (double)jobs.Count);
            }
            model.Series.Add(pts);
        }
        FigureStyle.AddLegendOnlyLine(model, $"λ = {SmallLambda:G} (open: sim.)", LineStyle.Dash);
        model.Subtitle = $"λ = {Lambda:G} (solid; filled: simulation, N = {n})";
        model.SubtitleFontSize = 7.5;
        return new FigureResult(model, data, warnings);
    }
}
