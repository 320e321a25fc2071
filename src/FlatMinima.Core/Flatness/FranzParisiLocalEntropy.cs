using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Flatness;

/// <summary>
/// The Franz–Parisi problem: the error-counting landscape around a reference w̃ at cosine cos ψ with the BO direction.
/// The reference is w̃ = A ŝ + B ζ with ŝ = Σ_μ y^μ x^μ/√N, ζ a random direction independent of the data (‖ζ‖² = N),
/// A = cos ψ/√(α(α+Δ)), B = sin ψ, so ‖w̃‖²/N → 1 and the cosine of w̃ with the Hebbian (BO) vector is cos ψ.
/// The constrained system: w on the sphere ‖w‖² = N at overlap w·w̃/N = R, with bias b fixed, weighted by e^{−βE(w)},
/// E(w) = Σ_μ Θ(−u^μ) the number of training errors.
/// </summary>
/// <param name="Model">The data model (α, Δ, ρ).</param>
/// <param name="Beta">β ≥ 0 [2].</param>
/// <param name="ReferenceCosine">cos ψ ∈ [0, 1] [1 = the BO direction].</param>
/// <param name="Bias">Bias b of reference and neighbours [0].</param>
public sealed record FranzParisiProblem(MixtureModel Model, double Beta = 2, double ReferenceCosine = 1, double Bias = 0)
{
    public MixtureModel Model { get; init; } = Model ?? throw new ArgumentNullException(nameof(Model));
    /// <summary>α of <see cref="Model"/>.</summary>
    public double Alpha => Model.Alpha;
    /// <summary>Δ of <see cref="Model"/>.</summary>
    public double Delta => Model.Delta;
    /// <summary>ρ of <see cref="Model"/>.</summary>
    public double Rho => Model.Rho;
    public double Beta { get; init; } = Guard.NonNegative(Beta, "beta");
    public double ReferenceCosine { get; init; } = Guard.ClosedInterval(ReferenceCosine, 0, 1, "reference-cosine");
    public double Bias { get; init; } = Guard.Finite(Bias, "b");
    /// <summary>A = cos ψ/√(α(α+Δ)).</summary>
    public double A => ReferenceCosine / Math.Sqrt(Alpha * (Alpha + Delta));
    /// <summary>B = sin ψ.</summary>
    public double B => Math.Sqrt(Math.Max(0, 1 - ReferenceCosine * ReferenceCosine));
}

/// <summary>One point of the replica-symmetric Franz–Parisi curve.</summary>
/// <param name="R">Overlap w·w̃/N with the reference.</param>
/// <param name="Distance">Squared distance per weight ‖w − w̃‖²/N = 2(1 − R).</param>
/// <param name="FreeEntropy">Φ(R) = (1/N) E ln ∫ dμ(w) δ(w·w̃/N − R) e^{−βE(w)}, dμ the uniform probability on the sphere.</param>
/// <param name="Volume">½ ln(1 − R²): the log-volume at overlap R (β = 0).</param>
/// <param name="Excess">Φ − ½ ln(1 − R²) = (1/N) ln ⟨e^{−βE}⟩ over the slice: 0 for a perfectly flat region, → −βα ε_t(w̃) as R → 1.</param>
/// <param name="TrainError">Mean training error ⟨E⟩/P of the constrained system.</param>
/// <param name="K">Lagrange multiplier of the overlap constraint.</param>
/// <param name="M">m = w·v/N of the neighbours.</param>
/// <param name="T">t = w·ζ/N.</param>
/// <param name="Q">Overlap q between two neighbours.</param>
/// <param name="Converged">Whether Newton's method met the tolerance.</param>
/// <param name="Iterations">Newton iterations used at the final β.</param>
public readonly record struct FranzParisiPoint(double R, double Distance, double FreeEntropy, double Volume, double Excess, double TrainError,
    double K, double M, double T, double Q, bool Converged, int Iterations)
{
    /// <summary>Normalised replicon (de Almeida–Thouless) eigenvalue Λ of the RS saddle point
    /// (<see cref="FranzParisiStability"/>, docs/theory.md#rs-stability); NaN when the order parameters are not finite.</summary>
    public double Replicon { get; init; } = double.NaN;
    /// <summary>Whether replica symmetry is locally stable there (Λ &gt; 0); false also when Λ is unknown.</summary>
    public bool RsStable => Replicon > 0;
}

