namespace FlatMinima.Numerics;

/// <summary>
/// The dense kernels of the finite-N solvers, on row-major matrices stored as flat arrays: Gram products, matrix-vector
/// products and Cholesky solves. Two implementations exist: <c>"openblas"</c> (a system OpenBLAS loaded at run time,
/// multi-threaded) and <c>"managed"</c> (this library's SIMD kernels and MathNet.Numerics, single-threaded, the exact
/// arithmetic of the toolkit before a native BLAS was used). Both compute the same quantities; results agree to
/// rounding, and each provider is deterministic on a given machine (see <see cref="LinearAlgebra"/>).
/// </summary>
public interface ILinearAlgebraProvider
{
    /// <summary>"openblas" or "managed".</summary>
    string Name { get; }

    /// <summary>What is loaded, e.g. "OpenBLAS 0.3.21 … (core Cooperlake; libopenblas.so.0)".</summary>
    string Library { get; }

    /// <summary>y ← α·op(A)·x + β·y with A row-major (rows × cols); op(A) = Aᵀ when <paramref name="transpose"/>.
    /// With β = 0, y is overwritten. One thread.</summary>
    void Gemv(bool transpose, int rows, int cols, double alpha, ReadOnlySpan<double> a, ReadOnlySpan<double> x,
        double beta, Span<double> y);

    /// <summary>For each row x_μ of row-major X (rows × cols): h_μ = x_μ·w, c_μ = f.Coefficient(μ, h_μ), and
    /// g ← g + Σ_μ c_μ x_μ — the two products of a loss gradient in one pass over X. One thread; callers
    /// parallelise over fixed blocks of rows.</summary>
    void RowSweep<TRow>(ReadOnlySpan<double> x, int rows, int cols, ReadOnlySpan<double> w, ref TRow f, Span<double> g)
        where TRow : struct, IRowCoefficient;

    /// <summary>G = α·A·Aᵀ (rows × rows, both triangles filled) for row-major A (rows × cols).</summary>
    void RowGram(ReadOnlySpan<double> a, int rows, int cols, double alpha, Span<double> g, int threads);

    /// <summary>With A_c = s·X − 1·āᵀ (X row-major rows × cols, every row shifted by <paramref name="mean"/>):
    /// G = A_cᵀA_c (cols × cols, both triangles) and c = A_cᵀ r.</summary>
    void CentredColumnGram(ReadOnlySpan<double> x, int rows, int cols, double scale, ReadOnlySpan<double> mean,
        ReadOnlySpan<double> r, Span<double> g, Span<double> c, int threads);

    /// <summary>Solves the centred ridge system (A_cᵀA_c + λI) w = A_cᵀ r (A_c as in <see cref="CentredColumnGram"/>),
    /// to the accuracy of a double-precision Cholesky solve. Returns false when the matrix is not numerically
    /// positive definite.</summary>
    bool SolveCentredRidge(ReadOnlySpan<double> x, int rows, int cols, double scale, ReadOnlySpan<double> mean,
        ReadOnlySpan<double> r, double lambda, Span<double> w, int threads);

    /// <summary>With A_c as in <see cref="CentredColumnGram"/>: G = A_c·A_cᵀ (rows × rows, both triangles).</summary>
    void CentredRowGram(ReadOnlySpan<double> x, int rows, int cols, double scale, ReadOnlySpan<double> mean, Span<double> g,
        int threads);

    /// <summary>With A_c as in <see cref="CentredColumnGram"/>: w = A_cᵀ·β (length cols). One thread.</summary>
    void CentredTransposeTimes(ReadOnlySpan<double> x, int rows, int cols, double scale, ReadOnlySpan<double> mean,
        ReadOnlySpan<double> beta, Span<double> w);

