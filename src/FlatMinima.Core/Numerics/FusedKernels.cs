using System.Numerics;
using System.Runtime.InteropServices;

namespace FlatMinima.Numerics;

/// <summary>
/// Fused row kernels for the smoothed objectives: each row of X is read once per pass for both the margin (x·w) and
/// the noise scale (x²·w²), and once for both gradient terms (c₁x and c₂x²), so the squared inputs are never stored.
/// Fixed summation order: bit-identical results from run to run.
/// </summary>
internal static class FusedKernels
{
    /// <summary>dot = Σ x_j w_j and sq = Σ x_j² w2_j.</summary>
    public static void DotAndSquare(ReadOnlySpan<double> x, ReadOnlySpan<double> w, ReadOnlySpan<double> w2, out double dot, out double sq)
    {
        int n = x.Length, i = 0;
        double d = 0, s = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var vx = MemoryMarshal.Cast<double, Vector<double>>(x);
            var vw = MemoryMarshal.Cast<double, Vector<double>>(w);
            var vw2 = MemoryMarshal.Cast<double, Vector<double>>(w2);
            Vector<double> ad = Vector<double>.Zero, asq = Vector<double>.Zero;
            for (int k = 0; k < vx.Length; k++)
            {
                var xv = vx[k];
                ad += xv * vw[k];
                asq += xv * xv * vw2[k];
            }
            d = Vector.Sum(ad); s = Vector.Sum(asq);
            i = vx.Length * Vector<double>.Count;
        }
        for (; i < n; i++) { d += x[i] * w[i]; s += x[i] * x[i] * w2[i]; }
        dot = d; sq = s;
    }

    /// <summary>lin += c1·x and sq += c2·x².</summary>
    public static void Accumulate(ReadOnlySpan<double> x, double c1, double c2, Span<double> lin, Span<double> sq)
    {
        int n = x.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var vx = MemoryMarshal.Cast<double, Vector<double>>(x);
            var vl = MemoryMarshal.Cast<double, Vector<double>>(lin);
            var vs = MemoryMarshal.Cast<double, Vector<double>>(sq);
            var a1 = new Vector<double>(c1); var a2 = new Vector<double>(c2);
            for (int k = 0; k < vx.Length; k++)
            {
                var xv = vx[k];
                vl[k] += a1 * xv;
                vs[k] += a2 * xv * xv;
            }
            i = vx.Length * Vector<double>.Count;
        }
        for (; i < n; i++) { lin[i] += c1 * x[i]; sq[i] += c2 * x[i] * x[i]; }
    }
}
