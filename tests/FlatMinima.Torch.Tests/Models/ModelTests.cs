using FlatMinima.Torch.Experiments;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Tests.Models;

public class ModelTests
{
    public ModelTests() => TestRuntime.Init();

    private static (int N, double Sum, double SumSq, float First) Digest(nn.Module<Tensor, Tensor> m)
    {
        double s = 0, s2 = 0; int n = 0; float first = float.NaN;
        foreach (var p in m.parameters())
        {
            using var d = p.detach().to_type(ScalarType.Float64);
            s += d.sum().item<double>();
            s2 += d.pow(2).sum().item<double>();
            n += (int)p.numel();
            if (float.IsNaN(first)) first = p.detach().flatten()[0].item<float>();
        }
        return (n, s, s2, first);
    }

    private static ModelConfig Config(string name) => name switch
    {
        "mlp100" => new MlpConfig(),
        "mlp784" => new MlpConfig { Width = 16, Depth = 1 },
        "lenet" => new LeNetConfig(),
        _ => new ResNet18Config(),
    };

    private static long[] Shape(string name) => name switch { "mlp100" => [100], "resnet18" => [3, 32, 32], _ => [1, 28, 28] };
    private static int Classes(string name) => name == "mlp100" ? 2 : 10;

    // Golden values recorded with the previous model factories, which seeded the process-wide generator
    // (torch.manual_seed(seed), then the constructors): the generator-drawn weights are the same, bit for bit, so every
    // recorded run keeps its initial weights. Seed 1391462173760461513 = Seeds.Mix(0, 0x4E91, 1), the first replica.
    [Theory]
    [InlineData("mlp100", 0L, 29698, 14.196889669680786, 86.34369993399203, -0.000748682f)]
    [InlineData("mlp784", 0L, 12730, 1.280717518680376, 9.228203395632608, -0.00026738644f)]
    [InlineData("lenet", 0L, 61706, 2.9581681083855074, 78.51960144566732, -0.001497364f)]
    [InlineData("mlp100", 7L, 29698, -4.6824825763185345, 87.3022205128523, 0.006984508f)]
    [InlineData("lenet", 7L, 61706, -2.4338939076608597, 79.1429153957696, 0.013969016f)]
    [InlineData("mlp100", 1391462173760461513L, 29698, -17.313925449468115, 86.45307514114562, -0.041382946f)]
    [InlineData("lenet", 1391462173760461513L, 61706, -10.29723903786845, 78.52250281300641, -0.08276589f)]
    public void SameSeedGivesTheWeightsOfTheGlobalGeneratorFactories(string name, long seed, int n, double sum, double sumSq, float first)
    {
        using var m = Config(name).Create(Shape(name), Classes(name), seed);
        var d = Digest(m);
        Assert.Equal(n, d.N);
        Assert.Equal(first, d.First);
        Assert.Equal(sum, d.Sum, 1e-9 * Math.Abs(sum));
        Assert.Equal(sumSq, d.SumSq, 1e-12 * sumSq);
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void ResNet18GoldenWeights()
    {
        using var m = Config("resnet18").Create(Shape("resnet18"), 10, seed: 7);
        var d = Digest(m);
        Assert.Equal(11173962, d.N);
        Assert.Equal(0.013441692f, d.First);
        Assert.Equal(4838.471522295268, d.Sum, 1e-9 * 4838.5);
        Assert.Equal(6403.602913203696, d.SumSq, 1e-12 * 6403.6);
    }

    // Models built on several threads at once, while other threads draw from the process-wide generator, have the
    // weights of a model built alone: nothing in a factory depends on shared random state.
    [Fact]
    public void ModelsBuiltConcurrentlyAreTheModelsBuiltAlone()
    {
        var config = new LeNetConfig();
        float[] Weights(nn.Module<Tensor, Tensor> m) => m.parameters().SelectMany(p => p.detach().data<float>().ToArray()).ToArray();
        float[] alone;
        using (var m = config.Create([1, 28, 28], 10, seed: 3)) alone = Weights(m);
        var results = new float[8][];
        Parallel.For(0, 16, i =>
        {
            if (i % 2 == 1) { using var noise = randn(1000); manual_seed(i); return; }
            using var m = config.Create([1, 28, 28], 10, seed: 3);
            results[i / 2] = Weights(m);
        });
        Assert.All(results, r => Assert.Equal(alone, r));
    }
}
