using FlatMinima.Mixture;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Tests.Training;

public class TrainerTests
{
    public TrainerTests() => TestRuntime.Init();

    private static DataSplit SmallGm(int testSize = 200) => GmmData.Create(new MixtureSpec(new MixtureModel(3, 1, 0.5), N: 20, Seed: 2), testSize);

    private static nn.Module<Tensor, Tensor> Mlp(DataSplit d, long seed = 0) => new MlpConfig { Width = 16, Depth = 1 }.Create(d.Train.InputShape, 2, seed);

    private static nn.Module<Tensor, Tensor> Model(string name, long[] shape, int classes, Generator g) =>
        name == "mlp" ? new MlpConfig { Width = 16, Depth = 1 }.Create(shape, classes, g) : ((ModelConfig)ExperimentOptions.Model.New(name)).Create(shape, classes, g);

    private static float[] Flat(nn.Module<Tensor, Tensor> m) =>
        m.parameters().SelectMany(p => p.detach().data<float>().ToArray()).ToArray();

    [Theory]
    [InlineData("sgd")]
    [InlineData("sgd-flat")]
    [InlineData("adam")]
    [Trait("Speed", "Slow")]
    public void ResumeContinuesBitForBit(string optimizer)
    {
        using var d = SmallGm();
        using var dirA = new TempDir();
        using var dirB = new TempDir();
        var opts = new TrainOptions { Epochs = 4, BatchSize = 8, Seed = 1 };
        var factory = OptimizerAlgorithm.Factory(optimizer, 0.02, 0.9, 1e-3);
        var straight = Mlp(d);
        using (var t = new Trainer(straight, factory, d, CPU, opts, dirA.Path)) t.Run();
        var first = Mlp(d);
        using (var t = new Trainer(first, factory, d, CPU, opts with { Epochs = 2 }, dirB.Path)) t.Run();
        var resumed = Mlp(d, seed: 99); // different init: everything must come from the checkpoint
        using (var t = new Trainer(resumed, factory, d, CPU, opts, dirB.Path))
        {
            var r = t.Run(resume: true);
            Assert.Equal(2, r.StartEpoch);
        }
        Assert.Equal(Flat(straight), Flat(resumed));
        var a = MetricsLog.Read(Path.Combine(dirA.Path, "metrics.csv"));
        var b = MetricsLog.Read(Path.Combine(dirB.Path, "metrics.csv"));
        Assert.Equal(a.Select(r => (r.Epoch, r.TrainLoss, r.TestError)), b.Select(r => (r.Epoch, r.TrainLoss, r.TestError)));
        Assert.True(File.Exists(Path.Combine(dirB.Path, "checkpoints", "epoch-0004", "model.bin")));
        Assert.False(Directory.Exists(Path.Combine(dirB.Path, "checkpoints", "epoch-0002")), "only the two newest checkpoints are kept");
    }

