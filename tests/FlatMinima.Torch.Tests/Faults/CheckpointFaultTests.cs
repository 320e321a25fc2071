using System.Text.Json.Nodes;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Tests.Faults;

/// <summary>
/// Checkpoints are verified, not trusted: a flipped byte, a truncated file, an edited state.json or configuration, and
/// weights that are not finite are errors naming the file (and the field), never other numbers or a "flat" model.
/// </summary>
public class CheckpointFaultTests
{
    public CheckpointFaultTests() => TestRuntime.Init();

    internal static RunConfig Tiny(OptimizerConfig optimizer, int epochs, long seed = 4) => new(
        new GmmDataConfig { Alpha = 3, Delta = 0.5, Rho = 0.4, N = 20, TestSize = 200 },
        new MlpConfig { Width = 8, Depth = 1 },
        optimizer,
        new TrainingConfig { Epochs = epochs, BatchSize = 10, Seed = seed });

    private static string Checkpoint(string run, int epoch) => Path.Combine(run, "checkpoints", CheckpointStore.FolderOf(epoch));

    [Fact]
    public void AFlippedByteInModelBinIsNamedOnResumeAndInTheProbes()
    {
        using var dir = new TempDir();
        Experiment.Train(dir.Path, Tiny(new SgdOptions(), 2));
        string model = Path.Combine(Checkpoint(dir.Path, 2), "model.bin");
        var bytes = File.ReadAllBytes(model);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(model, bytes);
        var e = Assert.Throws<CheckpointException>(() => Experiment.Resume(dir.Path, epochs: 3));
        Assert.Contains(model, e.Message);
        Assert.Contains("SHA-256", e.Message);
        var p = Assert.Throws<CheckpointException>(() => TrainedModel.Load(TrainingRun.Open(dir.Path)));
        Assert.Contains(model, p.Message);
    }

    [Theory]
    [InlineData("model.bin")]
    [InlineData("optimizer.bin")]
    public void ATruncatedFileIsNamedWithItsSize(string file)
    {
        using var dir = new TempDir();
        Experiment.Train(dir.Path, Tiny(new SgdOptions { Momentum = 0.9 }, 2));
        string path = Path.Combine(Checkpoint(dir.Path, 2), file);
        long length = new FileInfo(path).Length;
        using (var fs = new FileStream(path, FileMode.Open)) fs.SetLength(length / 2);
        var e = Assert.Throws<CheckpointException>(() => Experiment.Resume(dir.Path, epochs: 3));
        Assert.Contains(path, e.Message);
        Assert.Contains($"{length / 2} bytes", e.Message);
        Assert.Contains($"records {length}", e.Message);
    }

    // A state.json whose epoch is not its folder's (epoch 99 in a 12-epoch run) used to end the run as "completed".
    [Fact]
    public void AStateJsonWithAnotherEpochIsRefused()
    {
        using var dir = new TempDir();
        Experiment.Train(dir.Path, Tiny(new SgdOptions(), 2));
        string state = Path.Combine(Checkpoint(dir.Path, 2), "state.json");
        File.WriteAllText(state, File.ReadAllText(state).Replace("\"epoch\": 2", "\"epoch\": 99"));
        var e = Assert.Throws<CheckpointException>(() => Experiment.Resume(dir.Path, epochs: 12));
        Assert.Contains(state, e.Message);
        Assert.Contains("epoch 99", e.Message);
        Assert.Equal("failed", FlatMinima.Storage.Manifest.StatusOf(Path.Combine(dir.Path, "manifest.json")));
    }

    [Fact]
    public void AStateJsonThatIsNotJsonIsNamedWithThePosition()
    {
        using var dir = new TempDir();
        Experiment.Train(dir.Path, Tiny(new SgdOptions(), 1));
        string state = Path.Combine(Checkpoint(dir.Path, 1), "state.json");
        File.WriteAllText(state, "{\n  \"epoch\": 1,\n  \"algorithm\" \"sgd\"\n}");
        var e = Assert.Throws<CheckpointException>(() => Experiment.Resume(dir.Path, epochs: 2));
        Assert.Contains(state, e.Message);
        Assert.Contains("line 3, column 15", e.Message);
    }

