using FlatMinima.Numerics;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Training;

namespace FlatMinima.Torch.Tests.Experiments;

public class ExperimentTests
{
    public ExperimentTests() => TestRuntime.Init();

    private static RunConfig Tiny(OptimizerConfig optimizer, int epochs) => new(
        new GmmDataConfig { Alpha = 3, Delta = 0.5, Rho = 0.4, N = 20, TestSize = 200 },
        new MlpConfig { Width = 8, Depth = 1 },
        optimizer,
        new TrainingConfig { Epochs = epochs, BatchSize = 10, Seed = 4 });

    private static double[][] Metrics(string dir) => MetricsLog.Read(Path.Combine(dir, "metrics.csv"))
        .Select(r => new[] { r.Epoch, r.TrainLoss, r.TrainError, r.TestLoss, r.TestError, r.Lr }).ToArray();

    // Resume takes everything from the run's config.json: two epochs, then resume to four with nothing but the epoch
    // count, equals four epochs straight (to float32 rounding of the evaluation loss, as for every resume test).
    [Fact]
    public void ResumeReadsTheStoredConfiguration()
    {
        using var dir = new TempDir();
        var optimizer = new ReplicatedSgdOptions { Replicas = 2, Gmax = 1, Lr = 0.03 };
        Experiment.Train(dir["straight"], Tiny(optimizer, 4));
        var first = Experiment.Train(dir["resumed"], Tiny(optimizer, 2));
        Assert.True(first.Completed);
        var resumed = Experiment.Resume(dir["resumed"], epochs: 4);
        Assert.True(resumed.Completed);
        Assert.Equal(4, resumed.Last!.Epoch);
        var a = Metrics(dir["straight"]); var b = Metrics(dir["resumed"]);
        Assert.Equal(4, b.Length);
        for (int i = 0; i < a.Length; i++)
            for (int j = 0; j < a[i].Length; j++)
                Assert.True(Math.Abs(a[i][j] - b[i][j]) <= 1e-6 * Math.Max(1, Math.Abs(a[i][j])), $"epoch {i + 1}, column {j}: {a[i][j]} vs {b[i][j]}");
        // The stored configuration now says 4 epochs and is otherwise the one the run started with.
        var stored = TrainingRun.Open(dir["resumed"]).Config;
        Assert.Equal(Tiny(optimizer, 4), stored);
        Assert.Equal(Tiny(optimizer, 4).Hash(), stored.Hash());
    }

    // flatness --run reads the stored data set and the last checkpoint: the loaded network's test error on the
    // reloaded data is the one the trainer recorded for its last epoch.
    [Fact]
    public void AProbedRunHasTheStoredDataAndTheLastWeights()
    {
        using var dir = new TempDir();
        var outcome = Experiment.Train(dir.Path, Tiny(new SgdOptions { Lr = 0.1 }, 2));
        using var trained = TrainedModel.Load(TrainingRun.Open(dir.Path));
        Assert.Equal(60, trained.Data.Train.Count);   // P = αN = 3 · 20
        Assert.Equal(200, trained.Data.Test.Count);
        Assert.EndsWith("epoch-0002", trained.Checkpoint);
        var (loss, error) = Trainer.Evaluate(trained.Model, trained.Data.Test, trained.Device);
        Assert.Equal(outcome.Last!.TestError, error);
        Assert.Equal(outcome.Last.TestLoss, loss, 1e-6);
        // The local energy at σ = 0 is the training error of the final model in percent.
        var report = FlatnessProbing.Run(trained, new FlatnessConfig { Probes = ["le"], Sigma = [0], Draws = 1 });
        var (_, trainError) = Trainer.Evaluate(trained.Model, trained.Data.Train, trained.Device);
        Assert.Equal(100 * trainError, report.LocalEnergy![0].MeanError, 12);
    }

