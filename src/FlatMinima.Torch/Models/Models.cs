using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FlatMinima.Torch.Models;

/// <summary>The networks of the bridge, by name: <c>mlp</c>, <c>lenet</c>, <c>resnet18</c>.</summary>
public static class ModelZoo
{
    public static readonly string[] Names = ["mlp", "lenet", "resnet18"];

    /// <summary>Builds model <paramref name="name"/> for inputs of <paramref name="inputShape"/> (no batch dimension)
    /// and <paramref name="classes"/> outputs. <paramref name="width"/> is the MLP's hidden width (default 128) and
    /// <paramref name="depth"/> its number of hidden layers (default 2).</summary>
    public static Module<Tensor, Tensor> Create(string name, long[] inputShape, int classes, int width = 128, int depth = 2) => name switch
    {
        "mlp" => new Mlp(inputShape.Aggregate(1L, (a, b) => a * b), classes, width, depth),
        "lenet" => new LeNet(inputShape, classes),
        "resnet18" => new ResNet18(inputShape[0], classes),
        _ => throw new ArgumentException($"model must be one of {string.Join("|", Names)} (got '{name}')."),
    };
}

/// <summary>A fully connected ReLU network: flatten, <c>depth</c> hidden layers of <c>width</c>, linear read-out.</summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    public Mlp(long inputs, int classes, int width = 128, int depth = 2) : base("mlp")
    {
        if (width < 1) throw new ArgumentOutOfRangeException(nameof(width), $"width must be >= 1 (got {width}).");
        if (depth < 0) throw new ArgumentOutOfRangeException(nameof(depth), $"depth must be >= 0 (got {depth}).");
        var mods = new List<(string, Module<Tensor, Tensor>)> { ("flatten", Flatten()) };
        long d = inputs;
        for (int i = 0; i < depth; i++)
        {
            mods.Add(($"fc{i}", Linear(d, width)));
            mods.Add(($"relu{i}", ReLU()));
            d = width;
        }
        mods.Add(("out", Linear(d, classes)));
        layers = Sequential(mods);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => layers.forward(x);
}

/// <summary>LeNet-5 style CNN: conv 5×5 (6) – pool – conv 5×5 (16) – pool – 120 – 84 – classes, ReLU activations.
/// The first convolution is padded so that 28×28 inputs keep their size, as in the classic MNIST variant.</summary>
public sealed class LeNet : Module<Tensor, Tensor>
{
    private readonly Sequential features, classifier;

    public LeNet(long[] inputShape, int classes) : base("lenet")
    {
        if (inputShape.Length != 3) throw new ArgumentException($"lenet needs image inputs C×H×W (got shape [{string.Join(", ", inputShape)}]).");
        features = Sequential(
            ("conv1", Conv2d(inputShape[0], 6, 5, padding: 2)), ("relu1", ReLU()), ("pool1", MaxPool2d(2)),
            ("conv2", Conv2d(6, 16, 5)), ("relu2", ReLU()), ("pool2", MaxPool2d(2)), ("flatten", Flatten()));
        long flat;
        using (no_grad())
        using (var probe = zeros([1, .. inputShape]))
        using (var f = features.forward(probe)) flat = f.shape[1];
        classifier = Sequential(("fc1", Linear(flat, 120)), ("relu3", ReLU()), ("fc2", Linear(120, 84)), ("relu4", ReLU()), ("out", Linear(84, classes)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var f = features.forward(x);
        return classifier.forward(f);
    }
}

/// <summary>The basic residual block of ResNet-18 (two 3×3 convolutions with BatchNorm, projection shortcut when the
/// shape changes).</summary>
public sealed class BasicBlock : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2;
    private readonly BatchNorm2d bn1, bn2;
    private readonly Sequential? shortcut;

    public BasicBlock(string name, long inC, long outC, long stride) : base(name)
    {
        conv1 = Conv2d(inC, outC, 3, stride: stride, padding: 1, bias: false);
        bn1 = BatchNorm2d(outC);
        conv2 = Conv2d(outC, outC, 3, stride: 1, padding: 1, bias: false);
        bn2 = BatchNorm2d(outC);
        if (stride != 1 || inC != outC)
            shortcut = Sequential(("conv", Conv2d(inC, outC, 1, stride: stride, bias: false)), ("bn", BatchNorm2d(outC)));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var a = conv1.forward(x);
        using var b = bn1.forward(a);
        using var c = functional.relu(b);
        using var d = conv2.forward(c);
        using var e = bn2.forward(d);
        if (shortcut is null)
        {
            using var s0 = e.add(x);
            return functional.relu(s0);
        }
        using var sc = shortcut.forward(x);
        using var s = e.add(sc);
        return functional.relu(s);
    }
}

/// <summary>CIFAR-style ResNet-18 (He et al. 2016; 3×3 stem without max-pooling, stages of 64/128/256/512 channels,
/// two basic blocks each, global average pooling), with BatchNorm.</summary>
public sealed class ResNet18 : Module<Tensor, Tensor>
{
    private readonly Conv2d stem;
    private readonly BatchNorm2d bn;
    private readonly Sequential layers;
    private readonly Linear fc;

    public ResNet18(long inChannels, int classes) : base("resnet18")
    {
        stem = Conv2d(inChannels, 64, 3, padding: 1, bias: false);
        bn = BatchNorm2d(64);
        var blocks = new List<(string, Module<Tensor, Tensor>)>();
        long c = 64;
        foreach (var (outC, stride, stage) in new[] { (64L, 1L, 1), (128L, 2L, 2), (256L, 2L, 3), (512L, 2L, 4) })
        {
            blocks.Add(($"layer{stage}_0", new BasicBlock($"layer{stage}_0", c, outC, stride)));
            blocks.Add(($"layer{stage}_1", new BasicBlock($"layer{stage}_1", outC, outC, 1)));
            c = outC;
        }
        layers = Sequential(blocks);
        fc = Linear(512, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var a = stem.forward(x);
        using var b = bn.forward(a);
        using var r = functional.relu(b);
        using var l = layers.forward(r);
        using var p = functional.adaptive_avg_pool2d(l, 1);
        using var f = p.flatten(1);
        return fc.forward(f);
    }
}
