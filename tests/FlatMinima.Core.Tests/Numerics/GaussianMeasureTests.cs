using FlatMinima.Numerics;

namespace FlatMinima.Tests.Numerics;

public class GaussianMeasureTests
{
    [Theory]
    [InlineData(20)]
    [InlineData(100)]
    [InlineData(150)]
    public void GaussHermiteIntegratesEvenMomentsExactly(int n)
    {
        var r = GaussianMeasure.GaussHermite(n);
        Assert.Equal(n, r.Count);
        double doubleFactorial = 1; // (2k−1)!!
        for (int k = 0; k <= 8; k++)
        {
            if (k > 0) doubleFactorial *= 2 * k - 1;
            Assert.Equal(doubleFactorial, r.Expect(x => Math.Pow(x, 2 * k)), doubleFactorial * 1e-12);
            Assert.Equal(0, r.Expect(x => Math.Pow(x, 2 * k + 1)), 1e-10 * doubleFactorial);
        }
    }

    [Fact]
    public void GaussHermiteIsSpectrallyAccurateForSmoothIntegrands()
    {
        // E[cos ξ] = e^{−1/2}; E[e^{tξ}] = e^{t²/2}; E[ln(1 + e^{ξ})] has no closed form: compare with the fine grid
        Assert.Equal(Math.Exp(-0.5), GaussianMeasure.Expect(Math.Cos), 1e-15);
        Assert.Equal(Math.Exp(0.5 * 1.5 * 1.5), GaussianMeasure.Expect(x => Math.Exp(1.5 * x)), 1e-12);
        double softplus(double x) => x > 0 ? x + Math.Log(1 + Math.Exp(-x)) : Math.Log(1 + Math.Exp(x));
        Assert.Equal(GaussianMeasure.Trapezoid().Expect(softplus), GaussianMeasure.Expect(softplus), 1e-12);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    [InlineData(-1.7)]
    [InlineData(4.2)]
    public void SplitRuleIsExactForKinkedIntegrands(double t)
    {
        // E[(ξ − t)₊] = φ(t) − t H(t);  E[(ξ − t)₊²] = (1 + t²) H(t) − t φ(t);  P(ξ > t) = H(t)
        double relu = Gaussian.Pdf(t) - t * Gaussian.H(t);
        double relu2 = (1 + t * t) * Gaussian.H(t) - t * Gaussian.Pdf(t);
        var rule = GaussianMeasure.Split([t]);
        Assert.Equal(relu, rule.Expect(x => Math.Max(0, x - t)), 1e-15);
        Assert.Equal(relu2, rule.Expect(x => x > t ? (x - t) * (x - t) : 0), 1e-15);
        Assert.Equal(Gaussian.H(t), rule.Expect(x => x > t ? 1 : 0), 1e-15);
        Assert.Equal(relu, GaussianMeasure.ExpectPiecewise(x => Math.Max(0, x - t), t), 1e-15);
    }

    [Fact]
    public void TrapezoidGridHasTheExpectedOrderAtAJump()
    {
        // a step integrated on the grid errs by O(h): the size of the reference grid's error (docs/theory.md#erm-numerics) on hinge derivatives
        double t = 0.1234567;
        double err24k = Math.Abs(GaussianMeasure.Trapezoid().Expect(x => x > t ? 1 : 0) - Gaussian.H(t));
        double err240k = Math.Abs(GaussianMeasure.Trapezoid(240001).Expect(x => x > t ? 1 : 0) - Gaussian.H(t));
        Assert.InRange(err24k, 1e-6, 0.001 * Gaussian.Pdf(t));
        Assert.True(err240k < err24k / 3, $"{err240k} vs {err24k}");
        // smooth integrands are exact to rounding on the grid
        Assert.Equal(1.0, GaussianMeasure.Trapezoid().Expect(x => x * x), 1e-13);
    }

    [Theory]
    [InlineData(double.NegativeInfinity, 0.0)]
    [InlineData(-1.0, 2.0)]
    [InlineData(3.0, double.PositiveInfinity)]
    [InlineData(-9.0, -8.5)]
    [InlineData(7.5, 8.0)]
    public void TruncatedMomentsMatchQuadrature(double lo, double hi)
    {
        var (p, m1, m2) = GaussianMeasure.TruncatedMoments(lo, hi);
        var bps = new List<double>();
        if (double.IsFinite(lo)) bps.Add(lo);
        if (double.IsFinite(hi)) bps.Add(hi);
        var rule = GaussianMeasure.Split(bps, 0.25, 16, 12);
        double In(double x) => x > lo && x < hi ? 1 : 0;
        double scale = Math.Max(p, 1e-300);
        Assert.Equal(rule.Expect(In), p, 1e-12 * Math.Max(1, 1) * Math.Max(scale, 1e-20));
        Assert.Equal(rule.Expect(x => x * In(x)), m1, 1e-12);
        Assert.Equal(rule.Expect(x => x * x * In(x)), m2, 1e-12);
        Assert.True(p >= 0 && m2 >= 0);
    }

    [Theory]
    [InlineData(150)]
    [InlineData(180)]
    [InlineData(GaussianMeasure.MaxHermiteNodes)]
    public void LargeGaussHermiteRulesKeepTheirWeightsAndMoments(int n)
    {
        // Σw = 1, E[z²] = 1, E[z⁴] = 3 exactly for n ≥ 3; n = 200 used to return weights summing to 2.5e−161 (underflow)
        var r = GaussianMeasure.GaussHermite(n);
        double sum = 0, z2 = 0, z4 = 0;
        for (int i = 0; i < r.Count; i++)
        {
            double z = r.Nodes[i], w = r.Weights[i];
            Assert.True(w > 0, $"weight {i} = {w}");
            sum += w; z2 += w * z * z; z4 += w * z * z * z * z;
            if (i > 0) Assert.True(z > r.Nodes[i - 1], $"nodes {i - 1}, {i} not increasing");
        }
        Assert.Equal(1, sum, 1e-13);
        Assert.Equal(1, z2, 1e-13);
        Assert.Equal(3, z4, 3e-13);
    }

    [Fact]
    public void GaussHermiteBeyondItsRangeIsRejectedNamingTheRange()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => GaussianMeasure.GaussHermite(200));
        Assert.Contains($"[1, {GaussianMeasure.MaxHermiteNodes}]", e.Message);
    }

    [Fact]
    public void InvalidRulesAreRejectedWithTheParameterName()
    {
        Assert.Contains("n", Assert.Throws<ArgumentOutOfRangeException>(() => GaussianMeasure.GaussHermite(0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => GaussianMeasure.GaussHermite(1000));
        Assert.Contains("maxPanelWidth", Assert.ThrowsAny<ArgumentException>(() => GaussianMeasure.Split(null, 0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => GaussianMeasure.Split([double.NaN]));
    }
}
