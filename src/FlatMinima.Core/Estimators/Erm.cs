using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Penalties;

namespace FlatMinima.Estimators;

/// <summary>
/// Empirical risk minimisation with ridge penalty and an unpenalised bias (docs/theory.md#classifier):
/// minimise Σ_μ ℓ(y^μ (w·x^μ/√N + b)) + (λ/2)‖w‖². Every solver returns the true minimiser to a stated tolerance
/// with its optimality residual:
/// <list type="bullet">
/// <item>square loss: a direct linear solve (Cholesky of the centred N × N Gram, or of the P × P Gram when P &lt; N; on
/// OpenBLAS the N × N case in single precision refined to double-precision accuracy, see
/// <see cref="ILinearAlgebraProvider.SolveCentredRidge"/>);</item>
/// <item>hinge loss: SMO on the dual to a KKT violation ≤ tolerance;</item>
/// <item>logistic and any other smooth <see cref="IMarginLoss"/>: L-BFGS to a gradient tolerance.</item>
/// </list>
/// </summary>
public static class Erm
{
    /// <summary>Fits the ERM classifier of <paramref name="loss"/> with ridge <paramref name="lambda"/> on a sample.</summary>
    /// <exception cref="ArgumentOutOfRangeException">λ &lt; 0, or λ = 0 where the problem is not well posed.</exception>
    /// <exception cref="NoMinimizerException">λ = 0 and the data are separable, so the logistic loss has no minimiser.</exception>
    public static ErmSolution Fit(MixtureSample sample, IMarginLoss loss, double lambda, ErmOptions? options = null) =>
        Fit(sample.X, sample.Y, sample.P, sample.N, loss, lambda, options);

    /// <summary>Fits on raw arrays: X row-major (P × N), labels ±1.</summary>
    public static ErmSolution Fit(double[] x, double[] y, int p, int n, IMarginLoss loss, double lambda, ErmOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        Guard.NonNegative(lambda, "lambda");
        options ??= ErmOptions.Default;
        MemoryBudget.Require(WorkspaceBytes(p, n, loss), $"the ERM solve (P = {p}, N = {n})");
        return loss.SelectAlgorithm(new RidgeAlgorithms(x, y, p, n, lambda, options));
    }

    /// <summary>Fits ERM with any penalty: the ridge solvers above, <see cref="SphericalErm"/> at fixed norm, and
    /// proximal gradient (<see cref="ProximalErm"/>) for any other separable penalty, as the penalty selects.</summary>
    public static ErmSolution Fit(MixtureSample sample, IMarginLoss loss, IWeightPenalty penalty, ErmOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(penalty);
        return penalty.SelectAlgorithm(new PenaltyAlgorithms(sample, loss, options));
    }

    // The ridge solver each loss selects.
    private sealed class RidgeAlgorithms(double[] x, double[] y, int p, int n, double lambda, ErmOptions options) : IErmAlgorithms<ErmSolution>
    {
        public ErmSolution LeastSquares() => FitSquare(x, y, p, n, lambda, options.FitBias, options.SolveThreads);
        public ErmSolution SupportVectorDual() => options.FitBias
            ? FitHinge(x, y, p, n, lambda, options)
            : throw new ArgumentException("the hinge solver always learns the bias; FitBias = false is not supported for hinge.", "loss");
        public ErmSolution Generic(IMarginLoss loss) => loss.IsSmooth
            ? FitSmooth(x, y, p, n, loss, lambda, options)
            : throw new ArgumentException($"loss '{loss.Name}' is not smooth; the finite-N solver handles non-smooth losses only for hinge.", "loss");
    }

    // The solver family each penalty selects.
    private sealed class PenaltyAlgorithms(MixtureSample sample, IMarginLoss loss, ErmOptions? options) : IPenaltyAlgorithms<ErmSolution>
    {
        public ErmSolution Ridge(double lambda) => Fit(sample, loss, lambda, options);
        public ErmSolution Sphere(double norm) => SphericalErm.Fit(sample, loss, norm, options);
        public ErmSolution Proximal(IWeightPenalty penalty) => ProximalErm.Fit(sample, loss, penalty, options);
    }

    /// <summary>
    /// Bytes <see cref="Fit(double[], double[], int, int, IMarginLoss, double, ErmOptions?)"/> allocates besides X for
    /// P samples in N dimensions with the current <see cref="LinearAlgebra"/> provider: square loss the Gram matrix
    /// of order min(N, P) and the provider's workspace; hinge the P × P kernel; smooth losses O(N + P) vectors.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A matrix would exceed the largest .NET array.</exception>
    public static long WorkspaceBytes(int p, int n, IMarginLoss loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return loss.SelectAlgorithm(new WorkspaceOf(p, n));
    }

