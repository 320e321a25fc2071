using System.Diagnostics;
using System.Text;
using FlatMinima.Numerics;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Flatness;

/// <summary>What happens to BatchNorm running statistics at a point of a loss-landscape picture. Models without
/// BatchNorm ignore it (the results then say <c>none</c>).</summary>
public enum LandscapeBatchNorm
{
    /// <summary>Reset and recompute the running mean and variance at every point with one pass over the training data
    /// in train mode (<see cref="BatchNormUpdate.Run"/>), then evaluate in eval mode. The default of the line: two
    /// models' statistics do not describe the weights between them.</summary>
    Recompute,
    /// <summary>Keep the model's own running statistics (eval mode throughout). The default of the surface, whose
    /// directions leave BatchNorm parameters unchanged, as in Li et al.'s code.</summary>
    Keep,
    /// <summary>Line only: interpolate the floating-point buffers like the weights, (1 − t)·b_A + t·b_B (integer counters
    /// keep model A's values).</summary>
    Interpolate,
}

/// <summary>Options of <see cref="LossLandscape.Interpolate"/>.</summary>
public sealed record InterpolationOptions
{
    /// <summary>First t (default −0.5: the line extends beyond model A, as in Li et al.'s pictures).</summary>
    public double From { get; init; } = -0.5;
    /// <summary>Last t (default 1.5).</summary>
    public double To { get; init; } = 1.5;
    /// <summary>Points of the uniform t grid (default 41: steps of 0.05 with the defaults, t = 0 and 1 included).</summary>
    public int Points { get; init; } = 41;
    /// <summary>BatchNorm policy (default <see cref="LandscapeBatchNorm.Recompute"/>; Keep is not allowed on a line).</summary>
    public LandscapeBatchNorm BatchNorm { get; init; } = LandscapeBatchNorm.Recompute;
    /// <summary>Batch size of the BatchNorm recomputation (default 256).</summary>
    public int BnBatchSize { get; init; } = 256;

    public InterpolationOptions Validate()
    {
        Guard.Finite(From, "t_from");
        Guard.Finite(To, "t_to");
        if (!(To > From)) throw new ArgumentOutOfRangeException(nameof(To), $"t_to must be greater than t_from (got {From} .. {To}).");
        Guard.AtLeast(Points, 2, "points");
        Guard.AtLeast(BnBatchSize, 1, "bn_batch_size");
        if (BatchNorm == LandscapeBatchNorm.Keep)
            throw new ArgumentOutOfRangeException(nameof(BatchNorm), "the BatchNorm policy of a line must be recompute|interpolate (got keep).");
        return this;
    }
}

/// <summary>One point of the line w(t) = (1 − t) w_A + t w_B. Errors are fractions; the test columns are NaN
/// without a test set.</summary>
public sealed record InterpolationPoint(double T, double TrainLoss, double TrainError, double TestLoss, double TestError);

/// <summary>The loss and error along the line between two models.</summary>
/// <param name="Points">One row per t.</param>
/// <param name="Distance">‖w_B − w_A‖₂ over the interpolated parameters.</param>
/// <param name="BatchNorm">The BatchNorm policy applied: recompute, interpolate, or none (model without BatchNorm).</param>
/// <param name="Seconds">Wall time.</param>
public sealed record InterpolationResult(IReadOnlyList<InterpolationPoint> Points, double Distance, string BatchNorm, double Seconds)
{
    /// <summary>CSV: <c>t,train_loss,train_error,test_loss,test_error</c> (errors as fractions; empty test columns
    /// without a test set).</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder("t,train_loss,train_error,test_loss,test_error\n");
        foreach (var p in Points)
            sb.AppendJoin(',', new[] { p.T, p.TrainLoss, p.TrainError, p.TestLoss, p.TestError }.Select(SpectralDensityResult.F)).Append('\n');
        return sb.ToString();
    }
}

