using System.Text.Json.Serialization;
using FlatMinima.Numerics;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Optim;

/// <summary>How the buffers (BatchNorm running statistics) of a weight average are obtained.</summary>
public enum SwaBufferPolicy
{
    /// <summary>Recomputed on the training data after averaging (<see cref="BatchNormUpdate"/>; default, SWA paper).</summary>
    [JsonStringEnumMemberName("recompute")] Recompute,
    /// <summary>Averaged like the parameters (float buffers; integer counters take the live value).</summary>
    [JsonStringEnumMemberName("average")] Average,
    /// <summary>Copied from the live model.</summary>
    [JsonStringEnumMemberName("copy")] CopyLive,
}

/// <summary>
/// Recomputes the BatchNorm running statistics of a model on a data set (docs/optim.md#swa): every BatchNorm's running mean
/// is reset to 0 and variance to 1, the data go through the model once in train mode under <c>no_grad</c> with the
/// cumulative momentum b/(n + b) for a batch of b samples after n, and the original momenta and the model's mode are
/// restored. The running mean is then the exact mean of the layer's inputs over the data; the running variance the
/// sample-size-weighted mean of the per-batch unbiased variances (the exact unbiased variance with one batch).
/// Only the model passed in is touched. A model without BatchNorm is left alone without a data pass.
/// </summary>
public static class BatchNormUpdate
{
    public static void Run(nn.Module<Tensor, Tensor> model, TensorDataSet data, Device device, int batchSize = 256, long? maxSamples = null)
    {
        Guard.AtLeast(batchSize, 1, "bn_batch_size");
        var bns = ModuleOps.BatchNorms(model).Where(b => b.track_running_stats).ToList();
        if (bns.Count == 0) return;
        var momenta = bns.Select(b => b.momentum).ToList();
        bool wasTraining = model.training;
        try
        {
            foreach (var b in bns) b.reset_running_stats();
            model.train();
            long total = Math.Min(data.Count, maxSamples ?? data.Count), seen = 0;
            using var _ = no_grad();
            for (long lo = 0; lo < total; lo += batchSize)
            {
                using var scope = NewDisposeScope();
                long len = Math.Min(batchSize, total - lo);
                double m = (double)len / (seen + len);
                foreach (var b in bns) b.momentum = m;
                model.forward(data.X.narrow(0, lo, len).to(device));
                seen += len;
            }
        }
        finally
        {
            for (int i = 0; i < bns.Count; i++) bns[i].momentum = momenta[i];
            if (wasTraining) model.train(); else model.eval();
        }
    }
}

/// <summary>The SWA learning-rate schedule of Izmailov et al.'s code (docs/optim.md#swa).</summary>
public static class SwaSchedule
{
    /// <summary>lr for 0-based epoch <paramref name="epoch"/>: t = epoch/swa_start, r = swa_lr/lr_init; lr_init for
    /// t ≤ 0.5, linear to lr_init·r at t = 0.9, lr_init·r after.</summary>
    public static double At(int epoch, double lrInit, double swaLr, int swaStart)
    {
        double t = (double)epoch / swaStart, r = swaLr / lrInit;
        double f = t <= 0.5 ? 1 : t <= 0.9 ? 1 - (1 - r) * (t - 0.5) / 0.4 : r;
        return lrInit * f;
    }
}

