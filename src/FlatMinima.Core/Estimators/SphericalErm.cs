using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace FlatMinima.Estimators;

/// <summary>
/// Finite-N ERM at fixed norm (the spherical constraint of docs/norms.md): minimise Σ_μ ℓ(y^μ(w·x^μ/√N + b)) subject
/// to ‖w‖² = N Q, the bias free.
/// <list type="bullet">
/// <item>square loss — Lagrangian: after eliminating b, w(μ) = (AcᵀAc + μI)⁻¹ Acᵀ(y − ȳ) with the multiplier μ the
/// root of the secular equation ‖w(μ)‖² = N Q on (−s_min, ∞), s_min the smallest eigenvalue of AcᵀAc (the global
/// minimiser of the trust-region problem; μ &lt; 0 when Q exceeds the unpenalised norm). One symmetric
/// eigendecomposition, then bisection to machine precision.</item>
/// <item>any other smooth loss — L-BFGS on the sphere through w = √(NQ) u/‖u‖ (the objective is then smooth in u),
/// started from the Hebbian direction; the residual is the largest component of the Riemannian gradient of the
/// per-sample objective.</item>
/// </list>
/// </summary>
public static class SphericalErm
{
    /// <summary>Fits ERM with ‖w‖² = N·<paramref name="norm"/>. <see cref="ErmSolution.Lambda"/> holds the Lagrange
    /// multiplier μ (the effective ridge; for smooth losses estimated as −w·∇_wL/‖w‖²).</summary>
    public static ErmSolution Fit(MixtureSample sample, IMarginLoss loss, double norm, ErmOptions? options = null) =>
        Fit(sample.X, sample.Y, sample.P, sample.N, loss, norm, options);

    /// <summary>Fits on raw arrays: X row-major (P × N), labels ±1.</summary>
    public static ErmSolution Fit(double[] x, double[] y, int p, int n, IMarginLoss loss, double norm, ErmOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        Guard.Positive(norm, "norm");
        options ??= ErmOptions.Default;
        MemoryBudget.Require(WorkspaceBytes(p, n, loss), $"the fixed-norm ERM solve (P = {p}, N = {n})");
        return loss.SelectAlgorithm(new SphereAlgorithms(x, y, p, n, norm, options));
    }

    // The fixed-norm solver each loss selects.
    private sealed class SphereAlgorithms(double[] x, double[] y, int p, int n, double norm, ErmOptions options) : IErmAlgorithms<ErmSolution>
    {
        public ErmSolution LeastSquares() => FitSquare(x, y, p, n, norm, options.FitBias, options.SolveThreads);
        public ErmSolution SupportVectorDual() =>
            throw new ArgumentException("loss 'hinge' is not smooth; the fixed-norm solver handles square and smooth losses.", "loss");
        public ErmSolution Generic(IMarginLoss loss) => loss.IsSmooth
            ? FitSmooth(x, y, p, n, loss, norm, options)
            : throw new ArgumentException($"loss '{loss.Name}' is not smooth; the fixed-norm solver handles square and smooth losses.", "loss");
    }

    /// <summary>Bytes a fit allocates besides X: for the square loss the N × N Gram matrix, the provider's workspace
    /// and MathNet's symmetric eigendecomposition (about three more N × N matrices); otherwise O(N + P) vectors.</summary>
    public static long WorkspaceBytes(int p, int n, IMarginLoss loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return Erm.WorkspaceBytes(p, n, LogisticLoss.Instance) + loss.SelectAlgorithm(new MatrixBytes(p, n));
    }

    // Bytes of the square loss's matrices (none for the first-order solvers).
    private sealed class MatrixBytes(int p, int n) : IErmAlgorithms<long>
    {
        public long LeastSquares() => 4 * 8L * MemoryBudget.SquareMatrixLength(n, "n") + LinearAlgebra.Current.WorkspaceBytes(p, n, 0);
        public long SupportVectorDual() => 0;
        public long Generic(IMarginLoss loss) => 0;
    }

