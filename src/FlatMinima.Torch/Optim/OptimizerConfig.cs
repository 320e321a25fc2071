using System.Text.Json.Serialization;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Optim;

/// <summary>
/// What building an optimiser for a run needs beyond its options: fresh models of the same architecture (replicas, the
/// live model of SWA), the training set (replicas' own minibatches, the BatchNorm update of SWA), the device, and the
/// run's length and seed, from which some options are derived (the scoping of γ, the default swa_start).
/// </summary>
/// <param name="NewModel">Builds model i of the run's architecture on <paramref name="Device"/> (initial weights from
/// the run's seed and i).</param>
/// <param name="Train">The training set.</param>
/// <param name="Device">The training device.</param>
/// <param name="Epochs">Epochs of the run.</param>
/// <param name="BatchSize">Minibatch size.</param>
/// <param name="BatchesPerEpoch">Minibatches per epoch, ⌈samples/batch size⌉.</param>
/// <param name="Seed">The run's seed.</param>
public sealed record AlgorithmContext(ModelFactory NewModel, TensorDataSet Train, Device Device, int Epochs, int BatchSize, long BatchesPerEpoch, long Seed);

/// <summary>
/// The options of one optimiser (<c>--optimizer</c>), one record per optimiser, each option with its default written
/// once, as the property's initial value. The four options every optimiser takes are declared here; Entropy-SGD,
/// replicated SGD, SAM, SWA and periodic SWA add theirs (docs/optim.md). <see cref="Create"/> builds the algorithm.
/// </summary>
[ConfigFamily("optimizer", "training algorithm (docs/optim.md)", "sgd")]
[JsonPolymorphic(TypeDiscriminatorPropertyName = "name")]
[JsonDerivedType(typeof(SgdOptions), "sgd")]
[JsonDerivedType(typeof(FlatSgdOptions), "sgd-flat")]
[JsonDerivedType(typeof(AdamOptions), "adam")]
[JsonDerivedType(typeof(EntropySgdOptions), "esgd")]
[JsonDerivedType(typeof(ReplicatedSgdOptions), "rsgd")]
[JsonDerivedType(typeof(SamOptions), "sam")]
[JsonDerivedType(typeof(SwaOptions), "swa")]
[JsonDerivedType(typeof(PeriodicSwaOptions), "pswa")]
public abstract record OptimizerConfig
{
    /// <summary>η, the base learning rate (a trainer schedule scales it per epoch).</summary>
    [Option("lr", "learning rate (the base rate; --lr-schedule scales it per epoch). rsgd: per replica; esgd: outer step", Range = "(0, inf)", Symbol = "η")]
    public double Lr { get; init; } = 0.05;
    /// <summary>Momentum μ (Adam: β1).</summary>
    [Option("momentum", "heavy-ball momentum (adam: β1)", Range = "[0, 1)", Symbol = "μ")]
    public double Momentum { get; init; } = 0.9;
    /// <summary>Weight decay, added to the gradient as wd·w (PyTorch's convention).</summary>
    [Option("weight-decay", "weight decay wd (wd·w added to every gradient evaluation, so lr·wd per step). esgd: in the inner SGLD steps (lr = η' there); rsgd: in every replica's step", Range = "[0, inf)")]
    public double WeightDecay { get; init; }
    /// <summary>Nesterov momentum (default true for Entropy-SGD and replicated SGD, as in their public codes).</summary>
    [Option("nesterov", "Nesterov momentum (sgd, esgd, rsgd, sam, swa, pswa)")]
    public bool Nesterov { get; init; }

    /// <summary>The selector value of this optimiser (<c>sgd</c>, <c>esgd</c>, ...).</summary>
    [JsonIgnore] public string Name => ExperimentOptions.Optimizer.VariantOf(this);

    /// <summary>Checks every option against its range (messages name the option and the range) and the rules that tie
    /// options together; returns this.</summary>
    public OptimizerConfig Validate()
    {
        ExperimentOptions.CheckRanges(this);
        if (Nesterov && Momentum == 0)
            throw new ArgumentException("nesterov needs momentum > 0 (set --nesterov false or --momentum > 0).", "nesterov");
        ValidateMore();
        return this;
    }