/// <summary>
/// Options of <see cref="Swa"/> in its plain form (SWA, Izmailov et al.): SGD from <see cref="OptimizerConfig.Lr"/>
/// (lr_init) on the SWA schedule, averaging from <see cref="SwaStart"/> on at <see cref="SwaLr"/>. A null
/// <see cref="SwaStart"/> is derived from the run's epochs (<see cref="OptimizerConfig.ForRun"/>).
/// </summary>
public record SwaOptions : OptimizerConfig
{
    /// <summary>swa_start (1-based epoch): averaging (and the constant swa_lr) begins at the end of this epoch.</summary>
    [Option("swa-start", "epoch at whose end averaging (and the constant --swa-lr) begins", Range = "[1, inf)", DefaultText = "swa: ⌈0.75·epochs⌉; pswa: epochs")]
    public int? SwaStart { get; init; }
    /// <summary>swa_lr.</summary>
    [Option("swa-lr", "learning rate once averaging has started", Range = "(0, inf)")]
    public double SwaLr { get; init; } = 0.01;
    /// <summary>Use the SWA schedule; false: lr_init until swa_start, then swa_lr.</summary>
    [Option("swa-schedule", "the SWA schedule (lr_init to half of swa_start, linear to swa_lr at 0.9·swa_start); false: lr until swa_start, then swa_lr")]
    public bool UseSchedule { get; init; } = true;
    /// <summary>Average every this many epochs (swa_c_epochs).</summary>
    [Option("swa-cycle", "average every C epochs", Range = "[1, inf)")]
    public int Cycle { get; init; } = 1;
    [Option("swa-buffers", "BatchNorm statistics of the average: recompute (one pass over the training data), average, or copy (the live model's)")]
    public SwaBufferPolicy Buffers { get; init; } = SwaBufferPolicy.Recompute;
    /// <summary>Batch size of the BatchNorm update.</summary>
    [Option("bn-batch-size", "batch size of the BatchNorm update", Range = "[1, inf)")]
    public int BnBatchSize { get; init; } = 256;

    public override bool TakesLrSchedule => false;

    /// <summary>swa_start of a run of <paramref name="epochs"/> epochs when not given.</summary>
    protected virtual int DefaultSwaStart(int epochs) => (int)Math.Ceiling(0.75 * epochs);

    public override OptimizerConfig ForRun(int epochs, long seed) => (this with { SwaStart = SwaStart ?? DefaultSwaStart(epochs) }).Validate();

    public override ITrainingAlgorithm Create(nn.Module<Tensor, Tensor> model, AlgorithmContext context) =>
        new Swa(model, context.NewModel(0), context.Train, (SwaOptions)ForRun(context.Epochs, context.Seed));
}

/// <summary>
/// Periodic SWA (Guo, Jin and Liu; docs/optim.md#pswa): averaging from <see cref="PswaStart"/> on with a restart of the
/// live model from the average every <see cref="Period"/> epochs until swa_start, then SWA. Null values are derived from
/// the run's epochs E: pswa_start ⌈E/4⌉, period ⌈E/8⌉, swa_start E.
/// </summary>
public sealed record PeriodicSwaOptions : SwaOptions
{
    /// <summary>The epoch after which periodic averaging starts.</summary>
    [Option("pswa-start", "epoch after which periodic averaging starts, in [0, swa_start)", Range = "[0, inf)", DefaultText = "⌈epochs/4⌉")]
    public int? PswaStart { get; init; }
    /// <summary>P, the period in epochs: at every epoch with (epoch − pswa_start) % P == 0 (up to swa_start) the live
    /// model restarts from the average and the optimiser state is reset.</summary>
    [Option("pswa-period", "restart the live model from the average every P epochs until swa_start", Range = "[1, inf)", Symbol = "P", DefaultText = "⌈epochs/8⌉")]
    public int? Period { get; init; }

    protected override void ValidateMore()
    {
        if (PswaStart is int ps && SwaStart is int s && (ps < 0 || ps >= s))
            throw new ArgumentOutOfRangeException(nameof(PswaStart), $"pswa_start must lie in [0, swa_start = {s}) (got {ps}).");
    }

    protected override int DefaultSwaStart(int epochs) => epochs;

    public override OptimizerConfig ForRun(int epochs, long seed) => (this with
    {
        SwaStart = SwaStart ?? DefaultSwaStart(epochs),
        PswaStart = PswaStart ?? (int)Math.Ceiling(epochs / 4.0),
        Period = Period ?? Math.Max(1, (int)Math.Ceiling(epochs / 8.0)),
    }).Validate();
}

