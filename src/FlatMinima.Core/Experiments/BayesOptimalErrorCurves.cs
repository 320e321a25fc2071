using FlatMinima.Estimators;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Experiments;

/// <summary>ε_BO(α) (docs/theory.md#e3) on a grid of α for one (Δ, ρ), with the oracle error (docs/theory.md#e4), its α → ∞ limit.</summary>
public sealed record BayesOptimalErrorCurve(double Delta, double Rho, IReadOnlyList<double> Alphas, IReadOnlyList<double> TestErrors, double OracleError);

/// <summary>Finite-N test errors of the BO estimator at a few α (mean ± s.e. over datasets).</summary>
public sealed record BayesOptimalSimulation(double Delta, double Rho, int N, int Seeds, IReadOnlyList<double> Alphas, IReadOnlyList<Statistic> TestErrors);

/// <summary>
/// The Bayes-optimal error against α (figure 1): the closed form for Δ = ½, 1, 2 and ρ = ½, ¼ on 121 log-spaced α in
/// [0.1, 100], the oracle asymptotes, and simulations of the BO estimator at Δ = 1.
/// </summary>
public sealed record BayesOptimalErrorCurves(IReadOnlyList<BayesOptimalErrorCurve> Theory, IReadOnlyList<BayesOptimalSimulation> Simulations)
{
    /// <summary>The noise variances of the theory curves.</summary>
    public static IReadOnlyList<double> Deltas { get; } = [0.5, 1, 2];
    /// <summary>The cluster fractions: balanced and ρ = ¼.</summary>
    public static IReadOnlyList<double> Rhos { get; } = [0.5, 0.25];
    /// <summary>The α of the simulations (at Δ = 1).</summary>
    public static IReadOnlyList<double> SimulatedAlphas { get; } = [0.5, 1, 2, 5, 10];

    /// <summary>Computes the curves and the simulations (N = <paramref name="n"/>, <paramref name="seeds"/> datasets from
    /// <paramref name="seed"/>); <paramref name="progress"/> receives fractions in [0, 1].</summary>
    public static BayesOptimalErrorCurves Compute(int n = 1000, int seeds = 12, long seed = 0, int? threads = null, Action<double>? progress = null)
    {
        var alphas = Enumerable.Range(0, 121).Select(i => Math.Pow(10, -1 + 3.0 * i / 120)).ToArray();
        var theory = new List<BayesOptimalErrorCurve>();
        foreach (var delta in Deltas)
            foreach (var rho in Rhos)
                theory.Add(new(delta, rho, alphas, alphas.Select(a => BayesOptimal.Error(new MixtureModel(a, delta, rho))).ToArray(),
                    BayesOptimal.OracleError(delta, rho)));
        var sims = new List<BayesOptimalSimulation>();
        int done = 0, total = SimulatedAlphas.Count * Rhos.Count;
        foreach (var rho in Rhos)
        {
            var errors = new List<Statistic>();
            foreach (var a in SimulatedAlphas)
            {
                errors.Add(MonteCarlo.Run(new MixtureModel(a, 1, rho).AtSize(n, seed), seeds, EstimatorKind.Bayes, threads).TestError);
                progress?.Invoke(++done / (double)total);
            }
            sims.Add(new(1, rho, n, seeds, SimulatedAlphas, errors));
        }
        return new(theory, sims);
    }

    /// <summary>The table: columns alpha, test_error, test_error_se, delta, rho; each theory curve followed by its oracle
    /// row, then the simulations.</summary>
    public SeriesTable ToTable()
    {
        var t = new SeriesTable("alpha", "test_error", "test_error_se", "delta", "rho");
        foreach (var c in Theory)
        {
            for (int i = 0; i < c.Alphas.Count; i++) t.Add($"theory delta={c.Delta:G} rho={c.Rho:G}", [c.Alphas[i], c.TestErrors[i], double.NaN, c.Delta, c.Rho]);
            t.Add($"oracle delta={c.Delta:G} rho={c.Rho:G}", [double.NaN, c.OracleError, double.NaN, c.Delta, c.Rho]);
        }
        foreach (var s in Simulations)
            for (int i = 0; i < s.Alphas.Count; i++)
                t.Add($"simulation delta={s.Delta:G} rho={s.Rho:G} n={s.N} seeds={s.Seeds}", [s.Alphas[i], s.TestErrors[i].Mean, s.TestErrors[i].StdError, s.Delta, s.Rho]);
        return t;
    }
}