    /// <summary>Rules of one optimiser beyond the ranges (called by <see cref="Validate"/>).</summary>
    protected virtual void ValidateMore() { }

    /// <summary>The options with the values a run of <paramref name="epochs"/> epochs derives (e.g. the default
    /// swa_start), validated.</summary>
    public virtual OptimizerConfig ForRun(int epochs, long seed) => Validate();

    /// <summary>Builds the algorithm for <paramref name="model"/>, whose parameters are already on the device.</summary>
    public abstract ITrainingAlgorithm Create(nn.Module<Tensor, Tensor> model, AlgorithmContext context);

    /// <summary>Gradient evaluations per trainer minibatch (SAM 2, replicated SGD y, 1 otherwise).</summary>
    [JsonIgnore] public virtual int GradientsPerBatch => 1;

    /// <summary>
    /// The run's budget as the manifest records it (docs/optim.md): gradient evaluations per epoch and in all, and the
    /// SGD epochs they are worth, for a run of <paramref name="epochs"/> epochs of <paramref name="batchesPerEpoch"/>
    /// minibatches. Entropy-SGD adds its outer steps.
    /// </summary>
    public virtual IReadOnlyDictionary<string, object?> Budget(long batchesPerEpoch, int epochs) => new Dictionary<string, object?>
    {
        ["convention"] = GradientsPerBatch == 1 ? "an epoch is one pass over the training data, one gradient evaluation per minibatch"
            : $"an epoch is one pass over the training data, {GradientsPerBatch} gradient evaluations per minibatch",
        ["gradient_evaluations_per_epoch"] = batchesPerEpoch * GradientsPerBatch, ["gradient_evaluations"] = batchesPerEpoch * GradientsPerBatch * epochs,
        ["sgd_epochs_equivalent"] = (double)GradientsPerBatch * epochs,
    };

    /// <summary>Whether the trainer's learning-rate schedule applies (SWA and PSWA keep their own).</summary>
    [JsonIgnore] public virtual bool TakesLrSchedule => true;

    /// <summary>Whether the optimiser runs in bf16 with fp32 master weights (<see cref="MixedPrecisionAlgorithm"/>).</summary>
    [JsonIgnore] public virtual bool SupportsBf16 => false;
}

/// <summary>SGD with momentum and weight decay: TorchSharp's <c>torch.optim.SGD</c>; with Nesterov momentum the same
/// update through <see cref="MomentumSgd"/>.</summary>
public sealed record SgdOptions : OptimizerConfig
{
    public override ITrainingAlgorithm Create(nn.Module<Tensor, Tensor> model, AlgorithmContext context) =>
        OptimizerAlgorithm.Factory("sgd", Lr, Momentum, WeightDecay, Nesterov)(model);
    public override bool SupportsBf16 => true;
}

/// <summary>The update of <c>torch.optim.SGD</c> on one flat buffer (<see cref="FlatSgd"/>); no Nesterov.</summary>
public sealed record FlatSgdOptions : OptimizerConfig
{
    protected override void ValidateMore()
    {
        if (Nesterov) throw new ArgumentException("--nesterov applies to sgd, not sgd-flat.", "nesterov");
    }
    public override ITrainingAlgorithm Create(nn.Module<Tensor, Tensor> model, AlgorithmContext context) =>
        OptimizerAlgorithm.Factory("sgd-flat", Lr, Momentum, WeightDecay)(model);
    public override bool SupportsBf16 => true;
}

/// <summary>Adam (TorchSharp's <c>torch.optim.Adam</c>, β2 = 0.999, ε = 10⁻⁸); <see cref="OptimizerConfig.Momentum"/> is β1.</summary>
public sealed record AdamOptions : OptimizerConfig
{
    protected override void ValidateMore()
    {
        if (Nesterov) throw new ArgumentException("--nesterov applies to sgd, not adam.", "nesterov");
    }
    public override ITrainingAlgorithm Create(nn.Module<Tensor, Tensor> model, AlgorithmContext context) =>
        OptimizerAlgorithm.Factory("adam", Lr, Momentum, WeightDecay)(model);
    public override bool SupportsBf16 => true;
}
