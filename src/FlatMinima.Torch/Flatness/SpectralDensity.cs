using System.Diagnostics;
using System.Globalization;
using System.Text;
using FlatMinima.Numerics;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Training;
using MathNet.Numerics.LinearAlgebra;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Flatness;

/// <summary>Distribution of the starting vectors of a stochastic trace or density estimate.</summary>
public enum ProbeVectorKind
{
    /// <summary>Entries ±1 with probability ½ (default; the lowest-variance choice for a trace).</summary>
    Rademacher,
    /// <summary>Entries N(0, 1).</summary>
    Gaussian,
}

/// <summary>Options of stochastic Lanczos quadrature (<see cref="SpectralDensity"/>).</summary>
public sealed record SlqOptions
{
    /// <summary>m, Lanczos steps per starting vector (default 60): Hessian-vector products per vector, and the number
    /// of quadrature nodes. The quadrature is exact for polynomials of degree ≤ 2m − 1.</summary>
    public int Steps { get; init; } = 60;
    /// <summary>n_v, independent starting vectors (default 4): the Monte Carlo sample behind every standard error.</summary>
    public int Vectors { get; init; } = 4;
    /// <summary>Distribution of the starting vectors (default Rademacher).</summary>
    public ProbeVectorKind VectorKind { get; init; } = ProbeVectorKind.Rademacher;
    /// <summary>σ, the standard deviation of the Gaussian that broadens each node (null: 1 % of the range of the Ritz
    /// values over all vectors). Densities are comparable between models only at the same σ.</summary>
    public double? Width { get; init; }
    /// <summary>Points of the grid the density is tabulated on (default 1001), spanning the Ritz values ± 5σ.</summary>
    public int GridPoints { get; init; } = 1001;
    /// <summary>Seed of the starting vectors: vector k uses generator seed Mix(seed, 0x51A, k).</summary>
    public long Seed { get; init; }

    /// <summary>Validates every option; throws naming the option and its range.</summary>
    public SlqOptions Validate()
    {
        Guard.AtLeast(Steps, 1, "slq_steps");
        Guard.AtLeast(Vectors, 1, "slq_vectors");
        Guard.AtLeast(GridPoints, 2, "slq_grid_points");
        if (Width is double w) Guard.Positive(w, "slq_width");
        return this;
    }
}