    /// <summary>Solves A·z = b for symmetric positive definite A (n × n, both triangles given) by Cholesky; b is
    /// overwritten by z. The native path factors A in place (no copy); the managed path leaves A intact. Returns
    /// false, with A and b in an unspecified state, when A is not numerically positive definite.</summary>
    bool CholeskySolve(double[] a, int n, Span<double> b, int threads);

    /// <summary>Bytes a centred Gram of X (rows × cols) followed by a Cholesky solve of order
    /// <paramref name="factorOrder"/> allocates beyond X, the Gram matrix itself and vectors: the native path one
    /// block of centred rows, the managed path a centred copy of X and a copy of the matrix it factors.</summary>
    long WorkspaceBytes(int rows, int cols, int factorOrder);
}

/// <summary>The per-row step of <see cref="ILinearAlgebraProvider.RowSweep"/>: maps a row's product h = x·w to the
/// coefficient of that row in the accumulated sum (and may accumulate anything else, e.g. the loss).</summary>
public interface IRowCoefficient
{
    /// <summary>The coefficient of row <paramref name="row"/> (index within the sweep) given h = x_row·w.</summary>
    double Coefficient(int row, double h);
}

/// <summary>
/// Chooses and exposes the <see cref="ILinearAlgebraProvider"/> every solver uses.
/// <para>Selection, once per process, from the environment variable <c>FLATMINIMA_BLAS</c>: <c>managed</c> forces the
/// managed kernels; <c>openblas</c> requires OpenBLAS (an error if it cannot be loaded); unset, empty or <c>auto</c>
/// uses OpenBLAS when <c>libopenblas.so.0</c> (Debian/Ubuntu: <c>libopenblas0-pthread</c>) loads and exports every
/// routine needed, and the managed kernels otherwise. <see cref="Use"/> overrides the choice for the calling flow
/// (tests run both paths side by side).</para>
/// <para>Threads: OpenBLAS's own thread pool is set to one thread when it is loaded, because its multi-threaded
/// routines (dsyrk, dgemv, dpotrf) return results whose last bits depend on the thread count. The kernels here
/// parallelise instead over tiles of the output (Gram products, the trailing updates of a blocked Cholesky) and over
/// fixed blocks of rows, each tile computed by single-threaded BLAS calls whose shapes depend on the problem size
/// only; so the numbers are the same for any number of threads.</para>
/// <para>Reproducibility: on one machine, one provider gives the same numbers on every run, for any thread count and
/// any memory placement (tested). Across providers the fitted weights agree to rounding (relative differences
/// 1e-15 to 1e-13), or to the solver tolerance when an iterative solver's stopping test fires one iteration apart
/// (docs/core.md#finite-n-at-scale). The managed provider reproduces the toolkit's earlier results bit for bit.</para>
/// </summary>
public static class LinearAlgebra
{
    /// <summary>The environment variable that forces a provider: managed, openblas or auto.</summary>
    public const string EnvironmentVariable = "FLATMINIMA_BLAS";

    private static readonly Lazy<ILinearAlgebraProvider> Selected = new(() => Select(Environment.GetEnvironmentVariable(EnvironmentVariable)));
    private static readonly AsyncLocal<ILinearAlgebraProvider?> Override = new();

    /// <summary>The provider in use for the calling flow.</summary>
    public static ILinearAlgebraProvider Current => Override.Value ?? Selected.Value;

    /// <summary>The managed kernels (always available).</summary>
    public static ILinearAlgebraProvider Managed => ManagedLinearAlgebra.Instance;

    /// <summary>OpenBLAS if it could be loaded, else null (<see cref="NativeUnavailableReason"/> says why).</summary>
    public static ILinearAlgebraProvider? OpenBlas => Numerics.OpenBlas.Instance;

    /// <summary>Why OpenBLAS is not available (null when it is).</summary>
    public static string? NativeUnavailableReason => Numerics.OpenBlas.LoadError;

    /// <summary>Uses <paramref name="provider"/> for the calling flow (and the tasks it starts) until disposed.</summary>
    public static IDisposable Use(ILinearAlgebraProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        var previous = Override.Value;
        Override.Value = provider;
        return new Restore(previous);
    }

