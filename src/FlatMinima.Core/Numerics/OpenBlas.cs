using System.Numerics;
using System.Runtime.InteropServices;

namespace FlatMinima.Numerics;

/// <summary>
/// The native <see cref="ILinearAlgebraProvider"/>: a system OpenBLAS (CBLAS and its bundled LAPACK) opened at run
/// time with <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/>; each routine is called through a function
/// pointer taken from the library's exports, so a machine without OpenBLAS never touches it. Routines: cblas_dgemv,
/// cblas_dgemm, cblas_dsyrk, cblas_dtrsm, dpotrf_/dpotrs_ (Fortran calling convention) and the thread controls
/// openblas_set_num_threads / openblas_get_num_threads.
/// <para>OpenBLAS's thread pool is set to one thread at load (its threaded routines give thread-count-dependent
/// last bits). Parallel work is split here into output tiles of <see cref="Tile"/> × <see cref="Tile"/> and Cholesky
/// panels of <see cref="Panel"/>, fixed by the problem size alone, each computed by one single-threaded call.</para>
/// <para>Centred Gram matrices are accumulated from blocks of at most <see cref="WorkspaceValues"/> centred values,
/// so no copy of X is made: a square-loss solve holds X, the Gram matrix and one such block.</para>
/// </summary>
internal sealed unsafe partial class OpenBlas : ILinearAlgebraProvider
{
    // CBLAS enumerations.
    private const int RowMajor = 101, NoTrans = 111, Trans = 112, Upper = 121, Left = 141, NonUnit = 131;

    /// <summary>Values (8 bytes each) in the centring workspace: 2^22 = 32 MiB, about a thousand rows of X at
    /// N = 4000, so each product has a long inner dimension and the Gram matrix is streamed only a few times.</summary>
    public const int WorkspaceValues = 1 << 22;

    /// <summary>Side of the output tiles that threads share.</summary>
    public const int Tile = 512;

    /// <summary>Panel width of the blocked Cholesky factorisation.</summary>
    public const int Panel = 256;

    /// <summary>Rows per block in <see cref="RowSweep"/>: the block (≤ 256 KiB) is still in cache for the second product.</summary>
    private const int SweepValues = 1 << 15;

    private static readonly string[] Candidates = ["libopenblas.so.0", "libopenblas.so", "libopenblas.0.dylib", "libopenblas.dll"];
    private static readonly string[] Needed = ["cblas_dgemv", "cblas_dgemm", "cblas_dsyrk", "cblas_dtrsm", "dpotrf_", "dpotrs_",
        "cblas_sgemm", "cblas_ssyrk", "cblas_strsm", "spotrf_", "spotrs_",
        "openblas_set_num_threads", "openblas_get_num_threads", "openblas_get_config", "openblas_get_corename"];
    private static readonly Lazy<(OpenBlas? Blas, string? Error)> Loaded = new(Load);

    /// <summary>The loaded library, or null.</summary>
    public static OpenBlas? Instance => Loaded.Value.Blas;

    /// <summary>Why the library could not be used (null when it could).</summary>
    public static string? LoadError => Loaded.Value.Error;

    private readonly delegate* unmanaged<int, int, int, int, double, double*, int, double*, int, double, double*, int, void> _dgemv;
    private readonly delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void> _dgemm;
    private readonly delegate* unmanaged<int, int, int, int, int, double, double*, int, double, double*, int, void> _dsyrk;
    private readonly delegate* unmanaged<int, int, int, int, int, int, int, double, double*, int, double*, int, void> _dtrsm;
    private readonly delegate* unmanaged<byte*, int*, double*, int*, int*, nuint, void> _dpotrf;
    private readonly delegate* unmanaged<byte*, int*, int*, double*, int*, double*, int*, int*, nuint, void> _dpotrs;
    private readonly delegate* unmanaged<int> _getThreads;

    public string Name => "openblas";
    public string Library { get; }

