using MathNet.Numerics;

namespace FlatMinima.Numerics;

/// <summary>
/// The standard Gaussian functions used throughout (docs/theory.md#conventions): the density φ, the CDF Φ and the tail
/// H(x) = P(N(0,1) &gt; x) = ½ erfc(x/√2). H is evaluated through erfc so that H(x) for large x keeps full relative
/// precision (no 1 − Φ cancellation).
/// </summary>
public static class Gaussian
{
    /// <summary>1/√(2π).</summary>
    public const double InvSqrt2Pi = 0.39894228040143267794;

    /// <summary>Standard normal density φ(x) = e^{−x²/2}/√(2π).</summary>
    public static double Pdf(double x) => InvSqrt2Pi * Math.Exp(-0.5 * x * x);

    /// <summary>Gaussian tail H(x) = ½ erfc(x/√2), accurate in both tails.</summary>
    public static double H(double x) => 0.5 * SpecialFunctions.Erfc(x / Constants.Sqrt2);

    /// <summary>Standard normal CDF Φ(x) = H(−x).</summary>
    public static double Cdf(double x) => H(-x);

    /// <summary>ln H(x), finite for large positive x (uses the asymptotic Mills ratio beyond x = 30).</summary>
    public static double LogH(double x)
    {
        if (x < 30) return Math.Log(H(x));
        // H(x) = φ(x)/x (1 − 1/x² + 3/x⁴ − 15/x⁶ ...)
        double x2 = x * x;
        return -0.5 * x2 - Math.Log(x) - 0.5 * Math.Log(2 * Math.PI) + Math.Log(1 - 1 / x2 + 3 / (x2 * x2) - 15 / (x2 * x2 * x2));
    }
}
