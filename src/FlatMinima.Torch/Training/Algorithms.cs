using FlatMinima.Numerics;
using FlatMinima.Torch.Optim;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Training;

/// <summary>What one training step reports: the mean loss and the number of misclassified samples of the batch.</summary>
public readonly record struct StepResult(double Loss, long Errors, long Count);

/// <summary>
/// A training algorithm: how one minibatch changes the model. The trainer owns the data order, the dispose scopes,
/// evaluation, metrics, checkpoints and divergence handling; an algorithm owns its optimiser state. Entropy-SGD,
/// replicated SGD, SAM and SWA plug in here by implementing <see cref="Step"/> and the state methods.
/// <see cref="Step"/> runs inside the trainer's dispose scope for the batch, so temporaries need no disposal; state
/// kept across steps must be created outside it or detached with <c>MoveToOuterDisposeScope</c>.
/// </summary>
public interface ITrainingAlgorithm : IDisposable
{
    /// <summary>Name for manifests.</summary>
    string Name { get; }
    /// <summary>Hyperparameters for the manifest.</summary>
    IReadOnlyDictionary<string, object?> Describe();
    /// <summary>The current learning rate (for metrics).</summary>
    double LearningRate { get; }
    /// <summary>One optimisation step on batch (x, y); <paramref name="lossFn"/> maps (logits, labels) to a scalar loss.</summary>
    StepResult Step(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Func<Tensor, Tensor, Tensor> lossFn);
    /// <summary>Sets the learning rate to <paramref name="factor"/> × the base rate until the next call (the trainer's
    /// <see cref="LrSchedule"/>). Algorithms with a schedule of their own (SWA) refuse.</summary>
    void ScaleLearningRate(double factor) => throw new NotSupportedException($"{Name} keeps its own learning-rate schedule; a trainer schedule does not apply to it.");
    /// <summary>Called after each epoch (schedules, averaging).</summary>
    void OnEpochEnd(int epoch) { }
    /// <summary>Saves the algorithm's state (e.g. momentum buffers) to <paramref name="path"/>.</summary>
    void Save(string path);
    /// <summary>Restores what <see cref="Save"/> wrote.</summary>
    void Load(string path);
}

/// <summary>Reads a batch's loss and error count back from the device.</summary>
public static class BatchReadback
{
    /// <summary>The mean loss (the float32 value, widened) and the number of misclassified samples, copied to the host
    /// in one transfer: one device synchronisation per step instead of two.</summary>
    public static (double Loss, long Errors) LossAndErrors(Tensor loss, Tensor logits, Tensor y)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var both = cat([loss.detach().reshape(1).to_type(ScalarType.Float64), logits.argmax(1).ne(y).sum().reshape(1).to_type(ScalarType.Float64)]).cpu();
        var v = both.data<double>();
        return (v[0], (long)v[1]);
    }
}

/// <summary>Builds the algorithm for a model once its parameters exist on the training device.</summary>
public delegate ITrainingAlgorithm AlgorithmFactory(nn.Module<Tensor, Tensor> model);

/// <summary>An optimiser over a fixed set of parameters whose gradients are already computed.</summary>
public interface IParameterOptimizer : IDisposable
{
    double LearningRate { get; set; }
    void ZeroGrad();
    void Step();
    void Save(string path);
    void Load(string path);
}

/// <summary>A TorchSharp <c>torch.optim</c> optimiser.</summary>
internal sealed class TorchOptimizer(optim.Optimizer opt) : IParameterOptimizer
{
    public double LearningRate
    {
        get => opt.ParamGroups.First().LearningRate;
        set { foreach (var g in opt.ParamGroups) g.LearningRate = value; }
    }
    public void ZeroGrad() => opt.zero_grad();
    public void Step() => opt.step();
    public void Save(string path) => Helper.save_state_dict(path);
    public void Load(string path) => Helper.load_state_dict(path);
    private OptimizerHelper Helper => opt as OptimizerHelper ?? throw new NotSupportedException("this optimiser cannot save its state.");
    public void Dispose() => opt.Dispose();
}

/// <summary>
/// SGD with momentum and weight decay (the update of <c>torch.optim.SGD</c>, dampening 0, no Nesterov:
/// g = ∇ + wd·w, b = μ b + g (b = g at the first step), w ← w − lr·b) on a single flat buffer: the parameters become
/// views of one contiguous tensor and their gradients views of another, so one update is a handful of kernels instead
/// of several per parameter tensor. Parameters must not be replaced after construction.
/// </summary>
public sealed class FlatSgd : IParameterOptimizer
{
    private readonly FlatParameters _flat;
    private readonly Tensor _p, _g;
    private Tensor? _buf;
    private readonly double _momentum, _wd;
    private double _lr;
    public double LearningRate { get => _lr; set => _lr = value; }

    public FlatSgd(IEnumerable<Parameter> parameters, double lr, double momentum, double weightDecay)
    {
        _lr = lr; _momentum = momentum; _wd = weightDecay;
        _flat = new FlatParameters(parameters.Cast<Tensor>());
        _p = _flat.Data; _g = _flat.Grad;
    }

    public void ZeroGrad() => _g.zero_();