/// <summary>
/// Stochastic weight averaging (Izmailov et al. 2018) and periodic SWA (Guo, Jin and Liu; docs/optim.md#swa).
/// The algorithm trains a live copy of the network with SGD; the trainer's model is the estimator: a copy of the live
/// model until averaging starts, then the running average w_SWA ← (n·w_SWA + w)/(n + 1) with its buffers from
/// <see cref="SwaOptions.Buffers"/> (BatchNorm recomputed on the training data by default, on the average only — the
/// live model is never touched). Periodic SWA averages from pswa_start on and, every P epochs until swa_start, restarts
/// the live model from the average with a fresh optimiser state and n ← 0; after swa_start it continues as SWA with the
/// constant swa_lr. Epochs are 1-based as in the trainer; the lr of epoch e follows the SWA schedule at e − 1.
/// </summary>
public sealed class Swa : ITrainingAlgorithm, IObservedAlgorithm
{
    private readonly SwaOptions _o;
    private readonly int _swaStart;
    private readonly int? _pswaStart;   // null: plain SWA
    private readonly int _period;
    private readonly nn.Module<Tensor, Tensor> _avg, _live;
    private readonly List<Tensor> _avgP, _liveP;
    private readonly MomentumSgd _opt;
    private readonly TensorDataSet? _bnData;
    private readonly Device _device;
    private int _epoch;  // completed epochs
    private int _n;      // models in the average
    public List<int> Restarts { get; } = [];
    public List<IOptimObserver> Observers { get; } = [];
    /// <summary>Called after every restart of periodic SWA (epoch), before training resumes.</summary>
    public Action<int>? OnRestart { get; set; }
    /// <summary>Called with the 1-based epoch each time the live model is added to the average (before adding).</summary>
    public Action<int, nn.Module<Tensor, Tensor>>? OnCollect { get; set; }

    /// <param name="estimator">The trainer's model: holds the average (or the live copy before averaging).</param>
    /// <param name="live">A second instance of the architecture on the same device (overwritten by the estimator's weights).</param>
    /// <param name="bnData">Training data for the BatchNorm update (needed by <see cref="SwaBufferPolicy.Recompute"/>).</param>
    /// <param name="options">Hyperparameters (validated here).</param>
    public Swa(nn.Module<Tensor, Tensor> estimator, nn.Module<Tensor, Tensor> live, TensorDataSet? bnData, SwaOptions options)
    {
        _o = (SwaOptions)options.Validate();
        _swaStart = _o.SwaStart ?? throw new ArgumentException("swa_start must be given (a run derives it from its epochs).", nameof(options));
        if (_o is PeriodicSwaOptions p)
        {
            _pswaStart = p.PswaStart ?? throw new ArgumentException("pswa_start must be given (a run derives ⌈epochs/4⌉).", nameof(options));
            _period = p.Period ?? throw new ArgumentException("pswa_period must be given (a run derives ⌈epochs/8⌉).", nameof(options));
        }
        _avg = estimator; _live = live; _bnData = bnData;
        ModuleOps.Copy(_avg, _live);
        _avgP = ModuleOps.Params(_avg); _liveP = ModuleOps.Params(_live);
        _device = _liveP[0].device;
        _opt = new MomentumSgd(_liveP, _o.Momentum, _o.WeightDecay, _o.Nesterov);
        if (_o.Buffers == SwaBufferPolicy.Recompute && bnData is null && ModuleOps.BatchNorms(live).Count > 0)
            throw new ArgumentException("swa_buffers=recompute needs the training data for the BatchNorm update.", nameof(bnData));
    }

    public string Name => _pswaStart is null ? "swa" : "pswa";
    public SwaOptions Options => _o;
    public nn.Module<Tensor, Tensor> Live => _live;
    public int AveragedCount => _n;
    public MomentumSgd Optimizer => _opt;

    /// <summary>Learning rate of 1-based epoch <paramref name="epoch"/>.</summary>
    public double LrAt(int epoch)
    {
        if (epoch > _swaStart) return _o.SwaLr;
        return _o.UseSchedule ? SwaSchedule.At(epoch - 1, _o.Lr, _o.SwaLr, _swaStart) : _o.Lr;
    }

    public double LearningRate => LrAt(_epoch + 1);

