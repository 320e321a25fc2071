using System.Globalization;
using System.Text.Json.Serialization;
using FlatMinima.Mixture;
using FlatMinima.Torch.Data;

namespace FlatMinima.Torch.Experiments;

/// <summary>The data set of a run (<c>--data</c>): the Gaussian mixture of docs/theory.md#model, or images from files.</summary>
[ConfigFamily("data", "data set (gmm: the Gaussian mixture of docs/theory.md#model, needs no files)", "gmm")]
[JsonPolymorphic(TypeDiscriminatorPropertyName = "name")]
[JsonDerivedType(typeof(GmmDataConfig), "gmm")]
[JsonDerivedType(typeof(FashionMnistConfig), "fashion-mnist")]
[JsonDerivedType(typeof(MnistConfig), "mnist")]
[JsonDerivedType(typeof(Cifar10Config), "cifar10")]
public abstract record DataConfig
{
    /// <summary>Loads the training and test sets; <paramref name="seed"/> is the run's seed (it draws the mixture).</summary>
    public abstract DataSplit Load(long seed);

    /// <summary>Checks what the ranges of the options cannot (throws <see cref="ConfigException"/>).</summary>
    public virtual void Validate() { }
}

/// <summary>
/// The two-cluster Gaussian mixture (α, Δ, ρ) in dimension N, P = αN training samples and a fresh test set, drawn by
/// Core's sampler with the run's seed (<see cref="GmmData"/>).
/// </summary>
public sealed record GmmDataConfig : DataConfig
{
    [Option("alpha", "sample ratio P/N of the mixture", Range = "(0, inf)", Symbol = "α")]
    public double Alpha { get; init; } = 2;
    [Option("delta", "noise variance of the mixture", Range = "(0, inf)", Symbol = "Δ")]
    public double Delta { get; init; } = 1;
    [Option("rho", "fraction of the +1 cluster", Range = "(0, 1)", Symbol = "ρ")]
    public double Rho { get; init; } = 0.5;
    [Option("n", "input dimension", Range = "[1, inf)", Symbol = "N")]
    public int N { get; init; } = 100;
    [Option("test-size", "fresh test samples from the same mixture", Range = "[1, inf)")]
    public int TestSize { get; init; } = 10_000;

    /// <summary>The data model (α, Δ, ρ) of these options (validated on construction).</summary>
    [JsonIgnore] public MixtureModel Model => new(Alpha, Delta, Rho);

    /// <summary>The mixture drawn with <paramref name="seed"/>.</summary>
    public MixtureSpec Spec(long seed) => Model.AtSize(N, seed);

    public override DataSplit Load(long seed) => GmmData.Create(Spec(seed), TestSize);

    public override void Validate()
    {
        // Core draws the training and the test samples as one array of (P + test_size)·N values: its length must fit
        // an array (checked in 64-bit arithmetic, so that a large --test-size or --n is named instead of overflowing).
        double p = Math.Max(1, Math.Round(Alpha * N, MidpointRounding.AwayFromZero));
        long max = Array.MaxLength / N - (long)Math.Min(p, long.MaxValue / 2);
        if (max < 1)
            throw new ConfigException($"n = {N} with alpha = {Alpha.ToString(CultureInfo.InvariantCulture)} gives P·N = {(p * N).ToString("G4", CultureInfo.InvariantCulture)} values, " +
                                      $"more than one array holds ({Array.MaxLength}): lower --n or --alpha.");
        if (TestSize > max)
            throw new ConfigException($"test_size must be an integer in [1, {Math.Min(max, int.MaxValue)}] for n = {N} and P = {p.ToString(CultureInfo.InvariantCulture)} " +
                                      $"((P + test_size)·N values form one array of at most {Array.MaxLength}); got {TestSize}.");
        _ = Spec(0);
    }
}

/// <summary>Images in files: a folder, and optionally only the first K training and test samples.</summary>
public abstract record ImageDataConfig : DataConfig
{
    /// <summary>The folder, stored as an absolute path (a relative one is taken from the working directory when the
    /// configuration is made), so that a run resumes and is probed from anywhere.</summary>
    [Option("data-dir", "folder of the data files (IDX for MNIST-like sets, the binary batches for CIFAR-10)",
        DefaultText = "fashion-mnist: the Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist); required otherwise")]
    public string? DataDir { get => _dataDir; init => _dataDir = value is null ? null : Path.GetFullPath(value); }
    private readonly string? _dataDir;
    [Option("train-limit", "use only the first K training samples", Range = "[1, inf)", DefaultText = "all")]
    public int? TrainLimit { get; init; }
    [Option("test-limit", "use only the first K test samples", Range = "[1, inf)", DefaultText = "all")]
    public int? TestLimit { get; init; }
}

public sealed record FashionMnistConfig : ImageDataConfig
{
    public override DataSplit Load(long seed) => IdxReader.LoadMnistLike("fashion-mnist", DataDir, TrainLimit, TestLimit);
}

public sealed record MnistConfig : ImageDataConfig
{
    public override DataSplit Load(long seed) => IdxReader.LoadMnistLike("mnist", DataDir!, TrainLimit, TestLimit);
    public override void Validate() { if (DataDir is null) throw new ConfigException("--data mnist needs --data-dir."); }
}

public sealed record Cifar10Config : ImageDataConfig
{
    public override DataSplit Load(long seed) => Cifar10Reader.Load(DataDir!, TrainLimit, TestLimit);
    public override void Validate() { if (DataDir is null) throw new ConfigException("--data cifar10 needs --data-dir (the folder of data_batch_*.bin)."); }
}
