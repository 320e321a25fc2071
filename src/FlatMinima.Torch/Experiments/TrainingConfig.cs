using System.Text.Json.Serialization;
using FlatMinima.Torch.Training;

namespace FlatMinima.Torch.Experiments;

/// <summary>Arithmetic of the training steps.</summary>
public enum Precision
{
    /// <summary>float32 throughout (default).</summary>
    [JsonStringEnumMemberName("fp32")] Fp32,
    /// <summary>bf16 compute with fp32 master weights and BatchNorm, no loss scaling (<see cref="MixedPrecisionAlgorithm"/>).</summary>
    [JsonStringEnumMemberName("bf16")] Bf16,
}

/// <summary>Where a run computes.</summary>
public enum DeviceChoice
{
    [JsonStringEnumMemberName("cpu")] Cpu,
    /// <summary>A CUDA GPU through an installed PyTorch's libtorch (FLATMINIMA_LIBTORCH or python3).</summary>
    [JsonStringEnumMemberName("cuda")] Cuda,
    /// <summary>CUDA when a PyTorch with CUDA and a driver are found, else the CPU.</summary>
    [JsonStringEnumMemberName("auto")] Auto,
}

/// <summary>
/// How a run trains: length, minibatches, seed, learning-rate schedule, arithmetic, local energy during training and
/// device. The seed draws the mixture (GM data), the initial weights, the data order and every optimiser stream.
/// </summary>
public sealed record TrainingConfig
{
    [Option("epochs", "training epochs, passes over the training set: one gradient evaluation per minibatch for sgd, esgd (⌈batches/L⌉ outer steps), swa, pswa; y per minibatch for rsgd (every replica passes once); 2 for sam (the manifest's budget)", Range = "[1, inf)")]
    public int Epochs { get; init; } = 10;
    [Option("batch-size", "minibatch size", Range = "[1, inf)")]
    public int BatchSize { get; init; } = 128;
    [Option("seed", "seed of the GM data, the initial weights, the data order and the optimisers' random streams")]
    public long Seed { get; init; }
    [Option("lr-schedule", "learning-rate schedule per epoch: constant, or cosine annealing of --lr down towards --lr-min (PyTorch CosineAnnealingLR, T_max = epochs); all optimisers but swa/pswa (own schedule)")]
    public LrScheduleKind LrSchedule { get; init; } = LrScheduleKind.Constant;
    [Option("lr-min", "final learning rate of the cosine schedule, in [0, --lr)", Range = "[0, inf)")]
    public double LrMin { get; init; }
    [Option("precision", "fp32, or bf16 compute with fp32 master weights and BatchNorm (sgd, sgd-flat, adam)")]
    public Precision Precision { get; init; } = Precision.Fp32;
    [Option("le-every", "local energy of the training error every K epochs during training, into local_energy.csv (0: never)", Range = "[0, inf)")]
    public int LeEvery { get; init; }
    [Option("le-sigma", "noise scale of the local energy during training (docs/theory.md#le)", Range = "[0, inf)", Symbol = "σ")]
    public double LeSigma { get; init; } = 0.05;
    [Option("le-draws", "noise draws of the local energy during training", Range = "[1, inf)")]
    public int LeDraws { get; init; } = 10;
    [Option("device", "cpu, cuda (PyTorch's libtorch: FLATMINIMA_LIBTORCH or python3) or auto")]
    public DeviceChoice Device { get; init; } = DeviceChoice.Cpu;
}
