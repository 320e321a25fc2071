using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Flatness;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace FlatMinima.Plots.Figures;

/// <summary>The estimators compared by local energy (docs/theory.md#table-local-energy), α = 2, Δ = 1, ρ = ½.</summary>
internal static class LocalEnergyEstimators
{
    public const double Alpha = 2, Delta = 1, Rho = 0.5;

    /// <summary>Name, loss (null = Bayes-optimal) and λ.</summary>
    public static readonly (string Name, string? Loss, double Lambda)[] All =
    [
        ("Bayes-optimal", null, 0),
        ("logistic λ=10", "logistic", 10),
        ("hinge λ=1", "hinge", 1),
        ("square λ=1", "square", 1),
        ("logistic λ=0.1", "logistic", 0.1),
        ("logistic λ=1e-3", "logistic", 1e-3),
        ("square λ=1e-3", "square", 1e-3),
        ("hinge λ=1e-3", "hinge", 1e-3),
    ];

    /// <summary>Theory: (test error, E_σ for each σ) from (LE2) or from the replica fixed point through (LE3).</summary>
    public static (double TestError, double[] Energy) Theory(string? loss, double lambda, IReadOnlyList<double> sigmas)
    {
        if (loss is null)
            return (BayesOptimal.Error(new MixtureModel(Alpha, Delta, Rho)), LocalEnergy.BayesOptimalTheory(new MixtureModel(Alpha, Delta, Rho), sigmas));
        var fp = ErmSaddlePoint.Solve(new ErmProblem(MarginLosses.Parse(loss), new MixtureModel(Alpha, Delta, Rho), lambda));
        return (fp.TestError, LocalEnergy.ErmTheory(fp, sigmas));
    }

    /// <summary>Simulation: per data set, the exact test error and the exact finite-N local energy (LE1) of the fitted
    /// estimator; returns the test error and δE(σ) statistics over data sets.</summary>
    public static (Statistic TestError, Statistic[] DeltaE) Simulate(string? loss, double lambda, IReadOnlyList<double> sigmas,
        int n, int seeds, FigureOptions options)
    {
        var est = loss is null ? EstimatorKind.Bayes : EstimatorKind.Erm(MarginLosses.Parse(loss), lambda);
        var per = new (double Eg, double[] De)[seeds];
        Parallel.For(0, seeds, new ParallelOptions { MaxDegreeOfParallelism = options.Threads ?? Environment.ProcessorCount }, k =>
        {
            // Exact label counts: at large λ the weights are O(1/λ) and an i.i.d. label imbalance of O(1/√P) would set
            // the bias (see figure 3); the theory has b = 0.
            var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(Alpha, Delta, Rho), n, options.Seed + k, ExactLabelCounts: true));
            var c = est.Fit(s);
            var e = LocalEnergy.Exact(s, c.W, c.B, [0, .. sigmas]);
            per[k] = (s.TestError(c.W, c.B), e.Skip(1).Select(v => v - e[0]).ToArray());
        });
        return (Statistic.Of(per.Select(p => p.Eg).ToArray()),
                sigmas.Select((_, i) => Statistic.Of(per.Select(p => p.De[i]).ToArray())).ToArray());
    }

    // One colour per estimator of All (black for BO), chosen so the ones drawn in figure 4a contrast well.
    private static readonly int[] PaletteIndex = [6, 5, 2, 4, 0, 1, 7, 3];
    public static OxyColor Color(int i) => FigureStyle.Palette[PaletteIndex[i]];

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

/// <summary>Figure 4a: local energy δE(σ) of the BO estimator and of ERM minimisers, theory and simulation.</summary>
public sealed class LocalEnergyFigure : IFigure
{
    public string Name => "fig4a_local_energy";
    public string Caption =>
        "Local energy deltaE(sigma) = E_sigma - E_0 (training error under multiplicative weight noise) of the Bayes-optimal " +
        "estimator and of ERM minimisers at alpha = 2, Delta = 1, rho = 1/2: theory (LE2, LE3; lines) and exact finite-N " +
        "values (LE1) of fitted estimators (markers, mean ± s.e. over datasets with exact label counts). At sigma ~ 1 BO is " +
        "the flattest; at small sigma the interpolators are.";

