using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Penalties;
using MathNet.Numerics.LinearAlgebra;

namespace FlatMinima.Estimators;

/// <summary>
/// Empirical risk minimisation with ridge penalty and an unpenalised bias (docs/theory.md#classifier):
/// minimise Σ_μ ℓ(y^μ (w·x^μ/√N + b)) + (λ/2)‖w‖². Every solver returns the true minimiser to a stated tolerance
/// with its optimality residual:
/// <list type="bullet">
/// <item>square loss: an exact linear solve (Cholesky of the centred N × N Gram, or of the P × P Gram when P &lt; N);</item>
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
        return loss.SelectAlgorithm(new RidgeAlgorithms(x, y, p, n, lambda, options ?? ErmOptions.Default));
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
        public ErmSolution LeastSquares() => FitSquare(x, y, p, n, lambda, options.FitBias);
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

    private static ErmSolution FitSquare(double[] x, double[] y, int p, int n, double lambda, bool fitBias = true)
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
        if (primal)
        {
            var sys = new CentredSquareSystem(x, y, p, n, (yMean, aMean));
            var gram = sys.Gram;
            for (int j = 0; j < n; j++) gram[j * n + j] += lambda;
            w = SolveSpd(gram, n, sys.Rhs, "the centred Gram matrix");
            method = "cholesky-primal";
        }
        else
        {
            // Dual: w = Acᵀβ with (Ac Acᵀ + λI)β = y − ȳ.
            var xc = new double[p * n];
            for (int mu = 0; mu < p; mu++)
                for (int j = 0; j < n; j++) xc[mu * n + j] = x[mu * n + j] * scale - aMean[j];
            var gram = Kernels.RowGram(xc, p, n);
            for (int mu = 0; mu < p; mu++) gram[mu * p + mu] += lambda;
            var beta = SolveSpd(gram, p, y.Select(v => v - yMean).ToArray(), "the centred kernel matrix");
            w = new double[n];
            Kernels.MatTVec(xc, p, n, beta, w);
            method = "cholesky-dual";
        }
        double b = yMean - Kernels.Dot(aMean, w);
        var theta = new double[n + 1];
        Array.Copy(w, theta, n); theta[n] = b;
        var obj = new MarginObjective(x, y, p, n, SquareLoss.Instance, lambda, 1);
        var grad = new double[n + 1];
        double f = obj.Evaluate(theta, grad);
        double residual = grad.Max(Math.Abs) / p;
        return new ErmSolution(new LinearClassifier(w, b), "square", lambda, f, residual, 1, true, method);
    }

    private static double[] SolveSpd(double[] a, int n, double[] rhs, string what)
    {
        var m = Matrix<double>.Build.Dense(n, n, a); // symmetric, so column-major = row-major
        try
        {
            return m.Cholesky().Solve(Vector<double>.Build.Dense(rhs)).ToArray();
        }
        catch (ArgumentException)
        {
            throw new ArgumentOutOfRangeException("lambda", $"{what} is singular at this lambda; use lambda > 0.");
        }
    }

    private static ErmSolution FitSmooth(double[] x, double[] y, int p, int n, IMarginLoss loss, double lambda, ErmOptions options)
    {
        var obj = new MarginObjective(x, y, p, n, loss, lambda, options.Threads);
        // Work with the per-sample objective f/P so the tolerance means the same for every P (scikit-learn's choice).
        double invP = 1.0 / p;
        bool fitBias = options.FitBias;
        double Eval(double[] theta, double[] g)
        {
            double f = obj.Evaluate(theta, g);
            for (int i = 0; i < g.Length; i++) g[i] *= invP;
            if (!fitBias) g[n] = 0; // b stays at its start, 0
            return f * invP;
        }
        Action<double[], double>? watch = null;
        if (lambda == 0)
        {
            // Certificate of separability: an iterate with every margin > 0. Then c·(w, b) drives the loss to 0 as
            // c → ∞ and no minimiser exists.
            watch = (theta, _) =>
            {
                var u = obj.Margins(theta);
                if (u.All(v => v > 0))
                    throw new NoMinimizerException(
                        $"lambda = 0 has no minimiser for the {loss.Name} loss: the training set is linearly separable " +
                        "(the loss tends to 0 as the norm grows). Use lambda > 0.");
            };
        }
        var r = Lbfgs.Minimize(Eval, new double[n + 1], options.Tolerance, options.Memory, options.MaxIterations, watch);
        var w = r.X.AsSpan(0, n).ToArray();
        return new ErmSolution(new LinearClassifier(w, r.X[n]), loss.Name, lambda, r.F * p, r.GradInfNorm,
            r.Iterations, r.Converged, "lbfgs");
    }

    private static ErmSolution FitHinge(double[] x, double[] y, int p, int n, double lambda, ErmOptions options)
    {
        if (lambda == 0)
            throw new ArgumentOutOfRangeException("lambda", lambda,
                "lambda must be > 0 for the hinge loss: at lambda = 0 the minimiser is not unique (the limit lambda -> 0+ is the max-margin SVM).");
        var k = Kernels.RowGram(x, p, n);
        double invN = 1.0 / n;
        for (int i = 0; i < k.Length; i++) k[i] *= invN;
        var r = HingeSmo.Solve(k, y, 1 / lambda, options.Tolerance, 2000L * p);
        // w = Σ α y x/√N.
        var coef = new double[p];
        for (int mu = 0; mu < p; mu++) coef[mu] = r.Alpha[mu] * y[mu];
        var w = new double[n];
        Kernels.MatTVec(x, p, n, coef, w);
        double scale = 1 / Math.Sqrt(n);
        for (int j = 0; j < n; j++) w[j] *= scale;
        var obj = new MarginObjective(x, y, p, n, HingeLoss.Instance, lambda, 1);
        double f = obj.Evaluate([.. w, r.Bias], new double[n + 1]);
        var beta = r.Alpha.Select(a => a * lambda).ToArray();
        return new ErmSolution(new LinearClassifier(w, r.Bias), "hinge", lambda, f, r.Violation, r.Iterations, r.Converged,
            "smo-dual", beta);
    }
}
