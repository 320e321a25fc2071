using System.Numerics;
using System.Runtime.InteropServices;

namespace FlatMinima.Numerics;

/// <summary>
/// Dense kernels on row-major matrices stored as flat arrays, vectorised with <see cref="Vector{T}"/>: single-threaded,
/// with a fixed summation order, so results are bit-identical from run to run. They are the managed
/// <see cref="ILinearAlgebraProvider"/>; solvers reach matrix products through <see cref="LinearAlgebra.Current"/>,
/// which uses a native BLAS when the machine has one.
/// </summary>
public static class Kernels
{
    /// <summary>Dot product a·b.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length) throw new ArgumentException("Lengths differ.", nameof(b));
        int n = a.Length, i = 0;
        double sum = 0;
        if (Vector.IsHardwareAccelerated && n >= 4 * Vector<double>.Count)
        {
            var va = MemoryMarshal.Cast<double, Vector<double>>(a);
            var vb = MemoryMarshal.Cast<double, Vector<double>>(b);
            Vector<double> s0 = Vector<double>.Zero, s1 = s0, s2 = s0, s3 = s0;
            int k = 0, nv = va.Length;
            for (; k + 4 <= nv; k += 4)
            {
                s0 += va[k] * vb[k];
                s1 += va[k + 1] * vb[k + 1];
                s2 += va[k + 2] * vb[k + 2];
                s3 += va[k + 3] * vb[k + 3];
            }
            for (; k < nv; k++) s0 += va[k] * vb[k];
            sum = Vector.Sum((s0 + s1) + (s2 + s3));
            i = nv * Vector<double>.Count;
        }
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>y ← y + a·x.</summary>
    public static void Axpy(double a, ReadOnlySpan<double> x, Span<double> y)
    {
        if (x.Length != y.Length) throw new ArgumentException("Lengths differ.", nameof(y));
        int n = x.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var vx = MemoryMarshal.Cast<double, Vector<double>>(x);
            var vy = MemoryMarshal.Cast<double, Vector<double>>(y);
            var va = new Vector<double>(a);
            for (int k = 0; k < vx.Length; k++) vy[k] += va * vx[k];
            i = vx.Length * Vector<double>.Count;
        }
        for (; i < n; i++) y[i] += a * x[i];
    }

    /// <summary>Squared Euclidean norm.</summary>
    public static double Norm2(ReadOnlySpan<double> a) => Dot(a, a);

    /// <summary>out = A·x for row-major A (rows × cols).</summary>
    public static void MatVec(ReadOnlySpan<double> a, int rows, int cols, ReadOnlySpan<double> x, Span<double> result)
    {
        for (int r = 0; r < rows; r++) result[r] = Dot(a.Slice(r * cols, cols), x);
    }

    /// <summary>out = Aᵀ·x for row-major A (rows × cols); accumulates row by row so A is streamed once.</summary>
    public static void MatTVec(ReadOnlySpan<double> a, int rows, int cols, ReadOnlySpan<double> x, Span<double> result)
    {
        result.Clear();
        for (int r = 0; r < rows; r++)
        {
            double xr = x[r];
            if (xr != 0) Axpy(xr, a.Slice(r * cols, cols), result);
        }
    }

    /// <summary>
    /// Gram matrix G = A Aᵀ (rows × rows) of the rows of row-major A, computed in cache-sized tiles with the
    /// symmetric half mirrored. Used by the exact square-loss solve (primal or dual) and the hinge dual.
    /// </summary>
    public static double[] RowGram(ReadOnlySpan<double> a, int rows, int cols)
    {
        var g = new double[checked(rows * rows)];
        RowGram(a, rows, cols, g);
        return g;
    }

    /// <summary><see cref="RowGram(ReadOnlySpan{double}, int, int)"/> into <paramref name="g"/> (rows × rows), with the
    /// row tiles shared among <paramref name="threads"/> threads; every entry is the same <see cref="Dot"/> whatever
    /// the thread count.</summary>
    public static unsafe void RowGram(ReadOnlySpan<double> a, int rows, int cols, Span<double> g, int threads = 1)
    {
        const int tile = 32;
        int tiles = (rows + tile - 1) / tile;
        fixed (double* pa0 = a, pg0 = g)
        {
            nint pa = (nint)pa0, pg = (nint)pg0;
            int lenA = a.Length, lenG = g.Length;
            void TileRow(int t)
            {
                var av = new ReadOnlySpan<double>((double*)pa, lenA);
                var gv = new Span<double>((double*)pg, lenG);
                int i0 = t * tile, i1 = Math.Min(rows, i0 + tile);
                for (int j0 = 0; j0 <= i0; j0 += tile)
                {
                    int j1 = Math.Min(rows, j0 + tile);
                    for (int i = i0; i < i1; i++)
                    {
                        var ri = av.Slice(i * cols, cols);
                        int jEnd = Math.Min(j1, i + 1);
                        for (int j = j0; j < jEnd; j++)
                        {
                            double d = Dot(ri, av.Slice(j * cols, cols));
                            gv[i * rows + j] = d;
                            gv[j * rows + i] = d;
                        }
                    }
                }
            }
            if (threads <= 1 || tiles <= 1)
                for (int t = 0; t < tiles; t++) TileRow(t);
            else
                // Largest tile rows first: row t costs ∝ t + 1.
                Parallel.For(0, tiles, new ParallelOptions { MaxDegreeOfParallelism = threads }, k => TileRow(tiles - 1 - k));
        }
    }

    /// <summary>Transpose of row-major A (rows × cols) into a new row-major array (cols × rows).</summary>
    public static double[] Transpose(ReadOnlySpan<double> a, int rows, int cols)
    {
        var t = new double[a.Length];
        const int tile = 32;
        for (int r0 = 0; r0 < rows; r0 += tile)
            for (int c0 = 0; c0 < cols; c0 += tile)
            {
                int r1 = Math.Min(rows, r0 + tile), c1 = Math.Min(cols, c0 + tile);
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++)
                        t[c * rows + r] = a[r * cols + c];
            }
        return t;
    }
}