    internal static readonly int[] Shown = [0, 2, 4, 5, 7];
    internal static readonly double[] SimSigmas = [0.25, 0.5, 1, 1.5];

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var model = FigureStyle.NewModel(legend: LegendPosition.TopLeft);
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Bottom, "noise scale σ", 0, 2));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "local energy δE(σ)", 0, 0.32));
        var data = new CsvTable("sigma", "delta_e", "delta_e_se", "test_error", "test_error_se");
        var sigmas = Enumerable.Range(0, 81).Select(i => 2.0 * i / 80).ToArray();
        int n = options.Pick(1000, 200), seeds = options.Pick(4, 2);
        int done = 0;
        foreach (int i in Shown)
        {
            var (name, loss, lambda) = LocalEnergyEstimators.All[i];
            var color = LocalEnergyEstimators.Color(i);
            var (eg, energy) = LocalEnergyEstimators.Theory(loss, lambda, sigmas);
            var line = new LineSeries { Title = name, Color = color, StrokeThickness = i == 0 ? 1.6 : 1.2 };
            for (int k = 0; k < sigmas.Length; k++)
            {
                line.Points.Add(new DataPoint(sigmas[k], energy[k] - energy[0]));
                data.Add($"theory {name}", [sigmas[k], energy[k] - energy[0], double.NaN, eg, double.NaN]);
            }
            model.Series.Add(line);
            var (sEg, sDe) = LocalEnergyEstimators.Simulate(loss, lambda, SimSigmas, n, seeds, options);
            var pts = new ScatterErrorSeries
            {
                MarkerType = MarkerType.Circle, MarkerSize = 2.2, MarkerFill = color, ErrorBarColor = color,
                ErrorBarStrokeThickness = 0.8, ErrorBarStopWidth = 2,
            };
            for (int k = 0; k < SimSigmas.Length; k++)
            {
                pts.Points.Add(new ScatterErrorPoint(SimSigmas[k], sDe[k].Mean, 0, sDe[k].StdError));
                data.Add($"simulation {name} n={n} seeds={seeds}", [SimSigmas[k], sDe[k].Mean, sDe[k].StdError, sEg.Mean, sEg.StdError]);
            }
            model.Series.Add(pts);
            progress?.Invoke(++done / (double)Shown.Length);
        }
        model.Subtitle = $"α = 2, Δ = 1, ρ = 1/2; lines: theory; markers: N = {n}, {seeds} datasets";
        model.SubtitleFontSize = 7.5;
        return new FigureResult(model, data, []);
    }
}

/// <summary>Figure 4b: test error against local energy at σ = 1 across estimators.</summary>
public sealed class FlatnessVersusErrorFigure : IFigure
{
    public string Name => "fig4b_flatness_vs_error";
    public string Caption =>
        "Test error against local energy deltaE(sigma = 1) across the estimators of docs/theory.md#table-local-energy (alpha = 2, Delta = 1, " +
        "rho = 1/2): theory (filled) and finite-N simulation (open, mean ± s.e. in both coordinates, exact label counts). " +
        "Flatter estimators generalise better; the Bayes-optimal one is the flattest.";

    internal const double Sigma = 1;

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var model = FigureStyle.NewModel(legend: LegendPosition.BottomRight);
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Bottom, "local energy δE(σ = 1)", 0.05, 0.27));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "test error ε_{g}", 0.195, 0.295));
        var data = new CsvTable("delta_e", "delta_e_se", "test_error", "test_error_se");
        int n = options.Pick(1000, 200), seeds = options.Pick(4, 2);
        var theory = new ScatterSeries { Title = "theory (LE2, LE3)", MarkerType = MarkerType.Circle, MarkerSize = 3, MarkerFill = OxyColors.Black };
        var sims = new ScatterErrorSeries
        {
            Title = $"simulation, N = {n}", MarkerType = MarkerType.Circle, MarkerSize = 3, MarkerFill = OxyColors.White,
            MarkerStroke = FigureStyle.Palette[1], MarkerStrokeThickness = 1, ErrorBarColor = FigureStyle.Palette[1],
            ErrorBarStrokeThickness = 0.8, ErrorBarStopWidth = 2,
        };
        var all = LocalEnergyEstimators.All;
        var theoryPoints = new List<(double X, double Y)>();
        for (int i = 0; i < all.Length; i++)
        {
            var (name, loss, lambda) = all[i];
            var (eg, energy) = LocalEnergyEstimators.Theory(loss, lambda, [0, Sigma]);
            double de = energy[1] - energy[0];
            theory.Points.Add(new ScatterPoint(de, eg));
            theoryPoints.Add((de, eg));
            data.Add($"theory {name}", [de, double.NaN, eg, double.NaN]);
            var (sEg, sDe) = LocalEnergyEstimators.Simulate(loss, lambda, [Sigma], n, seeds, options);
            sims.Points.Add(new ScatterErrorPoint(sDe[0].Mean, sEg.Mean, sDe[0].StdError, sEg.StdError));
            data.Add($"simulation {name} n={n} seeds={seeds}", [sDe[0].Mean, sDe[0].StdError, sEg.Mean, sEg.StdError]);
            var (h, v, dx, dy) = LocalEnergyEstimators.LabelPlacement(name);
            model.Annotations.Add(new OxyPlot.Annotations.TextAnnotation
            {
                Text = name, TextPosition = new DataPoint(de, eg), FontSize = 6, Stroke = OxyColors.Transparent,
                TextHorizontalAlignment = h, TextVerticalAlignment = v, Offset = new ScreenVector(dx, dy), TextColor = OxyColors.DimGray,
            });
            progress?.Invoke((i + 1) / (double)all.Length);
        }
        model.Series.Add(theory);
        model.Series.Add(sims);
        double rho = RankCorrelation(theoryPoints);
        data.Add("spearman theory", [rho, double.NaN, double.NaN, double.NaN]);
        model.Subtitle = $"α = 2, Δ = 1, ρ = 1/2; Spearman rank correlation (theory) = {rho:F2}";
        model.SubtitleFontSize = 7.5;
        return new FigureResult(model, data, []);
    }

    private static double RankCorrelation(List<(double X, double Y)> pts) =>
        MathNet.Numerics.Statistics.Correlation.Spearman(pts.Select(p => p.X), pts.Select(p => p.Y));
}
