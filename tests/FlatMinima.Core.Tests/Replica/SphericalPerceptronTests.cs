using FlatMinima.Numerics;
using FlatMinima.Replica;

namespace FlatMinima.Tests.Replica;

/// <summary>
/// The storage problem of the spherical perceptron (Gardner 1988; stability: Gardner and Derrida 1988), the textbook case of
/// the de Almeida–Thouless condition (docs/theory.md#rs-stability): at zero margin RS is stable below the capacity α_c = 2
/// and marginal there; at negative margin it breaks before its capacity.
/// </summary>
public class SphericalPerceptronTests
{
    [Theory]
    [InlineData(0.0, 2.0)]
    [InlineData(-0.5, 4.770097)]
    [InlineData(0.5, 0.961212)]
    public void CapacityIsGardnersClosedForm(double kappa, double expected)
    {
        // α_c(κ) = 1/∫_{−κ}^∞ Dt (t + κ)²; at κ = 0 Cover's 2 (docs/theory.md#separability-threshold, Δ → ∞)
        Assert.Equal(expected, SphericalPerceptron.Capacity(kappa), 5);
        // the independent check: the integral by quadrature
        double g = GaussianMeasure.ExpectPiecewise(t => t + kappa > 0 ? (t + kappa) * (t + kappa) : 0, -kappa);
        Assert.Equal(1 / g, SphericalPerceptron.Capacity(kappa), 8);
    }

    [Fact]
    public void AtZeroMarginReplicaSymmetryIsStableBelowCapacityAndMarginalAtIt()
    {
        double prev = 1;
        foreach (var alpha in new[] { 0.5, 1.0, 1.5, 1.9, 1.99 })
        {
            var p = SphericalPerceptron.Solve(alpha);
            Assert.True(p.RsStable && p.Replicon < prev, $"alpha = {alpha}: replicon {p.Replicon}");
            prev = p.Replicon;
        }
        // α → 2: q → 1 and Λ → 1 − α_c H(0) = 0, approached like √(1 − q)
        Assert.Equal(0.0, SphericalPerceptron.RepliconAtCapacity(0), 14);
        var near = SphericalPerceptron.Solve(2 * (1 - 1e-6));
        Assert.InRange(near.Replicon, 0, 0.002);
        // α → 0: q → 0 and Λ → 1 − α (2/π)² → 1
        Assert.Equal(1, SphericalPerceptron.Solve(1e-4).Replicon, 3);
    }

    [Theory]
    [InlineData(-0.5)]
    [InlineData(-1.0)]
    [InlineData(0.5)]
    public void AtCapacityTheRepliconIsOneMinusAlphaCTimesTheTailBelowTheMargin(double kappa)
    {
        // q → 1: (1 − q)∂²_ω ln H → −1 on the cavity fields below κ (a fraction H(−κ)), → 0 above: Λ → 1 − α_c(κ)H(−κ)
        double ac = SphericalPerceptron.Capacity(kappa), limit = 1 - ac * Gaussian.H(-kappa);
        Assert.Equal(limit, SphericalPerceptron.RepliconAtCapacity(kappa), 12);
        var near = SphericalPerceptron.Solve(ac * (1 - 1e-6), kappa);
        Assert.Equal(limit, near.Replicon, 0.01);
        // κ < 0: unstable at capacity, so the AT line α_AT(κ) lies strictly inside (0, α_c(κ)); κ > 0: stable up to it
        Assert.Equal(kappa > 0, near.RsStable);
        if (kappa < 0) Assert.True(SphericalPerceptron.Solve(0.3 * ac, kappa).RsStable);
    }

    [Fact]
    public void BeyondCapacityAtLowTemperatureReplicaSymmetryBreaks()
    {
        // Gardner–Derrida: the minimal fraction of errors above α_c is not RS. At β = 10, α = 3: Λ < 0; at β = 2 it is stable.
        Assert.False(SphericalPerceptron.Solve(3, 0, 10).RsStable);
        Assert.True(SphericalPerceptron.Solve(3, 0, 2).RsStable);
        // β → ∞ at α < α_c recovers the zero-error Gardner volume (slowly: errors cost β, compression costs u²/2)
        Assert.Equal(SphericalPerceptron.Solve(1.0).Q, SphericalPerceptron.Solve(1.0, 0, 1e4).Q, 8);
    }

    [Fact]
    public void AboveCapacityAtZeroTemperatureIsRefused()
    {
        Assert.Equal("alpha", Assert.Throws<ArgumentOutOfRangeException>(() => SphericalPerceptron.Solve(2.5)).ParamName);
    }
}
