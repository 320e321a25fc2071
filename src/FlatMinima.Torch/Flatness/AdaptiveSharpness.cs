using System.Diagnostics;
using FlatMinima.Numerics;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Flatness;

/// <summary>The norm of the perturbation ball ‖T⁻¹δ‖_p ≤ ρ.</summary>
public enum SharpnessNorm
{
    /// <summary>p = 2 (dual exponent q = 2).</summary>
    L2,
    /// <summary>p = ∞ (dual exponent q = 1): every weight moves by at most ρ·T_i.</summary>
    LInf,
}

/// <summary>Which sharpness: the maximum over the ball or the mean over random perturbations.</summary>
public enum SharpnessKind
{
    /// <summary>max over the ball of L(w + δ) − L(w), by projected gradient ascent (a lower bound of the maximum).</summary>
    WorstCase,
    /// <summary>E_δ[L(w + δ)] − L(w) with δ = ρ T ζ, ζ Gaussian (p = 2) or uniform on [−1, 1] (p = ∞). ρ is then a
    /// per-coordinate scale: for p = 2 the typical ‖T⁻¹δ‖₂ is ρ√d, not ρ, so the two kinds are not on one ball at one ρ
    /// (as in Andriushchenko et al., who use different ρ for them).</summary>
    AverageCase,
}

/// <summary>Options of <see cref="AdaptiveSharpness"/>.</summary>
public sealed record AdaptiveSharpnessOptions
{
    /// <summary>ρ, the radius of the ball (default 0.1).</summary>
    public double Rho { get; init; } = 0.1;
    /// <summary>The norm p (default L2).</summary>
    public SharpnessNorm Norm { get; init; } = SharpnessNorm.L2;
    /// <summary>true (default): T_w = |w| + η elementwise (adaptive sharpness, Kwon et al.); false: T = 1 (plain
    /// sharpness in a Euclidean or box ball, not invariant under rescaling).</summary>
    public bool Adaptive { get; init; } = true;
    /// <summary>η in T_w = |w| + η (default 0, as Andriushchenko et al.; exact rescaling invariance needs η = 0).</summary>
    public double Eta { get; init; }
    /// <summary>Ascent steps of the worst case (default 20, Andriushchenko et al.'s <c>n_iters</c> in their example).</summary>
    public int Steps { get; init; } = 20;
    /// <summary>Start the ascent from a random point of the ball (default true; from δ = 0 the gradient of a minimum
    /// vanishes and the ascent would never leave it).</summary>
    public bool RandomStart { get; init; } = true;
    /// <summary>Perturbations averaged by the average case (default 100).</summary>
    public int Samples { get; init; } = 100;
    /// <summary>m of m-sharpness: null (default) = one perturbation for the whole set; otherwise the set is cut into
    /// consecutive batches of m samples, the sharpness is computed on each with its own perturbation and the results
    /// are averaged (Andriushchenko et al. evaluate 1 024 samples in batches of 128).</summary>
    public int? SharpnessBatch { get; init; }
    /// <summary>Seed of the random start and of the average-case draws.</summary>
    public long Seed { get; init; }

    /// <summary>Validates every option; throws naming the option and its range.</summary>
    public AdaptiveSharpnessOptions Validate()
    {
        Guard.Positive(Rho, "rho");
        Guard.NonNegative(Eta, "eta");
        Guard.AtLeast(Steps, 1, "sharpness_steps");
        Guard.AtLeast(Samples, 1, "sharpness_samples");
        if (SharpnessBatch is int m) Guard.AtLeast(m, 1, "sharpness_batch (m)");
        return this;
    }
}

/// <summary>
/// Adaptive sharpness of a model at its current weights w (averaged over the m-batches when m is set).
/// </summary>
/// <param name="Kind">Worst or average case.</param>
/// <param name="Norm">p.</param>
/// <param name="Adaptive">T = |w| + η (true) or T = 1.</param>
/// <param name="Rho">ρ.</param>
/// <param name="Eta">η.</param>
/// <param name="Loss">L(w), the mean loss on the samples.</param>
/// <param name="Error">Error (fraction) at w.</param>
/// <param name="PerturbedLoss">The maximum (worst case) or the mean (average case) of L(w + δ).</param>
/// <param name="PerturbedError">Error at the maximising δ (worst case) or its mean (average case).</param>
/// <param name="Sharpness">PerturbedLoss − Loss.</param>
/// <param name="StdError">Standard error of the average case over its draws (NaN for the worst case).</param>
/// <param name="Iterations">Ascent steps (worst case) or draws (average case) per batch.</param>
/// <param name="Batches">Number of m-batches averaged (1 without m).</param>
/// <param name="Samples">Training samples used.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record AdaptiveSharpnessResult(
    SharpnessKind Kind, SharpnessNorm Norm, bool Adaptive, double Rho, double Eta, double Loss, double Error,
    double PerturbedLoss, double PerturbedError, double Sharpness, double StdError, int Iterations, int Batches,
    long Samples, double Seconds);

