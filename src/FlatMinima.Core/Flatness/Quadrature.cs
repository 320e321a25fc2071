using MathNet.Numerics.Integration;

namespace FlatMinima.Flatness;

/// <summary>
/// Quadrature rules used by the flatness code. Gauss–Hermite for smooth Gaussian expectations, and a composite
/// Gauss–Legendre rule on panels graded geometrically towards given breakpoints, for Gaussian expectations of
/// integrands that are discontinuous or very steep at known points (the 0-1 loss of a monotone margin).
/// </summary>
internal static class Quadrature
{
    private static readonly Dictionary<int, (double[] X, double[] W)> HermiteCache = new();

    /// <summary>Nodes and weights of E_{t~N(0,1)}[f(t)] ≈ Σ w_k f(x_k) with <paramref name="order"/> nodes
    /// (probabilists' Gauss–Hermite, weights summing to 1). Nodes by Newton on the orthonormal recurrence.</summary>
    public static (double[] X, double[] W) GaussHermite(int order)
    {
        lock (HermiteCache)
        {
            if (HermiteCache.TryGetValue(order, out var r)) return r;
            r = ComputeHermite(order);
            HermiteCache[order] = r;
            return r;
        }
    }

    private static (double[] X, double[] W) ComputeHermite(int n)
    {
        // Physicists' rule for weight e^{-x²} (Numerical Recipes gauher), then x → √2 x, w → w/√π.
        var x = new double[n]; var w = new double[n];
        const double pim4 = 0.7511255444649425;
        int m = (n + 1) / 2;
        double z = 0, pp = 0;
        for (int i = 0; i < m; i++)
        {
            if (i == 0) z = Math.Sqrt(2.0 * n + 1) - 1.85575 * Math.Pow(2.0 * n + 1, -0.16667);
            else if (i == 1) z -= 1.14 * Math.Pow(n, 0.426) / z;
            else if (i == 2) z = 1.86 * z - 0.86 * x[0];
            else if (i == 3) z = 1.91 * z - 0.91 * x[1];
            else z = 2.0 * z - x[i - 2];
            for (int it = 0; it < 100; it++)
            {
                double p1 = pim4, p2 = 0;
                for (int j = 0; j < n; j++)
                {
                    double p3 = p2; p2 = p1;
                    p1 = z * Math.Sqrt(2.0 / (j + 1)) * p2 - Math.Sqrt((double)j / (j + 1)) * p3;
                }
                pp = Math.Sqrt(2.0 * n) * p2;
                double z1 = z; z = z1 - p1 / pp;
                if (Math.Abs(z - z1) <= 1e-15 * Math.Max(1, Math.Abs(z))) break;
            }
            x[i] = z; x[n - 1 - i] = -z;
            w[i] = 2.0 / (pp * pp); w[n - 1 - i] = w[i];
        }
        var xs = new double[n]; var ws = new double[n];
        for (int i = 0; i < n; i++) { xs[i] = Math.Sqrt(2) * x[n - 1 - i]; ws[i] = w[n - 1 - i] / Math.Sqrt(Math.PI); }
        return (xs, ws);
    }

    /// <summary>
    /// Nodes and weights for E_{ξ~N(0,1)}[f(ξ)] on [−L, L], with panel edges at every breakpoint and panels growing
    /// geometrically (ratio 3, first width <paramref name="firstWidth"/>) away from each breakpoint, at most ½ wide, 16 Gauss–Legendre
    /// nodes per panel. The Gaussian weight φ(ξ) is folded into the returned weights.
    /// </summary>
    public static (double[] X, double[] W) GradedGaussian(IEnumerable<double> breakpoints, double limit = 12, double firstWidth = 1e-4, int perPanel = 16)
    {
        var edges = new SortedSet<double> { -limit, limit };
        foreach (var b0 in breakpoints)
        {
            if (!(b0 > -limit && b0 < limit)) continue;
            edges.Add(b0);
            for (double h = firstWidth; h < 2 * limit; h *= 3)
            {
                if (b0 + h < limit) edges.Add(b0 + h);
                if (b0 - h > -limit) edges.Add(b0 - h);
            }
        }
        // Panels never wider than ½, so the Gaussian weight itself is integrated to machine precision.
        for (double t = -limit + 0.5; t < limit; t += 0.5) edges.Add(t);
        var e = edges.ToArray();
        var xs = new List<double>(); var ws = new List<double>();
        var rule = new GaussLegendreRule(-1, 1, perPanel);
        for (int i = 0; i + 1 < e.Length; i++)
        {
            double a = e[i], c = e[i + 1], half = 0.5 * (c - a), mid = 0.5 * (a + c);
            if (half <= 0) continue;
            for (int k = 0; k < perPanel; k++)
            {
                double t = mid + half * rule.Abscissas[k];
                xs.Add(t);
                ws.Add(half * rule.Weights[k] * Numerics.Gaussian.Pdf(t));
            }
        }
        return (xs.ToArray(), ws.ToArray());
    }
}
