using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Training;

/// <summary>What one training step reports: the mean loss and the number of misclassified samples of the batch.</summary>
public readonly record struct StepResult(double Loss, long Errors, long Count);

/// <summary>
/// A training algorithm: how one minibatch changes the model. The trainer owns the data order, the dispose scopes,
/// evaluation, metrics, checkpoints and divergence handling; an algorithm owns its optimiser state. Entropy-SGD,
/// replicated SGD, SAM or SWA plug in here (a later issue) by implementing <see cref="Step"/> and the state methods.
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
    /// <summary>Called after each epoch (schedules, averaging).</summary>
    void OnEpochEnd(int epoch) { }
    /// <summary>Saves the algorithm's state (e.g. momentum buffers) to <paramref name="path"/>.</summary>
    void Save(string path);
    /// <summary>Restores what <see cref="Save"/> wrote.</summary>
    void Load(string path);
}

/// <summary>Builds the algorithm for a model once its parameters exist on the training device.</summary>
public delegate ITrainingAlgorithm AlgorithmFactory(nn.Module<Tensor, Tensor> model);

/// <summary>Plain minibatch optimisation with a TorchSharp optimiser (SGD with momentum, or Adam).</summary>
public sealed class OptimizerAlgorithm : ITrainingAlgorithm
{
    private readonly optim.Optimizer _opt;
    /// <summary>The underlying TorchSharp optimiser (over the model's parameters).</summary>
    internal optim.Optimizer Optimizer => _opt;
    private readonly Dictionary<string, object?> _hp;
    public string Name { get; }
    public double LearningRate => _opt.ParamGroups.First().LearningRate;

    private OptimizerAlgorithm(string name, optim.Optimizer opt, Dictionary<string, object?> hp) { Name = name; _opt = opt; _hp = hp; }

    /// <summary>The names accepted by <see cref="Factory"/>.</summary>
    public static readonly string[] Names = ["sgd", "adam"];

    /// <summary>A factory for <c>sgd</c> (momentum, weight decay) or <c>adam</c>; validates every hyperparameter.</summary>
    public static AlgorithmFactory Factory(string name, double lr, double momentum = 0.9, double weightDecay = 0)
    {
        if (!(lr > 0) || !double.IsFinite(lr)) throw new ArgumentOutOfRangeException(nameof(lr), $"lr must be a finite number > 0 (got {lr}).");
        if (!(momentum >= 0 && momentum < 1)) throw new ArgumentOutOfRangeException(nameof(momentum), $"momentum must lie in [0, 1) (got {momentum}).");
        if (!(weightDecay >= 0) || !double.IsFinite(weightDecay)) throw new ArgumentOutOfRangeException(nameof(weightDecay), $"weight_decay must be a finite number >= 0 (got {weightDecay}).");
        return name switch
        {
            "sgd" => m => new OptimizerAlgorithm("sgd", optim.SGD(m.parameters(), lr, momentum: momentum, weight_decay: weightDecay),
                new() { ["lr"] = lr, ["momentum"] = momentum, ["weight_decay"] = weightDecay }),
            "adam" => m => new OptimizerAlgorithm("adam", optim.Adam(m.parameters(), lr, weight_decay: weightDecay),
                new() { ["lr"] = lr, ["beta1"] = 0.9, ["beta2"] = 0.999, ["eps"] = 1e-8, ["weight_decay"] = weightDecay }),
            _ => throw new ArgumentException($"optimizer must be one of {string.Join("|", Names)} (got '{name}')."),
        };
    }

    public IReadOnlyDictionary<string, object?> Describe() => _hp;

    public StepResult Step(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Func<Tensor, Tensor, Tensor> lossFn)
    {
        _opt.zero_grad();
        var logits = model.forward(x);
        var loss = lossFn(logits, y);
        loss.backward();
        _opt.step();
        long errors = logits.argmax(1).ne(y).sum().item<long>();
        return new StepResult(loss.item<float>(), errors, y.shape[0]);
    }

    public void Save(string path) => Helper.save_state_dict(path);
    public void Load(string path) => Helper.load_state_dict(path);
    private TorchSharp.Modules.OptimizerHelper Helper => _opt as TorchSharp.Modules.OptimizerHelper
        ?? throw new NotSupportedException($"{Name}: this optimiser cannot save its state.");
    public void Dispose() => _opt.Dispose();
}
