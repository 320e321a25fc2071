using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FlatMinima.Torch.Models;

/// <summary>
/// Initial weights from an explicit generator. TorchSharp's layer constructors draw from the process-wide generator;
/// every layer is therefore re-drawn here, right after it is built and in the order the constructors draw, with the
/// constructors' own distributions: weight ~ U(±b) with b = √3·gain/√fan_in, gain = √(2/(1 + a²)), a = √5 (PyTorch's
/// kaiming_uniform_), then bias ~ U(±1/√fan_in). With a generator seeded s this gives bit for bit the weights that
/// <c>torch.manual_seed(s)</c> followed by the constructors gives, without touching shared state, so models can be built
/// on several threads at once.
/// </summary>
internal static class Init
{
    public static Linear Draw(Linear layer, long fanIn, Generator g)
    {
        Uniform(layer.weight!, fanIn, g, kaiming: true);
        if (layer.bias is { } b) Uniform(b, fanIn, g, kaiming: false);
        return layer;
    }

    public static Conv2d Draw(Conv2d layer, long fanIn, Generator g)
    {
        Uniform(layer.weight!, fanIn, g, kaiming: true);
        if (layer.bias is { } b) Uniform(b, fanIn, g, kaiming: false);
        return layer;
    }

    private static void Uniform(Tensor t, long fanIn, Generator g, bool kaiming)
    {
        double bound = kaiming ? Math.Sqrt(3.0) * Math.Sqrt(2.0 / (1 + 5.0)) / Math.Sqrt(fanIn) : 1 / Math.Sqrt(fanIn);
        using var _ = no_grad();
        t.uniform_(-bound, bound, generator: g);
    }
}

/// <summary>A fully connected ReLU network: flatten, <c>depth</c> hidden layers of <c>width</c>, linear read-out
/// (built through <see cref="Experiments.MlpConfig"/>, which holds the defaults).</summary>
public sealed class Mlp : Module<Tensor, Tensor>
{
    private readonly Sequential layers;

    public Mlp(long inputs, int classes, Generator generator, int width, int depth) : base("mlp")
    {
        FlatMinima.Numerics.Guard.AtLeast(width, 1, "width");
        FlatMinima.Numerics.Guard.AtLeast(depth, 0, "depth");
        var mods = new List<(string, Module<Tensor, Tensor>)> { ("flatten", Flatten()) };
        long d = inputs;
        for (int i = 0; i < depth; i++)
        {
            mods.Add(($"fc{i}", Init.Draw(Linear(d, width), d, generator)));
            mods.Add(($"relu{i}", ReLU()));
            d = width;
        }
        mods.Add(("out", Init.Draw(Linear(d, classes), d, generator)));
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

    public LeNet(long[] inputShape, int classes, Generator generator) : base("lenet")
    {
        if (inputShape.Length != 3) throw new ArgumentException($"lenet needs image inputs C×H×W (got shape [{string.Join(", ", inputShape)}]).");
        features = Sequential(
            ("conv1", Init.Draw(Conv2d(inputShape[0], 6, 5, padding: 2), inputShape[0] * 25, generator)), ("relu1", ReLU()), ("pool1", MaxPool2d(2)),
            ("conv2", Init.Draw(Conv2d(6, 16, 5), 6 * 25, generator)), ("relu2", ReLU()), ("pool2", MaxPool2d(2)), ("flatten", Flatten()));
        long flat;
        using (no_grad())
        using (var probe = zeros([1, .. inputShape]))
        using (var f = features.forward(probe)) flat = f.shape[1];
        classifier = Sequential(("fc1", Init.Draw(Linear(flat, 120), flat, generator)), ("relu3", ReLU()),
            ("fc2", Init.Draw(Linear(120, 84), 120, generator)), ("relu4", ReLU()), ("out", Init.Draw(Linear(84, classes), 84, generator)));
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

    public BasicBlock(string name, long inC, long outC, long stride, Generator generator) : base(name)
    {
        conv1 = Init.Draw(Conv2d(inC, outC, 3, stride: stride, padding: 1, bias: false), inC * 9, generator);
        bn1 = BatchNorm2d(outC);
        conv2 = Init.Draw(Conv2d(outC, outC, 3, stride: 1, padding: 1, bias: false), outC * 9, generator);
        bn2 = BatchNorm2d(outC);
        if (stride != 1 || inC != outC)
            shortcut = Sequential(("conv", Init.Draw(Conv2d(inC, outC, 1, stride: stride, bias: false), inC, generator)), ("bn", BatchNorm2d(outC)));
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

    public ResNet18(long inChannels, int classes, Generator generator) : base("resnet18")
    {
        stem = Init.Draw(Conv2d(inChannels, 64, 3, padding: 1, bias: false), inChannels * 9, generator);
        bn = BatchNorm2d(64);
        var blocks = new List<(string, Module<Tensor, Tensor>)>();
        long c = 64;
        foreach (var (outC, stride, stage) in new[] { (64L, 1L, 1), (128L, 2L, 2), (256L, 2L, 3), (512L, 2L, 4) })
        {
            blocks.Add(($"layer{stage}_0", new BasicBlock($"layer{stage}_0", c, outC, stride, generator)));
            blocks.Add(($"layer{stage}_1", new BasicBlock($"layer{stage}_1", outC, outC, 1, generator)));
            c = outC;
        }
        layers = Sequential(blocks);
        fc = Init.Draw(Linear(512, classes), 512, generator);
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