    /// <summary>OpenBLAS's own thread count (kept at 1).</summary>
    public int PoolThreads => _getThreads();

    private OpenBlas(IntPtr h, string file)
    {
        _dgemv = (delegate* unmanaged<int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)NativeLibrary.GetExport(h, "cblas_dgemv");
        _dgemm = (delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)NativeLibrary.GetExport(h, "cblas_dgemm");
        _dsyrk = (delegate* unmanaged<int, int, int, int, int, double, double*, int, double, double*, int, void>)NativeLibrary.GetExport(h, "cblas_dsyrk");
        _dtrsm = (delegate* unmanaged<int, int, int, int, int, int, int, double, double*, int, double*, int, void>)NativeLibrary.GetExport(h, "cblas_dtrsm");
        _dpotrf = (delegate* unmanaged<byte*, int*, double*, int*, int*, nuint, void>)NativeLibrary.GetExport(h, "dpotrf_");
        _dpotrs = (delegate* unmanaged<byte*, int*, int*, double*, int*, double*, int*, int*, nuint, void>)NativeLibrary.GetExport(h, "dpotrs_");
        _getThreads = (delegate* unmanaged<int>)NativeLibrary.GetExport(h, "openblas_get_num_threads");
        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)NativeLibrary.GetExport(h, "cblas_sgemm");
        _ssyrk = (delegate* unmanaged<int, int, int, int, int, float, float*, int, float, float*, int, void>)NativeLibrary.GetExport(h, "cblas_ssyrk");
        _strsm = (delegate* unmanaged<int, int, int, int, int, int, int, float, float*, int, float*, int, void>)NativeLibrary.GetExport(h, "cblas_strsm");
        _spotrf = (delegate* unmanaged<byte*, int*, float*, int*, int*, nuint, void>)NativeLibrary.GetExport(h, "spotrf_");
        _spotrs = (delegate* unmanaged<byte*, int*, int*, float*, int*, float*, int*, int*, nuint, void>)NativeLibrary.GetExport(h, "spotrs_");
        ((delegate* unmanaged<int, void>)NativeLibrary.GetExport(h, "openblas_set_num_threads"))(1);
        var config = (delegate* unmanaged<byte*>)NativeLibrary.GetExport(h, "openblas_get_config");
        var core = (delegate* unmanaged<byte*>)NativeLibrary.GetExport(h, "openblas_get_corename");
        Library = $"{Marshal.PtrToStringAnsi((IntPtr)config())} (core {Marshal.PtrToStringAnsi((IntPtr)core())}; {file})";
    }

    private static (OpenBlas?, string?) Load()
    {
        foreach (var file in Candidates)
        {
            if (!NativeLibrary.TryLoad(file, out var h)) continue;
            var missing = Needed.Where(s => !NativeLibrary.TryGetExport(h, s, out _)).ToArray();
            if (missing.Length > 0) return (null, $"{file} lacks {string.Join(", ", missing)}");
            return (new OpenBlas(h, file), null);
        }
        return (null, $"none of {string.Join(", ", Candidates)} could be loaded");
    }

    public void Gemv(bool transpose, int rows, int cols, double alpha, ReadOnlySpan<double> a, ReadOnlySpan<double> x,
        double beta, Span<double> y)
    {
        int lenY = transpose ? cols : rows;
        CheckLength(a, (long)rows * cols, nameof(a));
        CheckLength(x, transpose ? rows : cols, nameof(x));
        CheckLength(y, lenY, nameof(y));
        if (beta == 0) y[..lenY].Clear();
        if (rows == 0 || cols == 0) return;
        fixed (double* pa = a, px = x, py = y)
            _dgemv(RowMajor, transpose ? Trans : NoTrans, rows, cols, alpha, pa, cols, px, 1, beta, py, 1);
    }

    public void RowSweep<TRow>(ReadOnlySpan<double> x, int rows, int cols, ReadOnlySpan<double> w, ref TRow f, Span<double> g)
        where TRow : struct, IRowCoefficient
    {
        CheckLength(x, (long)rows * cols, nameof(x));
        CheckLength(w, cols, nameof(w));
        CheckLength(g, cols, nameof(g));
        if (rows == 0 || cols == 0) return;
        int block = Math.Clamp(SweepValues / cols, 1, 64);
        Span<double> h = stackalloc double[block];
        fixed (double* px = x, pw = w, pg = g, ph = h)
        {
            for (int r0 = 0; r0 < rows; r0 += block)
            {
                int nb = Math.Min(block, rows - r0);
                double* pb = px + (long)r0 * cols;
                _dgemv(RowMajor, NoTrans, nb, cols, 1.0, pb, cols, pw, 1, 0.0, ph, 1);
                bool any = false;
                for (int i = 0; i < nb; i++) { h[i] = f.Coefficient(r0 + i, h[i]); any |= h[i] != 0; }
                if (any) _dgemv(RowMajor, Trans, nb, cols, 1.0, pb, cols, ph, 1, 1.0, pg, 1);
            }
        }
    }

    public void RowGram(ReadOnlySpan<double> a, int rows, int cols, double alpha, Span<double> g, int threads)
    {
        CheckLength(a, (long)rows * cols, nameof(a));
        CheckLength(g, (long)rows * rows, nameof(g));
        fixed (double* pa = a, pg = g)
            GramTiles(pa, rows, cols, cols, false, alpha, 0.0, pg, threads);
        MirrorUpper(g, rows);
    }

    public void CentredColumnGram(ReadOnlySpan<double> x, int rows, int cols, double scale, ReadOnlySpan<double> mean,
        ReadOnlySpan<double> r, Span<double> g, Span<double> c, int threads)
    {
        CheckLength(x, (long)rows * cols, nameof(x));
        CheckLength(g, (long)cols * cols, nameof(g));
        CheckLength(c, cols, nameof(c));
        int block = Math.Clamp(WorkspaceValues / Math.Max(1, cols), 1, Math.Max(1, rows));
        var ws = new double[(long)block * cols];
        c[..cols].Clear();
        fixed (double* pw = ws, pg = g, pc = c, pr = r)
        {
            for (int r0 = 0; r0 < rows; r0 += block)
            {
                int nb = Math.Min(block, rows - r0);
                for (int i = 0; i < nb; i++)
                    Centre(x.Slice((r0 + i) * cols, cols), scale, mean, ws.AsSpan(i * cols, cols));
                // G += W_bᵀW_b (upper triangle, by tiles), c += W_bᵀ r_b.
                GramTiles(pw, cols, nb, cols, true, 1.0, r0 == 0 ? 0.0 : 1.0, pg, threads);
                _dgemv(RowMajor, Trans, nb, cols, 1.0, pw, cols, pr + r0, 1, 1.0, pc, 1);
            }
        }
        if (rows == 0) g[..(cols * cols)].Clear();
        MirrorUpper(g, cols);
    }

    public void CentredRowGram(ReadOnlySpan<double> x, int rows, int cols, double scale, ReadOnlySpan<double> mean, Span<double> g,
        int threads)
    {
        CheckLength(x, (long)rows * cols, nameof(x));
        CheckLength(g, (long)rows * rows, nameof(g));
        int block = Math.Clamp(WorkspaceValues / Math.Max(1, rows), 1, Math.Max(1, cols));
        var ws = new double[(long)rows * block];
        fixed (double* pw = ws, pg = g)
        {
            for (int c0 = 0; c0 < cols; c0 += block)
            {
                int nb = Math.Min(block, cols - c0);
                for (int mu = 0; mu < rows; mu++)
                    Centre(x.Slice(mu * cols + c0, nb), scale, mean.Slice(c0, nb), ws.AsSpan(mu * nb, nb));
                GramTiles(pw, rows, nb, nb, false, 1.0, c0 == 0 ? 0.0 : 1.0, pg, threads);
            }
        }
        if (cols == 0) g[..(rows * rows)].Clear();
        MirrorUpper(g, rows);
    }

    public void CentredTransposeTimes(ReadOnlySpan<double> x, int rows, int cols, double scale, ReadOnlySpan<double> mean,
        ReadOnlySpan<double> beta, Span<double> w)
    {
        // A_cᵀβ = s·Xᵀβ − ā·Σβ.
        Gemv(true, rows, cols, scale, x, beta, 0, w);
        double sum = 0;
        for (int mu = 0; mu < rows; mu++) sum += beta[mu];
        Kernels.Axpy(-sum, mean[..cols], w[..cols]);
    }

    public bool CholeskySolve(double[] a, int n, Span<double> b, int threads)
    {
        CheckLength(a, (long)n * n, nameof(a));
        CheckLength(b, n, nameof(b));
        if (n == 0) return true;
        byte uplo = (byte)'L';
        int nn = n, one = 1, info = 0;
        fixed (double* pa = a, pb = b)
        {
            if (!Factor(pa, n, threads)) return false;
            // The row-major upper factor U (A = UᵀU) is LAPACK's column-major lower factor.
            _dpotrs(&uplo, &nn, &one, pa, &nn, pb, &nn, &info, 1);
            if (info < 0) throw new InvalidOperationException($"dpotrs_ rejected argument {-info}.");
        }
        return true;
    }

    public long WorkspaceBytes(int rows, int cols, int factorOrder) => 8L * Math.Min((long)rows * cols, WorkspaceValues);

    /// <summary>
    /// Right-looking blocked Cholesky A = UᵀU on the upper triangle of the row-major matrix (LAPACK's column-major
    /// lower triangle): for each panel of <see cref="Panel"/> rows, factor its diagonal block (dpotrf_), solve for the
    /// rest of the panel (dtrsm, by column tiles) and update the trailing matrix (dsyrk/dgemm, by tiles).
    /// </summary>
    private bool Factor(double* a, int n, int threads)
    {
        byte uplo = (byte)'L';
        int lda = n, info = 0;
        for (int k0 = 0; k0 < n; k0 += Panel)
        {
            int kb = Math.Min(Panel, n - k0), order = kb;
            double* akk = a + (long)k0 * n + k0;
            _dpotrf(&uplo, &order, akk, &lda, &info, 1);
            if (info > 0) return false;
            if (info < 0) throw new InvalidOperationException($"dpotrf_ rejected argument {-info}.");
            int t0 = k0 + kb, rest = n - t0;
            if (rest == 0) break;
            int tiles = (rest + Tile - 1) / Tile;
            nint pa = (nint)a;
            // U_k,J = U_kk⁻ᵀ A_k,J for each column tile J of the trailing columns.
            For(tiles, threads, j =>
            {
                double* ap = (double*)pa;
                int c0 = t0 + j * Tile, nc = Math.Min(Tile, n - c0);
                _dtrsm(RowMajor, Left, Upper, Trans, NonUnit, kb, nc, 1.0, ap + (long)k0 * n + k0, n, ap + (long)k0 * n + c0, n);
            });
            // A_IJ −= U_k,Iᵀ U_k,J for the upper-triangle tiles I ≤ J of the trailing matrix.
            var pairs = UpperPairs(tiles);
            For(pairs.Length, threads, t =>
            {
                double* ap = (double*)pa;
                var (ti, tj) = pairs[t];
                int i0 = t0 + ti * Tile, ni = Math.Min(Tile, n - i0);
                int j0 = t0 + tj * Tile, nj = Math.Min(Tile, n - j0);
                double* ui = ap + (long)k0 * n + i0, uj = ap + (long)k0 * n + j0, cij = ap + (long)i0 * n + j0;
                if (ti == tj) _dsyrk(RowMajor, Upper, Trans, ni, kb, -1.0, ui, n, 1.0, cij, n);
                else _dgemm(RowMajor, Trans, NoTrans, ni, nj, kb, -1.0, ui, n, uj, n, 1.0, cij, n);
            });
        }
        return true;
    }

    /// <summary>
    /// Upper triangle of C ← α·op(A)·op(A)ᵀ + β·C for C of order m, by <see cref="Tile"/>-sized tiles shared among
    /// threads: op(A) = A (row-major m × k, lda) or, when <paramref name="trans"/>, Aᵀ for row-major A (k × m, lda).
    /// </summary>
    private void GramTiles(double* a, int m, int k, int lda, bool trans, double alpha, double beta, double* c, int threads)
    {
        if (m == 0) return;
        int tiles = (m + Tile - 1) / Tile;
        var pairs = UpperPairs(tiles);
        nint pa = (nint)a, pc = (nint)c;
        For(pairs.Length, threads, t =>
        {
            var (ti, tj) = pairs[t];
            int i0 = ti * Tile, ni = Math.Min(Tile, m - i0);
            int j0 = tj * Tile, nj = Math.Min(Tile, m - j0);
            double* ai = (double*)pa + (trans ? i0 : (long)i0 * lda), aj = (double*)pa + (trans ? j0 : (long)j0 * lda);
            double* cij = (double*)pc + (long)i0 * m + j0;
            if (ti == tj) _dsyrk(RowMajor, Upper, trans ? Trans : NoTrans, ni, k, alpha, ai, lda, beta, cij, m);
            else _dgemm(RowMajor, trans ? Trans : NoTrans, trans ? NoTrans : Trans, ni, nj, k, alpha, ai, lda, aj, lda, beta, cij, m);
        });
    }

    /// <summary>Tile pairs (i ≤ j), largest work first is irrelevant: all off-diagonal tiles cost the same.</summary>
    private static (int, int)[] UpperPairs(int tiles)
    {
        var pairs = new (int, int)[tiles * (tiles + 1) / 2];
        int t = 0;
        for (int i = 0; i < tiles; i++)
            for (int j = i; j < tiles; j++) pairs[t++] = (i, j);
        return pairs;
    }

    private static void For(int count, int threads, Action<int> body)
    {
        if (threads <= 1 || count <= 1) for (int i = 0; i < count; i++) body(i);
        else Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
    }

    /// <summary>dst = s·src − m, elementwise (one multiply, one subtract: the rounding of the managed centring).</summary>
    private static void Centre(ReadOnlySpan<double> src, double s, ReadOnlySpan<double> m, Span<double> dst)
    {
        int n = src.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var vs = new Vector<double>(s);
            var vx = MemoryMarshal.Cast<double, Vector<double>>(src);
            var vm = MemoryMarshal.Cast<double, Vector<double>>(m);
            var vd = MemoryMarshal.Cast<double, Vector<double>>(dst);
            for (int k = 0; k < vx.Length; k++) vd[k] = vx[k] * vs - vm[k];
            i = vx.Length * Vector<double>.Count;
        }
        for (; i < n; i++) dst[i] = src[i] * s - m[i];
    }

    /// <summary>Copies the upper triangle of a row-major n × n matrix into its lower triangle, in cache tiles.</summary>
    private static void MirrorUpper(Span<double> g, int n)
    {
        const int tile = 64;
        for (int i0 = 0; i0 < n; i0 += tile)
            for (int j0 = 0; j0 <= i0; j0 += tile)
            {
                int i1 = Math.Min(n, i0 + tile), j1 = Math.Min(n, j0 + tile);
                for (int i = i0; i < i1; i++)
                    for (int j = j0; j < Math.Min(j1, i); j++)
                        g[i * n + j] = g[j * n + i];
            }
    }

    private static void CheckLength(ReadOnlySpan<double> s, long needed, string name)
    {
        if (s.Length < needed) throw new ArgumentException($"{name} holds {s.Length} values; {needed} needed.", name);
    }
}