/// <summary>Monte Carlo estimate of the Franz–Parisi excess on finite training sets.</summary>
/// <param name="Excess">(1/N) ln ⟨e^{−βE}⟩ over the slice, mean over data sets, with <paramref name="StdError"/>.</param>
/// <param name="StdError">Standard error over data sets.</param>
/// <param name="TrainError">⟨E⟩/P at β (mean over data sets).</param>
/// <param name="ReferenceTrainError">Training error of the reference (mean over data sets).</param>
/// <param name="PerSeed">Excess of each data set.</param>
public sealed record FranzParisiSample(double Excess, double StdError, double TrainError, double ReferenceTrainError, IReadOnlyList<double> PerSeed);

/// <summary>
/// Replica (Franz–Parisi) local entropy of the error-counting loss around references at a given overlap with the BO
/// direction, as a function of the distance (derivation and assumptions in docs/flatness.md): replica symmetry in the
/// constrained system; the reference is an explicit function of the data (its Hebbian part) plus independent noise, so
/// no replicas of the reference are needed — the data dependence of w̃ enters exactly through w·ŝ = Σ_μ (u^μ − y^μ b),
/// i.e. the overlap constraint tilts every training margin by e^{kAu}. The RS free entropy is
/// Φ = −kR + kBt + ½ ln(1−q) + (q − m² − t²)/(2(1−q)) + αkAm + αk²A²Δ(1−q)/2 + α E_{y,ξ} ln[1 − (1 − e^{−β}) H(z)],
/// z = (m + yb + √(Δq) ξ)/√(Δ(1−q)) + kA√(Δ(1−q)), extremised over (k, m, t, q).
/// </summary>
public static partial class FranzParisiLocalEntropy
{
    private static readonly Lazy<QuadratureRule> Rule = new(() => GaussianMeasure.Graded([], 12, 1, 16));

    /// <summary>Training error of the reference (N → ∞): its training margins are A(α+Δ) + yb + √Δ ξ (the Hebbian
    /// self-overlap shifts them by AΔ above the test margins Aα + yb + √Δ ξ).</summary>
    public static double ReferenceTrainError(FranzParisiProblem p)
    {
        double mu = p.A * (p.Alpha + p.Delta), s = Math.Sqrt(p.Delta);
        return p.Rho * Gaussian.H((mu + p.Bias) / s) + (1 - p.Rho) * Gaussian.H((mu - p.Bias) / s);
    }

    /// <summary>Test error of the reference (E1 with m = Aα, q = 1).</summary>
    public static double ReferenceTestError(FranzParisiProblem p) => GeneralizationError.Of(p.A * p.Alpha, 1, p.Bias, p.Delta, p.Rho);

    /// <summary>Solves the RS saddle point at overlap R ∈ (−1, 1), by Newton's method continued in β from the exact
    /// β = 0 solution (q = R², k = R/(1−R²), m = αAR, t = BR).</summary>
    public static FranzParisiPoint Solve(FranzParisiProblem problem, double r, int betaSteps = 8)
    {
        ArgumentNullException.ThrowIfNull(problem);
        Guard.OpenInterval(r, -1, 1, "R");
        double a = problem.A;
        var x = new[] { r / (1 - r * r), problem.Alpha * a * r, r * r };
        bool conv = true; int its = 0;
        for (int s = 1; s <= betaSteps; s++)
        {
            var pb = problem with { Beta = problem.Beta * s / betaSteps };
            (conv, its) = Newton(pb, r, x);
            if (!conv) break;
        }
        return Point(problem, r, x, conv, its);
    }

    /// <summary>The curve Φ(R) on a grid of overlaps (each point solved independently by continuation in β).</summary>
    public static FranzParisiPoint[] Curve(FranzParisiProblem problem, IReadOnlyList<double> overlaps) =>
        overlaps.Select(r => Solve(problem, r)).ToArray();

    private static FranzParisiPoint Point(FranzParisiProblem p, double r, double[] x, bool conv, int its)
    {
        double k = x[0], m = x[1], q = x[2], t = k * p.B * (1 - q);
        var (phi, err) = Evaluate(p, r, k, m, q, null);
        double vol = 0.5 * Math.Log(1 - r * r);
        var point = new FranzParisiPoint(r, 2 * (1 - r), phi, vol, phi - vol, err, k, m, t, q, conv, its);
        return point with { Replicon = FranzParisiStability.Replicon(p, point) };
    }

