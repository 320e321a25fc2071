using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using FlatMinima.Numerics;
using FlatMinima.Storage;
using FlatMinima.Torch.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Training;

/// <summary>Shape of the learning-rate schedule the trainer applies on top of an algorithm's base learning rate.</summary>
public enum LrScheduleKind
{
    /// <summary>The base learning rate throughout (default).</summary>
    [JsonStringEnumMemberName("constant")] Constant,
    /// <summary>Cosine annealing per epoch (PyTorch's CosineAnnealingLR with T_max = epochs, stepped per epoch):
    /// factor f + (1 − f)·½(1 + cos(π(e − 1)/E)) in epoch e = 1..E, f = <see cref="LrSchedule.MinFactor"/>.</summary>
    [JsonStringEnumMemberName("cosine")] Cosine,
}

/// <summary>
/// A learning-rate schedule as a factor on the algorithm's base learning rate, set by the trainer at the start of each
/// epoch. It is a function of the epoch alone, so a resumed run needs no saved state (`--resume --epochs E` re-plans it
/// for E, like the other run-length schedules). SWA and PSWA keep their own schedule and reject it.
/// </summary>
public sealed record LrSchedule(LrScheduleKind Kind = LrScheduleKind.Constant, double MinFactor = 0)
{
    public static readonly LrSchedule Constant = new();

    /// <summary>lr_min/lr, validated once at construction.</summary>
    public double MinFactor { get; init; } = Guard.ClosedInterval(MinFactor, 0, 1, "lr_min/lr");

    /// <summary>The factor in 1-based epoch <paramref name="epoch"/> of <paramref name="epochs"/>.</summary>
    public double Factor(int epoch, int epochs)
    {
        if (Kind == LrScheduleKind.Constant) return 1;
        double t = Math.Clamp((epoch - 1) / (double)Math.Max(1, epochs), 0, 1);
        return MinFactor + (1 - MinFactor) * 0.5 * (1 + Math.Cos(Math.PI * t));
    }
}

/// <summary>Options of the trainer's loop (validated by <see cref="Trainer.Run"/>). A run's user-facing settings, with
/// their defaults, are <see cref="Experiments.TrainingConfig"/>; this record is what the loop needs of them.</summary>
public sealed record TrainOptions
{
    /// <summary>Learning-rate schedule applied on top of the algorithm's base rate (default constant).</summary>
    public LrSchedule LrSchedule { get; init; } = LrSchedule.Constant;
    public required int Epochs { get; init; }
    public required int BatchSize { get; init; }
    /// <summary>Seed of the data order.</summary>
    public long Seed { get; init; }
    /// <summary>Batch size of evaluation passes (default 1024).</summary>
    public int EvalBatchSize { get; init; } = 1024;
    /// <summary>Checkpoint every this many epochs (default 1); the last epoch is always checkpointed.</summary>
    public int CheckpointEvery { get; init; } = 1;
    /// <summary>The configuration every checkpoint records and a resume verifies (null: none recorded or checked).</summary>
    public RunIdentity? Identity { get; init; }
    /// <summary>How the configuration is named in errors about a checkpoint that belongs to another one.</summary>
    public string IdentityName { get; init; } = "the configuration";
}

/// <summary>One row of <c>metrics.csv</c>.</summary>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double TrainError, double TestLoss, double TestError, double Lr, double Seconds, double ImagesPerSecond);

/// <summary>Per-step and per-epoch hooks (flatness probes during training, logging, progress).</summary>
/// <remarks>A hook that keeps a history of its own appends to it in <see cref="OnEpochEnd"/>, which runs before the
/// epoch's checkpoint is written, and on <see cref="OnResume"/> cuts its rows after the checkpoint's epoch and checks
/// the earlier ones, so that its history always matches the checkpoint a run continues from.</remarks>
public interface ITrainingHook
{
    void OnBatchEnd(int epoch, int batch, int batches, StepResult result) { }
    void OnEpochEnd(EpochMetrics metrics, nn.Module<Tensor, Tensor> model) { }
    /// <summary>The run continues after <paramref name="epoch"/> (0: from the start) from <paramref name="checkpoint"/>
    /// (null when none); a history kept by the hook must end at that epoch.</summary>
    void OnResume(int epoch, string? checkpoint) { }
}

