using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Penalties;
using FlatMinima.Replica;

namespace FlatMinima.Tests.Penalties;

/// <summary>
/// The L1 penalty: saddle point (closed-form soft-thresholding prior) against the finite-N FISTA solver, N = 400,
/// 6 datasets, agreement within 3 s.e. + 2·max(1,|th|)/N; and the solver's optimality conditions.
/// </summary>
public class L1CheckTests
{
    public static TheoryData<string, double, double> Cases => new()
    {
        { "square", 0.5, 0.5 },
        { "square", 0.25, 0.3 },
        { "logistic", 0.25, 0.05 },
    };

    [Trait("Speed", "Slow")]
    [Theory]
    [MemberData(nameof(Cases))]
    public void L1TheoryAndSimulationAgree(string loss, double rho, double lambda)
    {
        var r = TheoryCheck.Erm(new ErmProblem(MarginLosses.Parse(loss), new MixtureModel(2, 1, rho), new L1Penalty(lambda)), n: 400, seeds: 6, seed: 800);
        Assert.True(r.Agree, r.Describe());
    }

    [Fact]
    public void SolverSatisfiesTheLassoOptimalityConditions()
    {
        // KKT: |∂_j L| ≤ λ where w_j = 0, ∂_j L = −λ sign(w_j) elsewhere; ∂_b L = 0 — to the solver's tolerance, a gradient
        // mapping of 1e−7 per sample (3e−5 in total at P = 300); allow 3e−4 (1e−3 relative to λ)
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, 0.25), 150, 4));
        double lambda = 0.4;
        var sol = ProximalErm.Fit(s, SquareLoss.Instance, new L1Penalty(lambda), new ErmOptions(Tolerance: 1e-9));
        Assert.True(sol.Converged);
        var w = sol.Classifier.W; double b = sol.Classifier.B;
        var u = s.Margins(w, b);
        var grad = new double[s.N]; double gb = 0;
        double sc = 1 / Math.Sqrt(s.N);
        for (int mu = 0; mu < s.P; mu++)
        {
            double d = SquareLoss.Instance.Derivative(u[mu]) * s.Y[mu];
            gb += d;
            for (int j = 0; j < s.N; j++) grad[j] += d * s.X[mu * s.N + j] * sc;
        }
        const double tol = 3e-4;
        Assert.True(Math.Abs(gb) < tol, $"bias gradient {gb}");
        int zeros = 0;
        for (int j = 0; j < s.N; j++)
        {
            if (w[j] == 0) { zeros++; Assert.True(Math.Abs(grad[j]) <= lambda + tol); }
            else Assert.Equal(-lambda * Math.Sign(w[j]), grad[j], tol);
        }
        Assert.InRange(zeros, 1, s.N - 1); // λ = 0.4 makes a sparse but non-zero solution
    }

    [Fact]
    public void FractionOfZeroWeightsIsTheThresholdProbability()
    {
        // theory: w_j = 0 iff |h| ≤ λ, h ~ N(0, m̂² + q̂): fraction 1 − 2H(λ/√(m̂² + q̂))
        var fp = ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, new MixtureModel(2, 1, 0.25), new L1Penalty(0.3)));
        double theory = 1 - 2 * FlatMinima.Numerics.Gaussian.H(0.3 / Math.Sqrt(fp.MHat * fp.MHat + fp.QHat));
        var fr = new double[4];
        Parallel.For(0, 4, k =>
        {
            var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, 0.25), 400, 820 + k));
            var w = ProximalErm.Fit(s, SquareLoss.Instance, new L1Penalty(0.3)).Classifier.W;
            fr[k] = w.Count(x => x == 0) / (double)w.Length;
        });
        var st = Statistic.Of(fr);
        Assert.True(Math.Abs(st.Mean - theory) <= 3 * st.StdError + 2.0 / 400, $"theory {theory:G4}, simulation {st.Mean:G4} ± {st.StdError:G2}");
    }
}