    public void Step()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        // In place: the gradient buffer is zeroed before the next backward, and a temporary the size of the network
        // would be a fresh mapping (page faults) on every CPU step.
        var g = _wd != 0 ? _g.add_(_p, alpha: _wd) : _g;
        if (_momentum != 0)
        {
            if (_buf is null) _buf = g.clone().DetachFromDisposeScope();
            else _buf.mul_(_momentum).add_(g);
            g = _buf;
        }
        _p.add_(g, alpha: -_lr);
    }

    public void Save(string path)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write(_buf is not null);
        _buf?.Save(w);
    }

    public void Load(string path)
    {
        using var r = new BinaryReader(File.OpenRead(path));
        if (!r.ReadBoolean()) { _buf?.Dispose(); _buf = null; return; }
        _buf ??= zeros_like(_p);
        _buf.Load(r);
    }

    public void Dispose() { _buf?.Dispose(); _flat.Dispose(); }
}

/// <summary>
/// <see cref="MomentumSgd"/> (PyTorch's SGD update, here with Nesterov momentum, which TorchSharp's <c>torch.optim.SGD</c>
/// factory of this version does not offer) as an <see cref="IParameterOptimizer"/> over the parameters' own gradients.
/// </summary>
public sealed class MomentumSgdOptimizer(IReadOnlyList<Tensor> parameters, double lr, double momentum, double weightDecay, bool nesterov) : IParameterOptimizer
{
    private readonly MomentumSgd _opt = new(parameters, momentum, weightDecay, nesterov);
    public double LearningRate { get; set; } = lr;
    public void ZeroGrad() { foreach (var p in parameters) p.grad?.zero_(); }
    public void Step() => _opt.StepWithGrad(LearningRate);
    public void Save(string path) { using var f = File.Create(path); using var w = new BinaryWriter(f); _opt.Save(w); }
    public void Load(string path) { using var f = File.OpenRead(path); using var r = new BinaryReader(f); _opt.Load(r); }
    public void Dispose() => _opt.Dispose();
}

/// <summary>Plain minibatch optimisation with an <see cref="IParameterOptimizer"/> (SGD with momentum, flat SGD, or Adam).</summary>
public sealed class OptimizerAlgorithm : ITrainingAlgorithm
{
    private readonly IParameterOptimizer _opt;
    private readonly Dictionary<string, object?> _hp;
    /// <summary>The underlying optimiser (over the model's parameters).</summary>
    public IParameterOptimizer Optimizer => _opt;
    public string Name { get; }
    public double LearningRate => _opt.LearningRate;

    private readonly double _baseLr;
    private OptimizerAlgorithm(string name, IParameterOptimizer opt, Dictionary<string, object?> hp) { Name = name; _opt = opt; _hp = hp; _baseLr = opt.LearningRate; }

    public void ScaleLearningRate(double factor) => _opt.LearningRate = _baseLr * factor;

    /// <summary>The names accepted by <see cref="Factory"/>.</summary>
    public static readonly string[] Names = ["sgd", "sgd-flat", "adam"];

    /// <summary>A factory for <c>sgd</c> (torch.optim.SGD with momentum and weight decay; with Nesterov momentum the same
    /// update through <see cref="MomentumSgd"/>), <c>sgd-flat</c> (the same update on one flat buffer,
    /// <see cref="FlatSgd"/>) or <c>adam</c> (<paramref name="momentum"/> is its β1); validates every hyperparameter.</summary>
    public static AlgorithmFactory Factory(string name, double lr, double momentum = 0.9, double weightDecay = 0, bool nesterov = false)
    {
        Guard.Positive(lr, "lr");
        Guard.Interval(momentum, 0, true, 1, false, "momentum");
        Guard.NonNegative(weightDecay, "weight_decay");
        if (nesterov && name != "sgd") throw new ArgumentException($"--nesterov applies to sgd, not {name}.", nameof(nesterov));
        var sgdHp = new Dictionary<string, object?> { ["lr"] = lr, ["momentum"] = momentum, ["weight_decay"] = weightDecay };
        return name switch
        {
            "sgd" when nesterov => m => new OptimizerAlgorithm("sgd", new MomentumSgdOptimizer(ModuleOps.Params(m), lr, momentum, weightDecay, nesterov: true),
                new Dictionary<string, object?>(sgdHp) { ["nesterov"] = true }),
            "sgd" => m => new OptimizerAlgorithm("sgd", new TorchOptimizer(optim.SGD(m.parameters(), lr, momentum: momentum, weight_decay: weightDecay)), sgdHp),
            "sgd-flat" => m => new OptimizerAlgorithm("sgd-flat", new FlatSgd(m.parameters(), lr, momentum, weightDecay), sgdHp),
            "adam" => m => new OptimizerAlgorithm("adam", new TorchOptimizer(optim.Adam(m.parameters(), lr, beta1: momentum, weight_decay: weightDecay)),
                new() { ["lr"] = lr, ["beta1"] = momentum, ["beta2"] = 0.999, ["eps"] = 1e-8, ["weight_decay"] = weightDecay }),
            _ => throw new ArgumentException($"optimizer must be one of {string.Join("|", Names)} (got '{name}')."),
        };
    }

    public IReadOnlyDictionary<string, object?> Describe() => _hp;

    /// <summary>When false, <see cref="Step"/> does not read the loss back (no device synchronisation); for benchmarks.</summary>
    public bool ReadLoss { get; set; } = true;

    public StepResult Step(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Func<Tensor, Tensor, Tensor> lossFn)
    {
        _opt.ZeroGrad();
        var logits = model.forward(x);
        var loss = lossFn(logits, y);
        loss.backward();
        _opt.Step();
        if (!ReadLoss) return new StepResult(0, 0, y.shape[0]);
        var (lossValue, errors) = BatchReadback.LossAndErrors(loss, logits, y);
        return new StepResult(lossValue, errors, y.shape[0]);
    }

    public void Save(string path) => _opt.Save(path);
    public void Load(string path) => _opt.Load(path);
    public void Dispose() => _opt.Dispose();
}
