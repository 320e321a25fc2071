using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Replica;

namespace FlatMinima.Tests.Replica;

public class SaddlePointSafeguardTests
{
    [Theory]
    [InlineData(0.3, 1.0)]
    [InlineData(0.2, 0.5)]
    [InlineData(0.35, 2.0)]
    public void SquareLossBelowInterpolationReachesTheRidgelessClosedForm(double alpha, double delta)
    {
        // ρ = ½, λ → 0, α < 1 (docs/theory.md#erm-saddle-point closed form with V → (1 − α)/λ):
        //   m = α/(α + Δ),  q = α(1 − m)²(α + Δ)/(Δ²(1 − α)).
        // Anderson mixing alone cycles here (q ~ 1e7); the solver must fall back to plain damping.
        var fp = ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, new MixtureModel(alpha, delta), 1e-6));
        double m = alpha / (alpha + delta);
        double q = alpha * (1 - m) * (1 - m) * (alpha + delta) / (delta * delta * (1 - alpha));
        Assert.True(fp.Converged, fp.Reason);
        Assert.Equal(m, fp.M, 1e-4);
        Assert.Equal(q, fp.Q, 1e-4);
        Assert.Equal((1 - alpha) / 1e-6, fp.V, (1 - alpha) / 1e-6 * 1e-3);
    }
}
