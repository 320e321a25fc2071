using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Training;

/// <summary>
/// Mixed-precision training: bf16 compute with fp32 master weights. The master model (the one the trainer
/// evaluates, checkpoints and probes) keeps fp32 parameters and the optimiser state; a working copy of the same
/// architecture holds bf16 parameters, except BatchNorm, which keeps fp32 affine parameters and running statistics
/// (libtorch's batch norm takes bf16 inputs with fp32 parameters). Each step copies the master weights into the working
/// copy, runs forward and backward in bf16 (loss in fp32), copies the gradients back as fp32 and steps the optimiser on
/// the master weights. bf16 has fp32's exponent range, so no loss scaling is needed; the loss is still checked for
/// NaN/inf by the trainer. BatchNorm running statistics are copied back to the master after each epoch.
/// TorchSharp 0.107 has no autocast, hence the explicit copy.
/// </summary>
public sealed class MixedPrecisionAlgorithm : ITrainingAlgorithm
{
    private readonly nn.Module<Tensor, Tensor> _master, _work;
    private readonly OptimizerAlgorithm _inner;
    private readonly List<Parameter> _pm, _pw;
    private readonly List<Tensor> _bm, _bw;
    public string Name => _inner.Name + "+bf16";
    public double LearningRate => _inner.LearningRate;
    public void ScaleLearningRate(double factor) => _inner.ScaleLearningRate(factor);
    /// <summary>When false, <see cref="Step"/> does not read the loss back (no device synchronisation); for benchmarks.</summary>
    public bool ReadLoss { get; set; } = true;

    /// <param name="master">The fp32 model.</param>
    /// <param name="work">A fresh instance of the same architecture on the same device (its values are overwritten).</param>
    /// <param name="inner">The optimiser over <paramref name="master"/>'s parameters.</param>
    public MixedPrecisionAlgorithm(nn.Module<Tensor, Tensor> master, nn.Module<Tensor, Tensor> work, OptimizerAlgorithm inner)
    {
        _master = master; _work = work; _inner = inner;
        _work.to(ScalarType.BFloat16);
        foreach (var m in _work.modules())
            if (m is BatchNorm1d or BatchNorm2d or BatchNorm3d) m.to(ScalarType.Float32);
        _pm = master.parameters().ToList(); _pw = work.parameters().ToList();
        _bm = master.buffers().ToList(); _bw = work.buffers().ToList();
        if (_pm.Count != _pw.Count || _bm.Count != _bw.Count) throw new ArgumentException("the working copy must have the master's architecture.");
        using var _ = no_grad();
        for (int i = 0; i < _bm.Count; i++) _bw[i].copy_(_bm[i]);
        foreach (var p in _pw) p.requires_grad = true;
    }

    public IReadOnlyDictionary<string, object?> Describe() =>
        new Dictionary<string, object?>(_inner.Describe()) { ["precision"] = "bf16 compute, fp32 master weights, fp32 BatchNorm", ["loss_scaling"] = "none (bf16)" };

    public StepResult Step(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Func<Tensor, Tensor, Tensor> lossFn)
    {
        using (no_grad())
            for (int i = 0; i < _pm.Count; i++) _pw[i].copy_(_pm[i]);
        _work.zero_grad();
        _inner.Optimizer.ZeroGrad();
        var logits = _work.forward(x.to(ScalarType.BFloat16)).to(ScalarType.Float32);
        var loss = lossFn(logits, y);
        loss.backward();
        using (no_grad())
            for (int i = 0; i < _pm.Count; i++)
            {
                var gw = _pw[i].grad;
                if (gw is null) continue;
                var g32 = gw.to(ScalarType.Float32);
                if (_pm[i].grad is null) _pm[i].grad = g32;
                else _pm[i].grad!.copy_(g32);
            }
        _inner.Optimizer.Step();
        if (!ReadLoss) return new StepResult(0, 0, y.shape[0]);
        long errors = logits.argmax(1).ne(y).sum().item<long>();
        return new StepResult(loss.item<float>(), errors, y.shape[0]);
    }

    /// <summary>Copies the working copy's BatchNorm statistics into the master.</summary>
    public void SyncBuffers()
    {
        using var _ = no_grad();
        for (int i = 0; i < _bm.Count; i++) _bm[i].copy_(_bw[i]);
    }

    public void OnEpochEnd(int epoch) => SyncBuffers();
    public void Save(string path) { SyncBuffers(); _inner.Save(path); }
    public void Load(string path)
    {
        _inner.Load(path);
        using var _ = no_grad();
        for (int i = 0; i < _bm.Count; i++) _bw[i].copy_(_bm[i]);
    }
    public void Dispose() { _inner.Dispose(); _work.Dispose(); }
}