    /// <summary>Bytes <see cref="Fit(MixtureSample, IMarginLoss, IWeightPenalty, ErmOptions?)"/> allocates besides X:
    /// those of the solver the penalty selects (ridge as above, <see cref="SphericalErm.WorkspaceBytes"/>,
    /// <see cref="ProximalErm.WorkspaceBytes"/>).</summary>
    public static long WorkspaceBytes(int p, int n, IMarginLoss loss, IWeightPenalty penalty)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(penalty);
        return penalty.SelectAlgorithm(new PenaltyWorkspaceOf(p, n, loss));
    }

    private sealed class PenaltyWorkspaceOf(int p, int n, IMarginLoss loss) : IPenaltyAlgorithms<long>
    {
        public long Ridge(double lambda) => WorkspaceBytes(p, n, loss);
        public long Sphere(double norm) => SphericalErm.WorkspaceBytes(p, n, loss);
        public long Proximal(IWeightPenalty penalty) => ProximalErm.WorkspaceBytes(p, n);
    }

    // The bytes of the solver each loss selects, besides X.
    private sealed class WorkspaceOf(int p, int n) : IErmAlgorithms<long>
    {
        private readonly long vectors = 8L * (24L * (n + 1) + 4L * p); // gradients, L-BFGS pairs, margins, labels
        public long LeastSquares() => p > n
            ? 8L * MemoryBudget.SquareMatrixLength(n, "n") + LinearAlgebra.Current.WorkspaceBytes(p, n, n) + vectors
            : 8L * MemoryBudget.SquareMatrixLength(p, "alpha") + LinearAlgebra.Current.WorkspaceBytes(p, n, p) + vectors;
        public long SupportVectorDual() => 8L * MemoryBudget.SquareMatrixLength(p, "alpha") + vectors;
        public long Generic(IMarginLoss loss) => vectors;
    }

    private static ErmSolution FitSquare(double[] x, double[] y, int p, int n, double lambda, bool fitBias, int threads)
    {
        // ½(y − h)² with h = a·w + b, a = x/√N. Eliminating b = ȳ − ā·w leaves the centred ridge problem
        // (AcᵀAc + λI) w = Acᵀ(y − ȳ), Ac = A − 1āᵀ. Without bias: no centring (ȳ = 0, ā = 0).
        double scale = 1 / Math.Sqrt(n);
        var (yMean, aMean) = CentredSquareSystem.Means(x, y, p, n, fitBias);
        bool primal = p > n;
        if (lambda == 0 && (p - (fitBias ? 1 : 0)) < n)
            throw new ArgumentOutOfRangeException("lambda", lambda,
                $"lambda must be > 0 for the square loss when P - 1 < N (here P = {p}, N = {n}): the minimiser is not unique.");
        double[] w;
        string method;
        var la = LinearAlgebra.Current;
        if (primal)
        {
            w = new double[n];
            if (!la.SolveCentredRidge(x, p, n, scale, aMean, y.Select(v => v - yMean).ToArray(), lambda, w, threads))
                throw new ArgumentOutOfRangeException("lambda", "the centred Gram matrix is singular at this lambda; use lambda > 0.");
            method = "cholesky-primal";
        }
        else
        {
            // Dual: w = Acᵀβ with (Ac Acᵀ + λI)β = y − ȳ.
            var gram = new double[MemoryBudget.SquareMatrixLength(p, "alpha")];
            la.CentredRowGram(x, p, n, scale, aMean, gram, threads);
            for (int mu = 0; mu < p; mu++) gram[mu * p + mu] += lambda;
            var beta = SolveSpd(gram, p, y.Select(v => v - yMean).ToArray(), "the centred kernel matrix", threads);
            w = new double[n];
            la.CentredTransposeTimes(x, p, n, scale, aMean, beta, w);
            method = "cholesky-dual";
        }
        double b = yMean - Kernels.Dot(aMean, w);
        var theta = new double[n + 1];
        Array.Copy(w, theta, n); theta[n] = b;
        var obj = new MarginObjective(x, y, p, n, SquareLoss.Instance, lambda, threads);
        var grad = new double[n + 1];
        double f = obj.Evaluate(theta, grad);
        double residual = grad.Max(Math.Abs) / p;
        return new ErmSolution(new LinearClassifier(w, b), "square", lambda, f, residual, 1, true, method);
    }

    /// <summary>Solves a · z = rhs by Cholesky (rhs is overwritten and returned; a may be overwritten by its factor).</summary>
    private static double[] SolveSpd(double[] a, int n, double[] rhs, string what, int threads)
    {
        if (!LinearAlgebra.Current.CholeskySolve(a, n, rhs, threads))
            throw new ArgumentOutOfRangeException("lambda", $"{what} is singular at this lambda; use lambda > 0.");
        return rhs;
    }

    private static ErmSolution FitSmooth(double[] x, double[] y, int p, int n, IMarginLoss loss, double lambda, ErmOptions options)
    {
        var obj = new MarginObjective(x, y, p, n, loss, lambda, options.SolveThreads);
        // Work with the per-sample objective f/P so the tolerance means the same for every P (scikit-learn's choice).
        double invP = 1.0 / p;
        bool fitBias = options.FitBias;
        // L-BFGS runs on z = (w, b/σ) with σ = 1/√N: the constant column of the bias then has the norm of a feature
        // column (each entry of x/√N is O(1/√N)), which removes the one stiff direction of the Hessian (curvature
        // ≈ Σℓ''/P in b against ≈ Σℓ''/(NP) in w). At N = 1000 this takes L-BFGS from 143 to 29 iterations to a
        // gradient of 1e-10. The tolerance is still on the gradient in (w, b).
        double sigma = 1 / Math.Sqrt(n);
        var theta = new double[n + 1];
        double[] Theta(double[] z)
        {
            Array.Copy(z, theta, n);
            theta[n] = sigma * z[n];
            return theta;
        }
        double Eval(double[] z, double[] g)
        {
            double f = obj.Evaluate(Theta(z), g);
            for (int i = 0; i < g.Length; i++) g[i] *= invP;
            g[n] = fitBias ? g[n] * sigma : 0; // without a bias, b stays at its start, 0
            return f * invP;
        }
        double GradientNorm(double[] g)
        {
            double m = Math.Abs(g[n]) / sigma;
            for (int i = 0; i < n; i++) m = Math.Max(m, Math.Abs(g[i]));
            return m;
        }
        Action<double[], double>? watch = null;
        if (lambda == 0)
        {
            // Certificate of separability: an iterate with every margin > 0. Then c·(w, b) drives the loss to 0 as
            // c → ∞ and no minimiser exists.
            var u = new double[p];
            watch = (z, _) =>
            {
                obj.Margins(Theta(z), u);
                if (u.All(v => v > 0))
                    throw new NoMinimizerException(
                        $"lambda = 0 has no minimiser for the {loss.Name} loss: the training set is linearly separable " +
                        "(the loss tends to 0 as the norm grows). Use lambda > 0.");
            };
        }
        var r = Lbfgs.Minimize(Eval, new double[n + 1], options.Tolerance, options.Memory, options.MaxIterations, watch, GradientNorm);
        var w = r.X.AsSpan(0, n).ToArray();
        return new ErmSolution(new LinearClassifier(w, sigma * r.X[n]), loss.Name, lambda, r.F * p, r.GradInfNorm,
            r.Iterations, r.Converged, "lbfgs");
    }

    private static ErmSolution FitHinge(double[] x, double[] y, int p, int n, double lambda, ErmOptions options)
    {
        if (lambda == 0)
            throw new ArgumentOutOfRangeException("lambda", lambda,
                "lambda must be > 0 for the hinge loss: at lambda = 0 the minimiser is not unique (the limit lambda -> 0+ is the max-margin SVM).");
        int threads = options.SolveThreads;
        var la = LinearAlgebra.Current;
        var k = new double[MemoryBudget.SquareMatrixLength(p, "alpha")];
        la.RowGram(x, p, n, 1.0 / n, k, threads);
        var r = HingeSmo.Solve(k, y, 1 / lambda, options.Tolerance, 2000L * p);
        // w = Σ α y x/√N.
        var coef = new double[p];
        for (int mu = 0; mu < p; mu++) coef[mu] = r.Alpha[mu] * y[mu];
        var w = new double[n];
        la.Gemv(true, p, n, 1.0, x, coef, 0.0, w);
        double scale = 1 / Math.Sqrt(n);
        for (int j = 0; j < n; j++) w[j] *= scale;
        var obj = new MarginObjective(x, y, p, n, HingeLoss.Instance, lambda, threads);
        double f = obj.Evaluate([.. w, r.Bias], new double[n + 1]);
        var beta = r.Alpha.Select(a => a * lambda).ToArray();
        return new ErmSolution(new LinearClassifier(w, r.Bias), "hinge", lambda, f, r.Violation, r.Iterations, r.Converged,
            "smo-dual", beta);
    }
}
