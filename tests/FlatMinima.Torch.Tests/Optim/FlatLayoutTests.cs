using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Tests.Optim;

/// <summary>
/// Entropy-SGD and replicated SGD update the parameters of real networks on one flat buffer. These tests recompute
/// their updates parameter tensor by parameter tensor, in double precision, on a separate unflattened copy of the
/// network (LeNet: 4-d convolution weights, biases, linear layers), so a wrong offset, stride or gradient view in
/// the flat layout shows up as a mismatch.
/// </summary>
public class FlatLayoutTests
{
    private static readonly long[] Input = [1, 28, 28];

    private static nn.Module<Tensor, Tensor> LeNet(long seed) => new LeNetConfig().Create(Input, 10, seed);

    private static List<double[]> Values(nn.Module<Tensor, Tensor> m) =>
        ModuleOps.Params(m).Select(p => p.detach().cpu().to_type(ScalarType.Float64).data<double>().ToArray()).ToList();

    /// <summary>Per-tensor gradients of the batch loss at weights <paramref name="w"/>, on an unflattened network.</summary>
    private static List<double[]> Gradients(nn.Module<Tensor, Tensor> reference, List<double[]> w, Tensor x, Tensor y)
    {
        var ps = ModuleOps.Params(reference);
        using (no_grad())
            for (int i = 0; i < ps.Count; i++) ps[i].copy_(tensor(w[i]).reshape(ps[i].shape).to_type(ps[i].dtype));
        reference.zero_grad();
        reference.train();
        Trainer.CrossEntropy(reference.forward(x), y).backward();
        return ps.Select(p => p.grad!.to_type(ScalarType.Float64).data<double>().ToArray()).ToList();
    }

    private static void AssertClose(List<double[]> expected, List<double[]> actual, double tol)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Length, actual[i].Length);
            double scale = Math.Max(1e-3, expected[i].Max(Math.Abs));
            double worst = expected[i].Zip(actual[i]).Max(t => Math.Abs(t.First - t.Second));
            Assert.True(worst < tol * scale, $"parameter tensor {i}: max deviation {worst:E2} (scale {scale:E2})");
        }
    }

    private static (Tensor X, Tensor Y) Batch(int seed)
    {
        using var g = new Generator((ulong)(1000 + seed));
        return (randn([8, 1, 28, 28], generator: g), randint(0, 10, [8], generator: g));
    }

    [Fact]
    public void EntropySgdOnLeNetMatchesThePerTensorRecursion()
    {
        TestRuntime.Init();
        double eta1 = 0.05, gamma = 0.7, alpha = 0.25, lr = 0.2, wd = 1e-3;
        const int L = 3;
        using var model = LeNet(3);
        using var reference = LeNet(3);
        var w = Values(model);
        using var opt = new EntropySgd(model, new EntropySgdOptions
        {
            Lr = lr, Momentum = 0, Nesterov = false, InnerSteps = L, SgldLr = eta1, Noise = 0, EmaWeight = alpha,
            // The earlier defaults, pinned: decay in both loops, the outer step scaled by γ.
            Gamma0 = gamma, Gamma1 = 0, WeightDecay = wd, OuterWeightDecay = wd, GScale = true,
        });
        // Reference: L SGLD steps (no noise) of the walker, the running mean, then the outer step on the anchor.
        var walker = w.Select(a => (double[])a.Clone()).ToList();
        var mu = w.Select(a => (double[])a.Clone()).ToList();
        for (int s = 0; s < L; s++)
        {
            var (x, y) = Batch(s);
            var g = Gradients(reference, walker, x, y);
            for (int i = 0; i < w.Count; i++)
                for (int j = 0; j < w[i].Length; j++)
                {
                    double v = walker[i][j];
                    walker[i][j] = v - eta1 * (g[i][j] + gamma * (v - w[i][j]) + wd * v);
                    mu[i][j] = (1 - alpha) * mu[i][j] + alpha * walker[i][j];
                }
            using var scope = NewDisposeScope();
            opt.Step(model, x, y, Trainer.CrossEntropy);
            if (s < L - 1) AssertClose(walker, Values(model), 2e-5);
        }
        var anchor = w.Select((a, i) => a.Select((v, j) => v - lr * gamma * ((v - mu[i][j]) + wd * v)).ToArray()).ToList();
        Assert.Equal(1, opt.OuterSteps);
        AssertClose(anchor, Values(model), 2e-5);
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void ReplicatedSgdOnLeNetMatchesThePerTensorRecursion()
    {
        TestRuntime.Init();
        double eta = 0.05, g = 0.8, wd = 1e-3, mom = 0.9;
        const int y = 3, steps = 3;
        using var centre = LeNet(0);
        using var reference = LeNet(0);
        var replicas = Enumerable.Range(0, y).Select(a => Values(LeNet(10 + a))).ToList();
        using var opt = new ReplicatedSgd(centre, a => LeNet(10 + a), null, new ReplicatedSgdOptions
        {
            Replicas = y, Lr = eta, Momentum = mom, Nesterov = true, WeightDecay = wd, G0 = g, Gmax = 1, Epochs = 1,
        });
        int P = replicas[0].Count;
        var buf = replicas.Select(r => r.Select(t => (double[]?)null).ToList()).ToList();
        for (int s = 0; s < steps; s++)
        {
            var (x, yb) = Batch(s);
            var c = Enumerable.Range(0, P).Select(i => Enumerable.Range(0, replicas[0][i].Length).Select(j => replicas.Average(r => r[i][j])).ToArray()).ToList();
            for (int a = 0; a < y; a++)
            {
                var grad = Gradients(reference, replicas[a], x, yb);
                for (int i = 0; i < P; i++)
                {
                    // PyTorch's SGD with Nesterov: d = ∇ + 2g(w − c) + wd·w; b ← μb + d (b = d first); w ← w − η(d + μb).
                    var d = grad[i].Select((gi, j) => gi + 2 * g * (replicas[a][i][j] - c[i][j]) + wd * replicas[a][i][j]).ToArray();
                    buf[a][i] = buf[a][i] is null ? d : buf[a][i]!.Select((b, j) => mom * b + d[j]).ToArray();
                    for (int j = 0; j < d.Length; j++) replicas[a][i][j] -= eta * (d[j] + mom * buf[a][i]![j]);
                }
            }
            using var scope = NewDisposeScope();
            opt.Step(centre, x, yb, Trainer.CrossEntropy);
        }
        for (int a = 0; a < y; a++) AssertClose(replicas[a], Values(opt.Replicas[a]), 2e-5);
        var cFinal = Enumerable.Range(0, P).Select(i => Enumerable.Range(0, replicas[0][i].Length).Select(j => replicas.Average(r => r[i][j])).ToArray()).ToList();
        AssertClose(cFinal, Values(centre), 2e-5);
    }
}

