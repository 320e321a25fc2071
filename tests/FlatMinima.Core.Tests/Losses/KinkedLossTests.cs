using FlatMinima.Estimators;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;

namespace FlatMinima.Tests.Losses;

/// <summary>
/// A loss with a kink written by a user from ℓ, ℓ', ℓ'' and the kink only — the hinge without its closed forms. The
/// defaults of <see cref="IMarginLoss"/> then take the kink from the loss: the proximal map is exact on the flat piece,
/// the channel's quadrature panels end at the kinks of u*(a), and the law of the training margins has them as
/// breakpoints. Everything must agree with the shipped hinge, whose channel is in closed form (truncated Gaussian moments).
/// </summary>
public class KinkedLossTests
{
    private sealed class HingeByDerivatives : IMarginLoss
    {
        public string Name => "hinge-by-derivatives";
        public double Value(double u) => u < 1 ? 1 - u : 0;
        public double Derivative(double u) => u < 1 ? -1 : 0;
        public double SecondDerivative(double u) => 0;
        public IReadOnlyList<Kink> Kinks => [new(1, -1, 0)];
    }

    private static readonly IMarginLoss Generic = new HingeByDerivatives();

    [Fact]
    public void DefaultProximalMapIsTheHingesOnEveryPiece()
    {
        foreach (var c in new[] { 0.01, 0.7, 3.0, 250.0 })
            foreach (var a in new[] { -300.0, -2.5, 1 - c - 1e-9, 1 - c / 2, 1 - 1e-12, 1 + 1e-12, 1.5, 40.0 })
            {
                Assert.Equal(HingeLoss.Instance.Prox(a, c), Generic.Prox(a, c), 1e-12 * Math.Max(1, Math.Abs(a)));
                Assert.True(HingeLoss.Instance.ProxDerivative(a, c) == Generic.ProxDerivative(a, c), $"a = {a:R}, c = {c}: {Generic.Prox(a, c):R}");
            }
        Assert.Equal(1.0, Generic.Prox(0.6, 1)); // on the flat piece exactly, not to bisection precision
        Assert.False(Generic.IsSmooth);
    }

    [Theory]
    [InlineData(0.3, 0.8, 0.5)]
    [InlineData(-1.2, 2.5, 4.0)]
    [InlineData(1.1, 0.05, 0.01)]
    [InlineData(0.9, 30.0, 0.3)]
    public void DefaultChannelMatchesTheClosedForm(double mu, double s, double c)
    {
        var exact = ErmChannel.For(HingeLoss.Instance);
        var split = ErmChannel.For(Generic);
        var e = exact.Moments(mu, s, c);
        var g = split.Moments(mu, s, c);
        Assert.Equal(e.G, g.G, 1e-11);
        Assert.Equal(e.G2, g.G2, 1e-11);
        Assert.Equal(e.DU, g.DU, 1e-11);
        Assert.Equal(exact.TrainingLoss(mu, s, c), split.TrainingLoss(mu, s, c), 1e-11);
        Assert.Equal(exact.Moreau(mu, s, c), split.Moreau(mu, s, c), 1e-11);
    }

    [Theory]
    [InlineData(0.5, 1.0)]
    [InlineData(0.25, 0.5)]
    public void SaddlePointAndMarginLawMatchTheHinge(double rho, double lambda)
    {
        var model = new MixtureModel(2, 1, rho);
        var h = ErmSaddlePoint.Solve(new ErmProblem(HingeLoss.Instance, model, lambda));
        var g = ErmSaddlePoint.Solve(new ErmProblem(Generic, model, lambda));
        foreach (var (x, y) in new[] { (h.M, g.M), (h.Q, g.Q), (h.V, g.V), (h.Bias, g.Bias), (h.TestError, g.TestError), (h.TrainError, g.TrainError), (h.TrainLoss, g.TrainLoss) })
            Assert.Equal(x, y, 1e-8);
        // u*(a) has its kinks at 1 − ΔV and 1; the local energy (LE3) uses them as breakpoints
        double c = model.Delta * g.V;
        Assert.Equal([1 - c, 1.0], g.MarginLaw.Kinks);
        var eh = FlatMinima.Flatness.LocalEnergy.ErmTheory(h, [0, 0.3, 1]);
        var eg = FlatMinima.Flatness.LocalEnergy.ErmTheory(g, [0, 0.3, 1]);
        for (int k = 0; k < eh.Length; k++) Assert.Equal(eh[k], eg[k], 1e-7);
    }

    [Fact]
    public void FiniteNSolverSaysItNeedsASmoothLoss()
    {
        // the SVM dual is the hinge's own algorithm; a kinked user loss has no finite-N solver and gets a clear error
        var s = MixtureSample.Sample(new MixtureModel(2, 1).AtSize(40, seed: 1));
        var e = Assert.Throws<ArgumentException>(() => Erm.Fit(s, Generic, 0.5));
        Assert.Equal("loss", e.ParamName);
        Assert.Contains("not smooth", e.Message);
    }
}
