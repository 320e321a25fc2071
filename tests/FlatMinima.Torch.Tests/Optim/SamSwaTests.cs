using FlatMinima.Torch.Data;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Tests.Optim;

public class SamTests
{
    private static nn.Module<Tensor, Tensor> Net(long seed)
    {
        using var g = new Generator((ulong)seed);
        return nn.Sequential(("bn", nn.BatchNorm1d(4)), ("fc", Layers.Linear(4, 8, g)), ("relu", nn.ReLU()), ("out", Layers.Linear(8, 3, g)));
    }

    private static (Tensor X, Tensor Y) Data(int n = 16)
    {
        var g = new Generator(3);
        return (randn(new long[] { n, 4 }, generator: g).mul_(2).add_(1), randint(0, 3, new long[] { n }, generator: g));
    }

    [Theory]
    [InlineData(false, 0.05)]
    [InlineData(true, 0.5)]
    public void PerturbationHasNormRho(bool adaptive, double rho)
    {
        TestRuntime.Init();
        using var net = Net(1);
        using var sam = new Sam(net, new SamOptions { Rho = rho, Adaptive = adaptive, AdaptiveEta = 0.01, Lr = 0.1 });
        var ps = ModuleOps.Params(net);
        double norm = double.NaN;
        sam.OnPerturbation = e =>
        {
            // Parameters hold w + e here; the adaptive scale is T = |w| + η.
            double s = 0;
            for (int i = 0; i < e.Count; i++)
            {
                var t = adaptive ? e[i] / ((ps[i] - e[i]).abs() + 0.01) : e[i];
                s += t.pow(2).sum().to_type(ScalarType.Float64).item<double>();
            }
            norm = Math.Sqrt(s);
        };
        var (x, y) = Data();
        for (int k = 0; k < 3; k++)
        {
            using var scope = NewDisposeScope();
            sam.Step(net, x, y, Trainer.CrossEntropy);
            Assert.Equal(rho, norm, 5);
        }
    }

    // The BatchNorm is the first layer, so both passes see the same inputs x: after one step from fresh statistics
    // (mean 0, momentum 0.1) the running mean is 0.1·mean(x) when only the first pass counts and
    // 0.9·0.1·mean(x) + 0.1·mean(x) = 0.19·mean(x) when both do.
    [Theory]
    [InlineData(SamBatchNormPolicy.FirstPass, 0.1)]
    [InlineData(SamBatchNormPolicy.BothPasses, 0.19)]
    public void BatchNormPolicyOfTheSecondPass(SamBatchNormPolicy policy, double factor)
    {
        TestRuntime.Init();
        using var net = Net(2);
        net.train();
        using var sam = new Sam(net, new SamOptions { Rho = 0.05, Lr = 0.1, BatchNorm = policy });
        var (x, y) = Data();
        using (var scope = NewDisposeScope()) sam.Step(net, x, y, Trainer.CrossEntropy);
        var bn = (BatchNorm1d)net.named_modules().First(m => m.name == "bn").module;
        var mean = x.mean([0]).data<float>().ToArray();
        var run = bn.running_mean!.data<float>().ToArray();
        for (int i = 0; i < 4; i++) Assert.Equal(factor * mean[i], run[i], 5);
        Assert.Equal(policy == SamBatchNormPolicy.FirstPass ? 1 : 2, bn.num_batches_tracked!.item<long>());
    }
}

public class SwaTests
{
    internal static nn.Module<Tensor, Tensor> Net(long seed)
    {
        using var g = new Generator((ulong)seed);
        return nn.Sequential(("fc", Layers.Linear(5, 6, g)), ("bn", nn.BatchNorm1d(6)), ("relu", nn.ReLU()), ("out", Layers.Linear(6, 2, g)));
    }

