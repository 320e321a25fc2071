using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Penalties;
using FlatMinima.Replica;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace FlatMinima.Plots.Figures;

/// <summary>
/// Figure 8: the replicated square-loss centre's test error against the distance d to its replicas (docs/norms.md §3),
/// α = 2, Δ = 1, ρ = ¼, for several centre norms Q, with coupled-gradient-descent simulations for y = 1 and y = 3 at
/// Q = 0.15, and the lines of fixed-norm ERM at its best norm and of ε_BO.
/// </summary>
public sealed class ReplicatedDistanceFigure : IFigure
{
    public string Name => "fig8_replicated_distance";
    public string Caption =>
        "Replicated square-loss ERM (centre on the sphere |w|^2 = NQ, y replicas, zero temperature), alpha = 2, Delta = 1, rho = 1/4: " +
        "the centre's test error against the replica-centre distance d for several norms Q (lines; y drops out at zero temperature), " +
        "coupled gradient descent for y = 1 and y = 3 at Q = 0.15 (markers), ERM at its best norm (blue dashed) and Bayes-optimal (black). " +
        "No (Q, d) with attractive coupling goes below ERM's best.";

    internal const double Alpha = 2, Delta = 1, Rho = 0.25;
    internal static readonly double[] Norms = [0.05, 0.15, 0.5];
    internal static readonly double[] SimDistances = [1e-3, 1e-2, 0.05];

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var model = FigureStyle.NewModel(legend: LegendPosition.TopLeft);
        model.Axes.Add(FigureStyle.Log(AxisPosition.Bottom, "distance d = ‖wᵃ − w̃‖²/N", 1e-4, 1));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "centre test error ε_{g}", 0.15, 0.3));
        var data = new CsvTable("distance", "test_error", "test_error_se", "norm", "y", "gamma");
        var warnings = new List<string>();
        var ds = LearningCurve.Grid(1e-4, 1, options.Pick(41, 17), log: true);
        int c = 0;
        foreach (var q in Norms)
        {
            var line = new LineSeries { Color = FigureStyle.Palette[c++ % FigureStyle.Palette.Length], StrokeThickness = 1.3, Title = $"theory Q = {q:G3}" };
            foreach (var d in ds)
            {
                var fp = ReplicatedSaddlePoint.Solve(new ReplicatedProblem(SquareLoss.Instance, new MixtureModel(Alpha, Delta, Rho), 3, q, double.NaN, d));
                if (!fp.Converged) { line.Points.Add(DataPoint.Undefined); warnings.Add($"Q = {q}, d = {d:G3}: not converged"); continue; }
                line.Points.Add(new DataPoint(d, fp.TestError));
                data.Add($"theory Q={q:G3}", [d, fp.TestError, double.NaN, q, double.NaN, fp.Gamma]);
            }
            model.Series.Add(line);
        }
        double ermBest = ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, new MixtureModel(Alpha, Delta, Rho), new SpherePenalty(0.154))).TestError;
        FigureHelpers.AddHorizontal(model, ermBest, 1e-4, 1, $"ERM, best norm {ermBest:F4}", OxyColors.SteelBlue, LineStyle.Dash);
        data.Add("erm best norm Q=0.154", [double.NaN, ermBest, double.NaN, 0.154, double.NaN, double.NaN]);
        double bo = BayesOptimal.Error(new MixtureModel(Alpha, Delta, Rho));
        FigureHelpers.AddHorizontal(model, bo, 1e-4, 1, $"Bayes-optimal {bo:F4}", OxyColors.Black, LineStyle.Solid);
        data.Add("bayes-optimal", [double.NaN, bo, double.NaN, double.NaN, double.NaN, double.NaN]);

        int n = options.Pick(300, 100), seeds = options.Pick(6, 2);
        int done = 0, total = 2 * SimDistances.Length;
        foreach (var y in new[] { 1, 3 })
        {
            var pts = new ScatterErrorSeries
            {
                MarkerType = y == 1 ? MarkerType.Circle : MarkerType.Triangle, MarkerSize = 2.4, MarkerFill = FigureStyle.Palette[1],
                MarkerStroke = OxyColors.Black, MarkerStrokeThickness = 0.4, ErrorBarColor = FigureStyle.Palette[1],
                ErrorBarStrokeThickness = 0.8, ErrorBarStopWidth = 2, Title = $"simulation y = {y}, N = {n}",
            };
            foreach (var d in SimDistances)
            {
                var th = ReplicatedSaddlePoint.Solve(new ReplicatedProblem(SquareLoss.Instance, new MixtureModel(Alpha, Delta, Rho), y, 0.15, double.NaN, d));
                var errs = new double[seeds];
                Parallel.For(0, seeds, new ParallelOptions { MaxDegreeOfParallelism = options.Threads ?? Environment.ProcessorCount }, k =>
                {
                    var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(Alpha, Delta, Rho), n, options.Seed + k));
                    var r = ReplicatedSphereDescent.Fit(s, y, 0.15, th.Gamma, seed: options.Seed + k);
                    errs[k] = s.TestError(r.Center.W, r.Center.B);
                });
                var st = Statistic.Of(errs);
                pts.Points.Add(new ScatterErrorPoint(d, st.Mean, 0, st.StdError));
                data.Add($"simulation y={y} Q=0.15 n={n} seeds={seeds}", [d, st.Mean, st.StdError, 0.15, y, th.Gamma]);
                progress?.Invoke(++done / (double)total);
            }
            model.Series.Add(pts);
        }
        model.Subtitle = $"α = {Alpha:G}, Δ = {Delta:G}, ρ = 1/4; square loss; markers: coupled gradient descent at Q = 0.15";
        model.SubtitleFontSize = 7.5;
        return new FigureResult(model, data, warnings);
    }
}

