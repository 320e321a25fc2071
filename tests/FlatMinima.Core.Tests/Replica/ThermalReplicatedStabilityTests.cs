using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Replica;
using MathNet.Numerics.LinearAlgebra;

namespace FlatMinima.Tests.Replica;

/// <summary>
/// The replicon Λ = (1 + εV)²/(1 + 2εV + ε²V₂) of the finite-temperature replicated square-loss centre
/// (docs/theory.md#rs-stability): its βy → 0 limit, its γ → ∞ limit (the square-loss channel's Gardner-form replicon),
/// V₂ against a numerical derivative, and Λ against the exact spectral sums of the centre's covariance at finite N.
/// </summary>
public class ThermalReplicatedStabilityTests
{
    [Fact]
    public void SecondResolventMomentIsMinusTheDerivativeOfV()
    {
        // V₂ = −dV/dλ of the square-loss fixed point (ridge λ), by central differences
        var model = new MixtureModel(2, 1, 0.25);
        foreach (var lam in new[] { 0.05, 0.5, 3.0 })
        {
            double V(double l) => ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, model, l)).V;
            double h = 1e-4 * lam, numeric = -(V(lam + h) - V(lam - h)) / (2 * h);
            Assert.Equal(numeric, ThermalReplicatedStability.ResolventSecondMoment(V(lam), model), 1e-5 * numeric);
        }
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(10.0)]
    public void AtSmallBetaYItIsStableWithTheClosedFormCurvature(double gamma)
    {
        // βy → 0: ε = γ − λ ≈ βyγ²Q and 1 − Λ ≈ (βyγ²Q)²(V₂(γ) − V(γ)²)
        var model = new MixtureModel(2, 1, 0.25);
        double c0 = ThermalReplicatedStability.SmallBetaYCoefficient(model, 0.5, gamma);
        foreach (var by in new[] { 1e-3, 1e-4 })
        {
            var t = ThermalReplicatedSaddlePoint.Solve(model, by, 0.5, gamma);
            Assert.True(t.RsStable);
            Assert.Equal(1.0, (1 - t.Replicon) / (by * by) / c0, by < 1e-3 ? 2e-3 : 2e-2);
        }
    }

    [Fact]
    public void StrongCouplingIsTheSquareLossGardnerReplicon()
    {
        // γ → ∞ the replicas sit on the centre: a spherical square-loss perceptron, whose replicon in the channel form is
        // 1 − α(1 − q)²E[(∂²_ω ln Z_out)²] = 1 − αΔ²V²/(1 + ΔV)² (∂²_ω ln Z_out = −β/(1 + βΔ(1 − q)), β(1 − q) = V)
        var t = ThermalReplicatedSaddlePoint.Solve(new MixtureModel(2, 1, 0.25), 3, 0.5, 1e6);
        double v = t.Replica.V, s = v / (1 + v);
        Assert.Equal(1 - 2 * s * s, t.Replicon, 5e-5);
    }

    [Theory]
    [Trait("Speed", "Slow")]
    [InlineData(0.25, 3.0, 0.5, 10.0)]
    [InlineData(0.5, 1.0, 2.0, 1.0)]
    public void TheoryAgreesWithTheFiniteNSpectralSums(double rho, double betaY, double norm, double gamma)
    {
        // Λ = g²/g₂ with g, g₂ the first two moments of (K + μ)⁻¹ ∝ 1 + (γ − λ)/(h_i + λ), h_i the eigenvalues of the centred
        // Gram matrix and λ from the finite-N norm budget: N = 300, 6 datasets, within 3 s.e. + 2/N
        var model = new MixtureModel(2, 1, rho);
        var th = ThermalReplicatedSaddlePoint.Solve(model, betaY, norm, gamma);
        const int n = 300, seeds = 6;
        var st = MonteCarlo.Run(model.AtSize(n, 2000), seeds, smp =>
        {
            var spectrum = CentredGramSpectrum.Of(smp);
            double l = spectrum.Multiplier(gamma, betaY, norm), g1 = 0, g2 = 0;
            foreach (var h in spectrum.H) { double f = 1 + (gamma - l) / (h + l); g1 += f; g2 += f * f; }
            return g1 / n * (g1 / n) / (g2 / n);
        }).Of(x => x);
        Assert.True(th.RsStable);
        Assert.True(Math.Abs(st.Mean - th.Replicon) <= 3 * st.StdError + 2.0 / n, $"theory {th.Replicon:G6}, finite N {st.Mean:G6} ± {st.StdError:G2}");
    }

    [Fact]
    public void FigureTenParametersAreReplicaSymmetric()
    {
        // Figure 10 (α = 2, Δ = 1, ρ = ¼, Q = 0.5, β = 1; y = 1, 3, 10; γ from 0.05 to 200): Λ decreases with γ and with y,
        // from 1.000 at γ = 0.05 to 0.869, 0.722, 0.621 at γ = 200 (docs/theory.md#rs-stability)
        double[] expected = [0.8685, 0.7222, 0.6211];
        int i = 0;
        foreach (var y in new[] { 1, 3, 10 })
        {
            Assert.True(ThermalReplicatedSaddlePoint.Solve(new MixtureModel(2, 1, 0.25), y, 0.5, 0.05).Replicon > 0.9999);
            Assert.Equal(expected[i++], ThermalReplicatedSaddlePoint.Solve(new MixtureModel(2, 1, 0.25), y, 0.5, 200).Replicon, 4);
        }
    }
}
