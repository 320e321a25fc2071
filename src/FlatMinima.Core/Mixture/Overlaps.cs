using FlatMinima.Numerics;

namespace FlatMinima.Mixture;

/// <summary>Order parameters of a weight vector: m = w·v/N (overlap with the centroid) and q = ‖w‖²/N.</summary>
public readonly record struct Overlaps(double M, double Q)
{
    /// <summary>Overlaps of <paramref name="w"/> with centroid <paramref name="v"/>.</summary>
    public static Overlaps Of(ReadOnlySpan<double> w, ReadOnlySpan<double> v)
    {
        if (w.Length != v.Length) throw new ArgumentException($"w has {w.Length} components but v has {v.Length}.", nameof(w));
        return new Overlaps(Kernels.Dot(w, v) / w.Length, Kernels.Norm2(w) / w.Length);
    }

    /// <summary>Cosine m/√q between w and v (with ‖v‖² = N).</summary>
    public double Cosine => Q > 0 ? M / Math.Sqrt(Q) : 0;
}

/// <summary>Closed-form generalisation error of a linear classifier on the mixture (docs/theory.md#e1).</summary>
public static class GeneralizationError
{
    /// <summary>
    /// ε_g = ρ H((m + b)/√(Δq)) + (1 − ρ) H((m − b)/√(Δq)). Exact at every N once m and q are computed with the
    /// realised v. For q = 0 the classifier is the constant sign(b) (a tie at b = 0 counts as a coin flip).
    /// </summary>
    public static double Of(double m, double q, double b, double delta, double rho)
    {
        Guard.NonNegative(q, "q");
        Guard.Positive(delta, "delta");
        Guard.OpenInterval(rho, 0, 1, "rho");
        if (q == 0) return b > 0 ? 1 - rho : (b < 0 ? rho : 0.5);
        double s = Math.Sqrt(delta * q);
        return rho * Gaussian.H((m + b) / s) + (1 - rho) * Gaussian.H((m - b) / s);
    }
}