/// <summary>
/// Figure 9: test error against the norm Q at α = 2, Δ = 1 (docs/norms.md §4): fixed-norm ERM (square loss; theory and
/// the secular-equation solver at finite N), the replicated centre at fixed distance d = 0.01, and ε_BO.
/// </summary>
public sealed class NormFigure(double rho) : IFigure
{
    public double Rho { get; } = rho;
    public string Name => Rho == 0.5 ? "fig9a_norm_balanced" : "fig9b_norm_unbalanced";
    public string Caption => (Rho == 0.5 ? "Balanced (rho = 1/2)" : "Unbalanced (rho = 1/4)") +
        ", alpha = 2, Delta = 1, square loss: test error against the norm Q = |w|^2/N for fixed-norm ERM (line; markers: finite-N " +
        "constrained solver) and for the replicated centre at distance d = 0.01 (dashed), with the Bayes-optimal error (black)" +
        (Rho == 0.5 ? "." : " and ERM at its best lambda (grey).");

    internal const double Alpha = 2, Delta = 1, Distance = 0.01;
    internal static readonly double[] SimNorms = [0.03, 0.15, 0.5, 2];

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var model = FigureStyle.NewModel(legend: LegendPosition.TopLeft);
        model.Axes.Add(FigureStyle.Log(AxisPosition.Bottom, "norm Q = |w|²/N", 1e-3, 5));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "test error ε_{g}", Rho == 0.5 ? 0.19 : 0.15, 0.42));
        var data = new CsvTable("norm", "test_error", "test_error_se", "multiplier_or_gamma", "rho");
        var warnings = new List<string>();
        var qs = LearningCurve.Grid(1e-3, 5, options.Pick(61, 25), log: true);
        var erm = new LineSeries { Color = FigureHelpers.LossColor("square"), StrokeThickness = 1.3, Title = "fixed-norm ERM" };
        var rep = new LineSeries { Color = FigureStyle.Palette[2], StrokeThickness = 1.3, LineStyle = LineStyle.Dash, Title = $"replicated centre, d = {Distance:G}" };
        foreach (var q in qs)
        {
            var fp = new ErmSaddlePoint(new ErmProblem(SquareLoss.Instance, new MixtureModel(Alpha, Delta, Rho), new SpherePenalty(q))).TrySolve();
            if (fp.Converged) { erm.Points.Add(new DataPoint(q, fp.TestError)); data.Add("theory fixed-norm erm", [q, fp.TestError, double.NaN, fp.Multiplier, Rho]); }
            else { erm.Points.Add(DataPoint.Undefined); warnings.Add($"ERM Q = {q:G3} not converged"); }
            var r = ReplicatedSaddlePoint.Solve(new ReplicatedProblem(SquareLoss.Instance, new MixtureModel(Alpha, Delta, Rho), 3, q, double.NaN, Distance));
            if (r.Converged) { rep.Points.Add(new DataPoint(q, r.TestError)); data.Add($"theory replicated centre d={Distance:G}", [q, r.TestError, double.NaN, r.Gamma, Rho]); }
            else { rep.Points.Add(DataPoint.Undefined); warnings.Add($"replicated Q = {q:G3} not converged"); }
        }
        model.Series.Add(erm);
        model.Series.Add(rep);
        double bo = BayesOptimal.Error(new MixtureModel(Alpha, Delta, Rho));
        FigureHelpers.AddHorizontal(model, bo, 1e-3, 5, $"Bayes-optimal {bo:F4}", OxyColors.Black, LineStyle.Solid);
        data.Add("bayes-optimal", [double.NaN, bo, double.NaN, double.NaN, Rho]);
        if (Rho != 0.5)
        {
            var best = LearningCurve.Optimize(SquareLoss.Instance, new MixtureModel(Alpha, Delta, Rho));
            FigureHelpers.AddHorizontal(model, best.FixedPoint.TestError, 1e-3, 5, $"ERM best λ {best.FixedPoint.TestError:F4}", OxyColors.Gray, LineStyle.Dash);
            data.Add("erm best lambda", [double.NaN, best.FixedPoint.TestError, double.NaN, best.Lambda, Rho]);
        }
        int n = options.Pick(400, 100), seeds = options.Pick(6, 2);
        var pts = FigureHelpers.SimulationSeries("square", $"simulation N = {n}");
        int done = 0;
        foreach (var q in SimNorms)
        {
            var s = MonteCarlo.Run(new MixtureSpec(new MixtureModel(Alpha, Delta, Rho), n, options.Seed), seeds,
                EstimatorKind.Erm(SquareLoss.Instance, new SpherePenalty(q)), options.Threads).TestError;
            pts.Points.Add(new ScatterErrorPoint(q, s.Mean, 0, s.StdError));
            data.Add($"simulation fixed-norm erm n={n} seeds={seeds}", [q, s.Mean, s.StdError, double.NaN, Rho]);
            progress?.Invoke(++done / (double)SimNorms.Length);
        }
        model.Series.Add(pts);
        model.Subtitle = $"α = {Alpha:G}, Δ = {Delta:G}, ρ = {(Rho == 0.5 ? "1/2" : "1/4")}; square loss";
        model.SubtitleFontSize = 7.5;
        return new FigureResult(model, data, warnings);
    }
}