/// <summary>
/// The Hessian spectral density estimated by stochastic Lanczos quadrature: for each of the n_v starting vectors v
/// (normalised), m Lanczos steps on H with full reorthogonalisation give a tridiagonal T whose eigenvalues θ_j (the
/// Ritz values, the quadrature nodes) and squared first eigenvector components τ_j (the weights, Σ_j τ_j = 1)
/// satisfy Σ_j τ_j f(θ_j) ≈ vᵀ f(H) v, exactly for polynomials f of degree ≤ 2m − 1. Averaged over v this estimates
/// (1/d) tr f(H) = ∫ f(λ) ρ(λ) dλ, with ρ the spectral density of the d × d Hessian.
/// </summary>
/// <param name="Parameters">d, the number of scalar parameters the Hessian acts on.</param>
/// <param name="Samples">Training samples the loss was averaged over (0 when the operator was given directly).</param>
/// <param name="Steps">m requested.</param>
/// <param name="StepsTaken">Lanczos steps actually taken per vector (fewer than m when the Krylov space became invariant).</param>
/// <param name="VectorKind">"rademacher" or "gaussian".</param>
/// <param name="Seed">Seed of the starting vectors.</param>
/// <param name="Width">σ of the Gaussian broadening used for <see cref="Density"/>.</param>
/// <param name="Nodes">Ritz values θ_j, per vector.</param>
/// <param name="Weights">Quadrature weights τ_j, per vector (each row sums to 1).</param>
/// <param name="Grid">Eigenvalue grid.</param>
/// <param name="Density">ρ_σ(λ) = (1/n_v) Σ_v Σ_j τ_vj φ_σ(λ − θ_vj) on the grid (integrates to 1 over the real line).</param>
/// <param name="DensityStdError">Standard error of <see cref="Density"/> over the n_v vectors (NaN for n_v = 1).</param>
/// <param name="Trace">tr H estimated as d · mean_v Σ_j τ_vj θ_vj (= Hutchinson's estimate on the same vectors).</param>
/// <param name="TraceStdError">Its standard error over the vectors (NaN for n_v = 1).</param>
/// <param name="TopRitz">The largest Ritz value over all vectors: a lower bound of λ_max, converged to it for m large
/// enough (compare with <see cref="Probes.HessianTop"/>).</param>
/// <param name="BottomRitz">The smallest Ritz value over all vectors (an upper bound of λ_min).</param>
/// <param name="Seconds">Wall time of the estimate.</param>
public sealed record SpectralDensityResult(
    long Parameters, long Samples, int Steps, int[] StepsTaken, string VectorKind, long Seed, double Width,
    double[][] Nodes, double[][] Weights, double[] Grid, double[] Density, double[] DensityStdError,
    double Trace, double TraceStdError, double TopRitz, double BottomRitz, double Seconds)
{
    /// <summary>(1/d) tr f(H) estimated by the quadrature, with its standard error over the vectors (NaN for one
    /// vector). Unbiased for polynomials of degree ≤ 2m − 1; for other f a Gauss-quadrature approximation.</summary>
    public (double Mean, double StdError) Expectation(Func<double, double> f)
    {
        var per = new double[Nodes.Length];
        for (int v = 0; v < Nodes.Length; v++)
            for (int j = 0; j < Nodes[v].Length; j++) per[v] += Weights[v][j] * f(Nodes[v][j]);
        double se = per.Length > 1 ? ProbeMath.Std(per) / Math.Sqrt(per.Length) : double.NaN;
        return (per.Average(), se);
    }

    /// <summary>The k-th spectral moment (1/d) tr H^k with its standard error.</summary>
    public (double Mean, double StdError) Moment(int k) => Expectation(x => Math.Pow(x, k));

    /// <summary>∫ ρ_σ over the grid (trapezoid rule): 1 up to the Gaussian tails beyond ±5σ (&lt; 10⁻⁶).</summary>
    public double DensityIntegral() => Trapezoid(Density);

    /// <summary>∫ λ ρ_σ(λ) dλ over the grid: the mean eigenvalue tr H / d.</summary>
    public double DensityMean() => Trapezoid(Grid.Select((x, i) => x * Density[i]).ToArray());

    private double Trapezoid(double[] y)
    {
        double s = 0;
        for (int i = 1; i < Grid.Length; i++) s += 0.5 * (y[i] + y[i - 1]) * (Grid[i] - Grid[i - 1]);
        return s;
    }

    /// <summary>The density as CSV: <c>eigenvalue,density,density_se,width</c>, one row per grid point (width = σ,
    /// the same on every row, so that a figure can tell whether two densities are comparable).</summary>
    public string DensityCsv()
    {
        var sb = new StringBuilder("eigenvalue,density,density_se,width\n");
        for (int i = 0; i < Grid.Length; i++)
            sb.Append(F(Grid[i])).Append(',').Append(F(Density[i])).Append(',').Append(F(DensityStdError[i])).Append(',').Append(F(Width)).Append('\n');
        return sb.ToString();
    }

    /// <summary>The quadrature as CSV: <c>vector,node,weight</c>, one row per Ritz value.</summary>
    public string NodesCsv()
    {
        var sb = new StringBuilder("vector,node,weight\n");
        for (int v = 0; v < Nodes.Length; v++)
            for (int j = 0; j < Nodes[v].Length; j++)
                sb.Append(v).Append(',').Append(F(Nodes[v][j])).Append(',').Append(F(Weights[v][j])).Append('\n');
        return sb.ToString();
    }

    internal static string F(double v) => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "";
}

