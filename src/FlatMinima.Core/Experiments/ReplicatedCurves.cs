using FlatMinima.Estimators;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Penalties;
using FlatMinima.Replica;

namespace FlatMinima.Experiments;

/// <summary>The replicated centre's theory along the replica–centre distance for one centre norm Q.</summary>
public sealed record ReplicatedDistanceCurve(double Norm, IReadOnlyList<double> Distances, IReadOnlyList<ReplicatedFixedPoint> Points);

/// <summary>Coupled gradient descent for y replicas at Q = 0.15 at a few distances: the coupling γ of the theory at each
/// distance and the centre's test error over datasets.</summary>
public sealed record ReplicatedDistanceSimulation(int Y, int N, int Seeds, IReadOnlyList<double> Distances, IReadOnlyList<double> Gammas, IReadOnlyList<Statistic> TestErrors);

/// <summary>
/// The replicated square-loss centre (docs/norms.md §3) at zero temperature, α = 2, Δ = 1, ρ = ¼ (figure 8): its test error
/// against the replica–centre distance d for centre norms Q = 0.05, 0.15, 0.5 (y drops out), coupled gradient descent for
/// y = 1 and 3 at Q = 0.15, fixed-norm ERM at its best norm Q = 0.154, and ε_BO.
/// </summary>
public sealed record ReplicatedDistanceCurves(IReadOnlyList<ReplicatedDistanceCurve> Theory, double ErmBestNormError, double BayesOptimalError,
    IReadOnlyList<ReplicatedDistanceSimulation> Simulations)
{
    public const double Alpha = 2, Delta = 1, Rho = 0.25, SimulatedNorm = 0.15, ErmBestNorm = 0.154;
    /// <summary>The centre norms of the theory curves.</summary>
    public static IReadOnlyList<double> Norms { get; } = [0.05, 0.15, 0.5];
    /// <summary>The distances of the simulations.</summary>
    public static IReadOnlyList<double> SimulatedDistances { get; } = [1e-3, 1e-2, 0.05];
    /// <summary>The replica counts of the simulations.</summary>
    public static IReadOnlyList<int> SimulatedReplicas { get; } = [1, 3];

    public static ReplicatedDistanceCurves Compute(int gridPoints = 41, int n = 300, int seeds = 6, long seed = 0, int? threads = null, Action<double>? progress = null)
    {
        var model = new MixtureModel(Alpha, Delta, Rho);
        var ds = LearningCurve.Grid(1e-4, 1, gridPoints, log: true);
        var theory = Norms.Select(q => new ReplicatedDistanceCurve(q, ds,
            ds.Select(d => ReplicatedSaddlePoint.Solve(new ReplicatedProblem(SquareLoss.Instance, model, 3, q, double.NaN, d))).ToArray())).ToArray();
        double ermBest = ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, model, new SpherePenalty(ErmBestNorm))).TestError;
        var sims = new List<ReplicatedDistanceSimulation>();
        int done = 0, total = SimulatedReplicas.Count * SimulatedDistances.Count;
        foreach (var y in SimulatedReplicas)
        {
            var gammas = new List<double>(); var errors = new List<Statistic>();
            foreach (var d in SimulatedDistances)
            {
                var th = ReplicatedSaddlePoint.Solve(new ReplicatedProblem(SquareLoss.Instance, model, y, SimulatedNorm, double.NaN, d));
                var runs = MonteCarlo.Run(model.AtSize(n, seed), seeds, s =>
                {
                    var r = ReplicatedSphereDescent.Fit(s, y, SimulatedNorm, th.Gamma, seed: s.Spec.Seed);
                    return s.TestError(r.Center.W, r.Center.B);
                }, threads);
                gammas.Add(th.Gamma); errors.Add(runs.Of(e => e));
                progress?.Invoke(++done / (double)total);
            }
            sims.Add(new(y, n, seeds, SimulatedDistances, gammas, errors));
        }
        return new(theory, ermBest, BayesOptimal.Error(model), sims);
    }

    /// <summary>Theory points that did not converge (left out of the table).</summary>
    public IReadOnlyList<string> Warnings => Theory.SelectMany(c => c.Points.Select((p, i) => (p, d: c.Distances[i])).Where(x => !x.p.Converged)
        .Select(x => $"Q = {c.Norm}, d = {x.d:G3}: not converged")).ToArray();

    /// <summary>The table: columns distance, test_error, test_error_se, norm, y, gamma.</summary>
    public SeriesTable ToTable()
    {
        var t = new SeriesTable("distance", "test_error", "test_error_se", "norm", "y", "gamma");
        foreach (var c in Theory)
            for (int i = 0; i < c.Points.Count; i++)
                if (c.Points[i].Converged) t.Add($"theory Q={c.Norm:G3}", [c.Distances[i], c.Points[i].TestError, double.NaN, c.Norm, double.NaN, c.Points[i].Gamma]);
        t.Add($"erm best norm Q={ErmBestNorm}", [double.NaN, ErmBestNormError, double.NaN, ErmBestNorm, double.NaN, double.NaN]);
        t.Add("bayes-optimal", [double.NaN, BayesOptimalError, double.NaN, double.NaN, double.NaN, double.NaN]);
        foreach (var s in Simulations)
            for (int i = 0; i < s.Distances.Count; i++)
                t.Add($"simulation y={s.Y} Q={SimulatedNorm} n={s.N} seeds={s.Seeds}", [s.Distances[i], s.TestErrors[i].Mean, s.TestErrors[i].StdError, SimulatedNorm, s.Y, s.Gammas[i]]);
        return t;
    }
}

