using FlatMinima.Estimators;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;

namespace FlatMinima.Experiments;

/// <summary>A theory curve of ERM fixed points (docs/theory.md#erm-saddle-point) against a control parameter x (α or λ). Points that
/// did not converge are kept — never NaN — and are marked in the table and reported in the warnings.</summary>
/// <param name="Series">The curve's name in the table.</param>
/// <param name="Loss">Loss name.</param>
/// <param name="X">The control parameter at each point.</param>
/// <param name="Points">The fixed points, in the order of <paramref name="X"/>.</param>
public sealed record ErmTheoryCurve(string Series, string Loss, IReadOnlyList<double> X, IReadOnlyList<ErmFixedPoint> Points)
{
    /// <summary>Whether the point <paramref name="i"/> can be drawn: converged, with a finite test error.</summary>
    public bool Drawable(int i) => Points[i].Converged && double.IsFinite(Points[i].TestError);

    /// <summary>Rows x, ε_g, (no s.e.), λ, ρ of each point; a point that cannot be drawn is marked "not converged: reason".</summary>
    internal void AddTo(SeriesTable table)
    {
        for (int i = 0; i < Points.Count; i++)
        {
            var fp = Points[i];
            table.Add(Series, [X[i], fp.TestError, double.NaN, fp.Problem.Lambda, fp.Problem.Rho], Drawable(i) ? "" : "not converged: " + fp.Reason);
        }
    }

    /// <summary>One warning per point that cannot be drawn.</summary>
    public IEnumerable<string> Warnings => Enumerable.Range(0, Points.Count).Where(i => !Drawable(i))
        .Select(i => $"{Series}: fixed point at x = {X[i]:G4} did not converge ({Points[i].Reason}); marked in the CSV");
}

/// <summary>Finite-N test errors of ERM (mean ± s.e. over datasets) at a few values x of the control parameter.</summary>
public sealed record ErmSimulation(string Loss, double Lambda, int N, int Seeds, IReadOnlyList<double> X, IReadOnlyList<Statistic> TestErrors);

/// <summary>
/// ERM learning curves ε_g(α) (figure 2) at Δ = 1, ρ = ½ for the square, logistic and hinge losses: at λ = 0.1 with
/// finite-N simulations, and at λ = 10⁻⁴, the λ → 0 limit whose interpolation peaks sit at α = 1 (square) and at the
/// separability threshold α_c (logistic, hinge); with ε_BO(α) and α_c.
/// </summary>
public sealed record ErmLearningCurves(IReadOnlyList<ErmTheoryCurve> Theory, IReadOnlyList<double> Alphas, IReadOnlyList<double> BayesOptimalErrors,
    double SeparabilityThreshold, IReadOnlyList<ErmSimulation> Simulations)
{
    public const double Delta = 1, Rho = 0.5, Lambda = 0.1, SmallLambda = 1e-4;
    /// <summary>The α of the simulations at λ = 0.1 (every loss).</summary>
    public static IReadOnlyList<double> SimulatedAlphas { get; } = [0.5, 1, 2, 3, 5, 8];
    /// <summary>The α of the simulations at λ = 10⁻⁴ (square and logistic, below α_c; the exact hinge solver is slow at
    /// tiny λ, see docs/core.md, so its λ → 0 curve is theory only).</summary>
    public static IReadOnlyList<double> SmallLambdaSimulatedAlphas { get; } = [0.5, 1.5, 2.5];

    /// <summary>Computes the curves on <paramref name="gridPoints"/> log-spaced α in [0.3, 12] (warm-started sweeps) and
    /// the simulations (N = <paramref name="n"/>, <paramref name="seeds"/> datasets from <paramref name="seed"/>).</summary>
    public static ErmLearningCurves Compute(int gridPoints = 241, int n = 400, int seeds = 8, long seed = 0, int? threads = null, Action<double>? progress = null)
    {
        var alphas = LearningCurve.Grid(0.3, 12, gridPoints, log: true);
        double alphaC = Replica.SeparabilityThreshold.Of(Delta, Rho, withBias: true);
        var theory = new List<ErmTheoryCurve>();
        foreach (var name in MarginLosses.Names)
            foreach (var lambda in new[] { Lambda, SmallLambda })
            {
                var fps = LearningCurve.OverAlpha(new ErmProblem(MarginLosses.Parse(name), new MixtureModel(alphas[0], Delta, Rho), lambda), alphas);
                theory.Add(new ErmTheoryCurve($"theory {name} lambda={lambda:G}", name, fps.Select(fp => fp.Problem.Alpha).ToArray(), fps));
            }
        var bo = alphas.Select(a => BayesOptimal.Error(new MixtureModel(a, Delta, Rho))).ToArray();
        var jobs = new List<(string Loss, double Alpha, double Lambda)>();
        foreach (var name in MarginLosses.Names) foreach (var a in SimulatedAlphas) jobs.Add((name, a, Lambda));
        foreach (var name in new[] { "square", "logistic" }) foreach (var a in SmallLambdaSimulatedAlphas) jobs.Add((name, a, SmallLambda));
        var sims = new List<ErmSimulation>();
        int done = 0;
        foreach (var group in jobs.GroupBy(j => (j.Loss, j.Lambda)))
        {
            var errors = new List<Statistic>();
            foreach (var j in group)
            {
                errors.Add(MonteCarlo.Run(new MixtureModel(j.Alpha, Delta, Rho).AtSize(n, seed), seeds,
                    EstimatorKind.Erm(MarginLosses.Parse(j.Loss), j.Lambda), threads).TestError);
                progress?.Invoke(++done / (double)jobs.Count);
            }
            sims.Add(new ErmSimulation(group.Key.Loss, group.Key.Lambda, n, seeds, group.Select(j => j.Alpha).ToArray(), errors));
        }
        return new(theory, alphas, bo, alphaC, sims);
    }

    /// <summary>Points that did not converge.</summary>
    public IReadOnlyList<string> Warnings => Theory.SelectMany(c => c.Warnings).ToArray();

    /// <summary>The table: columns alpha, test_error, test_error_se, lambda, rho; the theory curves, ε_BO, α_c, the simulations.</summary>
    public SeriesTable ToTable()
    {
        var t = new SeriesTable("alpha", "test_error", "test_error_se", "lambda", "rho");
        foreach (var c in Theory) c.AddTo(t);
        for (int i = 0; i < Alphas.Count; i++) t.Add("bayes-optimal", [Alphas[i], BayesOptimalErrors[i], double.NaN, double.NaN, Rho]);
        t.Add("separability threshold", [SeparabilityThreshold, double.NaN, double.NaN, double.NaN, Rho]);
        foreach (var s in Simulations)
            for (int i = 0; i < s.X.Count; i++)
                t.Add($"simulation {s.Loss} lambda={s.Lambda:G} n={s.N} seeds={s.Seeds}", [s.X[i], s.TestErrors[i].Mean, s.TestErrors[i].StdError, s.Lambda, Rho]);
        return t;
    }
}

