using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Penalties;

namespace FlatMinima.Tests.Estimators;

/// <summary>
/// The finite-N solvers on the OpenBLAS and managed providers: the same minimiser (to rounding for the direct square
/// solves; to far below the solver tolerance for the iterative ones, which take the same path), and the same bits
/// from run to run and for any thread count on one provider.
/// </summary>
public class ErmProviderTests
{
    private static double RelDiff(LinearClassifier a, LinearClassifier b)
    {
        double d = Math.Abs(a.B - b.B), m = Math.Abs(b.B);
        for (int j = 0; j < a.W.Length; j++) { d = Math.Max(d, Math.Abs(a.W[j] - b.W[j])); m = Math.Max(m, Math.Abs(b.W[j])); }
        return d / m;
    }

    public static IEnumerable<object[]> Cases() =>
    [
        // estimator, alpha, rho, lambda, N, tolerance on max|Δθ|/max|θ| between providers
        ["square", 2.0, 0.5, 0.1, 150, 1e-12],      // primal: single-precision Gram refined (OpenBLAS) vs double Cholesky
        ["square", 0.5, 0.25, 0.1, 160, 1e-12],     // dual: P × P Gram
        ["sphere", 2.0, 0.5, 0.0, 120, 1e-11],      // fixed norm Q = 0.5: Gram and eigendecomposition
        ["logistic", 2.0, 0.25, 0.1, 150, 1e-7],  // the paths may stop one iteration apart: agreement at the tolerance (measured 1e-9)
        ["l1", 2.0, 0.5, 0.05, 100, 1e-6],          // FISTA, tolerance 1e-7: first-order, agreement at that level
        ["hinge", 2.0, 0.5, 0.1, 120, 1e-8],
    ];

    private static LinearClassifier Fit(string est, MixtureSample s, double lambda, int threads) => est switch
    {
        "sphere" => SphericalErm.Fit(s, SquareLoss.Instance, 0.5, new ErmOptions(Threads: threads)).Classifier,
        "l1" => ProximalErm.Fit(s, LogisticLoss.Instance, new L1Penalty(lambda), new ErmOptions(Threads: threads)).Classifier,
        _ => Erm.Fit(s, MarginLosses.Parse(est), lambda, new ErmOptions(Threads: threads)).Classifier,
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OpenBlasAndManagedAgree(string est, double alpha, double rho, double lambda, int n, double tol)
    {
        if (LinearAlgebra.OpenBlas is not { } blas) return; // one provider: nothing to compare (CI installs OpenBLAS)
        var s = MixtureSample.Sample(new MixtureModel(alpha, 1, rho).AtSize(n, seed: 5));
        LinearClassifier native, managed;
        using (LinearAlgebra.Use(blas)) native = Fit(est, s, lambda, 2);
        using (LinearAlgebra.Use(LinearAlgebra.Managed)) managed = Fit(est, s, lambda, 2);
        double d = RelDiff(native, managed);
        Assert.True(d <= tol, $"{est}: max|Δθ|/max|θ| = {d:G3} > {tol:G1}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SameBitsOnEveryRunAndThreadCount(string est, double alpha, double rho, double lambda, int n, double tol)
    {
        _ = tol;
        var s = MixtureSample.Sample(new MixtureModel(alpha, 1, rho).AtSize(n, seed: 6));
        foreach (var provider in new[] { LinearAlgebra.Managed, LinearAlgebra.OpenBlas }.OfType<ILinearAlgebraProvider>())
            using (LinearAlgebra.Use(provider))
            {
                var a = Fit(est, s, lambda, 1);
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    var b = Fit(est, s, lambda, threads);
                    Assert.Equal(a.W, b.W);
                    Assert.Equal(a.B, b.B);
                }
            }
    }

    [Theory]
    [InlineData("square")]
    [InlineData("hinge")]
    public void MonteCarloIsTheSameForEveryPlan(string est)
    {
        var spec = new MixtureModel(2, 1, 0.5).AtSize(300, seed: 3);
        var kind = EstimatorKind.Parse(est, 0.1);
        var sequential = MonteCarlo.Run(spec, 3, kind, maxParallelism: 1);
        Assert.Equal(new ParallelPlan(1, 1), sequential.Plan);
        foreach (int? cores in new int?[] { null, 2, 3, 4 })
        {
            var r = MonteCarlo.Run(spec, 3, kind, maxParallelism: cores);
            for (int k = 0; k < 3; k++) Assert.Equal(sequential.PerSeed[k].Values, r.PerSeed[k].Values);
        }
    }
}