/// <summary>
/// Figure 10: the finite-temperature replicated centre (docs/norms.md §3), ρ = ¼, Q = 0.5, β = 1: the test error of the
/// centre's thermal mean against the replica–centre distance d (swept through the coupling γ) for y = 1, 3, 10, with
/// fixed-norm ERM at the same norm, ERM at its best λ and ε_BO.
/// </summary>
public sealed class ThermalReplicatedFigure : IFigure
{
    public string Name => "fig10_replicated_temperature";
    public string Caption =>
        "Replicated square-loss ERM at finite temperature (beta = 1, centre on the sphere Q = 0.5), alpha = 2, Delta = 1, rho = 1/4: " +
        "test error of the centre's thermal mean against the replica-centre distance d (swept through the coupling gamma) for y = 1, 3, 10 " +
        "(theory; checked against the exact finite-N Gaussian computation in the tests), with ERM at the same norm (dashed), " +
        "ERM at its best lambda (grey) and Bayes-optimal (black). More replicas bring the centre back towards ERM at the same norm; " +
        "no curve goes below ERM's best.";

    internal const double Alpha = 2, Delta = 1, Rho = 0.25, Norm = 0.5, Beta = 1;
    internal static readonly int[] Ys = [1, 3, 10];

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        // Legend above the curves: the reference lines run along the bottom of the plot.
        var model = FigureStyle.NewModel(legend: LegendPosition.TopLeft);
        model.Axes.Add(FigureStyle.Log(AxisPosition.Bottom, "distance d = E‖wᵃ − w̃‖²/N", 1e-2, 3));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "centre (thermal mean) test error ε_{g}", 0.15, 0.30));
        var data = new CsvTable("distance", "test_error", "gamma", "y", "beta");
        var warnings = new List<string>();
        var gammas = LearningCurve.Grid(0.05, 200, options.Pick(41, 15), log: true);
        int c = 0, done = 0;
        foreach (var y in Ys)
        {
            var line = new LineSeries { Color = FigureStyle.Palette[c++ % FigureStyle.Palette.Length], StrokeThickness = 1.3, Title = $"y = {y}" };
            foreach (var g in gammas)
            {
                var t = ThermalReplicatedSaddlePoint.Solve(new MixtureModel(Alpha, Delta, Rho), Beta * y, Norm, g);
                double d = ThermalReplicatedSaddlePoint.Distance(t, new MixtureModel(Alpha, Delta, Rho), Beta);
                line.Points.Add(new DataPoint(d, t.MeanTestError));
                data.Add($"theory y={y}", [d, t.MeanTestError, g, y, Beta]);
            }
            model.Series.Add(line);
            progress?.Invoke(++done / (double)Ys.Length);
        }
        double ermQ = ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, new MixtureModel(Alpha, Delta, Rho), new SpherePenalty(Norm))).TestError;
        FigureHelpers.AddHorizontal(model, ermQ, 1e-2, 3, $"ERM at Q = {Norm:G} ({ermQ:F4})", OxyColors.SteelBlue, LineStyle.Dash);
        data.Add("erm same norm", [double.NaN, ermQ, double.NaN, double.NaN, double.NaN]);
        var best = LearningCurve.Optimize(SquareLoss.Instance, new MixtureModel(Alpha, Delta, Rho));
        FigureHelpers.AddHorizontal(model, best.FixedPoint.TestError, 1e-2, 3, $"ERM best λ ({best.FixedPoint.TestError:F4})", OxyColors.Gray, LineStyle.Dash);
        data.Add("erm best lambda", [double.NaN, best.FixedPoint.TestError, double.NaN, double.NaN, double.NaN]);
        double bo = BayesOptimal.Error(new MixtureModel(Alpha, Delta, Rho));
        FigureHelpers.AddHorizontal(model, bo, 1e-2, 3, $"Bayes-optimal {bo:F4}", OxyColors.Black, LineStyle.Solid);
        data.Add("bayes-optimal", [double.NaN, bo, double.NaN, double.NaN, double.NaN]);
        model.Subtitle = $"α = {Alpha:G}, Δ = {Delta:G}, ρ = 1/4, Q = {Norm:G}, β = {Beta:G}; square loss; lines: N → ∞ theory";
        model.SubtitleFontSize = 7.5;
        return new FigureResult(model, data, warnings);
    }
}
