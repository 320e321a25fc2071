using FlatMinima.Estimators;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Experiments;

/// <summary>The maximally flat estimator of one objective at one flatness scale σ, over datasets: its cosine with the BO
/// (Hebbian) direction of the same training set, its test error, and the BO estimator's test error on the same data.</summary>
public sealed record MaxFlatnessPoint(string Objective, double Sigma, Statistic CosineBo, Statistic TestError, Statistic BoTestError);

/// <summary>
/// Maximum flatness reaches the Bayes-optimal estimator (figure 6, docs/theory.md#max-flatness): replicated descent (y = 3) on
/// the norm-independent classifier objective E_σ and on the noise-smoothed logistic loss, at α = 2, Δ = 1, ρ = ½, over
/// a range of flatness scales σ.
/// </summary>
public sealed record MaxFlatnessScan(IReadOnlyList<MaxFlatnessPoint> Points, int N, int Seeds)
{
    public const double Alpha = 2, Delta = 1, Rho = 0.5;
    /// <summary>The flatness scales of the full scan.</summary>
    public static IReadOnlyList<double> Sigmas { get; } = [0.1, 0.3, 1, 3, 10, 30];

    /// <summary>Objective name and loss (null = the classifier's smoothed error E_σ).</summary>
    public static IReadOnlyList<(string Name, IMarginLoss? Loss)> Objectives { get; } =
    [
        ("classifier objective E(σ)", null),
        ("logistic loss", LogisticLoss.Instance),
    ];

    /// <summary>ε_BO at (α, Δ, ρ), the theory the estimators approach.</summary>
    public static double BayesOptimalError => BayesOptimal.Error(new MixtureModel(Alpha, Delta, Rho));

    /// <summary>Fits every objective at every σ of <paramref name="sigmas"/> on <paramref name="seeds"/> datasets of
    /// dimension <paramref name="n"/> (all fits in parallel; the numbers do not depend on the thread count).</summary>
    public static MaxFlatnessScan Compute(IReadOnlyList<double>? sigmas = null, int n = 500, int seeds = 3, long seed = 0, int? threads = null,
        Action<double>? progress = null)
    {
        sigmas ??= Sigmas;
        var spec = new MixtureModel(Alpha, Delta, Rho).AtSize(n, seed);
        var points = new List<MaxFlatnessPoint>();
        int done = 0, total = Objectives.Count * sigmas.Count * seeds;
        foreach (var (name, loss) in Objectives)
        {
            var runs = MonteCarlo.Run(spec, seeds, sigmas, (sample, sigma) =>
                MaxFlatness.Fit(sample, new MaxFlatnessOptions(MaxFlatnessMethod.Replicated, loss, sigma, Replicated: new ReplicatedOptions(Threads: 1))),
                threads, () => progress?.Invoke(Interlocked.Increment(ref done) / (double)total));
            for (int i = 0; i < sigmas.Count; i++)
                points.Add(new(name, sigmas[i], runs[i].Of(f => f.CosineBo), runs[i].Of(f => f.TestError), runs[i].Of(f => f.BoTestError)));
        }
        return new(points, n, seeds);
    }

    /// <summary>The cosine table (figure 6a): columns sigma, cosine_bo, cosine_bo_se; per objective, then the BO direction.</summary>
    public SeriesTable CosineTable()
    {
        var t = new SeriesTable("sigma", "cosine_bo", "cosine_bo_se");
        foreach (var p in Points) t.Add($"{p.Objective} n={N}", [p.Sigma, p.CosineBo.Mean, p.CosineBo.StdError]);
        t.Add("bayes-optimal", [double.NaN, 1, double.NaN]);
        return t;
    }

    /// <summary>The BO estimator's test error on the datasets (the same for every point: the first one's).</summary>
    public double BoTestErrorSameData => Statistic.Of(Points.Where(p => p.Objective == Points[0].Objective).Select(p => p.BoTestError.Mean).Take(1).ToArray()).Mean;

    /// <summary>The test-error table (figure 6b): columns sigma, test_error, test_error_se; per objective, then the BO
    /// estimator on the same data and ε_BO.</summary>
    public SeriesTable ErrorTable()
    {
        var t = new SeriesTable("sigma", "test_error", "test_error_se");
        foreach (var p in Points) t.Add($"{p.Objective} n={N}", [p.Sigma, p.TestError.Mean, p.TestError.StdError]);
        t.Add("bo estimator same data", [double.NaN, BoTestErrorSameData, double.NaN]);
        t.Add("bayes-optimal theory", [double.NaN, BayesOptimalError, double.NaN]);
        return t;
    }
}