    private sealed class Restore(ILinearAlgebraProvider? previous) : IDisposable
    {
        public void Dispose() => Override.Value = previous;
    }

    private static readonly AsyncLocal<int?> ThreadsOverride = new();

    /// <summary>Threads one solve may use for its matrix kernels in the calling flow (the solvers' option Threads
    /// = 0 means this): the Monte Carlo runner sets it from its <see cref="ParallelPlan"/>; otherwise every core.
    /// Results never depend on it: every kernel splits its work into pieces fixed by the problem's size alone.</summary>
    public static int SolveThreads => ThreadsOverride.Value ?? Environment.ProcessorCount;

    /// <summary>Sets <see cref="SolveThreads"/> for the calling flow (and the tasks it starts) until disposed.</summary>
    public static IDisposable UseSolveThreads(int threads)
    {
        Guard.AtLeast(threads, 1, "threads");
        var previous = ThreadsOverride.Value;
        ThreadsOverride.Value = threads;
        return new RestoreThreads(previous);
    }

    private sealed class RestoreThreads(int? previous) : IDisposable
    {
        public void Dispose() => ThreadsOverride.Value = previous;
    }

    /// <summary>What manifests and <c>--json</c> outputs record: the provider in use for the calling flow, its library,
    /// and how the cores are shared — the <paramref name="plan"/> of a Monte Carlo run (seeds at once, threads per
    /// solve), or the threads a direct solve uses (<see cref="SolveThreads"/>). OpenBLAS's own pool is kept at one
    /// thread (see above).</summary>
    public static LinearAlgebraUse InUse(ParallelPlan? plan = null) =>
        new(Current.Name, Current.Library, plan?.Workers, plan?.ThreadsPerSolve ?? SolveThreads);

    /// <summary><see cref="InUse"/> as the JSON object of manifests and <c>--json</c> outputs.</summary>
    public static Dictionary<string, object?> Describe(ParallelPlan? plan = null) => InUse(plan).ToJson();

    /// <summary>The provider a value of <see cref="EnvironmentVariable"/> selects (null: unset).</summary>
    internal static ILinearAlgebraProvider Select(string? value)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case null or "" or "auto":
                return (ILinearAlgebraProvider?)Numerics.OpenBlas.Instance ?? ManagedLinearAlgebra.Instance;
            case "managed":
                return ManagedLinearAlgebra.Instance;
            case "openblas":
                return Numerics.OpenBlas.Instance ?? throw new InvalidOperationException(
                    $"{EnvironmentVariable}=openblas but OpenBLAS is not usable: {Numerics.OpenBlas.LoadError} " +
                    "(Debian/Ubuntu: apt-get install libopenblas0-pthread), or unset the variable.");
            default:
                throw new ArgumentException($"{EnvironmentVariable} must be managed, openblas or auto (got '{value}').", EnvironmentVariable);
        }
    }
}

/// <summary>
/// The linear algebra a computation ran on, as recorded in manifests and <c>--json</c> outputs (key
/// <c>linear_algebra</c>): the provider (<c>"openblas"</c> or <c>"managed"</c>), the library loaded, the seeds solved at
/// once (Monte Carlo runs only) and the threads each solve used. Results depend on the provider (to rounding), never
/// on the two counts.
/// </summary>
public sealed record LinearAlgebraUse(string Provider, string Library, int? SeedsAtOnce, int ThreadsPerSolve)
{
    /// <summary>{"provider", "library", "seeds_at_once" (when known), "threads_per_solve"}.</summary>
    public Dictionary<string, object?> ToJson()
    {
        var d = new Dictionary<string, object?> { ["provider"] = Provider, ["library"] = Library };
        if (SeedsAtOnce is { } s) d["seeds_at_once"] = s;
        d["threads_per_solve"] = ThreadsPerSolve;
        return d;
    }
}