    public IReadOnlyDictionary<string, object?> Describe() => new Dictionary<string, object?>
    {
        ["lr"] = _o.Lr, ["momentum"] = _o.Momentum, ["nesterov"] = _o.Nesterov, ["weight_decay"] = _o.WeightDecay, ["swa_start"] = _swaStart,
        ["swa_lr"] = _o.SwaLr, ["swa_schedule"] = _o.UseSchedule, ["swa_cycle"] = _o.Cycle, ["swa_buffers"] = _o.Buffers.ToString().ToLowerInvariant(),
        ["bn_batch_size"] = _o.BnBatchSize, ["pswa_start"] = _pswaStart, ["pswa_period"] = _pswaStart is null ? null : _period,
    };

    public StepResult Step(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Func<Tensor, Tensor, Tensor> lossFn)
    {
        _live.train();
        var (loss, logits) = ModuleOps.ForwardBackward(_live, x, y, lossFn);
        _opt.StepWithGrad(LrAt(_epoch + 1));
        var (lossValue, errors) = BatchReadback.LossAndErrors(loss, logits, y);
        return new StepResult(lossValue, errors, y.shape[0]);
    }

    private bool Averaging(int e) => _pswaStart is int ps
        ? e > ps
        : e >= _swaStart && (e - _swaStart) % _o.Cycle == 0;

    public void OnEpochEnd(int epoch)
    {
        _epoch = epoch;
        if (Averaging(epoch))
        {
            OnCollect?.Invoke(epoch, _live);
            using (no_grad())
                for (int i = 0; i < _avgP.Count; i++)
                {
                    if (_n == 0) _avgP[i].copy_(_liveP[i]);
                    else _avgP[i].add_(_liveP[i] - _avgP[i], alpha: 1.0 / (_n + 1));
                }
            UpdateBuffers();
            _n++;
            if (_pswaStart is int ps && epoch <= _swaStart && (epoch - ps) % _period == 0)
            {
                ModuleOps.Copy(_avg, _live);
                _opt.Reset();
                _n = 0;
                Restarts.Add(epoch);
                OnRestart?.Invoke(epoch);
            }
        }
        else if (_n == 0) ModuleOps.Copy(_live, _avg);
        foreach (var ob in Observers)
            ob.Observe(new OptimObservation(Name, epoch, 0, "average", new Dictionary<string, double> { ["n_averaged"] = _n, ["lr"] = LrAt(epoch), ["restarted"] = Restarts.Contains(epoch) ? 1 : 0 }));
    }

    private void UpdateBuffers()
    {
        var ab = ModuleOps.Buffers(_avg); var lb = ModuleOps.Buffers(_live);
        using var _ = no_grad();
        switch (_o.Buffers)
        {
            case SwaBufferPolicy.CopyLive:
                for (int i = 0; i < ab.Count; i++) ab[i].copy_(lb[i]);
                break;
            case SwaBufferPolicy.Average:
                for (int i = 0; i < ab.Count; i++)
                {
                    if (_n == 0 || !ab[i].is_floating_point()) ab[i].copy_(lb[i]);
                    else { using var d = lb[i] - ab[i]; ab[i].add_(d, alpha: 1.0 / (_n + 1)); }
                }
                break;
            default:
                BatchNormUpdate.Run(_avg, _bnData!, _device, _o.BnBatchSize);
                break;
        }
    }

    public void Save(string path)
    {
        using var f = File.Create(path);
        using var w = new BinaryWriter(f);
        w.Write("swa-v1"); w.Write(_epoch); w.Write(_n);
        w.Write(Restarts.Count); foreach (var r in Restarts) w.Write(r);
        ModuleOps.SaveModule(_live, w);
        _opt.Save(w);
    }

    public void Load(string path)
    {
        using var f = File.OpenRead(path);
        using var r = new BinaryReader(f);
        if (r.ReadString() != "swa-v1") throw new InvalidDataException($"{path}: not an SWA state (swa-v1).");
        _epoch = r.ReadInt32(); _n = r.ReadInt32();
        int k = r.ReadInt32(); Restarts.Clear(); for (int i = 0; i < k; i++) Restarts.Add(r.ReadInt32());
        ModuleOps.LoadModule(_live, r);
        _opt.Load(r);
    }

    public void Dispose() { _opt.Dispose(); _live.Dispose(); }
}
