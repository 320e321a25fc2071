using FlatMinima.Numerics;

namespace FlatMinima.Tests.Numerics;

public class GaussianTests
{
    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(1.0, 0.15865525393145705)]          // H(1), docs/theory.md#table-bo oracle at Δ = 1
    [InlineData(0.70710678118654752, 0.23975006109347669)] // H(1/√2) = ε_BO(α=1, Δ=1)
    [InlineData(-1.0, 0.84134474606854293)]
    [InlineData(8.0, 6.2209605742717841e-16)]
    [InlineData(20.0, 2.7536241186061559e-89)]
    public void TailFunctionMatchesReferenceValues(double x, double expected)
    {
        Assert.Equal(expected, Gaussian.H(x), expected * 1e-12);
    }

    [Fact]
    public void LogTailIsContinuousAcrossTheAsymptoticSwitch()
    {
        Assert.Equal(Math.Log(Gaussian.H(29.999)), Gaussian.LogH(29.999), 1e-9);
        Assert.Equal(Gaussian.LogH(29.9999999), Gaussian.LogH(30.0000001), 1e-5);
    }

    [Fact]
    public void RngIsReproducibleAndHasUnitVariance()
    {
        var a = new Rng(42); var b = new Rng(42);
        double s = 0, s2 = 0;
        const int n = 200_000;
        for (int i = 0; i < n; i++)
        {
            double x = a.NextGaussian();
            Assert.Equal(x, b.NextGaussian());
            s += x; s2 += x * x;
        }
        // mean has s.e. 1/√n ≈ 0.0022; variance has s.e. √(2/n) ≈ 0.0032
        Assert.InRange(s / n, -0.011, 0.011);
        Assert.InRange(s2 / n, 1 - 0.016, 1 + 0.016);
    }
}