/// <summary>
/// Adaptive sharpness (Kwon et al. (2021) [<c>kwon2021asam</c>]; the measure Andriushchenko et al. (2023)
/// [<c>andriushchenko2023modern</c>] found not to track generalisation in general): the worst-case loss increase
/// max_{‖T_w⁻¹δ‖_p ≤ ρ} L(w + δ) − L(w) with T_w = |w| + η elementwise, and its average-case twin.
/// <para><b>Worst case.</b> Written as δ = T ⊙ u with ‖u‖_p ≤ ρ, the maximum is sought by projected gradient ascent
/// on u with the step rule of APGD (Croce and Hein 2020), which Andriushchenko et al.'s code uses for this measure:
/// step size 2ρ at first; the step direction sign(T∇L) for p = ∞ and T∇L/‖T∇L‖₂ for p = 2; projection onto the
/// u-ball (clipping, resp. rescaling); momentum x_{k+1} = P(x_k + ¾(z_{k+1} − x_k) + ¼(x_k − x_{k−1})) after the first
/// step; at the checkpoints ⌈p_j·K⌉ (p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06)) the step is
/// halved and the ascent restarted (without momentum) from the best point when fewer than 75 % of the steps since the
/// last checkpoint increased the loss, or when neither the step nor the best loss changed. The start is a uniform
/// point of the box (p = ∞) or a uniform point of the sphere ‖u‖₂ = ρ (p = 2). The result is the largest loss met
/// over the K steps and the final point: a lower bound of the maximum. Each step costs one gradient pass over the
/// samples. (Differences from that code, stated: it measures ‖·‖ and projects in δ-space, bisecting for the
/// ellipsoid; here both live in u-space, where the ball is round.)</para>
/// <para><b>Average case.</b> E over δ = ρ T ⊙ ζ, ζ ~ N(0, I) (p = 2) or ζ uniform in [−1, 1]^d (p = ∞), as
/// Andriushchenko et al.'s average-case sharpness; with T = |w| and p = 2 this is the loss version of the local energy
/// (docs/theory.md#le) at σ = ρ. Draw s of m-batch b uses generator seed Mix(seed + b, 0xA5, s); the worst case's random start of batch b
/// uses Mix(seed + b, 0xA5, −1).</para>
/// Conventions of <see cref="Probes"/>: selected parameter groups, eval-mode BatchNorm, noise drawn on the CPU and
/// moved to the device, the parameters restored exactly afterwards.
/// </summary>
public sealed class AdaptiveSharpness(nn.Module<Tensor, Tensor> model, Device device)
{
    /// <summary>Parameter groups (name prefixes, as <see cref="Probes.Groups"/>; null = all trainable parameters).</summary>
    public IReadOnlyList<string>? Groups { get; init; }
    /// <summary>Per-batch mean loss ℓ(logits, y) (default cross-entropy).</summary>
    public Func<Tensor, Tensor, Tensor> Loss { get; init; } = Trainer.CrossEntropy;
    /// <summary>Chunk size of the passes over the samples (default 1024; does not change the result).</summary>
    public int BatchSize { get; init; } = 1024;