/// <summary>Raised when the loss becomes NaN or infinite; the run directory keeps the last good checkpoint.</summary>
public sealed class TrainingDivergedException(string message, int epoch, int batch) : Exception(message)
{
    public int Epoch { get; } = epoch;
    public int Batch { get; } = batch;
}

/// <summary>The outcome of <see cref="Trainer.Run"/>.</summary>
public sealed record TrainResult(IReadOnlyList<EpochMetrics> Epochs, int StartEpoch, string? LastCheckpoint);

/// <summary>
/// Minibatch training with a pluggable <see cref="ITrainingAlgorithm"/>. Data order: each epoch's permutation is drawn
/// from Core's <see cref="Rng"/> stream (seed, 1 000 000 + epoch), so it needs no saved state and a resumed run sees the
/// same batches. Every batch runs in its own dispose scope, so device memory stays flat across epochs. Checkpoints
/// (<c>checkpoints/epoch-NNNN/{model.bin,optimizer.bin,state.json}</c>, <see cref="CheckpointStore"/>) are written to a
/// temporary folder and renamed into place; the two newest are kept. At the end of an epoch everything of the epoch is
/// written before its checkpoint: the algorithm's observations, the row of <c>metrics.csv</c> (appended), the hooks'
/// rows, then the checkpoint, so a kill at any moment leaves histories that reach at least the last checkpoint, and a
/// resume cuts them back to it. A NaN or infinite loss, or weights that are no longer finite at the end of an epoch,
/// stop the run before anything of the bad epoch is saved.
/// </summary>
/// <remarks>The algorithm is built by <paramref name="algorithmFactory"/> after any checkpoint's weights are loaded, so
/// optimisers that hold on to parameter tensors (or re-lay them out, like <see cref="FlatSgd"/>) see the final ones.</remarks>
public sealed class Trainer(nn.Module<Tensor, Tensor> model, AlgorithmFactory algorithmFactory, DataSplit data, Device device, TrainOptions options, string runDir) : IDisposable
{
    public nn.Module<Tensor, Tensor> Model { get; } = model;
    private ITrainingAlgorithm? _algorithm;
    /// <summary>The algorithm (built by <see cref="Run"/>).</summary>
    public ITrainingAlgorithm Algorithm => _algorithm ?? throw new InvalidOperationException("the algorithm is built when Run starts.");
    public void Dispose() => _algorithm?.Dispose();
    public List<ITrainingHook> Hooks { get; } = [];
    /// <summary>Loss used for training and evaluation: cross-entropy on logits.</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor y) => nn.functional.cross_entropy(logits, y);

    private readonly CheckpointStore _checkpoints = new(Path.Combine(runDir, CheckpointStore.FolderName));
    private readonly MetricsLog _metrics = new(Path.Combine(runDir, MetricsLog.FileName));