    // Weights that are not finite are never checkpointed: a model that ends an epoch with NaN weights (the loss of its
    // last step was still finite) stops the run as diverged, naming the last good checkpoint, and no checkpoint of
    // that epoch is written.
    [Fact]
    public void NaNWeightsAtTheEndOfAnEpochAreADivergenceNotACheckpoint()
    {
        using var d = FlatMinima.Torch.Data.GmmData.Create(new FlatMinima.Mixture.MixtureModel(3, 1, 0.5).AtSize(20, 2), 100);
        using var dir = new TempDir();
        var model = new MlpConfig { Width = 8, Depth = 1 }.Create(d.Train.InputShape, 2, 0);
        var sgd = OptimizerAlgorithm.Factory("sgd", 0.02);
        using var t = new Trainer(model, m => new PoisonAtEpochEnd(sgd(m), m, epoch: 2), d, CPU, new TrainOptions { Epochs = 3, BatchSize = 16 }, dir.Path);
        var e = Assert.Throws<TrainingDivergedException>(() => t.Run());
        Assert.Equal(2, e.Epoch);
        Assert.Contains("not finite", e.Message);
        Assert.Contains("epoch-0001", e.Message);
        Assert.Equal(Path.Combine(dir.Path, "checkpoints", "epoch-0001"), new CheckpointStore(Path.Combine(dir.Path, "checkpoints")).Latest());
        Assert.Equal([1], MetricsLog.Read(Path.Combine(dir.Path, "metrics.csv")).Select(r => r.Epoch));
        // And the store itself refuses such weights.
        Assert.Throws<CheckpointException>(() => new CheckpointStore(dir["other"]).Save(2, model, sgd(model)));
    }

    private sealed class PoisonAtEpochEnd(ITrainingAlgorithm inner, nn.Module<Tensor, Tensor> model, int epoch) : ITrainingAlgorithm
    {
        public string Name => inner.Name;
        public double LearningRate => inner.LearningRate;
        public IReadOnlyDictionary<string, object?> Describe() => inner.Describe();
        public StepResult Step(nn.Module<Tensor, Tensor> m, Tensor x, Tensor y, Func<Tensor, Tensor, Tensor> loss) => inner.Step(m, x, y, loss);
        public void OnEpochEnd(int e)
        {
            inner.OnEpochEnd(e);
            if (e == epoch) using (no_grad()) model.parameters().First().fill_(float.NaN);
        }
        public void Save(string path) => inner.Save(path);
        public void Load(string path) => inner.Load(path);
        public void Dispose() => inner.Dispose();
    }

    // A checkpoint whose weights are not finite but whose checksums match (written by another tool, or before
    // checkpoints were checked) is refused on load: resume fails and the probes never report δE = 0 for it.
    [Fact]
    public void ACheckpointWithNaNWeightsIsRefusedByResumeAndByTheProbes()
    {
        using var dir = new TempDir();
        var config = Tiny(new SgdOptions(), 2);
        Experiment.Train(dir.Path, config);
        string ckpt = Checkpoint(dir.Path, 2);
        string model = Path.Combine(ckpt, "model.bin");
        var net = config.Model.Create([20], 2, 0);
        using (no_grad()) net.parameters().Last().fill_(float.NaN);
        net.save(model);
        Resign(ckpt);
        var e = Assert.Throws<CheckpointException>(() => Experiment.Resume(dir.Path, epochs: 3));
        Assert.Contains(model, e.Message);
        Assert.Contains("not finite", e.Message);
        var p = Assert.Throws<CheckpointException>(() => TrainedModel.Load(TrainingRun.Open(dir.Path)));
        Assert.Contains("not finite", p.Message);
    }

    // Recomputes the checksums of a checkpoint's files into its state.json, as a writer that does not check would.
    internal static void Resign(string checkpoint)
    {
        string state = Path.Combine(checkpoint, "state.json");
        var node = JsonNode.Parse(File.ReadAllText(state))!;
        foreach (var f in new[] { "model.bin", "optimizer.bin" })
        {
            string path = Path.Combine(checkpoint, f);
            node["files"]![f]!["bytes"] = new FileInfo(path).Length;
            node["files"]![f]!["sha256"] = CheckpointStore.Sha256(path);
        }
        File.WriteAllText(state, node.ToJsonString());
    }

