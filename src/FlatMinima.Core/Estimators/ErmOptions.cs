using FlatMinima.Numerics;

namespace FlatMinima.Estimators;

/// <summary>
/// Options of the finite-N ERM solvers.
/// </summary>
/// <param name="Tolerance">Optimality tolerance. Logistic (and any smooth loss): the largest component of the
/// gradient of the per-sample objective (1/P)[Σ ℓ(u^μ) + (λ/2)‖w‖²] with respect to (w, b) — scikit-learn's
/// convention for lbfgs. Hinge: the maximal KKT violation of the dual (LIBSVM's m − M). Square: not used (the
/// linear solve is exact; its residual is reported). Default 1e-10.</param>
/// <param name="MaxIterations">Iteration cap of L-BFGS (default 10 000); SMO gets 2000·P pair updates.</param>
/// <param name="Memory">L-BFGS memory (default 12 pairs).</param>
/// <param name="Threads">Threads used inside one solve: the margin pass of L-BFGS and FISTA, Gram matrices, the
/// Cholesky factorisation. Default 0: <see cref="LinearAlgebra.SolveThreads"/> (every core for a direct call; what its
/// <see cref="ParallelPlan"/> gives each seed inside the Monte Carlo runner). Results are bit-identical for any value:
/// rows are split into a fixed number of blocks summed in a fixed order, and matrix tiles are fixed by the size.</param>
/// <param name="FitBias">Whether the bias is learned (default true); false fixes b = 0 (square and smooth losses; the
/// hinge SMO solver always learns it).</param>
public sealed record ErmOptions(double Tolerance = 1e-10, int MaxIterations = 10_000, int Memory = 12, int Threads = 0, bool FitBias = true)
{
    public double Tolerance { get; init; } = Guard.Positive(Tolerance, "tolerance");
    public int MaxIterations { get; init; } = Guard.AtLeast(MaxIterations, 1, "max-iterations");
    public int Memory { get; init; } = Guard.AtLeast(Memory, 1, "memory");
    public int Threads { get; init; } = Guard.AtLeast(Threads, 0, "threads");

    /// <summary>The thread count a solve uses: <see cref="Threads"/>, or <see cref="LinearAlgebra.SolveThreads"/> when 0.</summary>
    public int SolveThreads => Threads > 0 ? Threads : LinearAlgebra.SolveThreads;

    /// <summary>The defaults.</summary>
    public static ErmOptions Default { get; } = new();
}

/// <summary>A finite-N ERM minimiser with its optimality certificate.</summary>
/// <param name="Classifier">The minimiser (w, b).</param>
/// <param name="Loss">Loss name.</param>
/// <param name="Lambda">Ridge strength λ.</param>
/// <param name="Objective">Σ ℓ(u^μ) + (λ/2)‖w‖² at the minimiser.</param>
/// <param name="Residual">Optimality residual in the units of <see cref="ErmOptions.Tolerance"/>.</param>
/// <param name="Iterations">Solver iterations (L-BFGS steps, SMO pair updates; 1 for the linear solve).</param>
/// <param name="Converged">Whether <see cref="Residual"/> reached the tolerance.</param>
/// <param name="Method">"cholesky-primal", "cholesky-dual", "lbfgs" or "smo-dual".</param>
/// <param name="DualCoefficients">Hinge only: β_μ ∈ [0, 1] with λw = Σ_μ β_μ y^μ x^μ/√N and Σ_μ β_μ y^μ = 0
/// (β_μ = 1 inside the margin, 0 beyond it: the support-vector weights). Null for other losses.</param>
public sealed record ErmSolution(LinearClassifier Classifier, string Loss, double Lambda, double Objective,
    double Residual, int Iterations, bool Converged, string Method, double[]? DualCoefficients = null);

/// <summary>Raised when ERM has no minimiser, e.g. the logistic loss at λ = 0 on linearly separable data.</summary>
public sealed class NoMinimizerException(string message) : ArgumentException(message, "lambda");
