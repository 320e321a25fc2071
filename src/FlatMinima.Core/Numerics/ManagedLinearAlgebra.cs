using MathNet.Numerics.LinearAlgebra;

namespace FlatMinima.Numerics;

/// <summary>
/// The managed <see cref="ILinearAlgebraProvider"/>: this library's SIMD <see cref="Kernels"/> and MathNet's Cholesky.
/// Each operation performs exactly the arithmetic the solvers performed before a native BLAS was used — including
/// the centred copy of X that the square-loss Gram is built from, which costs one extra copy of X — so this path
/// reproduces earlier results bit for bit. Gram matrices are shared among threads by row tiles (each entry is
/// still one fixed dot product); everything else runs on one thread.
/// </summary>
internal sealed class ManagedLinearAlgebra : ILinearAlgebraProvider
{
    public static ManagedLinearAlgebra Instance { get; } = new();

    private ManagedLinearAlgebra() { }

    public string Name => "managed";

    public string Library =>
        $"FlatMinima SIMD kernels (Vector<double> of {System.Numerics.Vector<double>.Count}) + MathNet.Numerics " +
        $"{typeof(Matrix<double>).Assembly.GetName().Version} managed Cholesky";

    public void Gemv(bool transpose, int rows, int cols, double alpha, ReadOnlySpan<double> a, ReadOnlySpan<double> x,
        double beta, Span<double> y)
    {
        if (!transpose)
        {
            // α = 1, β = 0 is exactly Kernels.MatVec.
            for (int r = 0; r < rows; r++)
            {
                double d = Kernels.Dot(a.Slice(r * cols, cols), x);
                y[r] = beta == 0 ? alpha * d : alpha * d + beta * y[r];
            }
            return;
        }
        // α = 1, β = 0 is exactly Kernels.MatTVec.
        if (beta == 0) y[..cols].Clear();
        else if (beta != 1) for (int j = 0; j < cols; j++) y[j] *= beta;
        for (int r = 0; r < rows; r++)
        {
            double xr = x[r];
            if (xr != 0) Kernels.Axpy(alpha == 1 ? xr : alpha * xr, a.Slice(r * cols, cols), y[..cols]);
        }
    }

    public void RowSweep<TRow>(ReadOnlySpan<double> x, int rows, int cols, ReadOnlySpan<double> w, ref TRow f, Span<double> g)
        where TRow : struct, IRowCoefficient
    {
        // Each row's product and its contribution while the row is in cache.
        for (int mu = 0; mu < rows; mu++)
        {
            var row = x.Slice(mu * cols, cols);
            double c = f.Coefficient(mu, Kernels.Dot(row, w));
            if (c != 0) Kernels.Axpy(c, row, g);
        }
    }

    public void RowGram(ReadOnlySpan<double> a, int rows, int cols, double alpha, Span<double> g, int threads)
    {
        Kernels.RowGram(a, rows, cols, g, threads);
        if (alpha != 1) for (int i = 0; i < rows * rows; i++) g[i] *= alpha;
    }

    public void CentredColumnGram(ReadOnlySpan<double> x, int rows, int cols, double scale, ReadOnlySpan<double> mean,
        ReadOnlySpan<double> r, Span<double> g, Span<double> c, int threads)
    {
        // Feature-major centred copy: row j holds (s x^μ_j − ā_j) over μ.
        var xt = Kernels.Transpose(x[..(rows * cols)], rows, cols);
        for (int j = 0; j < cols; j++)
        {
            var row = xt.AsSpan(j * rows, rows);
            double mj = mean[j];
            for (int mu = 0; mu < rows; mu++) row[mu] = row[mu] * scale - mj;
        }
        Kernels.RowGram(xt, cols, rows, g, threads);
        Kernels.MatVec(xt, cols, rows, r, c);
    }

    public bool SolveCentredRidge(ReadOnlySpan<double> x, int rows, int cols, double scale, ReadOnlySpan<double> mean,
        ReadOnlySpan<double> r, double lambda, Span<double> w, int threads)
    {
        var g = new double[MemoryBudget.SquareMatrixLength(cols, "n")];
        var rhs = new double[cols];
        CentredColumnGram(x, rows, cols, scale, mean, r, g, rhs, threads);
        for (int j = 0; j < cols; j++) g[j * cols + j] += lambda;
        if (!CholeskySolve(g, cols, rhs, threads)) return false;
        rhs.CopyTo(w);
        return true;
    }

    public void CentredRowGram(ReadOnlySpan<double> x, int rows, int cols, double scale, ReadOnlySpan<double> mean, Span<double> g,
        int threads) =>
        Kernels.RowGram(Centred(x, rows, cols, scale, mean), rows, cols, g, threads);

    public void CentredTransposeTimes(ReadOnlySpan<double> x, int rows, int cols, double scale, ReadOnlySpan<double> mean,
        ReadOnlySpan<double> beta, Span<double> w) =>
        Kernels.MatTVec(Centred(x, rows, cols, scale, mean), rows, cols, beta, w);

    public bool CholeskySolve(double[] a, int n, Span<double> b, int threads)
    {
        var m = Matrix<double>.Build.Dense(n, n, a); // symmetric, so column-major = row-major
        try
        {
            m.Cholesky().Solve(Vector<double>.Build.Dense(b[..n].ToArray())).ToArray().CopyTo(b);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    // The centred copy of X and MathNet's copy of the matrix it factors.
    public long WorkspaceBytes(int rows, int cols, int factorOrder) => 8L * rows * cols + 8L * factorOrder * factorOrder;

    private static double[] Centred(ReadOnlySpan<double> x, int rows, int cols, double scale, ReadOnlySpan<double> mean)
    {
        var xc = new double[rows * cols];
        for (int mu = 0; mu < rows; mu++)
            for (int j = 0; j < cols; j++) xc[mu * cols + j] = x[mu * cols + j] * scale - mean[j];
        return xc;
    }
}
