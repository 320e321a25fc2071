using FlatMinima.Torch.Data;
using FlatMinima.Torch.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Optim;

/// <summary>How the buffers (BatchNorm running statistics) of a weight average are obtained.</summary>
public enum SwaBufferPolicy
{
    /// <summary>Recomputed on the training data after averaging (<see cref="BatchNormUpdate"/>; default, SWA paper).</summary>
    Recompute,
    /// <summary>Averaged like the parameters (float buffers; integer counters take the live value).</summary>
    Average,
    /// <summary>Copied from the live model.</summary>
    CopyLive,
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
        Check.AtLeast(batchSize, 1, "bn_batch_size");
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

/// <summary>Options of <see cref="Swa"/> (SWA, and periodic SWA when <see cref="PswaStart"/> is set).</summary>
public sealed record SwaOptions
{
    /// <summary>lr_init (default 0.05).</summary>
    public double Lr { get; init; } = 0.05;
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; } = 5e-4;
    /// <summary>swa_start (1-based epoch): averaging (and the constant swa_lr) begins at the end of this epoch.</summary>
    public int SwaStart { get; init; } = 8;
    /// <summary>swa_lr (default 0.01).</summary>
    public double SwaLr { get; init; } = 0.01;
    /// <summary>Use the SWA schedule (default true); false: lr_init until swa_start, then swa_lr.</summary>
    public bool UseSchedule { get; init; } = true;
    /// <summary>Average every this many epochs (swa_c_epochs, default 1).</summary>
    public int Cycle { get; init; } = 1;
    public SwaBufferPolicy Buffers { get; init; } = SwaBufferPolicy.Recompute;
    /// <summary>Batch size of the BatchNorm update (default 256).</summary>
    public int BnBatchSize { get; init; } = 256;
    /// <summary>Periodic SWA (docs/optim.md#pswa): the epoch after which periodic averaging starts (null = plain SWA).</summary>
    public int? PswaStart { get; init; }
    /// <summary>P, the period in epochs: at every epoch with (epoch − pswa_start) % P == 0 (up to swa_start) the live
    /// model restarts from the average and the optimiser state is reset (default 20).</summary>
    public int Period { get; init; } = 20;

    public SwaOptions Validate()
    {
        Check.Positive(Lr, "lr");
        Check.Interval(Momentum, 0, 1, "momentum");
        if (Nesterov && Momentum == 0) throw new ArgumentException("nesterov needs momentum > 0.", "nesterov");
        Check.NonNegative(WeightDecay, "weight_decay");
        Check.AtLeast(SwaStart, 1, "swa_start");
        Check.Positive(SwaLr, "swa_lr");
        Check.AtLeast(Cycle, 1, "swa_cycle");
        Check.AtLeast(BnBatchSize, 1, "bn_batch_size");
        if (PswaStart is int ps)
        {
            if (ps < 0 || ps >= SwaStart) throw new ArgumentOutOfRangeException(nameof(PswaStart), $"pswa_start must lie in [0, swa_start = {SwaStart}) (got {ps}).");
            Check.AtLeast(Period, 1, "pswa_period");
        }
        return this;
    }
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
public sealed class Swa : ITrainingAlgorithm
{
    private readonly SwaOptions _o;
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
        _o = options.Validate();
        _avg = estimator; _live = live; _bnData = bnData;
        ModuleOps.Copy(_avg, _live);
        _avgP = ModuleOps.Params(_avg); _liveP = ModuleOps.Params(_live);
        _device = _liveP[0].device;
        _opt = new MomentumSgd(_liveP, _o.Momentum, _o.WeightDecay, _o.Nesterov);
        if (_o.Buffers == SwaBufferPolicy.Recompute && bnData is null && ModuleOps.BatchNorms(live).Count > 0)
            throw new ArgumentException("swa_buffers=recompute needs the training data for the BatchNorm update.", nameof(bnData));
    }

    public string Name => _o.PswaStart is null ? "swa" : "pswa";
    public SwaOptions Options => _o;
    public nn.Module<Tensor, Tensor> Live => _live;
    public int AveragedCount => _n;
    public MomentumSgd Optimizer => _opt;

    /// <summary>Learning rate of 1-based epoch <paramref name="epoch"/>.</summary>
    public double LrAt(int epoch)
    {
        if (epoch > _o.SwaStart) return _o.SwaLr;
        return _o.UseSchedule ? SwaSchedule.At(epoch - 1, _o.Lr, _o.SwaLr, _o.SwaStart) : _o.Lr;
    }

    public double LearningRate => LrAt(_epoch + 1);

    public IReadOnlyDictionary<string, object?> Describe() => new Dictionary<string, object?>
    {
        ["lr"] = _o.Lr, ["momentum"] = _o.Momentum, ["nesterov"] = _o.Nesterov, ["weight_decay"] = _o.WeightDecay, ["swa_start"] = _o.SwaStart,
        ["swa_lr"] = _o.SwaLr, ["swa_schedule"] = _o.UseSchedule, ["swa_cycle"] = _o.Cycle, ["swa_buffers"] = _o.Buffers.ToString().ToLowerInvariant(),
        ["bn_batch_size"] = _o.BnBatchSize, ["pswa_start"] = _o.PswaStart, ["pswa_period"] = _o.PswaStart is null ? null : _o.Period,
    };

    public StepResult Step(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Func<Tensor, Tensor, Tensor> lossFn)
    {
        _live.train();
        var (loss, logits) = ModuleOps.ForwardBackward(_live, x, y, lossFn);
        _opt.StepWithGrad(LrAt(_epoch + 1));
        var (lossValue, errors) = BatchReadback.LossAndErrors(loss, logits, y);
        return new StepResult(lossValue, errors, y.shape[0]);
    }

    private bool Averaging(int e) => _o.PswaStart is int ps
        ? e > ps
        : e >= _o.SwaStart && (e - _o.SwaStart) % _o.Cycle == 0;

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
            if (_o.PswaStart is int ps && epoch <= _o.SwaStart && (epoch - ps) % _o.Period == 0)
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