    /// <summary>Trains from scratch, or, when <paramref name="resume"/>, from the latest checkpoint (verified against
    /// <see cref="TrainOptions.Identity"/>; from the start when there is none yet), cutting <c>metrics.csv</c> back to
    /// the checkpoint's epoch and checking that it holds every earlier epoch.</summary>
    public TrainResult Run(bool resume = false)
    {
        Guard.AtLeast(options.Epochs, 1, "epochs");
        Guard.AtLeast(options.BatchSize, 1, "batch_size");
        Directory.CreateDirectory(runDir);
        int start = 0;
        var rows = new List<EpochMetrics>();
        string? last = null;
        var log = _metrics.Log;
        if (resume)
        {
            AtomicFile.CleanOrphans(_checkpoints.Directory);
            last = _checkpoints.Latest();
            _algorithm?.Dispose();
            _algorithm = null;
            if (last is not null)
                start = CheckpointStore.Load(last, Model, () => _algorithm = algorithmFactory(Model), options.Identity, options.IdentityName).Epoch;
            if (start > options.Epochs)
                throw new ArgumentOutOfRangeException("epochs", options.Epochs, $"epochs must be at least the epoch of the checkpoint to resume from, {start} ({last}); got {options.Epochs}.");
            log.Verify(log.Reconcile(start), Enumerable.Range(1, start).ToList(), last ?? "no checkpoint");
            rows.AddRange(_metrics.Read());
            foreach (var h in Hooks) h.OnResume(start, last);
        }
        else if (log.Exists) throw new InvalidOperationException($"{_metrics.Path} exists: a new run needs an empty run directory.");
        _algorithm ??= algorithmFactory(Model);
        long n = data.Train.Count;
        int batches = (int)((n + options.BatchSize - 1) / options.BatchSize);
        for (int epoch = start + 1; epoch <= options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            if (options.LrSchedule.Kind != LrScheduleKind.Constant) Algorithm.ScaleLearningRate(options.LrSchedule.Factor(epoch, options.Epochs));
            Model.train();
            long[] perm = Permutation(n, options.Seed, epoch);
            using var permT = tensor(perm);
            double lossSum = 0; long errors = 0, seen = 0;
            for (int b = 0; b < batches; b++)
            {
                using var scope = NewDisposeScope();
                long lo = (long)b * options.BatchSize, len = Math.Min(options.BatchSize, n - lo);
                var idx = permT.narrow(0, lo, len);
                var x = data.Train.X.index_select(0, idx).to(device);
                var y = data.Train.Y.index_select(0, idx).to(device);
                var r = Algorithm.Step(Model, x, y, CrossEntropy);
                if (!double.IsFinite(r.Loss))
                    throw new TrainingDivergedException(
                        $"training diverged at epoch {epoch}, batch {b + 1}/{batches}: loss = {r.Loss.ToString(CultureInfo.InvariantCulture)}; " +
                        LastGood(last), epoch, b + 1);
                lossSum += r.Loss * r.Count; errors += r.Errors; seen += r.Count;
                foreach (var h in Hooks) h.OnBatchEnd(epoch, b + 1, batches, r);
            }
            Algorithm.OnEpochEnd(epoch);
            double trainSecs = clock.Elapsed.TotalSeconds;
            if (CheckpointStore.NonFinite(Model) is string bad)
                throw new TrainingDivergedException($"training diverged in epoch {epoch}: {bad} is not finite at the end of the epoch; {LastGood(last)}", epoch, batches);
            var (teLoss, teErr) = Evaluate(Model, data.Test, device, options.EvalBatchSize);
            var row = new EpochMetrics(epoch, lossSum / seen, (double)errors / seen, teLoss, teErr, Algorithm.LearningRate, clock.Elapsed.TotalSeconds, seen / trainSecs);
            rows.Add(row);
            _metrics.Append(row);
            foreach (var h in Hooks) h.OnEpochEnd(row, Model);
            if (epoch % Math.Max(1, options.CheckpointEvery) == 0 || epoch == options.Epochs)
                last = _checkpoints.Save(epoch, Model, Algorithm, options.Identity);
        }
        return new TrainResult(rows, start, last);
    }

    private static string LastGood(string? checkpoint) =>
        checkpoint is null ? "no checkpoint was written yet." : $"the last good checkpoint is {checkpoint}.";

    /// <summary>Mean cross-entropy and error (fraction) of <paramref name="model"/> on <paramref name="set"/>, in eval
    /// mode (BatchNorm running statistics), batch by batch in dispose scopes. The model's mode is restored.</summary>
    public static (double Loss, double Error) Evaluate(nn.Module<Tensor, Tensor> model, TensorDataSet set, Device device, int batchSize = 1024)
    {
        bool wasTraining = model.training;
        model.eval();
        double loss = 0; long errors = 0;
        using (no_grad())
        {
            for (long lo = 0; lo < set.Count; lo += batchSize)
            {
                using var scope = NewDisposeScope();
                long len = Math.Min(batchSize, set.Count - lo);
                var x = set.X.narrow(0, lo, len).to(device);
                var y = set.Y.narrow(0, lo, len).to(device);
                var logits = model.forward(x);
                loss += nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).item<float>();
                errors += logits.argmax(1).ne(y).sum().item<long>();
            }
        }
        if (wasTraining) model.train();
        return (loss / set.Count, (double)errors / set.Count);
    }

    /// <summary>The permutation of epoch <paramref name="epoch"/> (Fisher–Yates on Core's Rng).</summary>
    public static long[] Permutation(long n, long seed, int epoch)
    {
        var rng = Rng.ForStream(seed, 1_000_000 + epoch);
        var p = new long[n];
        for (long i = 0; i < n; i++) p[i] = i;
        for (long i = n - 1; i > 0; i--)
        {
            long j = (long)(rng.NextDouble() * (i + 1));
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}