    // A GM run sits next to the theory: ε_BO(α, Δ, ρ) of docs/theory.md#e3 in closed form, H(√(α/(Δ(α + Δ)))) shifted by
    // the prior's log-odds, and the binomial standard error of the test error.
    [Fact]
    public void AGmRunIsComparedWithTheBayesOptimalError()
    {
        using var dir = new TempDir();
        var outcome = Experiment.Train(dir.Path, Tiny(new SgdOptions(), 1) with { Data = new GmmDataConfig { Alpha = 2, Delta = 1, N = 20, TestSize = 400 } });
        var gm = outcome.Gm!;
        Assert.Equal(Gaussian.H(Math.Sqrt(2.0 / 3)), gm.EpsilonBo, 12);   // ρ = ½: ε_BO = H(√(α/(Δ(α+Δ))))
        double e = outcome.Last!.TestError;
        Assert.Equal(Math.Sqrt(e * (1 - e) / 400), gm.TestErrorSe, 12);
        Assert.InRange(gm.EpsilonErm!.Value, gm.EpsilonBo, 0.5);
        var summary = outcome.Summary();
        Assert.Equal(gm.EpsilonBo, summary["epsilon_bo"]);
        Assert.Equal("completed", FlatMinima.Storage.Manifest.StatusOf(Path.Combine(dir.Path, "manifest.json")));
    }

    // The local energy during training (docs/theory.md#le): every K epochs one row at the configured σ and draws.
    [Fact]
    public void LocalEnergyDuringTrainingIsWrittenEveryKEpochs()
    {
        using var dir = new TempDir();
        Experiment.Train(dir.Path, Tiny(new SgdOptions(), 4) with { Training = new TrainingConfig { Epochs = 4, BatchSize = 10, LeEvery = 2, LeSigma = 0.5, LeDraws = 3 } });
        var rows = File.ReadAllLines(Path.Combine(dir.Path, "local_energy.csv"));
        Assert.Equal("epoch,sigma,draws,mean_error_pct,std_error_pct,delta_error_pct,mean_loss", rows[0]);
        Assert.Equal(["2", "4"], rows.Skip(1).Select(r => r.Split(',')[0]));
        Assert.All(rows.Skip(1), r => Assert.Equal(["0.5", "3"], r.Split(',')[1..3]));
    }

    // The optimisers that report observations log them; SWA adds the live model's test error.
    [Fact]
    public void ObservedOptimisersWriteTheirLog()
    {
        using var dir = new TempDir();
        Experiment.Train(dir.Path, Tiny(new SwaOptions { SwaStart = 1 }, 2));
        var live = OptimLog.Read(Path.Combine(dir.Path, "optim_log.csv"), "live_test_error");
        Assert.Equal([1, 2], live.Keys.Order());
        Assert.All(live.Values, v => Assert.InRange(v, 0, 1));
        Assert.Equal(1.0, OptimLog.Read(Path.Combine(dir.Path, "optim_log.csv"), "n_averaged")[1]);
    }

    [Fact]
    public void AFolderWithoutAConfigurationIsNotARun()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<ConfigException>(() => TrainingRun.Open(dir.Path));
        Assert.Contains(dir.Path, e.Message);
        Assert.Contains("config.json", e.Message);
        Assert.Throws<ConfigException>(() => Experiment.Resume(dir["missing"]));
        File.WriteAllText(dir["config.json"], "{ not json");
        var bad = Assert.Throws<InvalidDataException>(() => TrainingRun.Open(dir.Path));
        Assert.Contains(dir["config.json"], bad.Message);
    }

    // Nesterov SGD is an optimizer algorithm like the others, so it also runs in bf16 with fp32 master weights.
    [Fact]
    public void NesterovSgdRunsInBf16()
    {
        using var dir = new TempDir();
        var c = Tiny(new SgdOptions { Nesterov = true }, 1) with { Training = new TrainingConfig { Epochs = 1, BatchSize = 10, Precision = Precision.Bf16 } };
        var outcome = Experiment.Train(dir.Path, c);
        Assert.True(outcome.Completed);
        Assert.True(double.IsFinite(outcome.Last!.TrainLoss));
        Assert.Contains("\"nesterov\": true", File.ReadAllText(Path.Combine(dir.Path, "manifest.json")));
        Assert.Contains("+bf16", File.ReadAllText(Path.Combine(dir.Path, "manifest.json")).Replace(" ", ""), StringComparison.Ordinal);
    }
}
