using System.Text.Json.Serialization;
using FlatMinima.Torch.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Experiments;

/// <summary>The network of a run (<c>--model</c>).</summary>
[ConfigFamily("model", "network architecture", "mlp")]
[JsonPolymorphic(TypeDiscriminatorPropertyName = "name")]
[JsonDerivedType(typeof(MlpConfig), "mlp")]
[JsonDerivedType(typeof(LeNetConfig), "lenet")]
[JsonDerivedType(typeof(ResNet18Config), "resnet18")]
public abstract record ModelConfig
{
    /// <summary>The selector value (<c>mlp</c>, <c>lenet</c>, <c>resnet18</c>).</summary>
    [JsonIgnore] public string Name => ExperimentOptions.Model.VariantOf(this);

    /// <summary>Builds the network for inputs of <paramref name="inputShape"/> (no batch dimension) and
    /// <paramref name="classes"/> outputs, its initial weights drawn from <paramref name="generator"/> only: the same
    /// weights as PyTorch's constructors after <c>torch.manual_seed</c> with the generator's seed.</summary>
    public abstract nn.Module<Tensor, Tensor> Create(long[] inputShape, int classes, Generator generator);

    /// <summary>The network with its weights drawn from a generator seeded with <paramref name="seed"/>.</summary>
    public nn.Module<Tensor, Tensor> Create(long[] inputShape, int classes, long seed)
    {
        using var g = new Generator((ulong)seed);
        return Create(inputShape, classes, g);
    }
}

/// <summary>A fully connected ReLU network (<see cref="Mlp"/>).</summary>
public sealed record MlpConfig : ModelConfig
{
    [Option("width", "hidden width of the MLP", Range = "[1, inf)")]
    public int Width { get; init; } = 128;
    [Option("depth", "number of hidden layers of the MLP", Range = "[0, inf)")]
    public int Depth { get; init; } = 2;

    public override nn.Module<Tensor, Tensor> Create(long[] inputShape, int classes, Generator generator) =>
        new Mlp(inputShape.Aggregate(1L, (a, b) => a * b), classes, generator, Width, Depth);
}

/// <summary>LeNet-5 (<see cref="LeNet"/>).</summary>
public sealed record LeNetConfig : ModelConfig
{
    public override nn.Module<Tensor, Tensor> Create(long[] inputShape, int classes, Generator generator) => new LeNet(inputShape, classes, generator);
}

/// <summary>CIFAR-style ResNet-18 with BatchNorm (<see cref="ResNet18"/>).</summary>
public sealed record ResNet18Config : ModelConfig
{
    public override nn.Module<Tensor, Tensor> Create(long[] inputShape, int classes, Generator generator) => new ResNet18(inputShape[0], classes, generator);
}
