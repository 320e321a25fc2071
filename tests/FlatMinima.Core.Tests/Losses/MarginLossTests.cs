using FlatMinima.Losses;
using FlatMinima.Numerics;

namespace FlatMinima.Tests.Losses;

public class MarginLossTests
{
    public static TheoryData<string> Losses => new() { "square", "logistic", "hinge" };

    private static readonly double[] As = [-1e4, -300, -21.6484, -5, -1, -1e-3, 0, 0.5, 0.999, 1, 1.7, 30, 1e3];
    private static readonly double[] Cs = [1e-6, 1e-2, 0.5, 1, 24.675742, 211.4559, 1e4, 1e8];

    [Theory]
    [MemberData(nameof(Losses))]
    public void ProxSatisfiesTheOptimalityCondition(string name)
    {
        var loss = MarginLosses.Parse(name);
        foreach (var c in Cs)
            foreach (var a in As)
            {
                double u = loss.Prox(a, c);
                Assert.True(double.IsFinite(u));
                // 0 ∈ (u − a)/c + ∂ℓ(u): at a kink the subdifferential is [ℓ'(k⁻), ℓ'(k⁺)] (the hinge's at u = 1: [−1, 0])
                double r = (u - a) / c;
                var atKink = loss.Kinks.Where(k => k.At == u).ToArray();
                if (atKink.Length > 0) Assert.InRange(r, -atKink[0].RightSlope - 1e-12, -atKink[0].LeftSlope + 1e-12);
                else Assert.True(Math.Abs(r + loss.Derivative(u)) <= 1e-12 * (1 + Math.Abs(a) / c), $"{name} a={a} c={c} u={u} residual {r + loss.Derivative(u)}");
                // the prox minimises the proximal objective: no nearby point does better
                double obj(double x) => (x - a) * (x - a) / (2 * c) + loss.Value(x);
                double h = 1e-6 * Math.Max(1, Math.Abs(u));
                Assert.True(obj(u) <= obj(u + h) + 1e-12 * Math.Abs(obj(u)) + 1e-15 && obj(u) <= obj(u - h) + 1e-12 * Math.Abs(obj(u)) + 1e-15, $"{name} a={a} c={c}");
            }
    }

    [Fact]
    public void LogisticProxSurvivesTheNewtonPingPongCase()
    {
        // plain Newton (and the first safeguard) oscillated between the flat regions here and returned u ≈ −7.09
        var l = LogisticLoss.Instance;
        double a = -21.648399999947276, c = 24.6757420;
        double u = l.Prox(a, c);
        Assert.Equal(0, (u - a) / c + l.Derivative(u), 1e-14);
        Assert.InRange(u, a, a + c);
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void DerivativesMatchFiniteDifferences(string name)
    {
        var loss = MarginLosses.Parse(name);
        foreach (var u in new[] { -3.3, -0.4, 0.2, 0.7, 1.6, 4.1 })
        {
            double h = 1e-6;
            Assert.Equal((loss.Value(u + h) - loss.Value(u - h)) / (2 * h), loss.Derivative(u), 1e-8);
            Assert.Equal((loss.Derivative(u + h) - loss.Derivative(u - h)) / (2 * h), loss.SecondDerivative(u), 1e-7);
        }
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void ProxDerivativeAndMoreauGradientMatchFiniteDifferences(string name)
    {
        var loss = MarginLosses.Parse(name);
        foreach (var c in new[] { 0.3, 2.0, 50.0 })
            foreach (var a in new[] { -60.0, -2.5, -0.3, 0.4, 0.9, 2.2 })
            {
                if (ScalarProx.Breakpoints(loss.Kinks, c).Any(k => Math.Abs(a - k) < 1e-3)) continue; // kinks of u*(a): 1 − c and 1 for the hinge
                double h = 1e-6;
                Assert.Equal((loss.Prox(a + h, c) - loss.Prox(a - h, c)) / (2 * h), loss.ProxDerivative(a, c), 1e-6);
                // ∂M/∂a = (a − u*)/c and ∂M/∂c = −(u* − a)²/(2c²)
                double u = loss.Prox(a, c);
                Assert.Equal((loss.MoreauEnvelope(a + h, c) - loss.MoreauEnvelope(a - h, c)) / (2 * h), (a - u) / c, 1e-6);
                Assert.Equal((loss.MoreauEnvelope(a, c + h) - loss.MoreauEnvelope(a, c - h)) / (2 * h), -(u - a) * (u - a) / (2 * c * c), 1e-6);
            }
    }

    [Fact]
    public void ClosedFormProxMapsOfTheProximalMapTable()
    {
        // docs/theory.md#erm-saddle-point table: square (a + c)/(1 + c); hinge a | a + c | 1
        Assert.Equal((0.3 + 2) / 3, SquareLoss.Instance.Prox(0.3, 2), 15);
        Assert.Equal(1.0 / 3, SquareLoss.Instance.ProxDerivative(0.3, 2), 15);
        var h = HingeLoss.Instance;
        Assert.Equal(1.5, h.Prox(1.5, 0.7));
        Assert.Equal(-0.5 + 0.7, h.Prox(-0.5, 0.7), 15);
        Assert.Equal(1.0, h.Prox(0.8, 0.7));
        Assert.Equal(0.0, h.ProxDerivative(0.8, 0.7));
        // logistic: root in [a, a + c] of (u − a)/c = 1/(1 + e^u)
        double u = LogisticLoss.Instance.Prox(0.0, 1e8);
        Assert.Equal(1 / (1 + Math.Exp(u)), u / 1e8, 1e-20);
        Assert.InRange(u, 15, 20);
    }

    [Fact]
    public void LogisticValueIsStableForLargeMargins()
    {
        var l = LogisticLoss.Instance;
        Assert.Equal(1000.0, l.Value(-1000), 1e-9);
        Assert.Equal(Math.Exp(-800), l.Value(800), 1e-300);
        Assert.Equal(-1.0, l.Derivative(-1000));
        Assert.Equal(0.0, l.SecondDerivative(-1000), 1e-300);
    }

    [Fact]
    public void UnknownLossNamesTheValidOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => MarginLosses.Parse("quadratic"));
        Assert.Contains("square, logistic, hinge", e.Message);
    }
}