    // The checkpoint records the configuration it belongs to; one of another run (copied over, or a config.json edited
    // together with the manifest) is named field by field.
    [Fact]
    public void ACheckpointOfAnotherConfigurationIsNamedFieldByField()
    {
        using var dir = new TempDir();
        Experiment.Train(dir["a"], Tiny(new SgdOptions(), 2, seed: 4));
        Experiment.Train(dir["b"], Tiny(new SgdOptions(), 2, seed: 5));
        Directory.Delete(Path.Combine(dir["a"], "checkpoints"), true);
        CopyDirectory(Path.Combine(dir["b"], "checkpoints"), Path.Combine(dir["a"], "checkpoints"));
        var e = Assert.Throws<CheckpointException>(() => Experiment.Resume(dir["a"], epochs: 3));
        Assert.Contains("training.seed = 4 (checkpoint: 5)", e.Message);
        Assert.Contains(Path.Combine(dir["a"], "config.json"), e.Message);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        foreach (var d in Directory.GetDirectories(from)) CopyDirectory(d, Path.Combine(to, Path.GetFileName(d)));
    }

    // More than 9 999 epochs: folder names grow past four digits and are ordered as numbers (as strings, epoch-9999
    // sorted after epoch-10000 and resume and the probes took the older one); pruning keeps the two newest by number.
    [Fact]
    public void CheckpointsAreOrderedAsNumbersPastTenThousandEpochs()
    {
        using var dir = new TempDir();
        using var d = FlatMinima.Torch.Data.GmmData.Create(new FlatMinima.Mixture.MixtureModel(3, 1, 0.5).AtSize(20, 2), 50);
        var model = new MlpConfig { Width = 4, Depth = 1 }.Create(d.Train.InputShape, 2, 0);
        using var sgd = OptimizerAlgorithm.Factory("sgd", 0.02)(model);
        var store = new CheckpointStore(dir["checkpoints"]);
        foreach (var epoch in new[] { 9_998, 9_999, 10_000, 10_001 }) store.Save(epoch, model, sgd);
        Assert.Equal("epoch-10000", CheckpointStore.FolderOf(10_000));
        Assert.Equal(Path.Combine(dir["checkpoints"], "epoch-10001"), store.Latest());
        Assert.Equal([10_000, 10_001], store.List().Select(c => c.Epoch));
        Assert.Equal(10_001, CheckpointStore.Verify(store.Latest()!).Epoch);
    }

    // The identity that checkpoints and manifests record leaves out exactly the fields a resume may change.
    [Fact]
    public void TheIdentityLeavesOutExactlyTheResumableFields()
    {
        var a = Tiny(new SgdOptions(), 2);
        Assert.Equal(["training.epochs", "training.device"], RunConfig.ResumableFields);
        Assert.Equal(a.Identity().Sha256, (a with { Training = a.Training with { Epochs = 50, Device = DeviceChoice.Cuda } }).Identity().Sha256);
        Assert.NotEqual(a.Hash(), (a with { Training = a.Training with { Epochs = 50 } }).Hash());
        foreach (var changed in new[]
                 {
                     a with { Training = a.Training with { Seed = 5 } }, a with { Training = a.Training with { BatchSize = 11 } },
                     a with { Optimizer = new SgdOptions { Lr = 0.2 } }, a with { Data = ((GmmDataConfig)a.Data) with { N = 21 } },
                     a with { Model = new MlpConfig { Width = 9, Depth = 1 } }, a with { Training = a.Training with { LeEvery = 2 } },
                 })
            Assert.NotEqual(a.Identity().Sha256, changed.Identity().Sha256);
        Assert.False(a.Identity().Config["training"]!.AsObject().ContainsKey("epochs"));
        Assert.True(a.Identity().Config["training"]!.AsObject().ContainsKey("seed"));
    }
}