    // Φ and ⟨ε⟩; if grad != null fills (∂_k, ∂_m, ∂_q) at t = kB(1−q).
    private static (double Phi, double Err) Evaluate(FranzParisiProblem p, double r, double k, double m, double q, double[]? grad)
    {
        double alpha = p.Alpha, delta = p.Delta, a = p.A, bb = p.B, beta = p.Beta;
        double d = 1 - q, sig = Math.Sqrt(delta * d), t = k * bb * d;
        double eb = Math.Exp(-beta), gam = 1 - eb;
        double eL = 0, eLp = 0, eLpdq = 0, eErr = 0;
        foreach (var (y, py) in new[] { (1.0, p.Rho), (-1.0, 1 - p.Rho) })
        {
            // z(ξ) crosses 0 at ξ*, over a ξ-width σ/√(Δq) that vanishes as q → 1: grade the rule there.
            double sq = Math.Sqrt(delta * q);
            var (xs, ws) = sq > 0 && sig / sq < 0.5
                ? GaussianMeasure.Graded([(-k * a * sig * sig - m - y * p.Bias) / sq], 12, 0.05 * sig / sq)
                : Rule.Value;
            for (int i = 0; i < xs.Length; i++)
            {
                double xi = xs[i], w = ws[i] * py;
                double mu = m + y * p.Bias + Math.Sqrt(delta * q) * xi;
                double z = mu / sig + k * a * sig;
                double h = Gaussian.H(z), den = 1 - gam * h;
                eL += w * Math.Log(den);
                eErr += w * eb * h / den;
                if (grad is null) continue;
                double lp = gam * Gaussian.Pdf(z) / den;
                eLp += w * lp;
                double dzdq = (q > 0 ? Math.Sqrt(delta) * xi / (2 * Math.Sqrt(q)) : 0) / sig + mu * delta / (2 * sig * sig * sig) - k * a * delta / (2 * sig);
                eLpdq += w * lp * dzdq;
            }
        }
        double phi = -k * r + k * bb * t + 0.5 * Math.Log(d) + (q - m * m - t * t) / (2 * d) + alpha * k * a * m
                     + alpha * k * k * a * a * delta * d / 2 + alpha * eL;
        if (grad is not null)
        {
            grad[0] = -r + bb * t + alpha * a * m + alpha * k * a * a * delta * d + alpha * a * sig * eLp;
            grad[1] = -m / d + alpha * k * a + alpha / sig * eLp;
            grad[2] = (q - m * m - t * t) / (2 * d * d) - alpha * k * k * a * a * delta / 2 + alpha * eLpdq;
        }
        return (phi, eErr);
    }

    private static (bool, int) Newton(FranzParisiProblem p, double r, double[] x)
    {
        var g = new double[3]; var gp = new double[3];
        var jac = new double[3, 3];
        for (int it = 1; it <= 60; it++)
        {
            Evaluate(p, r, x[0], x[1], x[2], g);
            double res = Math.Abs(g[0]) + Math.Abs(g[1]) + Math.Abs(g[2]);
            if (res < Tolerance(x)) return (true, it);
            for (int j = 0; j < 3; j++)
            {
                double h = 1e-6 * Math.Max(1e-3, Math.Abs(x[j]));
                if (j == 2) h = Math.Min(h, 0.25 * Math.Min(x[2], 1 - x[2]));
                double keep = x[j];
                x[j] = keep + h; Evaluate(p, r, x[0], x[1], x[2], gp);
                var gm = new double[3];
                x[j] = keep - h; Evaluate(p, r, x[0], x[1], x[2], gm);
                x[j] = keep;
                for (int i = 0; i < 3; i++) jac[i, j] = (gp[i] - gm[i]) / (2 * h);
            }
            var dx = Solve3(jac, g);
            if (dx is null) return (false, it);
            // damp so that q stays in (0, 1)
            double step = 1;
            while (step > 1e-6)
            {
                double qn = x[2] - step * dx[2];
                if (qn > 0 && qn < 1) break;
                step *= 0.5;
            }
            for (int i = 0; i < 3; i++) x[i] -= step * dx[i];
        }
        Evaluate(p, r, x[0], x[1], x[2], g);
        return (Math.Abs(g[0]) + Math.Abs(g[1]) + Math.Abs(g[2]) < 100 * Tolerance(x), 60);
    }

    // |∇Φ|₁ tolerance, relative to the size of the multiplier k (which grows like 1/(1 − R²)).
    private static double Tolerance(double[] x) => 1e-10 * Math.Max(1, Math.Abs(x[0]));

    private static double[]? Solve3(double[,] a, double[] b)
    {
        var m = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseOfArray(a);
        var v = MathNet.Numerics.LinearAlgebra.Vector<double>.Build.DenseOfArray(b);
        var s = m.Solve(v);
        return s.All(double.IsFinite) ? s.ToArray() : null;
    }

