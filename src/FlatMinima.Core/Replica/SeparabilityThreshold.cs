using FlatMinima.Numerics;

namespace FlatMinima.Replica;

/// <summary>Result of the Gardner computation: α_c and the maximiser (m*, b*).</summary>
/// <param name="AlphaC">Separability threshold α_c(Δ, ρ).</param>
/// <param name="M">Cosine m* between w and v at the maximum.</param>
/// <param name="Bias">Bias b* at the maximum (0 without bias).</param>
public readonly record struct SeparabilityResult(double AlphaC, double M, double Bias);

/// <summary>
/// Linear separability threshold of the two-cluster mixture (docs/theory.md#separability-threshold):
/// α_c(Δ, ρ) = max_{m ∈ [0,1), b} (1 − m²) / [ρ G((m + b)/√Δ) + (1 − ρ) G((m − b)/√Δ)],
/// G(a) = (1 + a²) H(a) − a φ(a). The inner minimum over b (the denominator is convex in b) is found by Newton
/// with bisection; the outer maximum over m by golden-section search to 1e−12.
/// </summary>
public static class SeparabilityThreshold
{
    /// <summary>G(a) = E_s[(a + s)² Θ(−a − s)].</summary>
    public static double G(double a) => (1 + a * a) * Gaussian.H(a) - a * Gaussian.Pdf(a);

    /// <summary>G'(a) = 2(a H(a) − φ(a)).</summary>
    public static double GPrime(double a) => 2 * (a * Gaussian.H(a) - Gaussian.Pdf(a));

    /// <summary>G''(a) = 2 H(a).</summary>
    public static double GSecond(double a) => 2 * Gaussian.H(a);

    /// <summary>α_c(Δ, ρ); with <paramref name="withBias"/> false, b = 0.</summary>
    public static double Of(double delta, double rho = 0.5, bool withBias = true) => Solve(delta, rho, withBias).AlphaC;

    /// <summary>α_c and the maximiser.</summary>
    public static SeparabilityResult Solve(double delta, double rho = 0.5, bool withBias = true)
    {
        Guard.Positive(delta, "delta");
        Guard.OpenInterval(rho, 0, 1, "rho");
        double sd = Math.Sqrt(delta);
        (double value, double b) Inner(double m)
        {
            double b = withBias && rho != 0.5 ? BestBias(m, sd, rho) : 0;
            double den = rho * G((m + b) / sd) + (1 - rho) * G((m - b) / sd);
            return ((1 - m * m) / den, b);
        }
        // golden-section maximisation over m in [0, 1)
        double lo = 0, hi = 1, gr = (Math.Sqrt(5) - 1) / 2;
        double x1 = hi - gr * (hi - lo), x2 = lo + gr * (hi - lo);
        double f1 = Inner(x1).value, f2 = Inner(x2).value;
        while (hi - lo > 1e-12)
        {
            if (f1 < f2) { lo = x1; x1 = x2; f1 = f2; x2 = lo + gr * (hi - lo); f2 = Inner(x2).value; }
            else { hi = x2; x2 = x1; f2 = f1; x1 = hi - gr * (hi - lo); f1 = Inner(x1).value; }
        }
        double mStar = 0.5 * (lo + hi);
        var (best, bStar) = Inner(mStar);
        double at0 = Inner(0).value;
        if (at0 > best) { mStar = 0; best = at0; bStar = Inner(0).b; }
        return new SeparabilityResult(best, mStar, bStar);
    }

    // minimiser over b of ρ G((m+b)/s) + (1−ρ) G((m−b)/s): derivative is increasing in b
    private static double BestBias(double m, double sd, double rho)
    {
        double D(double b) => (rho * GPrime((m + b) / sd) - (1 - rho) * GPrime((m - b) / sd)) / sd;
        double DD(double b) => (rho * GSecond((m + b) / sd) + (1 - rho) * GSecond((m - b) / sd)) / (sd * sd);
        double lo = -1, hi = 1;
        while (D(lo) > 0) lo *= 2;
        while (D(hi) < 0) hi *= 2;
        double b = 0;
        for (int it = 0; it < 200; it++)
        {
            double d = D(b);
            if (d == 0) return b;
            if (d > 0) hi = b; else lo = b;
            double next = b - d / DD(b);
            if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
            if (Math.Abs(next - b) < 1e-15 * Math.Max(1, Math.Abs(b))) return next;
            b = next;
        }
        return b;
    }
}
