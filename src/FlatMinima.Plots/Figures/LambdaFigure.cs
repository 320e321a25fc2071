using FlatMinima.Estimators;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Replica;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;

namespace FlatMinima.Plots.Figures;

/// <summary>
/// Figure 3: ERM test error against λ at α = 2, Δ = 1 from the replica fixed point, with finite-N simulations and the
/// Bayes-optimal line. Balanced (ρ = ½): every loss reaches ε_BO as λ → ∞. Unbalanced (ρ = ¼): a gap to ε_BO remains at
/// every λ, and λ → ∞ tends to the majority-class error (docs/theory.md#reaching-bo, docs/theory.md#table-erm).
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
          "interval's midpoint, not the theory's symmetric b = 0, hence its excess error there."
        : "ERM test error against lambda at alpha = 2, Delta = 1, rho = 1/4: a gap to the Bayes-optimal error (black) remains " +
          "at every lambda, and large lambda tends to the majority-class error 0.25 (grey). Simulations use exact label counts.";

    internal const double Alpha = 2, Delta = 1;
    internal static readonly double[] SimLambdas = [1e-2, 0.1, 1, 10, 100];

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var model = FigureStyle.NewModel(legend: Rho == 0.5 ? LegendPosition.TopRight : LegendPosition.RightMiddle);
        model.Axes.Add(FigureStyle.Log(AxisPosition.Bottom, "ridge λ", 1e-3, 1e3));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "test error ε_{g}", Rho == 0.5 ? 0.195 : 0.15, Rho == 0.5 ? 0.30 : 0.26));
        var data = new CsvTable("lambda", "test_error", "test_error_se", "lambda_again", "rho");
        var warnings = new List<string>();
        var lambdas = LearningCurve.Grid(1e-3, 1e3, options.Pick(121, 61), log: true);
        foreach (var name in MarginLosses.Names)
        {
            var fps = LearningCurve.OverLambda(new ErmProblem(MarginLosses.Parse(name), new MixtureModel(Alpha, Delta, Rho), lambdas[0]), lambdas);
            FigureHelpers.AddTheoryCurve(model, data, warnings, $"theory {name}", fps, fp => fp.Problem.Lambda,
                FigureHelpers.LossColor(name), LineStyle.Solid, name);
        }
        double bo = BayesOptimal.Error(new MixtureModel(Alpha, Delta, Rho));
        FigureHelpers.AddHorizontal(model, bo, 1e-3, 1e3, $"Bayes-optimal {bo:F4}", OxyColors.Black, LineStyle.Solid);
        data.Add("bayes-optimal", [double.NaN, bo, double.NaN, double.NaN, Rho]);
        if (Rho != 0.5)
        {
            double majority = Math.Min(Rho, 1 - Rho);
            FigureHelpers.AddHorizontal(model, majority, 1e-3, 1e3, "majority class", OxyColors.Gray, LineStyle.Dash);
            data.Add("majority class", [double.NaN, majority, double.NaN, double.NaN, Rho]);
        }

        int n = options.Pick(400, 100), seeds = options.Pick(8, 3);
        int done = 0, total = MarginLosses.Names.Count * SimLambdas.Length;
        foreach (var name in MarginLosses.Names)
        {
            var pts = FigureHelpers.SimulationSeries(name, null);
            foreach (var lam in SimLambdas)
            {
                var s = FigureHelpers.Simulate(MarginLosses.Parse(name), Alpha, Delta, lam, Rho, n, seeds, options, exactLabels: true);
                pts.Points.Add(new OxyPlot.Series.ScatterErrorPoint(lam, s.Mean, 0, s.StdError));
                data.Add($"simulation {name} n={n} seeds={seeds}", [lam, s.Mean, s.StdError, lam, Rho]);
                progress?.Invoke(++done / (double)total);
            }
            model.Series.Add(pts);
        }
        model.Subtitle = $"α = {Alpha:G}, Δ = {Delta:G}, ρ = {(Rho == 0.5 ? "1/2" : Rho.ToString("G3"))}; markers: simulation, N = {n}, exact label counts";
        model.SubtitleFontSize = 7.5;
        return new FigureResult(model, data, warnings);
    }
}
