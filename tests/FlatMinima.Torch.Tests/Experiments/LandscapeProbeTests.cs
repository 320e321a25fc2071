using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Models;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Training;
using TorchSharp;

namespace FlatMinima.Torch.Tests.Experiments;

/// <summary>The landscape probes of trained runs (<c>flatness --probes line,surface</c>).</summary>
public class LandscapeProbeTests
{
    public LandscapeProbeTests() => TestRuntime.Init();

    private static RunConfig Run(OptimizerConfig optimizer, long seed = 1) => new(
        new GmmDataConfig { N = 8, Alpha = 4, TestSize = 200 }, new MlpConfig { Width = 6 }, optimizer,
        new TrainingConfig { Epochs = 2, BatchSize = 8, Seed = seed });

    // The ends of the line are the two final models: their test loss and error are those the trainer recorded for
    // the last epoch (an MLP without BatchNorm, so no statistics are recomputed), and the distance is ‖w_A − w_B‖
    // computed from the two checkpoints. The centre of the surface is model A on the same samples.
    [Fact]
    [Trait("Speed", "Slow")]
    public void TheLineEndsAtTheTwoRunsAndTheSurfaceIsCentredOnTheModel()
    {
        using var dir = new TempDir();
        Assert.True(Experiment.Train(dir["a"], Run(new SgdOptions { Lr = 0.1 })).Completed);
        Assert.True(Experiment.Train(dir["b"], Run(new EntropySgdOptions())).Completed);
        var config = new FlatnessConfig { Probes = ["line", "surface"], Other = dir["b"], LinePoints = 5, LineFrom = -0.5, LineTo = 1.5, SurfacePoints = 3, SurfaceExtent = 0.5 };
        var runA = TrainingRun.Open(dir["a"]);
        using var trained = TrainedModel.Load(runA);
        var report = FlatnessProbing.Run(trained, config);
        report.Write(trained, []);
        var line = report.Line!;
        Assert.Equal([-0.5, 0, 0.5, 1, 1.5], line.Points.Select(p => p.T).ToArray());
        var lastA = runA.Metrics.Read()[^1];
        var lastB = TrainingRun.Open(dir["b"]).Metrics.Read()[^1];
        Assert.Equal(lastA.TestError, line.Points[1].TestError, 1e-12);
        Assert.Equal(lastB.TestError, line.Points[3].TestError, 1e-12);
        Assert.Equal(lastA.TestLoss, line.Points[1].TestLoss, 1e-5);
        Assert.Equal(lastB.TestLoss, line.Points[3].TestLoss, 1e-5);
        using (var wa = TrainedModel.Load(runA))
        using (var wb = TrainedModel.Load(TrainingRun.Open(dir["b"])))
        {
            double sq = wa.Model.parameters().Zip(wb.Model.parameters()).Sum(p => (p.First - p.Second).pow(2).sum().ToDouble());
            Assert.Equal(Math.Sqrt(sq), line.Distance, 1e-6 * Math.Sqrt(sq));
        }
        var centre = report.Surface!.Points.Single(p => p.Alpha == 0 && p.Beta == 0);
        Assert.Equal(line.Points[1].TrainLoss, centre.Loss, 1e-6);
        Assert.Equal(line.Points[1].TrainError, centre.Error, 1e-12);
        Assert.StartsWith("t,train_loss,train_error,test_loss,test_error", File.ReadAllText(runA.File(FlatnessReport.LineFile)));
        Assert.Equal(10, File.ReadAllLines(runA.File(FlatnessReport.SurfaceFile)).Length);

        // Two runs of different Gaussian-mixture draws (other seeds) have different data: no line between them.
        Assert.True(Experiment.Train(dir["c"], Run(new SgdOptions { Lr = 0.1 }, seed: 2)).Completed);
        var e = Assert.Throws<ConfigException>(() => FlatnessProbing.Run(trained, config with { Probes = ["line"], Other = dir["c"] }));
        Assert.Contains("same data and network", e.Message);
        Assert.Contains("--probes line needs --other", Assert.Throws<ConfigException>(() => new FlatnessConfig { Probes = ["line"] }.Validate()).Message);
    }
}
