using System.Text.Json;

namespace FlatMinima.Cli.Tests;

public class BadInputTests
{
    [Theory]
    [InlineData("alpha", "> 0", "bayes", "--alpha", "0", "--delta", "1")]
    [InlineData("alpha", "> 0", "bayes", "--alpha", "-3", "--delta", "1")]
    [InlineData("delta", "> 0", "bayes", "--alpha", "1", "--delta", "0")]
    [InlineData("rho", "(0, 1)", "bayes", "--alpha", "1", "--delta", "1", "--rho", "1")]
    [InlineData("alpha", "real number", "bayes", "--alpha", "NaN", "--delta", "1")]
    [InlineData("lambda", ">= 0", "simulate", "--estimator", "square", "--alpha", "1", "--delta", "1", "--lambda", "-1", "--n", "10", "--seeds", "1")]
    [InlineData("n", ">= 1", "simulate", "--estimator", "bayes", "--alpha", "1", "--delta", "1", "--n", "0", "--seeds", "1")]
    [InlineData("seeds", ">= 1", "simulate", "--estimator", "bayes", "--alpha", "1", "--delta", "1", "--n", "10", "--seeds", "0")]
    [InlineData("estimator", "bayes|square|logistic|hinge", "simulate", "--estimator", "lasso", "--alpha", "1", "--delta", "1")]
    [InlineData("lambda", "required", "simulate", "--estimator", "logistic", "--alpha", "1", "--delta", "1")]
    [InlineData("frobnicate", "unknown option", "bayes", "--alpha", "1", "--delta", "1", "--frobnicate", "3")]
    // N = 40 000 at α = 2: X would hold 3.2e9 values, more than an array can; refused before anything is allocated.
    [InlineData("n", "largest array", "simulate", "--estimator", "square", "--alpha", "2", "--delta", "1", "--lambda", "0.1", "--n", "40000", "--seeds", "2")]
    [InlineData("n", "largest array", "check", "--loss", "hinge", "--alpha", "2", "--delta", "1", "--lambda", "0.1", "--n", "40000", "--seeds", "2")]
    public void PrintsOneLineNamingTheParameterAndExitsTwo(string parameter, string range, params string[] argv)
    {
        var (code, output, err) = Run.Cli(argv);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        var lines = err.TrimEnd().Split('\n');
        Assert.Single(lines);
        Assert.Contains(parameter, lines[0]);
        Assert.Contains(range, lines[0]);
    }
}

public class SimulateCommandTests
{
    private static readonly string[] Args =
        ["simulate", "--estimator", "logistic", "--alpha", "2", "--delta", "1", "--rho", "0.25", "--lambda", "1",
         "--n", "120", "--seeds", "4", "--seed", "5", "--json"];

    [Fact]
    public void JsonHasEveryObservableWithItsStandardErrorAndEchoesInputs()
    {
        var j = Run.Json(Args);
        foreach (var key in new[] { "test_error", "train_error", "train_loss", "m", "q", "bias" })
        {
            Assert.True(j.GetProperty(key).GetDouble() is var v && double.IsFinite(v), key);
            Assert.True(j.GetProperty(key + "_se").GetDouble() > 0, key + "_se");
        }
        Assert.Equal("logistic", j.GetProperty("estimator").GetString());
        Assert.Equal(2, j.GetProperty("alpha").GetDouble());
        Assert.Equal(0.25, j.GetProperty("rho").GetDouble());
        Assert.Equal(1, j.GetProperty("lambda").GetDouble());
        Assert.Equal(120, j.GetProperty("n").GetInt32());
        Assert.Equal(4, j.GetProperty("seeds").GetInt32());
        // Sanity: the ERM error lies between the Bayes floor and the majority-class error.
        Assert.InRange(j.GetProperty("test_error").GetDouble(), 0.16187 - 0.02, 0.25 + 0.02);
        // The linear algebra used and how the cores were shared (4 seeds on this machine's cores).
        var la = j.GetProperty("linear_algebra");
        Assert.Contains(la.GetProperty("provider").GetString(), new[] { "openblas", "managed" });
        Assert.False(string.IsNullOrEmpty(la.GetProperty("library").GetString()));
        int workers = la.GetProperty("seeds_at_once").GetInt32(), threads = la.GetProperty("threads_per_solve").GetInt32();
        Assert.Equal(Math.Min(4, Environment.ProcessorCount), workers);
        Assert.Equal(Math.Max(1, Environment.ProcessorCount / workers), threads);
    }

    [Fact]
    public void SameSeedGivesBitIdenticalJson()
    {
        var a = Run.Cli(Args); var b = Run.Cli(Args);
        Assert.Equal(0, a.Code);
        Assert.Equal(a.Out, b.Out);
        var c = Run.Cli([.. Args.Take(Args.Length - 3), "6", "--json"]);
        Assert.NotEqual(a.Out, c.Out);
    }

    [Fact]
    public void BayesEstimatorHasNullTrainLossAndRejectsLambda()
    {
        var j = Run.Json("simulate", "--estimator", "bayes", "--alpha", "2", "--delta", "1", "--n", "100", "--seeds", "3", "--json");
        Assert.Equal(JsonValueKind.Null, j.GetProperty("train_loss").ValueKind);
        Assert.Equal(JsonValueKind.Null, j.GetProperty("lambda").ValueKind);
        var (code, _, err) = Run.Cli("simulate", "--estimator", "bayes", "--alpha", "2", "--delta", "1", "--lambda", "1");
        Assert.Equal(2, code);
        Assert.Contains("lambda", err);
    }

    [Fact]
    public void OutDirectoryHoldsManifestSummaryAndPerSeedRows()
    {
        string dir = Path.Combine(Path.GetTempPath(), "fm-sim-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, output, _) = Run.Cli("simulate", "--estimator", "square", "--alpha", "1.5", "--delta", "0.5",
                "--lambda", "0.3", "--n", "80", "--seeds", "3", "--out", dir);
            Assert.Equal(0, code);
            Assert.Contains("test_error", output);
            var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json"))).RootElement;
            Assert.Equal("completed", manifest.GetProperty("status").GetString());
            Assert.Equal("simulate", manifest.GetProperty("command").GetString());
            Assert.Equal(0.3, manifest.GetProperty("options").GetProperty("lambda").GetDouble());
            Assert.False(string.IsNullOrEmpty(manifest.GetProperty("versions").GetProperty("mathnet_numerics").GetString()));
            Assert.True(manifest.GetProperty("finished_utc").GetString()!.Length > 10);
            Assert.False(string.IsNullOrEmpty(manifest.GetProperty("versions").GetProperty("linear_algebra").GetProperty("provider").GetString()));
            var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json"))).RootElement;
            Assert.Equal(Math.Min(3, Environment.ProcessorCount), summary.GetProperty("linear_algebra").GetProperty("seeds_at_once").GetInt32());
            var rows = File.ReadAllLines(Path.Combine(dir, "per_seed.csv"));
            Assert.Equal("seed,test_error,train_error,train_loss,m,q,bias", rows[0]);
            Assert.Equal(4, rows.Length);
            double mean = rows.Skip(1).Average(r => double.Parse(r.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(summary.GetProperty("test_error").GetDouble(), mean, 1e-12);
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