    /// <summary>
    /// Monte Carlo estimate on finite training sets: for each data set (seed s of <paramref name="spec"/>), builds the
    /// reference w̃ = cos ψ·√N ŝ/‖ŝ‖ + sin ψ·√N ζ⊥ (ζ⊥ a random unit vector orthogonal to ŝ), samples the slice
    /// {‖w‖² = N, w·w̃ = NR} with weight e^{−β'E} by Metropolis pair rotations in a Householder frame where w̃ is a
    /// coordinate axis (O(P) per move), and integrates ⟨E⟩/P over β' ∈ [0, β] by 8-point Gauss–Legendre:
    /// excess = −α ∫_0^β ⟨ε⟩_{β'} dβ'. The standard error is over data sets.
    /// </summary>
    public static FranzParisiSample Sample(MixtureSpec spec, double referenceCosine, double r, double beta, int seeds = 4,
        int sweeps = 200, int burnIn = 100, double bias = 0, int? maxParallelism = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Guard.ClosedInterval(referenceCosine, 0, 1, "reference-cosine");
        Guard.OpenInterval(r, -1, 1, "R"); Guard.NonNegative(beta, "beta");
        Guard.AtLeast(seeds, 2, "seeds"); Guard.AtLeast(sweeps, 1, "sweeps"); Guard.AtLeast(burnIn, 0, "burn-in");
        var per = new double[seeds]; var errs = new double[seeds]; var refErr = new double[seeds];
        var gl = new MathNet.Numerics.Integration.GaussLegendreRule(0, Math.Max(beta, 1e-300), 8);
        Parallel.For(0, seeds, new ParallelOptions { MaxDegreeOfParallelism = maxParallelism ?? Environment.ProcessorCount }, s =>
        {
            var sample = MixtureSample.Sample(spec.WithSeed(spec.Seed + s));
            var rng = Rng.ForStream(spec.Seed + s, 77);
            (var xt, refErr[s]) = Frame(sample, referenceCosine, bias, rng);
            // Anneal: the chain is carried from one β' node to the next (nodes ascending), so each starts near equilibrium.
            var chain = new SliceChain(sample, xt, r, bias, rng);
            double integral = 0;
            for (int gi = 0; gi < gl.Abscissas.Length; gi++)
                integral += gl.Weights[gi] * chain.Mean(gl.Abscissas[gi], sweeps, burnIn);
            errs[s] = chain.Mean(beta, sweeps, burnIn);
            per[s] = beta == 0 ? 0 : -sample.Spec.Alpha * integral;
        });
        var st = Statistic.Of(per);
        return new FranzParisiSample(st.Mean, st.StdError, errs.Average(), refErr.Average(), per);
    }

    // The reference w̃ = cos ψ·√N ŝ/‖ŝ‖ + sin ψ·√N ζ⊥ of one data set and the transposed inputs in a Householder frame in
    // which w̃/√N is the first axis (w = H w', w'_0 = R√N); returns them with the reference's training error.
    private static (double[] Xt, double ReferenceTrainError) Frame(MixtureSample sample, double referenceCosine, double bias, Rng rng)
    {
        int n = sample.N, p = sample.P;
        var sh = sample.Hebbian();
        double nsh = Math.Sqrt(Kernels.Norm2(sh));
        var zeta = new double[n];
        rng.FillGaussian(zeta);
        double proj = Kernels.Dot(zeta, sh) / (nsh * nsh);
        Kernels.Axpy(-proj, sh, zeta);
        double nz = Math.Sqrt(Kernels.Norm2(zeta));
        double sinPsi = Math.Sqrt(Math.Max(0, 1 - referenceCosine * referenceCosine));
        var wt = new double[n];
        for (int j = 0; j < n; j++) wt[j] = Math.Sqrt(n) * (referenceCosine * sh[j] / nsh + sinPsi * zeta[j] / nz);
        double refErr = sample.TrainError(wt, bias);
        // Householder frame: H e1 = w̃/√N, so w = H w' with w'_0 = R√N.
        var e = new double[n];
        for (int j = 0; j < n; j++) e[j] = wt[j] / Math.Sqrt(n);
        var uvec = (double[])e.Clone(); uvec[0] -= 1;
        double nu = Math.Sqrt(Kernels.Norm2(uvec));
        var xh = (double[])sample.X.Clone();
        if (nu > 1e-12)
        {
            for (int j = 0; j < n; j++) uvec[j] /= nu;
            var xu = new double[p];
            Kernels.MatVec(sample.X, p, n, uvec, xu);
            for (int mu = 0; mu < p; mu++) Kernels.Axpy(-2 * xu[mu], uvec, xh.AsSpan(mu * n, n));
        }
        var xt = Kernels.Transpose(xh, p, n);
        return (xt, refErr);
    }

