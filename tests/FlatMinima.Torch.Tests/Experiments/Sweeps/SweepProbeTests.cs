using System.Text.Json.Nodes;
using FlatMinima.Storage;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Experiments.Sweeps;
using FlatMinima.Torch.Training;

namespace FlatMinima.Torch.Tests.Experiments.Sweeps;

/// <summary>The adaptive-sharpness and SLQ probes of a sweep, and probes added to a recorded sweep.</summary>
public class SweepProbeTests
{
    public SweepProbeTests() => TestRuntime.Init();

    // A network of 3·2 + 2 + 2·2 + 2 = 14 parameters: 30 Lanczos steps exceed its dimension, so the largest Ritz value
    // is the top eigenvalue of the Hessian itself, which 400 power iterations also reach.
    private const string Train = """
      "train": {"data": "gmm", "n": 3, "alpha": 10, "test-size": 50, "width": 2, "depth": 1, "epochs": 2, "batch-size": 10},
      "optimizers": {"sgd": {"lr": 0.1}, "esgd": {}},
      "seeds": [0]
    """;
    private const string Probes = """ "sigma": [0.5], "draws": 2, "hessian_samples": 30, "max_iter": 400, "trace_samples": 2 """;

    private sealed class Messages : IRunReporter
    {
        public List<string> Lines { get; } = [];
        public void Message(string text) { lock (Lines) Lines.Add(text); }
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void ProbesAddedToARecordedSweepRunOnlyOnTheMissingOnesAndAgreeWithPowerIteration()
    {
        using var dir = new TempDir();
        var plain = SweepGrid.Parse("{" + Train + ", \"probes\": {" + Probes + "}}", "plain.json");
        Assert.Null(plain.Probes.SpectralProbes);
        Assert.Equal(0, new SweepRunner(plain, dir.Path).Run(plain.Jobs));
        string resultPath = Path.Combine(dir.Path, "runs", "sgd_s0", SweepRunner.ResultFile);
        var before = JsonText.Read(resultPath)!;
        Assert.Null(before["slq_top"]);
        var c0 = SweepCollector.Collect(dir.Path);
        Assert.DoesNotContain("slq_top", File.ReadAllLines(Path.Combine(dir.Path, "sweep.csv"))[0]);
        Assert.DoesNotContain(c0.Correlation, c => c.Measure == "slq_top");

        // The same runs with the two probes added: accepted in the same directory, only the new probes run.
        var grown = SweepGrid.Parse("{" + Train + ", \"probes\": {" + Probes + ", \"adaptive_rho\": 0.2, \"adaptive_steps\": 5, \"slq_steps\": 30, \"slq_vectors\": 2}}", "grown.json");
        var messages = new Messages();
        Assert.Equal(0, new SweepRunner(grown, dir.Path, reporter: messages).Run(grown.Jobs));
        Assert.Equal(2, messages.Lines.Count(l => l.EndsWith("done; probing adaptive,slq")));
        var after = JsonText.Read(resultPath)!;
        foreach (var key in new[] { "test_error", "train_error", "hessian_top", "hessian_trace" })
            Assert.Equal(before[key]!.GetValue<double>(), after[key]!.GetValue<double>());
        Assert.Equal(before["local_energy"]!.ToJsonString(), after["local_energy"]!.ToJsonString());
        double top = after["hessian_top"]!.GetValue<double>();
        Assert.True(top > 0);
        Assert.Equal(top, after["slq_top"]!.GetValue<double>(), top * 1e-4);
        Assert.True(after["adaptive_sharpness"]!.GetValue<double>() >= 0);
        Assert.Equal(0.2, after["adaptive_rho"]!.GetValue<double>());
        // flatness.json keeps its earlier sections and gains the new ones; the density curve is beside it.
        var flat = JsonText.Read(Path.Combine(dir.Path, "runs", "sgd_s0", TrainingRun.FlatnessFile))!;
        Assert.NotNull(flat["local_energy"]);
        Assert.NotNull(flat["adaptive_sharpness"]);
        Assert.Equal(after["slq_top"]!.GetValue<double>(), flat["hessian_density"]!["top_ritz"]!.GetValue<double>());
        Assert.StartsWith("eigenvalue,density,density_se,width", File.ReadAllText(Path.Combine(dir.Path, "runs", "sgd_s0", FlatnessReport.DensityFile)));

        // A third call has nothing left to do; the collection carries the new measures into every table.
        messages.Lines.Clear();
        Assert.Equal(0, new SweepRunner(grown, dir.Path, reporter: messages).Run(grown.Jobs));
        Assert.Equal(2, messages.Lines.Count(l => l.EndsWith("done, skipped")));
        var c = SweepCollector.Collect(dir.Path);
        var header = File.ReadAllLines(Path.Combine(dir.Path, "sweep.csv"))[0].Split(',');
        Assert.Equal(["hessian_trace_se", "adaptive_sharpness", "slq_top", "slq_trace", "train_s"], header[^6..^1]);
        foreach (var m in new[] { "adaptive_sharpness", "slq_top", "slq_trace" })
            Assert.Contains(c.Correlation, x => x.Measure == m && x.N == 2);
        Assert.Contains("adaptive_sharpness_mean", File.ReadAllLines(Path.Combine(dir.Path, "summary.csv"))[0]);

        // --max-train-error: runs fitting worse stay out of the correlations only; a bound above every run changes nothing.
        var loose = SweepCollector.Collect(dir.Path, [], 1.0);
        Assert.Equal(c.Correlation.Select(x => x.Value), loose.Correlation.Select(x => x.Value));
        Assert.True(File.Exists(Path.Combine(dir.Path, "correlation.max-train-error1.csv")));
        double best = c.Table.Runs.Min(r => r.TrainError!.Value);
        var tight = SweepCollector.Collect(dir.Path, [], best);
        Assert.Equal(c.Table.Runs.Count(r => r.TrainError <= best), tight.InCorrelation);
        Assert.Equal(2, tight.Table.Runs.Count);
        Assert.Contains("--max-train-error must lie in [0, 1]", Assert.Throws<ConfigException>(() => SweepCollector.Collect(dir.Path, [], 2)).Message);

        // --where picks runs by a listed option of the grid; this grid lists none.
        Assert.Contains("--where must be OPTION=VALUE", Assert.Throws<ConfigException>(() => SweepCollector.Collect(dir.Path, [], null, "batch-size=10")).Message);

        // A grid that changes the runs is still refused.
        var other = SweepGrid.Parse("{" + Train.Replace("\"epochs\": 2", "\"epochs\": 3") + ", \"probes\": {" + Probes + "}}", "other.json");
        Assert.Contains("belongs to a different grid", Assert.Throws<ConfigException>(() => new SweepRunner(other, dir.Path).Prepare()).Message);
    }

    [Theory]
    [InlineData("\"adaptive_rho\": 0", "probes.adaptive_rho must be a number > 0")]
    [InlineData("\"slq_steps\": 0", "probes.slq_steps must be an integer >= 1")]
    [InlineData("\"slq_vectors\": 1.5", "probes.slq_vectors must be an integer >= 1")]
    public void BadProbeKeysAreRefused(string probe, string message)
    {
        var e = Assert.Throws<ConfigException>(() => SweepGrid.Parse("{" + Train + ", \"probes\": {" + probe + "}}", "g.json"));
        Assert.Contains(message, e.Message);
    }
}