public class FlatParametersTests
{
    // Whatever module.zero_grad() does (zero in place or drop the gradients), the next flat forward-backward must land
    // the gradients in the flat buffer, equal to those of an unflattened copy.
    [Fact]
    public void GradientsLandInTheFlatBufferEvenAfterModuleZeroGrad()
    {
        TestRuntime.Init();
        var mlp = new MlpConfig { Width = 5, Depth = 2 };
        using var model = mlp.Create([6], 3, seed: 5);
        using var reference = mlp.Create([6], 3, seed: 5);
        using var flat = new FlatParameters(ModuleOps.Params(model));
        using var g = new Generator(9);
        var x = randn([7, 6], generator: g); var y = randint(0, 3, [7], generator: g);
        reference.zero_grad();
        Trainer.CrossEntropy(reference.forward(x), y).backward();
        var expected = ModuleOps.Params(reference).SelectMany(p => p.grad!.data<float>().ToArray()).ToArray();
        for (int round = 0; round < 2; round++)
        {
            model.zero_grad();
            flat.ForwardBackward(model, x, y, Trainer.CrossEntropy);
            var got = flat.Grad.data<float>().ToArray();
            Assert.Equal(expected.Length, got.Length);
            for (int i = 0; i < got.Length; i++) Assert.Equal(expected[i], got[i], 5);
            // The parameters' own views agree with the flat buffer, tensor by tensor.
            var views = flat.Split(flat.Grad);
            var ps = ModuleOps.Params(model);
            for (int k = 0; k < ps.Count; k++) Assert.Equal(ps[k].grad!.data<float>().ToArray(), views[k].data<float>().ToArray());
        }
        Assert.Contains("not dense", Assert.Throws<ArgumentException>(() => new FlatParameters([randn(4, 4).t().contiguous().as_strided([2, 2], [4, 1])])).Message);
    }
}