    // Metropolis pair rotations on the slice {w'_0 = R√N, ‖w'‖² = N} in the Householder frame; the state persists.
    private sealed class SliceChain
    {
        private readonly MixtureSample _s;
        private readonly double[] _xt, _w, _u;
        private readonly Rng _rng;
        private int _energy;
        private double _delta = 1.0;

        public SliceChain(MixtureSample s, double[] xt, double r, double bias, Rng rng)
        {
            _s = s; _xt = xt; _rng = rng;
            int n = s.N, p = s.P;
            _w = new double[n];
            _w[0] = r * Math.Sqrt(n);
            var rest = _w.AsSpan(1);
            rng.FillGaussian(rest);
            double sc = Math.Sqrt((1 - r * r) * n / Kernels.Norm2(rest));
            for (int j = 1; j < n; j++) _w[j] *= sc;
            var h = new double[p];
            double inv = 1 / Math.Sqrt(n);
            for (int j = 0; j < n; j++) Kernels.Axpy(_w[j] * inv, xt.AsSpan(j * p, p), h);
            _u = new double[p];
            for (int mu = 0; mu < p; mu++) { _u[mu] = s.Y[mu] * (h[mu] + bias); if (_u[mu] < 0) _energy++; }
        }

        /// <summary>Number of training errors of the current state.</summary>
        public int Energy => _energy;

        /// <summary>Rotation step of the pair moves (adapted during burn-in).</summary>
        public double Step { get => _delta; set => _delta = value; }

        /// <summary>Mean training error at β after <paramref name="burn"/> discarded sweeps (step adapted to ≈ 40 %).</summary>
        public double Mean(double beta, int sweeps, int burn)
        {
            int p = _s.P;
            long acc = 0, tried = 0;
            double sum = 0; long count = 0;
            for (int sw = 0; sw < burn + sweeps; sw++)
            {
                Sweep(beta, ref acc, ref tried);
                if (sw < burn && sw % 10 == 9) Adapt(ref acc, ref tried);
                if (sw >= burn) { sum += (double)_energy / p; count++; }
            }
            return sum / count;
        }

        /// <summary>Rescales the step towards ≈ 40 % acceptance and resets the counters.</summary>
        public void Adapt(ref long acc, ref long tried)
        {
            double rate = (double)acc / Math.Max(1, tried);
            _delta = Math.Clamp(_delta * (rate > 0.4 ? 1.3 : 0.7), 1e-3, Math.PI);
            acc = 0; tried = 0;
        }

        /// <summary>One sweep (N pair-rotation proposals) at β.</summary>
        public void Sweep(double beta, ref long acc, ref long tried)
        {
            int n = _s.N, p = _s.P;
            double invSqrtN = 1 / Math.Sqrt(n);
            var y = _s.Y;
            for (int mv = 0; mv < n; mv++)
            {
                int i = 1 + (int)(_rng.NextDouble() * (n - 1)), j = 1 + (int)(_rng.NextDouble() * (n - 1));
                if (i == j) continue;
                double th = _delta * (2 * _rng.NextDouble() - 1);
                double c = Math.Cos(th), sn = Math.Sin(th);
                double wi = c * _w[i] - sn * _w[j], wj = sn * _w[i] + c * _w[j];
                double di = (wi - _w[i]) * invSqrtN, dj = (wj - _w[j]) * invSqrtN;
                var ci = _xt.AsSpan(i * p, p); var cj = _xt.AsSpan(j * p, p);
                int dE = 0;
                for (int mu = 0; mu < p; mu++)
                {
                    double un = _u[mu] + y[mu] * (ci[mu] * di + cj[mu] * dj);
                    dE += (un < 0 ? 1 : 0) - (_u[mu] < 0 ? 1 : 0);
                }
                tried++;
                if (dE <= 0 || _rng.NextDouble() < Math.Exp(-beta * dE))
                {
                    for (int mu = 0; mu < p; mu++) _u[mu] += y[mu] * (ci[mu] * di + cj[mu] * dj);
                    _w[i] = wi; _w[j] = wj; _energy += dE; acc++;
                }
            }
        }
    }
}