    /// <summary>The sharpness of <paramref name="kind"/> on <paramref name="set"/>.</summary>
    public AdaptiveSharpnessResult Compute(TensorDataSet set, SharpnessKind kind, AdaptiveSharpnessOptions options)
    {
        var o = options.Validate();
        Guard.AtLeast(BatchSize, 1, "batch_size");
        var clock = Stopwatch.StartNew();
        var ps = new Probes(model, device) { Groups = Groups }.Selected().Select(p => (Tensor)p.P).ToList();
        var saved = ProbeMath.Snapshot(ps);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var w0 = ProbeMath.Flatten(saved);
            using var scale = o.Adaptive ? w0.abs().add_(o.Eta) : ones_like(w0);
            int m = o.SharpnessBatch ?? (int)Math.Min(int.MaxValue, set.Count);
            var rows = new List<(double L0, double E0, double L, double E, double Se)>();
            int b = 0;
            for (long lo = 0; lo < set.Count; lo += m, b++)
            {
                long len = Math.Min(m, set.Count - lo);
                using var batch = new TensorDataSet(set.Name, set.X.narrow(0, lo, len), set.Y.narrow(0, lo, len), set.Classes);
                rows.Add(kind == SharpnessKind.WorstCase
                    ? WorstCase(ps, saved, w0, scale, batch, o, Seeds.Mix(o.Seed + b, 0xA5, -1))
                    : AverageCase(ps, saved, w0, scale, batch, o, o.Seed + b));
                ProbeMath.Restore(ps, saved);
            }
            double l0 = rows.Average(r => r.L0), e0 = rows.Average(r => r.E0), l = rows.Average(r => r.L), e = rows.Average(r => r.E);
            double se = kind == SharpnessKind.AverageCase ? Math.Sqrt(rows.Sum(r => r.Se * r.Se)) / rows.Count : double.NaN;
            return new AdaptiveSharpnessResult(kind, o.Norm, o.Adaptive, o.Rho, o.Eta, l0, e0, l, e, l - l0, se,
                kind == SharpnessKind.WorstCase ? o.Steps : o.Samples, rows.Count, set.Count, clock.Elapsed.TotalSeconds);
        }
        finally
        {
            ProbeMath.Restore(ps, saved);
            foreach (var t in saved) t.Dispose();
            if (wasTraining) model.train();
        }
    }

    /// <summary>The parameters ← w0 + T ⊙ u.</summary>
    private static void Place(List<Tensor> ps, Tensor w0, Tensor scale, Tensor u)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var flat = w0 + scale * u;
        var parts = ProbeMath.Split(flat, ps);
        for (int i = 0; i < ps.Count; i++) ps[i].copy_(parts[i]);
    }

    /// <summary>Projection of u onto the ball ‖u‖_p ≤ ρ (in place).</summary>
    private static void Project(Tensor u, SharpnessNorm norm, double rho)
    {
        using var _ = no_grad();
        if (norm == SharpnessNorm.LInf) { u.clamp_(-rho, rho); return; }
        double n = u.norm().to_type(ScalarType.Float64).item<double>();
        if (n > rho) u.mul_(rho / n);
    }

    /// <summary>APGD checkpoints ⌈p_j·K⌉ (j ≥ 1) for K steps.</summary>
    internal static SortedSet<int> Checkpoints(int steps)
    {
        var p = new List<double> { 0, 0.22 };
        var w = new SortedSet<int> { (int)Math.Ceiling(0.22 * steps - 1e-9) };
        while (true)
        {
            double next = p[^1] + Math.Max(p[^1] - p[^2] - 0.03, 0.06);
            if (next > 1) break;
            p.Add(next);
            w.Add((int)Math.Ceiling(next * steps - 1e-9));   // p_j are decimals: no ceiling of 41.000000000000004
        }
        return w;
    }

    private (double, double, double, double, double) WorstCase(List<Tensor> ps, List<Tensor> saved, Tensor w0, Tensor scale, TensorDataSet batch, AdaptiveSharpnessOptions o, long seed)
    {
        ProbeMath.Restore(ps, saved);
        var (l0, e0) = ProbeMath.Evaluate(model, batch, device, BatchSize, Loss);
        double rho = o.Rho;
        Tensor x;
        using (var g = new Generator((ulong)seed))
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            if (!o.RandomStart) x = zeros_like(w0);
            else if (o.Norm == SharpnessNorm.LInf) x = rand([w0.numel()], dtype: ScalarType.Float64, generator: g).mul_(2 * rho).sub_(rho).to(w0.dtype).to(w0.device);
            else
            {
                var z = randn([w0.numel()], dtype: ScalarType.Float64, generator: g);
                x = z.mul(rho / z.norm().item<double>()).to(w0.dtype).to(w0.device);
            }
            x = x.clone().DetachFromDisposeScope();   // owned here, disposed in the finally below
        }
        Tensor xPrev = x.clone();
        Tensor best = x.clone();
        double bestLoss = double.NegativeInfinity, bestErr = double.NaN, step = 2 * rho;
        var checkpoints = Checkpoints(o.Steps);
        int lastCheckpoint = 0, increases = 0;
        double stepAtCheckpoint = step, bestAtCheckpoint = double.NegativeInfinity, prevLoss = double.NaN;
        bool plain = true;   // the first step, and the first after a restart, take no momentum
        try
        {
            for (int k = 0; k < o.Steps; k++)
            {
                Place(ps, w0, scale, x);
                var (l, e, grad) = ProbeMath.LossAndGradient(model, ps, batch, device, BatchSize, Loss);
                if (k > 0 && l > prevLoss) increases++;
                prevLoss = l;
                if (l > bestLoss)
                {
                    bestLoss = l; bestErr = e;
                    using (no_grad()) best.copy_(x);
                }
                bool restart = false;
                if (checkpoints.Contains(k) && k > lastCheckpoint)
                {
                    bool fewIncreases = increases < 0.75 * (k - lastCheckpoint);
                    bool stalled = step == stepAtCheckpoint && bestLoss == bestAtCheckpoint;
                    if (fewIncreases || stalled) { step *= 0.5; restart = true; }
                    lastCheckpoint = k; increases = 0; stepAtCheckpoint = step; bestAtCheckpoint = bestLoss;
                }
                using (no_grad())
                using (var scope = NewDisposeScope())
                {
                    var gu = ProbeMath.Flatten(grad).mul_(scale);   // ∂L/∂u = T ⊙ ∇_w L
                    if (restart)
                    {
                        // Restart from the best point: its gradient is needed, so take the step from it next time.
                        x.copy_(best); xPrev.copy_(best);
                        plain = true;
                        foreach (var t in grad) t.Dispose();
                        continue;
                    }
                    Tensor dir;
                    if (o.Norm == SharpnessNorm.LInf) dir = gu.sign();
                    else
                    {
                        double gn = gu.norm().to_type(ScalarType.Float64).item<double>();
                        dir = gn > 0 ? gu.div(gn) : gu;
                    }
                    var z = x + dir * step;
                    Project(z, o.Norm, rho);
                    if (plain) { xPrev.copy_(x); x.copy_(z); plain = false; }
                    else
                    {
                        var next = x + (z - x) * 0.75 + (x - xPrev) * 0.25;
                        Project(next, o.Norm, rho);
                        xPrev.copy_(x); x.copy_(next);
                    }
                }
                foreach (var t in grad) t.Dispose();
            }
            Place(ps, w0, scale, x);
            var (lf, ef) = ProbeMath.Evaluate(model, batch, device, BatchSize, Loss);
            if (lf > bestLoss) { bestLoss = lf; bestErr = ef; }
            return (l0, e0, bestLoss, bestErr, double.NaN);
        }
        finally { x.Dispose(); xPrev.Dispose(); best.Dispose(); }
    }

    private (double, double, double, double, double) AverageCase(List<Tensor> ps, List<Tensor> saved, Tensor w0, Tensor scale, TensorDataSet batch, AdaptiveSharpnessOptions o, long seed)
    {
        ProbeMath.Restore(ps, saved);
        var (l0, e0) = ProbeMath.Evaluate(model, batch, device, BatchSize, Loss);
        var losses = new double[o.Samples];
        var errors = new double[o.Samples];
        for (int s = 0; s < o.Samples; s++)
        {
            using (var g = new Generator((ulong)Seeds.Mix(seed, 0xA5, s)))
            using (no_grad())
            using (var scope = NewDisposeScope())
            {
                var z = o.Norm == SharpnessNorm.L2
                    ? randn([w0.numel()], dtype: ScalarType.Float64, generator: g)
                    : rand([w0.numel()], dtype: ScalarType.Float64, generator: g).mul_(2).sub_(1);
                Place(ps, w0, scale, z.mul_(o.Rho).to(w0.dtype).to(w0.device));
            }
            (losses[s], errors[s]) = ProbeMath.Evaluate(model, batch, device, BatchSize, Loss);
        }
        double se = o.Samples > 1 ? ProbeMath.Std(losses) / Math.Sqrt(o.Samples) : double.NaN;
        return (l0, e0, losses.Average(), errors.Average(), se);
    }
}
