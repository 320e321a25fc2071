using FlatMinima.Flatness;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;

namespace FlatMinima.Tests.Flatness;

/// <summary>
/// The replicon (de Almeida–Thouless) eigenvalue Λ of the RS Franz–Parisi saddle point (docs/theory.md#rs-stability):
/// its β → 0 limit in closed form, its reduction to the spherical perceptron's storage problem in the pure-noise limit,
/// and the same eigenvalue by two other numerical routes.
/// </summary>
public class FranzParisiStabilityTests
{
    [Theory]
    [InlineData(2.0, 1.0, 0.5)]
    [InlineData(2.0, 0.8, 0.9)]
    [InlineData(4.0, 0.7, 0.3)]
    public void AtSmallBetaItIsStableWithTheClosedFormCurvature(double alpha, double cos, double r)
    {
        // β → 0 (RS exact): Λ = 1 − c₀β² + O(β³), c₀ = α E[z²φ(z)²] at the β = 0 saddle point, in closed form.
        var p0 = new FranzParisiProblem(new MixtureModel(alpha, 1, 0.5), 0, cos);
        double c0 = FranzParisiStability.SmallBetaCoefficient(p0, r);
        Assert.True(c0 > 0);
        Assert.Equal(1.0, FranzParisiLocalEntropy.Solve(p0, r).Replicon, 12);
        double[] dev = new double[2];
        int i = 0;
        foreach (var beta in new[] { 1e-2, 1e-3 })
        {
            var pt = FranzParisiLocalEntropy.Solve(p0 with { Beta = beta }, r);
            Assert.True(pt.Converged && pt.RsStable);
            dev[i++] = Math.Abs((1 - pt.Replicon) / (beta * beta) / c0 - 1);
        }
        Assert.True(dev[1] < 5e-3, $"relative deviation from the closed form at beta = 1e-3: {dev[1]:G3}");
        Assert.True(dev[1] < dev[0], "the deviation shrinks with beta");
    }

    [Theory]
    [InlineData(1.0, 2.0)]
    [InlineData(3.0, 5.0)]
    [InlineData(1.0, 10.0)]
    [InlineData(3.0, 10.0)]
    public void PureNoiseLimitIsTheSphericalPerceptronStorageProblem(double alpha, double beta)
    {
        // Δ → ∞ with a reference independent of the data (cos ψ = 0), b = 0 and R → 0: the Franz–Parisi saddle point is
        // the finite-temperature storage problem of random patterns at margin 0, solved independently by SphericalPerceptron.
        var fp = FranzParisiLocalEntropy.Solve(new FranzParisiProblem(new MixtureModel(alpha, 1e8, 0.5), beta, 0), 0.01, 16);
        var gd = SphericalPerceptron.Solve(alpha, 0, beta);
        Assert.True(fp.Converged);
        Assert.Equal(gd.Q, fp.Q, 5e-4);                 // the overlap constraint shifts q by O(R²)
        Assert.Equal(gd.Replicon, fp.Replicon, 3e-4);
        Assert.Equal(gd.RsStable, fp.RsStable);
    }

    [Theory]
    [InlineData(2.0, 2.0, 1.0, 0.5)]   // a stable point
    [InlineData(2.0, 10.0, 1.0, 0.3)]  // an unstable point
    public void TwoOtherQuadraturesGiveTheSameEigenvalue(double alpha, double beta, double cos, double r)
    {
        var p = new FranzParisiProblem(new MixtureModel(alpha, 1, 0.5), beta, cos);
        var pt = FranzParisiLocalEntropy.Solve(p, r, 16);
        Assert.True(pt.Converged);
        // (1) the uniform trapezoid grid of 24 001 points on [−12, 12] instead of the graded Gauss–Legendre rule
        Assert.Equal(pt.Replicon, FranzParisiStability.Replicon(p, pt, GaussianMeasure.Trapezoid()), 1e-7);
        // (2) Monte Carlo over ξ ~ N(0, 1), 400 000 draws (fixed seed), within 4 standard errors
        const int draws = 400_000;
        var rng = Rng.ForStream(17, 3);
        var f = FranzParisiStability.Integrand(p, pt);
        var vals = new double[draws];
        for (int i = 0; i < draws; i++)
        {
            double xi = rng.NextGaussian();
            vals[i] = p.Alpha * (p.Rho * f(1, xi) + (1 - p.Rho) * f(-1, xi));
        }
        var st = Statistic.Of(vals);
        double mc = 1 - st.Mean;
        Assert.True(Math.Abs(mc - pt.Replicon) < 4 * st.StdError, $"Monte Carlo {mc} ± {st.StdError}, quadrature {pt.Replicon}");
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void FigureFiveParametersAreReplicaSymmetric()
    {
        // Figure 5's theory curves (α = 2, Δ = 1, ρ = ½, β = 2; cos ψ = 1, 0.9, 0.8, 0.7; R from 0.25 to 0.99): Λ > 0 at every
        // plotted point (table in docs/theory.md#rs-stability); the smallest, 0.786, is on the BO curve at R ≈ 0.463, and
        // the curves tend to 1 as R → 1 (the 0-1 boundary layer shrinks with 1 − q)
        foreach (var cos in new[] { 1.0, 0.9, 0.8, 0.7 })
            foreach (var r in new[] { 0.25, 0.4632, 0.99 })
                Assert.True(FranzParisiLocalEntropy.Solve(new FranzParisiProblem(new MixtureModel(2, 1, 0.5), 2, cos), r).RsStable);
        var pr = new FranzParisiProblem(new MixtureModel(2, 1, 0.5), 2, 1);
        Assert.InRange(FranzParisiLocalEntropy.Solve(pr, 0.4632).Replicon, 0.785, 0.787);
        Assert.True(FranzParisiLocalEntropy.Solve(pr, 0.9999).Replicon > FranzParisiLocalEntropy.Solve(pr, 0.99).Replicon);
    }

    [Fact]
    public void LowTemperatureFarFromTheReferenceBreaksReplicaSymmetry()
    {
        // α = 2, Δ = 1, β = 10 around BO: the neighbours at R = 0.3 (near-zero training error, negative tilt k) are
        // unstable, at R = 0.8 stable
        var p = new FranzParisiProblem(new MixtureModel(2, 1, 0.5), 10, 1);
        var far = FranzParisiLocalEntropy.Solve(p, 0.3, 16);
        var near = FranzParisiLocalEntropy.Solve(p, 0.8, 16);
        Assert.True(far.Converged && near.Converged);
        Assert.False(far.RsStable);
        Assert.True(near.RsStable);
    }
}