    private static ErmSolution FitSquare(double[] x, double[] y, int p, int n, double norm, bool fitBias, int threads)
    {
        var sys = new CentredSquareSystem(x, y, p, n, fitBias, threads);
        var gram = sys.Gram;
        var rhs = sys.Rhs;
        var evd = Matrix<double>.Build.Dense(n, n, gram).Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Symmetric);
        var s = evd.EigenValues.Select(z => z.Real).ToArray();
        var u = evd.EigenVectors;
        var c = u.TransposeThisAndMultiply(Vector<double>.Build.Dense(rhs)).ToArray();
        double target = n * norm;
        double sMin = s.Min();
        double Norm2(double mu) { double t = 0; for (int i = 0; i < n; i++) { double z = c[i] / (s[i] + mu); t += z * z; } return t; }
        double cNorm = Math.Sqrt(c.Sum(z => z * z));
        double lo = -sMin, hi = cNorm / Math.Sqrt(target) - sMin + 1;
        while (Norm2(hi) > target) hi = 2 * hi + 1;
        for (int it = 0; it < 300 && hi - lo > 1e-15 * Math.Max(1, Math.Abs(hi)); it++)
        {
            double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) break;
            if (Norm2(mid) > target) lo = mid; else hi = mid;
        }
        double muStar = 0.5 * (lo + hi);
        var coef = new double[n];
        for (int i = 0; i < n; i++) coef[i] = c[i] / (s[i] + muStar);
        var w = (u * Vector<double>.Build.Dense(coef)).ToArray();
        // exact projection onto the sphere (removes the bisection's last-bit error)
        double r = Math.Sqrt(target / Kernels.Norm2(w));
        for (int j = 0; j < n; j++) w[j] *= r;
        double b = sys.Bias(w);
        double relErr = Math.Abs(Norm2(muStar) - target) / target;
        bool ok = relErr < 1e-6; // fails only in the trust-region "hard case" (c orthogonal to the bottom eigenspace)
        var obj = new MarginObjective(x, y, p, n, SquareLoss.Instance, 0, threads);
        double f = obj.Evaluate([.. w, b], new double[n + 1]);
        return new ErmSolution(new LinearClassifier(w, b), "square", muStar, f, relErr, 1, ok, "secular-equation");
    }

    private static ErmSolution FitSmooth(double[] x, double[] y, int p, int n, IMarginLoss loss, double norm, ErmOptions options)
    {
        var obj = new MarginObjective(x, y, p, n, loss, 0, options.SolveThreads);
        double radius = Math.Sqrt(n * norm), invP = 1.0 / p;
        var theta = new double[n + 1];
        var gTheta = new double[n + 1];
        double Eval(double[] z, double[] g)
        {
            var uv = z.AsSpan(0, n);
            double un = Math.Sqrt(Kernels.Norm2(uv));
            double k = radius / un;
            for (int j = 0; j < n; j++) theta[j] = k * z[j];
            theta[n] = z[n];
            double f = obj.Evaluate(theta, gTheta);
            // d w/d u = k (I − û ûᵀ)
            double proj = 0;
            for (int j = 0; j < n; j++) proj += gTheta[j] * z[j];
            proj /= un * un;
            for (int j = 0; j < n; j++) g[j] = k * (gTheta[j] - proj * z[j]) * invP;
            g[n] = options.FitBias ? gTheta[n] * invP : 0;
            return f * invP;
        }
        // start: Hebbian direction on the sphere, bias 0
        var z0 = new double[n + 1];
        LinearAlgebra.Current.Gemv(true, p, n, 1.0, x, y, 0.0, z0.AsSpan(0, n));
        double hn = Math.Sqrt(Kernels.Norm2(z0.AsSpan(0, n)));
        for (int j = 0; j < n; j++) z0[j] *= radius / hn;
        var r = Lbfgs.Minimize(Eval, z0, options.Tolerance, options.Memory, options.MaxIterations);
        var zu = r.X.AsSpan(0, n);
        double kk = radius / Math.Sqrt(Kernels.Norm2(zu));
        var w = new double[n];
        for (int j = 0; j < n; j++) w[j] = kk * zu[j];
        var g = new double[n + 1];
        double fv = obj.Evaluate([.. w, r.X[n]], g);
        double mu = -Kernels.Dot(g.AsSpan(0, n), w) / Kernels.Norm2(w);
        return new ErmSolution(new LinearClassifier(w, r.X[n]), loss.Name, mu, fv, r.GradInfNorm, r.Iterations, r.Converged, "lbfgs-sphere");
    }
}