/// <summary>Options of <see cref="LossLandscape.Surface"/>.</summary>
public sealed record SurfaceOptions
{
    /// <summary>The grid spans α, β ∈ [−Extent, Extent] (default 1: one filter norm in each direction, as Li et al.).</summary>
    public double Extent { get; init; } = 1;
    /// <summary>Points per axis (default 21; odd, so that (0, 0), the model itself, is a grid point).</summary>
    public int Points { get; init; } = 21;
    /// <summary>BatchNorm policy (default <see cref="LandscapeBatchNorm.Keep"/>; Recompute costs a training pass per point).</summary>
    public LandscapeBatchNorm BatchNorm { get; init; } = LandscapeBatchNorm.Keep;
    /// <summary>Batch size of the BatchNorm recomputation (default 256).</summary>
    public int BnBatchSize { get; init; } = 256;
    /// <summary>Seed of the two random directions: direction a ∈ {0, 1} draws parameter i from generator seed
    /// Mix(seed, 0x11D + a, i).</summary>
    public long Seed { get; init; }

    public SurfaceOptions Validate()
    {
        Guard.Positive(Extent, "extent");
        Guard.AtLeast(Points, 2, "points");
        Guard.AtLeast(BnBatchSize, 1, "bn_batch_size");
        if (BatchNorm == LandscapeBatchNorm.Interpolate)
            throw new ArgumentOutOfRangeException(nameof(BatchNorm), "the BatchNorm policy of a surface must be keep|recompute (got interpolate).");
        return this;
    }
}

/// <summary>One grid point of the surface L(w + α d₁ + β d₂) (error as a fraction).</summary>
public sealed record SurfacePoint(double Alpha, double Beta, double Loss, double Error);

/// <summary>The loss surface around a model along two filter-normalised random directions.</summary>
/// <param name="Points">Row-major: β varies fastest.</param>
/// <param name="PointsPerAxis">Grid points per axis.</param>
/// <param name="Extent">Half-width of the grid.</param>
/// <param name="Seed">Seed of the directions.</param>
/// <param name="BatchNorm">keep, recompute or none.</param>
/// <param name="DirectionCosine">cos(d₁, d₂): near 0 in high dimension (the directions are random, not orthogonalised).</param>
/// <param name="Seconds">Wall time.</param>
public sealed record SurfaceResult(IReadOnlyList<SurfacePoint> Points, int PointsPerAxis, double Extent, long Seed, string BatchNorm, double DirectionCosine, double Seconds)
{
    /// <summary>CSV: <c>alpha,beta,loss,error</c>.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder("alpha,beta,loss,error\n");
        foreach (var p in Points)
            sb.AppendJoin(',', new[] { p.Alpha, p.Beta, p.Loss, p.Error }.Select(SpectralDensityResult.F)).Append('\n');
        return sb.ToString();
    }
}

/// <summary>
/// Loss-landscape pictures (Li et al. (2018) [<c>li2018visualizing</c>]): the loss and error along the straight line
/// between two trained models, and the loss surface around one model along two filter-normalised random directions.
/// Conventions of <see cref="Probes"/>: the selected parameter groups (the others stay at the model's values), eval
/// mode for every evaluation, directions drawn on the CPU from seeded generators and moved to the device, the model's
/// parameters and buffers restored exactly afterwards. The BatchNorm policy is explicit (<see cref="LandscapeBatchNorm"/>).
/// </summary>
public sealed class LossLandscape(nn.Module<Tensor, Tensor> model, Device device)
{
    /// <summary>Parameter groups (name prefixes, as <see cref="Probes.Groups"/>; null = all trainable parameters).</summary>
    public IReadOnlyList<string>? Groups { get; init; }
    /// <summary>Per-batch mean loss ℓ(logits, y) (default cross-entropy).</summary>
    public Func<Tensor, Tensor, Tensor> Loss { get; init; } = Trainer.CrossEntropy;
    /// <summary>Chunk size of the evaluation passes (default 1024; does not change the result).</summary>
    public int BatchSize { get; init; } = 1024;

    private List<Tensor> SelectedParams(nn.Module<Tensor, Tensor> m) =>
        new Probes(m, device) { Groups = Groups }.Selected().Select(p => (Tensor)p.P).ToList();

