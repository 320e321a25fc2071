using System.Text.Json;

namespace FlatMinima.Cli.Tests;

public class TorchCommandTests
{

    [Fact]
    [Trait("Speed", "Slow")]
    public void TrainOnGmWritesRunDirectoryAndComparesWithBayesFloor_ThenResumeAndFlatness()
    {
        string dir = Path.Combine(Path.GetTempPath(), "fm-cli-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, stdout, err) = Run.Cli("train", "--out", dir, "--epochs", "2", "--n", "20", "--alpha", "3", "--test-size", "500", "--width", "8", "--json");
            Assert.True(code == 0, err);
            using var doc = JsonDocument.Parse(stdout);
            var r = doc.RootElement;
            Assert.True(r.GetProperty("test_error").GetDouble() >= r.GetProperty("epsilon_bo").GetDouble() - 3 * r.GetProperty("test_error_se").GetDouble());
            double erm = r.GetProperty("epsilon_erm_replica").GetDouble();
            Assert.InRange(erm, r.GetProperty("epsilon_bo").GetDouble(), 0.5); // linear ERM never beats the Bayes floor
            using var man = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")));
            var torch = man.RootElement.GetProperty("torch");
            Assert.Equal("cpu", torch.GetProperty("device").GetString());
            Assert.StartsWith("0.107", torch.GetProperty("torchsharp").GetString());
            Assert.False(string.IsNullOrEmpty(torch.GetProperty("libtorch").GetString()));
            Assert.Equal("completed", man.RootElement.GetProperty("status").GetString());
            Assert.Equal(3, File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Length);

            (code, _, err) = Run.Cli("train", "--resume", dir, "--epochs", "3");
            Assert.True(code == 0, err);
            Assert.Equal(4, File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Length);

            (code, stdout, err) = Run.Cli("flatness", "--run", dir, "--draws", "3", "--sigma", "0,0.1", "--top-k", "1", "--trace-samples", "2", "--sharpness-steps", "2", "--samples", "50", "--json");
            Assert.True(code == 0, err);
            using var fl = JsonDocument.Parse(stdout);
            Assert.Equal(2, fl.RootElement.GetProperty("local_energy").GetArrayLength());
            Assert.True(File.Exists(Path.Combine(dir, "flatness.json")));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadTorchOptionsExitWithTwo()
    {
        Assert.Equal(2, Run.Cli("train", "--out", "/tmp/x", "--model", "vgg").Code);
        Assert.Equal(2, Run.Cli("train", "--out", "/tmp/x", "--optimizer", "lbfgs").Code);
        Assert.Equal(2, Run.Cli("flatness", "--run", "/nonexistent-run").Code);
        Assert.Equal(2, Run.Cli("bench", "--precision", "fp8").Code);
        var swa = Run.Cli("train", "--out", "/tmp/x", "--optimizer", "swa", "--lr-schedule", "cosine");
        Assert.Equal(2, swa.Code);
        Assert.Contains("own schedule", swa.Err);
        var min = Run.Cli("train", "--out", "/tmp/x", "--lr-schedule", "cosine", "--lr", "0.05", "--lr-min", "0.05");
        Assert.Equal(2, min.Code);
        Assert.Contains("--lr-min must lie in [0, --lr)", min.Err);
        Assert.Equal(2, Run.Cli("train", "--out", "/tmp/x", "--lr-min", "0.01").Code);
    }

    // The overhead benchmark on a tiny MLP: every algorithm is timed, SGD is the unit, and the ratio is the step time
    // over (gradients per step × SGD step time) as documented.
    [Fact]
    [Trait("Speed", "Slow")]
    public void OptimBenchReportsEveryAlgorithmAgainstSgd()
    {
        var (code, stdout, err) = Run.Cli("optim-bench", "--device", "cpu", "--model", "mlp", "--input", "6", "--classes", "2", "--batch-size", "4",
            "--steps", "3", "--warmup", "1", "--rounds", "2", "--replicas", "2", "--inner-steps", "2", "--json");
        Assert.True(code == 0, err);
        var res = JsonDocument.Parse(stdout).RootElement.GetProperty("results").EnumerateArray().ToList();
        var names = res.Select(r => r.GetProperty("algorithm").GetString()!).ToList();
        Assert.Equal(["sgd", "sgd-flat (same update, one flat buffer)", "esgd (L=2, per inner step)", "esgd (L=2, per inner step, noise 0)", "rsgd (y=2)", "sam", "swa"], names);
        Assert.Equal([1.0, 1, 1, 1, 2, 2, 1], res.Select(r => r.GetProperty("gradients_per_step").GetDouble()).ToList());
        double sgd = res[0].GetProperty("seconds_per_step").GetDouble();
        Assert.Equal(1.0, res[0].GetProperty("ratio").GetDouble(), 12);
        foreach (var r in res)
        {
            double s = r.GetProperty("seconds_per_step").GetDouble(), k = r.GetProperty("gradients_per_step").GetDouble();
            Assert.True(s > 0, r.ToString());
            Assert.Equal(s / (k * sgd), r.GetProperty("ratio").GetDouble(), 9);
            Assert.Equal(2, r.GetProperty("round_seconds").GetArrayLength());
        }
        Assert.Equal(2, Run.Cli("optim-bench", "--replicas", "0").Code);
    }
}