    internal static DataSplit Data(int n = 64)
    {
        var g = new Generator(5);
        var x = randn(new long[] { n, 5 }, generator: g);
        var y = x[.., 0].gt(0).to_type(ScalarType.Int64);
        var xt = randn(new long[] { 32, 5 }, generator: g);
        var yt = xt[.., 0].gt(0).to_type(ScalarType.Int64);
        return new DataSplit(new TensorDataSet("toy", x, y, 2), new TensorDataSet("toy", xt, yt, 2), new());
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void AverageIsTheArithmeticMeanOfTheSnapshots_AndTheLiveModelKeepsItsBuffers()
    {
        TestRuntime.Init();
        using var data = Data();
        var model = Net(1);
        var swa = new Swa(model, Net(99), data.Train, new SwaOptions { Lr = 0.1, SwaStart = 2, SwaLr = 0.05, WeightDecay = 0 });
        var snaps = new List<List<double[]>>();
        List<Tensor>? liveBuffers = null;
        swa.OnCollect = (e, live) =>
        {
            snaps.Add(ModuleOps.Params(live).Select(p => p.detach().to_type(ScalarType.Float64).data<double>().ToArray()).ToList());
            liveBuffers?.ForEach(b => b.Dispose());
            liveBuffers = ModuleOps.SnapshotBuffers(live);
        };
        string dir = Path.Combine(Path.GetTempPath(), "swa-test-" + Guid.NewGuid());
        using var trainer = new Trainer(model, _ => swa, data, CPU, new TrainOptions { Epochs = 5, BatchSize = 16 }, dir);
        trainer.Run();
        Assert.Equal(4, snaps.Count); // epochs 2, 3, 4, 5
        var avg = ModuleOps.Params(model).Select(p => p.detach().to_type(ScalarType.Float64).data<double>().ToArray()).ToList();
        for (int i = 0; i < avg.Count; i++)
            for (int j = 0; j < avg[i].Length; j++)
                Assert.Equal(snaps.Average(s => s[i][j]), avg[i][j], 5);
        // The BatchNorm update ran on the average only: the live model's running statistics are those it trained with.
        foreach (var (b, s) in ModuleOps.Buffers(swa.Live).Zip(liveBuffers!))
            Assert.True(b.to_type(ScalarType.Float64).allclose(s.to_type(ScalarType.Float64)));
        Assert.Equal(0.1, ModuleOps.BatchNorms(model)[0].momentum);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void BatchNormUpdateGivesTheExactStatisticsOfTheData()
    {
        TestRuntime.Init();
        using var init = new Generator(0);
        var net = nn.Sequential(("bn", nn.BatchNorm1d(3)), ("out", Layers.Linear(3, 2, init)));
        var g = new Generator(11);
        var x = randn(new long[] { 100, 3 }, generator: g).mul_(tensor(new float[] { 1f, 2f, 0.5f })).add_(tensor(new float[] { 3f, -1f, 0.2f }));
        using var set = new TensorDataSet("toy", x, zeros(new long[] { 100 }, dtype: ScalarType.Int64), 2);
        var bn = (BatchNorm1d)net.named_modules().First(m => m.name == "bn").module;
        bn.momentum = 0.3;
        net.eval();
        var xd = x.to_type(ScalarType.Float64).data<double>().ToArray();
        double Mean(int c, int lo, int hi) => Enumerable.Range(lo, hi - lo).Average(r => xd[r * 3 + c]);
        double UVar(int c, int lo, int hi) { double m = Mean(c, lo, hi); return Enumerable.Range(lo, hi - lo).Sum(r => Math.Pow(xd[r * 3 + c] - m, 2)) / (hi - lo - 1); }
        // One batch: the exact mean and unbiased variance of the data.
        BatchNormUpdate.Run(net, set, CPU, batchSize: 100);
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(Mean(c, 0, 100), bn.running_mean![c].item<float>(), 4);
            Assert.Equal(UVar(c, 0, 100), bn.running_var![c].item<float>(), 4);
        }
        // Batches of 32, 32, 32, 4: the mean is still exact; the variance is the size-weighted mean of batch variances.
        BatchNormUpdate.Run(net, set, CPU, batchSize: 32);
        int[] lo = [0, 32, 64, 96], hi = [32, 64, 96, 100];
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(Mean(c, 0, 100), bn.running_mean![c].item<float>(), 4);
            double v = Enumerable.Range(0, 4).Sum(b => (hi[b] - lo[b]) * UVar(c, lo[b], hi[b])) / 100;
            Assert.Equal(v, bn.running_var![c].item<float>(), 4);
        }
        Assert.Equal(0.3, bn.momentum);      // momentum restored
        Assert.False(net.training);          // mode restored
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void PeriodicSwaRestartsAtTheRightEpochs()
    {
        TestRuntime.Init();
        using var data = Data();
        var model = Net(3);
        var swa = new Swa(model, Net(4), data.Train, new PeriodicSwaOptions { Lr = 0.05, WeightDecay = 5e-4, SwaStart = 9, PswaStart = 2, Period = 3, Buffers = SwaBufferPolicy.CopyLive });
        var checks = new List<(int Epoch, bool BufferNull, bool LiveIsAverage)>();
        swa.OnRestart = e =>
        {
            bool same = ModuleOps.Params(swa.Live).Zip(ModuleOps.Params(model)).All(p => p.First.eq(p.Second).all().item<bool>());
            checks.Add((e, swa.Optimizer.Buffer(0) is null, same));
        };
        string dir = Path.Combine(Path.GetTempPath(), "pswa-test-" + Guid.NewGuid());
        using var trainer = new Trainer(model, _ => swa, data, CPU, new TrainOptions { Epochs = 10, BatchSize = 16 }, dir);
        trainer.Run();
        // (epoch − pswa_start) % P == 0 for pswa_start < epoch ≤ swa_start: epochs 5 and 8.
        Assert.Equal([5, 8], swa.Restarts);
        Assert.All(checks, c => { Assert.True(c.BufferNull); Assert.True(c.LiveIsAverage); });
        // After the restart at 8: epochs 9 and 10 are averaged.
        Assert.Equal(2, swa.AveragedCount);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void SwaScheduleFollowsTheCode()
    {
        double lr = 0.1, swaLr = 0.01; int S = 10;
        Assert.Equal(0.1, SwaSchedule.At(0, lr, swaLr, S), 12);
        Assert.Equal(0.1, SwaSchedule.At(5, lr, swaLr, S), 12);               // t = 0.5
        Assert.Equal(0.1 * (1 - 0.9 * 0.25), SwaSchedule.At(6, lr, swaLr, S), 12); // t = 0.6: 1 − (1 − r)(0.1/0.4)
        Assert.Equal(0.01, SwaSchedule.At(9, lr, swaLr, S), 12);              // t = 0.9
        Assert.Equal(0.01, SwaSchedule.At(12, lr, swaLr, S), 12);
    }

    // SWA has its own schedule: a trainer schedule on top is refused, not silently combined.
    [Fact]
    public void SwaRefusesATrainerLearningRateSchedule()
    {
        TestRuntime.Init();
        using var model = Net(1);
        using var swa = new Swa(model, Net(2), null, new SwaOptions { Lr = 0.1, WeightDecay = 5e-4, SwaStart = 3, Buffers = SwaBufferPolicy.CopyLive });
        Assert.Contains("own learning-rate schedule", Assert.Throws<NotSupportedException>(() => ((ITrainingAlgorithm)swa).ScaleLearningRate(0.5)).Message);
    }

    [Fact]
    public void InvalidOptionsAreRejectedByName()
    {
        Assert.Contains("pswa_start", Assert.ThrowsAny<ArgumentException>(() => new PeriodicSwaOptions { SwaStart = 5, PswaStart = 5 }.Validate()).Message);
        Assert.Contains("swa_lr", Assert.ThrowsAny<ArgumentException>(() => new SwaOptions { SwaLr = 0 }.Validate()).Message);
        Assert.Contains("rho", Assert.ThrowsAny<ArgumentException>(() => new SamOptions { Rho = -1 }.Validate()).Message);
        Assert.Contains("momentum", Assert.ThrowsAny<ArgumentException>(() => new MomentumSgd([], momentum: 1.0)).Message);
    }
}