/// <summary>Fixed-norm ERM and the replicated centre at one norm Q.</summary>
public sealed record FixedNormPoint(double Norm, ErmFixedPoint Erm, ReplicatedFixedPoint Replicated);

/// <summary>
/// Test error against the norm Q = ‖w‖²/N at α = 2, Δ = 1, square loss (figure 9, docs/norms.md §4): fixed-norm ERM (theory,
/// and the secular-equation solver at finite N), the replicated centre at distance d = 0.01, ε_BO, and when unbalanced
/// ERM at its best λ.
/// </summary>
public sealed record FixedNormCurves(double Rho, IReadOnlyList<FixedNormPoint> Theory, double BayesOptimalError, OptimalLambda? BestLambda,
    int N, int Seeds, IReadOnlyList<double> SimulatedNorms, IReadOnlyList<Statistic> SimulatedErrors)
{
    public const double Alpha = 2, Delta = 1, Distance = 0.01;
    /// <summary>The norms of the simulations.</summary>
    public static IReadOnlyList<double> SimulationNorms { get; } = [0.03, 0.15, 0.5, 2];

    public static FixedNormCurves Compute(double rho, int gridPoints = 61, int n = 400, int seeds = 6, long seed = 0, int? threads = null, Action<double>? progress = null)
    {
        var model = new MixtureModel(Alpha, Delta, rho);
        var qs = LearningCurve.Grid(1e-3, 5, gridPoints, log: true);
        var theory = qs.Select(q => new FixedNormPoint(q,
            new ErmSaddlePoint(new ErmProblem(SquareLoss.Instance, model, new SpherePenalty(q))).TrySolve(),
            ReplicatedSaddlePoint.Solve(new ReplicatedProblem(SquareLoss.Instance, model, 3, q, double.NaN, Distance)))).ToArray();
        var best = rho != 0.5 ? LearningCurve.Optimize(SquareLoss.Instance, model) : null;
        var errors = new List<Statistic>();
        foreach (var q in SimulationNorms)
        {
            errors.Add(MonteCarlo.Run(model.AtSize(n, seed), seeds, EstimatorKind.Erm(SquareLoss.Instance, new SpherePenalty(q)), threads).TestError);
            progress?.Invoke(errors.Count / (double)SimulationNorms.Count);
        }
        return new(rho, theory, BayesOptimal.Error(model), best, n, seeds, SimulationNorms, errors);
    }

    /// <summary>Theory points that did not converge (left out of the table).</summary>
    public IReadOnlyList<string> Warnings => Theory.SelectMany(p =>
        (p.Erm.Converged ? Array.Empty<string>() : [$"ERM Q = {p.Norm:G3} not converged"])
        .Concat(p.Replicated.Converged ? [] : [$"replicated Q = {p.Norm:G3} not converged"])).ToArray();

    /// <summary>The table: columns norm, test_error, test_error_se, multiplier_or_gamma, rho.</summary>
    public SeriesTable ToTable()
    {
        var t = new SeriesTable("norm", "test_error", "test_error_se", "multiplier_or_gamma", "rho");
        foreach (var p in Theory)
        {
            if (p.Erm.Converged) t.Add("theory fixed-norm erm", [p.Norm, p.Erm.TestError, double.NaN, p.Erm.Multiplier, Rho]);
            if (p.Replicated.Converged) t.Add($"theory replicated centre d={Distance:G}", [p.Norm, p.Replicated.TestError, double.NaN, p.Replicated.Gamma, Rho]);
        }
        t.Add("bayes-optimal", [double.NaN, BayesOptimalError, double.NaN, double.NaN, Rho]);
        if (BestLambda is { } best) t.Add("erm best lambda", [double.NaN, best.FixedPoint.TestError, double.NaN, best.Lambda, Rho]);
        for (int i = 0; i < SimulatedNorms.Count; i++)
            t.Add($"simulation fixed-norm erm n={N} seeds={Seeds}", [SimulatedNorms[i], SimulatedErrors[i].Mean, SimulatedErrors[i].StdError, double.NaN, Rho]);
        return t;
    }
}