    // Cosine annealing per epoch as PyTorch's CosineAnnealingLR(T_max = E) stepped per epoch: lr_e = lr_min +
    // (lr − lr_min)(1 + cos(π(e − 1)/E))/2; the lr column of metrics.csv is the rate the optimiser used.
    [Theory]
    [InlineData("sgd")]
    [InlineData("sgd-flat")]
    [InlineData("adam")]
    [Trait("Speed", "Slow")]
    public void CosineScheduleSetsTheRatePerEpoch(string optimizer)
    {
        using var d = SmallGm();
        using var dir = new TempDir();
        const double lr = 0.04, lrMin = 0.004; const int E = 5;
        var opts = new TrainOptions { Epochs = E, BatchSize = 8, Seed = 1, LrSchedule = new LrSchedule(LrScheduleKind.Cosine, lrMin / lr) };
        using (var t = new Trainer(Mlp(d), OptimizerAlgorithm.Factory(optimizer, lr, 0.9), d, CPU, opts, dir.Path)) t.Run();
        var rows = MetricsLog.Read(Path.Combine(dir.Path, "metrics.csv"));
        for (int e = 1; e <= E; e++)
            Assert.Equal(lrMin + (lr - lrMin) * (1 + Math.Cos(Math.PI * (e - 1) / E)) / 2, rows[e - 1].Lr, 9);
        Assert.Equal(1.0, LrSchedule.Constant.Factor(3, E));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LrSchedule(LrScheduleKind.Cosine, 1.5));
    }

    // A schedule changes the trajectory exactly as setting the rate by hand would: two epochs at lr, then lr·f.
    [Fact]
    public void ScaledRateEqualsARunAtThatRate()
    {
        using var d = SmallGm();
        using var dirA = new TempDir();
        using var dirB = new TempDir();
        var opts = new TrainOptions { Epochs = 1, BatchSize = 8, Seed = 1 };
        var a = Mlp(d);
        using (var t = new Trainer(a, OptimizerAlgorithm.Factory("sgd-flat", 0.05, 0.9), d, CPU, opts, dirA.Path))
            t.Run();
        var b = Mlp(d);
        using (var t = new Trainer(b, m => { var alg = OptimizerAlgorithm.Factory("sgd-flat", 0.1, 0.9)(m); alg.ScaleLearningRate(0.5); return alg; }, d, CPU, opts, dirB.Path)) t.Run();
        Assert.Equal(Flat(a), Flat(b));
    }

    /// <summary>Wraps an algorithm and poisons the weights with NaN at one epoch: a real NaN loss follows.</summary>
    private sealed class Poison(ITrainingAlgorithm inner, int epoch) : ITrainingAlgorithm
    {
        private int _epoch = 1;
        public string Name => inner.Name;
        public double LearningRate => inner.LearningRate;
        public IReadOnlyDictionary<string, object?> Describe() => inner.Describe();
        public StepResult Step(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Func<Tensor, Tensor, Tensor> loss)
        {
            if (_epoch == epoch) using (no_grad()) model.parameters().First().fill_(float.NaN);
            return inner.Step(model, x, y, loss);
        }
        public void OnEpochEnd(int e) { _epoch = e + 1; inner.OnEpochEnd(e); }
        public void Save(string path) => inner.Save(path);
        public void Load(string path) => inner.Load(path);
        public void Dispose() => inner.Dispose();
    }

    [Fact]
    public void NaNLossStopsAndKeepsLastGoodCheckpoint()
    {
        using var d = SmallGm();
        using var dir = new TempDir();
        var sgd = OptimizerAlgorithm.Factory("sgd", 0.02);
        var model = Mlp(d);
        using var t = new Trainer(model, m => new Poison(sgd(m), epoch: 3), d, CPU, new TrainOptions { Epochs = 5, BatchSize = 16 }, dir.Path);
        var e = Assert.Throws<TrainingDivergedException>(() => t.Run());
        Assert.Equal(3, e.Epoch);
        Assert.Equal(1, e.Batch);
        Assert.Contains("NaN", e.Message);
        Assert.Contains("epoch-0002", e.Message);
        var checkpoints = new CheckpointStore(Path.Combine(dir.Path, "checkpoints"));
        Assert.Equal(checkpoints.Latest(), Path.Combine(dir.Path, "checkpoints", "epoch-0002"));
        // The kept checkpoint is finite and the metrics stop at the last good epoch.
        var check = Mlp(d);
        CheckpointStore.LoadWeights(check, checkpoints.Latest()!);
        Assert.All(Flat(check), v => Assert.True(float.IsFinite(v)));
        Assert.Equal([1, 2], MetricsLog.Read(Path.Combine(dir.Path, "metrics.csv")).Select(r => r.Epoch));
    }

    private sealed class LiveCount : ITrainingHook
    {
        public List<long> Counts { get; } = [];
        public void OnEpochEnd(EpochMetrics m, nn.Module<Tensor, Tensor> model) => Counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Theory]
    [InlineData("mlp", "sgd")]
    [InlineData("lenet", "adam")]
    [Trait("Speed", "Slow")]
    public void LiveTensorCountStaysFlatAcrossEpochs(string model, string optimizer)
    {
        using var d = model == "mlp" ? SmallGm() : TinyImages();
        using var dir = new TempDir();
        using var g = new Generator(0);
        var m = Model(model, d.Train.InputShape, d.Train.Classes, g);
        var hook = new LiveCount();
        using var t = new Trainer(m, OptimizerAlgorithm.Factory(optimizer, 0.01), d, CPU, new TrainOptions { Epochs = 4, BatchSize = 16 }, dir.Path);
        t.Hooks.Add(hook);
        t.Run();
        // Epoch 1 creates the optimiser state; after it, not a single tensor may accumulate.
        Assert.Equal(hook.Counts[1], hook.Counts[2]);
        Assert.Equal(hook.Counts[1], hook.Counts[3]);
    }

    private static DataSplit TinyImages()
    {
        var g = new Generator(5);
        var info = new Dictionary<string, object?> { ["name"] = "tiny" };
        return new DataSplit(new TensorDataSet("tiny", randn([48, 1, 28, 28], generator: g), randint(0, 10, [48], dtype: ScalarType.Int64, generator: g), 10),
            new TensorDataSet("tiny", randn([16, 1, 28, 28], generator: g), randint(0, 10, [16], dtype: ScalarType.Int64, generator: g), 10), info);
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void TrainedMlpNeverBeatsTheBayesFloor()
    {
        // ε_BO is the error no classifier trained on αN samples can beat; a test error below it by more than its
        // standard error means the test set leaked into training. N = 40, α = 4, fresh test set of 20 000 samples.
        var spec = new MixtureSpec(new MixtureModel(4, 1, 0.5), N: 40, Seed: 8);
        using var d = GmmData.Create(spec, testSize: 20_000);
        using var dir = new TempDir();
        var m = Mlp(d, seed: 1);
        using var t = new Trainer(m, OptimizerAlgorithm.Factory("sgd", 0.05), d, CPU, new TrainOptions { Epochs = 15, BatchSize = 16, Seed = 8 }, dir.Path);
        var r = t.Run();
        double err = r.Epochs[^1].TestError;
        double se = Math.Sqrt(err * (1 - err) / d.Test.Count);
        double bo = GmmData.BayesOptimalError(spec.Model);
        Assert.True(err >= bo - se, $"test error {err} ± {se} below ε_BO = {bo}: leak");
        Assert.True(err < 0.4, $"the MLP did not learn (test error {err})");
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void ModelsRunForwardAndBackward()
    {
        using var g = new Generator(0);
        foreach (var (name, shape) in new[] { ("mlp", new long[] { 1, 28, 28 }), ("lenet", new long[] { 1, 28, 28 }), ("lenet", new long[] { 3, 32, 32 }), ("resnet18", new long[] { 3, 32, 32 }) })
        {
            using var scope = NewDisposeScope();
            var m = ((ModelConfig)ExperimentOptions.Model.New(name)).Create(shape, 10, g);
            var x = randn([2, .. shape], generator: g);
            var y = m.forward(x);
            Assert.Equal([2L, 10], y.shape);
            y.sum().backward();
            Assert.All(m.parameters(), p => Assert.NotNull(p.grad));
        }
        Assert.Throws<ConfigException>(() => ExperimentOptions.Model.New("vgg"));
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void MixedPrecisionTrainsAndKeepsFp32Master()
    {
        using var d = TinyImages();
        using var dir = new TempDir();
        using var g = new Generator(0);
        var master = new LeNetConfig().Create(d.Train.InputShape, 10, g);
        var work = new LeNetConfig().Create(d.Train.InputShape, 10, g);
        var sgd = OptimizerAlgorithm.Factory("sgd", 0.01);
        using var t = new Trainer(master, m => new MixedPrecisionAlgorithm(m, work, (OptimizerAlgorithm)sgd(m)), d, CPU, new TrainOptions { Epochs = 2, BatchSize = 16 }, dir.Path);
        var r = t.Run();
        Assert.All(r.Epochs, e => Assert.True(double.IsFinite(e.TrainLoss)));
        Assert.All(master.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.Equal(ScalarType.BFloat16, work.parameters().First().dtype);
    }

    [Fact]
    public void FlatSgdFollowsTorchSgdExactly()
    {
        using var d = SmallGm();
        using var dirA = new TempDir();
        using var dirB = new TempDir();
        var opts = new TrainOptions { Epochs = 2, BatchSize = 8, Seed = 3 };
        var a = Mlp(d); var b = Mlp(d);
        Assert.Equal(Flat(a), Flat(b));
        using (var t = new Trainer(a, OptimizerAlgorithm.Factory("sgd", 0.05, 0.9, 1e-3), d, CPU, opts, dirA.Path)) t.Run();
        using (var t = new Trainer(b, OptimizerAlgorithm.Factory("sgd-flat", 0.05, 0.9, 1e-3), d, CPU, opts, dirB.Path)) t.Run();
        var fa = Flat(a); var fb = Flat(b);
        for (int i = 0; i < fa.Length; i++) Assert.Equal(fa[i], fb[i], 5);
    }

    [Fact]
    public void FlatSgdKeepsChannelsLastWeights()
    {
        using var g = new Generator(0);
        var m = new LeNetConfig().Create([3, 32, 32], 10, g);
        Layout.ToChannelsLast(m);
        var conv = m.parameters().First(p => p.dim() == 4);
        long[] before = conv.stride();
        Assert.Equal(1L, before[1]); // NHWC: channels innermost
        var values = conv.detach().clone();
        using var opt = new FlatSgd(m.parameters(), 0.1, 0.9, 0);
        Assert.Equal(before, conv.stride());
        Assert.True(conv.detach().equal(values).all().item<bool>());
        using var scope = NewDisposeScope();
        var x = Layout.ChannelsLast(randn([4, 3, 32, 32], generator: g));
        nn.functional.cross_entropy(m.forward(x), randint(0, 10, [4], generator: g)).backward();
        opt.Step();
        Assert.Equal(before, conv.stride());
        Assert.False(conv.detach().equal(values).all().item<bool>());
    }

    [Fact]
    public void BadHyperparametersAreRejectedWithTheirName()
    {
        Assert.Contains("lr", Assert.Throws<ArgumentOutOfRangeException>(() => OptimizerAlgorithm.Factory("sgd", -1)).Message);
        Assert.Contains("momentum", Assert.Throws<ArgumentOutOfRangeException>(() => OptimizerAlgorithm.Factory("sgd", 0.1, 1.5)).Message);
        Assert.Contains("sgd|sgd-flat|adam", Assert.Throws<ArgumentException>(() => OptimizerAlgorithm.Factory("rmsprop", 0.1)).Message);
    }
}