/// <summary>
/// Hessian spectral density of the training loss by stochastic Lanczos quadrature, as PyHessian's <c>density</c>
/// (Yao et al. (2020) [<c>yao2020pyhessian</c>]; Ghorbani et al. (2019) [<c>ghorbani2019investigation</c>]; the
/// quadrature: Ubaru, Chen, Saad (2017) [<c>ubaru2017fast</c>]). Conventions of <see cref="Probes"/>: the selected
/// parameter groups, eval-mode BatchNorm, the mean loss over the given samples, starting vectors drawn on the CPU
/// from seeded generators and moved to the device (the same vectors on CPU and GPU). The parameters are not changed.
/// Cost: m·n_v Hessian-vector products (each about two gradient passes over the samples) and memory for m vectors of
/// d entries (the Lanczos basis, kept for full reorthogonalisation).
/// </summary>
public sealed class SpectralDensity(nn.Module<Tensor, Tensor> model, Device device)
{
    /// <summary>Parameter groups (name prefixes, as <see cref="Probes.Groups"/>; null = all trainable parameters).</summary>
    public IReadOnlyList<string>? Groups { get; init; }
    /// <summary>Per-batch mean loss ℓ(logits, y) (default cross-entropy).</summary>
    public Func<Tensor, Tensor, Tensor> Loss { get; init; } = Trainer.CrossEntropy;
    /// <summary>Chunk size of the passes over the samples (default 1024; does not change the result).</summary>
    public int BatchSize { get; init; } = 1024;

    /// <summary>The spectral density of the Hessian of the mean loss over <paramref name="set"/> (eval mode).</summary>
    public SpectralDensityResult Compute(TensorDataSet set, SlqOptions options)
    {
        Guard.AtLeast(BatchSize, 1, "batch_size");
        var ps = new Probes(model, device) { Groups = Groups }.Selected().Select(p => (Tensor)p.P).ToList();
        bool wasTraining = model.training;
        model.eval();
        try
        {
            var r = Lanczos(v => ProbeMath.Hvp(model, ps, set, device, BatchSize, Loss, v), ps, options);
            return r with { Samples = set.Count };
        }
        finally { if (wasTraining) model.train(); }
    }