/// <summary>The finite-temperature centre along the coupling γ for one replica count y.</summary>
public sealed record ThermalReplicatedCurve(int Y, IReadOnlyList<double> Gammas, IReadOnlyList<double> Distances, IReadOnlyList<ThermalReplicatedSaddlePoint.Result> Points);

/// <summary>
/// The replicated square-loss centre at finite temperature β = 1 (figure 10, docs/norms.md §3), α = 2, Δ = 1, ρ = ¼, centre on
/// the sphere Q = ½: the test error of the centre's thermal mean against the replica–centre distance (swept through γ)
/// for y = 1, 3, 10, with fixed-norm ERM at the same norm, ERM at its best λ and ε_BO.
/// </summary>
public sealed record ThermalReplicatedCurves(IReadOnlyList<ThermalReplicatedCurve> Theory, double ErmSameNormError, OptimalLambda BestLambda, double BayesOptimalError)
{
    public const double Alpha = 2, Delta = 1, Rho = 0.25, Norm = 0.5, Beta = 1;
    /// <summary>The replica counts.</summary>
    public static IReadOnlyList<int> Replicas { get; } = [1, 3, 10];

    public static ThermalReplicatedCurves Compute(int gridPoints = 41, Action<double>? progress = null)
    {
        var model = new MixtureModel(Alpha, Delta, Rho);
        var gammas = LearningCurve.Grid(0.05, 200, gridPoints, log: true);
        var theory = new List<ThermalReplicatedCurve>();
        foreach (var y in Replicas)
        {
            var points = gammas.Select(g => ThermalReplicatedSaddlePoint.Solve(model, Beta * y, Norm, g)).ToArray();
            theory.Add(new(y, gammas, points.Select(t => ThermalReplicatedSaddlePoint.Distance(t, model, Beta)).ToArray(), points));
            progress?.Invoke(theory.Count / (double)Replicas.Count);
        }
        double ermQ = ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, model, new SpherePenalty(Norm))).TestError;
        return new(theory, ermQ, LearningCurve.Optimize(SquareLoss.Instance, model), BayesOptimal.Error(model));
    }

    /// <summary>One warning per curve with points where replica symmetry is unstable (replicon Λ ≤ 0,
    /// docs/theory.md#rs-stability; drawn dotted). None is expected: Λ > 0 at every point of this system.</summary>
    public IReadOnlyList<string> Warnings => Theory.Select(c => (c, bad: Enumerable.Range(0, c.Points.Count).Where(i => !c.Points[i].RsStable).ToList()))
        .Where(x => x.bad.Count > 0)
        .Select(x => $"replicated curve y={x.c.Y}: {x.bad.Count} of {x.c.Points.Count} points RS-unstable (replicon <= 0) " +
                     $"at gamma = {x.bad.Min(i => x.c.Gammas[i]):G3} ... {x.bad.Max(i => x.c.Gammas[i]):G3}; drawn dotted, marked in the CSV")
        .ToArray();

    /// <summary>The replicon Λ of every theory point (docs/theory.md#rs-stability).</summary>
    public IEnumerable<double> Replicons => Theory.SelectMany(c => c.Points.Select(p => p.Replicon));

    /// <summary>The table: columns distance, test_error, gamma, y, beta, replicon (points where RS is unstable marked).</summary>
    public SeriesTable ToTable()
    {
        var t = new SeriesTable("distance", "test_error", "gamma", "y", "beta", "replicon");
        foreach (var c in Theory)
            for (int i = 0; i < c.Points.Count; i++)
                t.Add($"theory y={c.Y}", [c.Distances[i], c.Points[i].MeanTestError, c.Gammas[i], c.Y, Beta, c.Points[i].Replicon],
                    c.Points[i].RsStable ? "" : "RS unstable (replicon <= 0)");
        t.Add("erm same norm", [double.NaN, ErmSameNormError, double.NaN, double.NaN, double.NaN, double.NaN]);
        t.Add("erm best lambda", [double.NaN, BestLambda.FixedPoint.TestError, double.NaN, double.NaN, double.NaN, double.NaN]);
        t.Add("bayes-optimal", [double.NaN, BayesOptimalError, double.NaN, double.NaN, double.NaN, double.NaN]);
        return t;
    }
}