/// <summary>
/// ERM test error against λ (figure 3) at α = 2, Δ = 1 for the square, logistic and hinge losses, with finite-N
/// simulations (exact label counts) and ε_BO. Balanced, every loss reaches ε_BO as λ → ∞; at ρ = ¼ a gap remains and
/// large λ tends to the majority-class error (docs/theory.md#reaching-bo, docs/theory.md#table-erm).
/// </summary>
public sealed record ErmLambdaCurves(double Rho, IReadOnlyList<ErmTheoryCurve> Theory, double BayesOptimalError, IReadOnlyList<ErmSimulation> Simulations)
{
    public const double Alpha = 2, Delta = 1;
    /// <summary>The λ of the simulations.</summary>
    public static IReadOnlyList<double> SimulatedLambdas { get; } = [1e-2, 0.1, 1, 10, 100];

    /// <summary>The majority-class error min(ρ, 1 − ρ), the λ → ∞ limit when unbalanced.</summary>
    public double MajorityClassError => Math.Min(Rho, 1 - Rho);

    /// <summary>Computes the curves on <paramref name="gridPoints"/> log-spaced λ in [10⁻³, 10³] and the simulations.</summary>
    public static ErmLambdaCurves Compute(double rho, int gridPoints = 121, int n = 400, int seeds = 8, long seed = 0, int? threads = null, Action<double>? progress = null)
    {
        var model = new MixtureModel(Alpha, Delta, rho);
        var lambdas = LearningCurve.Grid(1e-3, 1e3, gridPoints, log: true);
        var theory = MarginLosses.Names.Select(name =>
        {
            var fps = LearningCurve.OverLambda(new ErmProblem(MarginLosses.Parse(name), model, lambdas[0]), lambdas);
            return new ErmTheoryCurve($"theory {name}", name, fps.Select(fp => fp.Problem.Lambda).ToArray(), fps);
        }).ToArray();
        var sims = new List<ErmSimulation>();
        int done = 0, total = MarginLosses.Names.Count * SimulatedLambdas.Count;
        foreach (var name in MarginLosses.Names)
        {
            var errors = new List<Statistic>();
            foreach (var lam in SimulatedLambdas)
            {
                errors.Add(MonteCarlo.Run(new MixtureSpec(model, n, seed, ExactLabelCounts: true), seeds, EstimatorKind.Erm(MarginLosses.Parse(name), lam), threads).TestError);
                progress?.Invoke(++done / (double)total);
            }
            sims.Add(new ErmSimulation(name, double.NaN, n, seeds, SimulatedLambdas, errors));
        }
        return new(rho, theory, BayesOptimal.Error(model), sims);
    }

    /// <summary>Points that did not converge.</summary>
    public IReadOnlyList<string> Warnings => Theory.SelectMany(c => c.Warnings).ToArray();

    /// <summary>The table: columns lambda, test_error, test_error_se, lambda_again, rho; the theory curves, ε_BO, the
    /// majority-class error when unbalanced, the simulations.</summary>
    public SeriesTable ToTable()
    {
        var t = new SeriesTable("lambda", "test_error", "test_error_se", "lambda_again", "rho");
        foreach (var c in Theory) c.AddTo(t);
        t.Add("bayes-optimal", [double.NaN, BayesOptimalError, double.NaN, double.NaN, Rho]);
        if (Rho != 0.5) t.Add("majority class", [double.NaN, MajorityClassError, double.NaN, double.NaN, Rho]);
        foreach (var s in Simulations)
            for (int i = 0; i < s.X.Count; i++)
                t.Add($"simulation {s.Loss} n={s.N} seeds={s.Seeds}", [s.X[i], s.TestErrors[i].Mean, s.TestErrors[i].StdError, s.X[i], Rho]);
        return t;
    }
}