    /// <summary>
    /// Stochastic Lanczos quadrature of a symmetric operator given by its product <paramref name="hvp"/> on vectors
    /// shaped like <paramref name="like"/> (a list of tensors, as <see cref="Probes.TopEigenvalues"/>). Each starting
    /// vector is normalised; each Lanczos vector is orthogonalised against all earlier ones twice (classical
    /// Gram–Schmidt, "twice is enough"), so the Ritz values do not repeat. A step whose residual norm β falls below
    /// 10⁻¹⁰ (float64) or 10⁻⁵ (float32) times the largest |α|, β so far ends that vector's recursion: the Krylov
    /// space is invariant and the quadrature is already exact.
    /// </summary>
    public static SpectralDensityResult Lanczos(Func<IList<Tensor>, List<Tensor>> hvp, IList<Tensor> like, SlqOptions options)
    {
        var o = options.Validate();
        var clock = Stopwatch.StartNew();
        long d = like.Sum(p => p.numel());
        var dtype = like[0].dtype;
        var dev = like[0].device;
        int m = (int)Math.Min(o.Steps, d);
        double tol = dtype == ScalarType.Float64 ? 1e-10 : 1e-5;
        var nodes = new double[o.Vectors][];
        var weights = new double[o.Vectors][];
        var taken = new int[o.Vectors];
        using var q = zeros([m, d], dtype: dtype, device: dev);
        for (int k = 0; k < o.Vectors; k++)
        {
            using (var scope0 = NewDisposeScope())
            using (no_grad())
            {
                var start = StartVector(d, o.VectorKind, Seeds.Mix(o.Seed, 0x51A, k));
                q[0].copy_(start.div(start.norm()).to(dtype).to(dev));
            }
            var alpha = new List<double>();
            var beta = new List<double>();
            double scale = 0;
            for (int j = 0; j < m; j++)
            {
                using var scope = NewDisposeScope();
                var qj = q[j];
                Tensor w;
                var hv = hvp(ProbeMath.Split(qj, like));
                w = ProbeMath.Flatten(hv);
                foreach (var t in hv) t.Dispose();
                using (no_grad())
                {
                    double a = w.dot(qj).to_type(ScalarType.Float64).item<double>();
                    alpha.Add(a);
                    scale = Math.Max(scale, Math.Abs(a));
                    w.add_(qj, alpha: -a);
                    if (j > 0) w.add_(q[j - 1], alpha: -beta[j - 1]);
                    var basis = q.narrow(0, 0, j + 1);
                    for (int pass = 0; pass < 2; pass++) w.sub_(basis.t().mv(basis.mv(w)));
                    if (j == m - 1) break;
                    double b = w.norm().to_type(ScalarType.Float64).item<double>();
                    scale = Math.Max(scale, b);
                    if (!(b > tol * scale)) break;
                    beta.Add(b);
                    q[j + 1].copy_(w.div_(b));
                }
            }
            taken[k] = alpha.Count;
            (nodes[k], weights[k]) = Quadrature(alpha, beta);
        }
        var all = nodes.SelectMany(x => x).ToArray();
        double lo = all.Min(), hi = all.Max();
        double width = o.Width ?? (hi > lo ? 0.01 * (hi - lo) : 1e-3 * Math.Max(1, Math.Abs(hi)));
        var grid = new double[o.GridPoints];
        for (int i = 0; i < grid.Length; i++) grid[i] = lo - 5 * width + (hi - lo + 10 * width) * i / (grid.Length - 1);
        var perVector = new double[o.Vectors][];
        for (int k = 0; k < o.Vectors; k++)
        {
            perVector[k] = new double[grid.Length];
            for (int i = 0; i < grid.Length; i++)
            {
                double s = 0;
                for (int j = 0; j < nodes[k].Length; j++)
                {
                    double z = (grid[i] - nodes[k][j]) / width;
                    s += weights[k][j] * Math.Exp(-0.5 * z * z);
                }
                perVector[k][i] = s / (width * Math.Sqrt(2 * Math.PI));
            }
        }
        var density = new double[grid.Length];
        var densitySe = new double[grid.Length];
        for (int i = 0; i < grid.Length; i++)
        {
            var col = perVector.Select(r => r[i]).ToArray();
            density[i] = col.Average();
            densitySe[i] = col.Length > 1 ? ProbeMath.Std(col) / Math.Sqrt(col.Length) : double.NaN;
        }
        var traces = nodes.Select((n, k) => d * n.Zip(weights[k]).Sum(t => t.First * t.Second)).ToArray();
        double trace = traces.Average();
        double traceSe = traces.Length > 1 ? ProbeMath.Std(traces) / Math.Sqrt(traces.Length) : double.NaN;
        return new SpectralDensityResult(d, 0, o.Steps, taken, o.VectorKind.ToString().ToLowerInvariant(), o.Seed, width,
            nodes, weights, grid, density, densitySe, trace, traceSe, hi, lo, clock.Elapsed.TotalSeconds);
    }

    /// <summary>A starting vector of d entries in float64 on the CPU, from its own generator.</summary>
    private static Tensor StartVector(long d, ProbeVectorKind kind, long seed)
    {
        using var g = new Generator((ulong)seed);
        return kind == ProbeVectorKind.Rademacher
            ? randint(0, 2, [d], dtype: ScalarType.Float64, generator: g).mul_(2).sub_(1)
            : randn([d], dtype: ScalarType.Float64, generator: g);
    }

    /// <summary>Nodes (eigenvalues of the tridiagonal Lanczos matrix) and weights (squared first components of its
    /// normalised eigenvectors).</summary>
    private static (double[] Nodes, double[] Weights) Quadrature(List<double> alpha, List<double> beta)
    {
        int k = alpha.Count;
        var t = Matrix<double>.Build.Dense(k, k);
        for (int i = 0; i < k; i++)
        {
            t[i, i] = alpha[i];
            if (i + 1 < k) { t[i, i + 1] = beta[i]; t[i + 1, i] = beta[i]; }
        }
        var evd = t.Evd(Symmetricity.Symmetric);
        var nodes = evd.EigenValues.Select(c => c.Real).ToArray();
        var weights = Enumerable.Range(0, k).Select(i => evd.EigenVectors[0, i] * evd.EigenVectors[0, i]).ToArray();
        double s = weights.Sum();
        for (int i = 0; i < k; i++) weights[i] /= s;   // Σ τ = 1 up to rounding; make it exact
        return (nodes, weights);
    }
}