    /// <summary>
    /// The loss and error of w(t) = (1 − t) w_A + t w_B for t on the grid of <paramref name="options"/>, where w_A are
    /// this probe's model's weights and w_B those of <paramref name="other"/> (same architecture), on
    /// <paramref name="train"/> and, if given, <paramref name="test"/>. BatchNorm statistics are recomputed on
    /// <paramref name="train"/> at every t (default) or interpolated.
    /// </summary>
    public InterpolationResult Interpolate(nn.Module<Tensor, Tensor> other, TensorDataSet train, TensorDataSet? test, InterpolationOptions options)
    {
        var o = options.Validate();
        Guard.AtLeast(BatchSize, 1, "batch_size");
        var clock = Stopwatch.StartNew();
        var ps = SelectedParams(model);
        var names = new Probes(model, device) { Groups = Groups }.Selected().Select(p => p.Name).ToList();
        var otherByName = other.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        var pb = names.Select(n => otherByName.TryGetValue(n, out var t) ? t : throw new ArgumentException($"the second model has no parameter '{n}' (both models must share one architecture).", nameof(other))).ToList();
        for (int i = 0; i < ps.Count; i++)
            if (!ps[i].shape.SequenceEqual(pb[i].shape))
                throw new ArgumentException($"parameter '{names[i]}' has shape [{string.Join(",", ps[i].shape)}] in the first model and [{string.Join(",", pb[i].shape)}] in the second.", nameof(other));
        var bns = ModuleOps.BatchNorms(model);
        var bufA = ModuleOps.Buffers(model);
        var bufB = ModuleOps.Buffers(other);
        if (bns.Count > 0 && bufA.Count != bufB.Count) throw new ArgumentException("the two models have different BatchNorm buffers.", nameof(other));
        var saved = ProbeMath.Snapshot(ps);
        var savedB = ProbeMath.Snapshot(pb);
        var savedBuffers = ModuleOps.SnapshotBuffers(model);
        bool wasTraining = model.training;
        double distance = Math.Sqrt(ModuleOps.SquaredDistance(saved, savedB));
        var points = new List<InterpolationPoint>();
        try
        {
            for (int i = 0; i < o.Points; i++)
            {
                double t = o.From + (o.To - o.From) * i / (o.Points - 1);
                using (no_grad())
                {
                    for (int j = 0; j < ps.Count; j++)
                    {
                        using var scope = NewDisposeScope();
                        ps[j].copy_(saved[j] * (1 - t) + savedB[j].to(saved[j].device) * t);
                    }
                    if (bns.Count > 0 && o.BatchNorm == LandscapeBatchNorm.Interpolate)
                        for (int j = 0; j < bufA.Count; j++)
                        {
                            if (!bufA[j].is_floating_point()) { bufA[j].copy_(savedBuffers[j]); continue; }
                            using var scope = NewDisposeScope();
                            bufA[j].copy_(savedBuffers[j] * (1 - t) + bufB[j].to(bufA[j].device) * t);
                        }
                }
                if (bns.Count > 0 && o.BatchNorm == LandscapeBatchNorm.Recompute) BatchNormUpdate.Run(model, train, device, o.BnBatchSize);
                model.eval();
                var (trl, tre) = ProbeMath.Evaluate(model, train, device, BatchSize, Loss);
                var (tel, tee) = test is null ? (double.NaN, double.NaN) : ProbeMath.Evaluate(model, test, device, BatchSize, Loss);
                points.Add(new InterpolationPoint(t, trl, tre, tel, tee));
            }
        }
        finally
        {
            ProbeMath.Restore(ps, saved);
            ModuleOps.RestoreBuffers(model, savedBuffers);
            foreach (var s in saved.Concat(savedB).Concat(savedBuffers)) s.Dispose();
            if (wasTraining) model.train(); else model.eval();
        }
        string policy = bns.Count == 0 ? "none" : o.BatchNorm.ToString().ToLowerInvariant();
        return new InterpolationResult(points, distance, policy, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// A filter-normalised copy of the random direction <paramref name="direction"/> for the weight
    /// <paramref name="weight"/> (Li et al.'s "filter" normalisation): for a weight of two or more dimensions, every
    /// slice along the first dimension (a convolution filter, the incoming weights of one neuron) is rescaled to the
    /// Frobenius norm of the same slice of the weight, d_i ← d_i ‖w_i‖/(‖d_i‖ + 10⁻¹⁰); a one-dimensional parameter
    /// (bias, BatchNorm scale and shift) gets a zero direction, as Li et al.'s default of ignoring biases and
    /// BatchNorm parameters.
    /// </summary>
    public static Tensor FilterNormalise(Tensor direction, Tensor weight)
    {
        using var _ = no_grad();
        if (weight.dim() <= 1) return zeros_like(weight);
        using var scope = NewDisposeScope();
        long rows = weight.shape[0];
        var d = direction.reshape(rows, -1);
        var w = weight.reshape(rows, -1);
        var dn = d.norm(1, keepdim: true);
        var wn = w.norm(1, keepdim: true);
        return (d * (wn / (dn + 1e-10))).reshape(weight.shape).MoveToOuterDisposeScope();
    }

    /// <summary>Direction a ∈ {0, 1} of <see cref="Surface"/> for the selected parameters (Gaussian, filter-normalised),
    /// one tensor per parameter on the model's device; the caller disposes them.</summary>
    public List<Tensor> Direction(int a, long seed)
    {
        var ps = SelectedParams(model);
        var dir = new List<Tensor>(ps.Count);
        for (int i = 0; i < ps.Count; i++)
        {
            using var g = new Generator((ulong)Seeds.Mix(seed, 0x11D + a, i));
            using var scope = NewDisposeScope();
            var z = randn(ps[i].shape, dtype: ScalarType.Float64, generator: g).to(ps[i].dtype).to(ps[i].device);
            dir.Add(FilterNormalise(z, ps[i].detach()).DetachFromDisposeScope());   // the caller owns the directions
        }
        return dir;
    }

    /// <summary>
    /// L(w + α d₁ + β d₂) and the error on <paramref name="set"/> for α, β on the grid of <paramref name="options"/>,
    /// d₁, d₂ the directions of <see cref="Direction"/>. BatchNorm running statistics are kept (default) or
    /// recomputed on <paramref name="set"/> at every point.
    /// </summary>
    public SurfaceResult Surface(TensorDataSet set, SurfaceOptions options)
    {
        var o = options.Validate();
        Guard.AtLeast(BatchSize, 1, "batch_size");
        var clock = Stopwatch.StartNew();
        var ps = SelectedParams(model);
        var saved = ProbeMath.Snapshot(ps);
        var savedBuffers = ModuleOps.SnapshotBuffers(model);
        bool hasBn = ModuleOps.BatchNorms(model).Count > 0;
        bool wasTraining = model.training;
        var d1 = Direction(0, o.Seed);
        var d2 = Direction(1, o.Seed);
        double dot = 0, n1 = 0, n2 = 0;
        using (no_grad())
            for (int i = 0; i < ps.Count; i++)
            {
                dot += (d1[i] * d2[i]).sum().to_type(ScalarType.Float64).item<double>();
                n1 += d1[i].pow(2).sum().to_type(ScalarType.Float64).item<double>();
                n2 += d2[i].pow(2).sum().to_type(ScalarType.Float64).item<double>();
            }
        double cosine = n1 > 0 && n2 > 0 ? dot / Math.Sqrt(n1 * n2) : double.NaN;
        var points = new List<SurfacePoint>();
        try
        {
            for (int i = 0; i < o.Points; i++)
            {
                double alpha = o.Extent * (2 * i - (o.Points - 1)) / (o.Points - 1);   // exactly 0 at the centre
                for (int j = 0; j < o.Points; j++)
                {
                    double beta = o.Extent * (2 * j - (o.Points - 1)) / (o.Points - 1);
                    using (no_grad())
                        for (int k = 0; k < ps.Count; k++)
                        {
                            using var scope = NewDisposeScope();
                            ps[k].copy_(saved[k] + d1[k] * alpha + d2[k] * beta);
                        }
                    if (hasBn && o.BatchNorm == LandscapeBatchNorm.Recompute) BatchNormUpdate.Run(model, set, device, o.BnBatchSize);
                    model.eval();
                    var (l, e) = ProbeMath.Evaluate(model, set, device, BatchSize, Loss);
                    points.Add(new SurfacePoint(alpha, beta, l, e));
                }
            }
        }
        finally
        {
            ProbeMath.Restore(ps, saved);
            ModuleOps.RestoreBuffers(model, savedBuffers);
            foreach (var t in saved.Concat(savedBuffers).Concat(d1).Concat(d2)) t.Dispose();
            if (wasTraining) model.train(); else model.eval();
        }
        string policy = hasBn ? o.BatchNorm.ToString().ToLowerInvariant() : "none";
        return new SurfaceResult(points, o.Points, o.Extent, o.Seed, policy, cosine, clock.Elapsed.TotalSeconds);
    }
}
