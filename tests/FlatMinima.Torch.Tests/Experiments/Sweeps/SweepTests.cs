using System.Globalization;
using FlatMinima.Experiments;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Experiments.Sweeps;

namespace FlatMinima.Torch.Tests.Experiments.Sweeps;

public class SweepTests
{
    public SweepTests() => TestRuntime.Init();

    private const string Grid = """
    {
      "train": {"data": "gmm", "n": 10, "alpha": 3, "test-size": 60, "width": 4, "depth": 1, "epochs": 2, "batch-size": 10},
      "optimizers": {"sgd": {"lr": 0.1}, "sgd@wd": {"lr": 0.1, "weight-decay": 0.01}},
      "seeds": [0, 1, 2],
      "grid": {"momentum": [0.9, 0.5]},
      "probes": {"sigma": [0.5, 1.0], "draws": 2, "hessian_samples": 20, "max_iter": 3, "trace_samples": 2}
    }
    """;

    private sealed class Messages : IRunReporter
    {
        public List<string> Lines { get; } = [];
        public void Message(string text) { lock (Lines) Lines.Add(text); }
    }

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    [Fact]
    [Trait("Speed", "Slow")]
    public void AGridRunsInProcessAndCollectsToTablesAndSummary()
    {
        using var dir = new TempDir();
        var grid = SweepGrid.Parse(Grid, "grid.json");
        // Optimisers × listed values × seeds, ids from the optimiser, its tag and the listed values.
        Assert.Equal(12, grid.Jobs.Count);
        Assert.Equal(["sgd_momentum0.9_s0", "sgd_momentum0.9_s1", "sgd_momentum0.9_s2", "sgd_momentum0.5_s0"], grid.Jobs.Take(4).Select(j => j.Id));
        Assert.Equal("sgd_wd_momentum0.5_s2", grid.Jobs[^1].Id);
        Assert.Equal(0.01, grid.Jobs[^1].Config.Optimizer.WeightDecay);
        Assert.Equal(0.5, grid.Jobs[^1].Config.Optimizer.Momentum);
        Assert.Equal(2, grid.Jobs[^1].Config.Training.Seed);
        Assert.Equal("train --out RUN --seed 2 --optimizer sgd --data gmm --n 10 --alpha 3 --test-size 60 --width 4 --depth 1 --epochs 2 --batch-size 10 --lr 0.1 --weight-decay 0.01 --momentum 0.5",
            grid.Jobs[^1].CommandLine("RUN"));

        var messages = new Messages();
        var runner = new SweepRunner(grid, dir.Path, reporter: messages);
        Assert.Equal(0, runner.Run(grid.Jobs));
        var c = SweepCollector.Collect(dir.Path);
        Assert.Equal(12, c.Table.Runs.Count);
        Assert.Empty(c.Missing);
        Assert.Equal(["momentum"], c.Table.Axes);

        // summary.csv against a computation by hand from sweep.csv: per optimiser and momentum, the mean and the sample
        // standard deviation of the test and training errors over the 3 seeds, and the mean of each flatness measure.
        var sweep = File.ReadAllLines(Path.Combine(dir.Path, "sweep.csv")).Select(l => l.Split(',')).ToList();
        var h = sweep[0].ToList();
        var summary = File.ReadAllLines(Path.Combine(dir.Path, "summary.csv")).Select(l => l.Split(',')).ToList();
        var sh = summary[0].ToList();
        Assert.Equal(["optimizer", "momentum", "runs", "epochs", "test_error_mean", "test_error_sd", "train_error_mean", "train_error_sd",
            "local_energy_sigma0.5_mean", "local_energy_sigma1_mean", "hessian_top_mean", "hessian_trace_mean", "train_s_mean"], sh);
        Assert.Equal(5, summary.Count);
        foreach (var row in summary.Skip(1))
        {
            var runs = sweep.Skip(1).Where(r => r[h.IndexOf("optimizer")] == row[0] && r[h.IndexOf("momentum")] == row[1]).ToList();
            Assert.Equal(3, runs.Count);
            Assert.Equal("3", row[sh.IndexOf("runs")]);
            Assert.Equal("2", row[sh.IndexOf("epochs")]);
            foreach (var (col, sum) in new[] { ("test_error", "test_error"), ("train_error", "train_error") })
            {
                var x = runs.Select(r => D(r[h.IndexOf(col)])).ToArray();
                double mean = (x[0] + x[1] + x[2]) / 3;
                double sd = Math.Sqrt(((x[0] - mean) * (x[0] - mean) + (x[1] - mean) * (x[1] - mean) + (x[2] - mean) * (x[2] - mean)) / 2);
                Assert.Equal(mean, D(row[sh.IndexOf(sum + "_mean")]), 1e-12);
                Assert.Equal(sd, D(row[sh.IndexOf(sum + "_sd")]), 1e-12);
            }
            foreach (var (col, sum) in new[] { ("le_delta_pct_sigma0.5", "local_energy_sigma0.5"), ("le_delta_pct_sigma1", "local_energy_sigma1"), ("hessian_top", "hessian_top"), ("hessian_trace", "hessian_trace") })
                Assert.Equal(runs.Average(r => D(r[h.IndexOf(col)])), D(row[sh.IndexOf(sum + "_mean")]), 1e-9);
        }
        // curves.csv: every epoch of every run.
        var curves = EpochCurves.Read(Path.Combine(dir.Path, "curves.csv"));
        Assert.Equal(24, curves.Count);
        Assert.Equal(c.Table.Runs.Select(r => r.TestError), curves.Where(p => p.Epoch == 2).Select(p => p.TestError));
        // flatness.json of a run holds both probes.
        string flat = File.ReadAllText(Path.Combine(dir.Path, "runs", "sgd_momentum0.9_s0", "flatness.json"));
        Assert.Contains("\"local_energy\"", flat);
        Assert.Contains("\"hessian_trace\"", flat);

        // Running again skips every finished run; the tables are the same.
        messages.Lines.Clear();
        Assert.Equal(0, runner.Run(grid.Jobs));
        Assert.Equal(12, messages.Lines.Count(l => l.EndsWith("done, skipped")));

        // A recorded sweep without its grid and runs: the correlations derived from sweep.csv alone are those of the
        // full collection, byte for byte.
        string correlation = File.ReadAllText(Path.Combine(dir.Path, "correlation.csv"));
        string summaryText = File.ReadAllText(Path.Combine(dir.Path, "summary.csv"));
        using var rec = new TempDir();
        File.Copy(Path.Combine(dir.Path, "sweep.csv"), rec["sweep.csv"]);
        var recorded = SweepCollector.Collect(rec.Path);
        Assert.True(recorded.Recorded);
        Assert.Equal(correlation, File.ReadAllText(rec["correlation.csv"]));
        Assert.Equal(summaryText, File.ReadAllText(rec["summary.csv"]));
        // --exclude keeps the runs of the other optimiser only.
        var ex = SweepCollector.Collect(dir.Path, ["sgd@wd"]);
        Assert.Equal(6, ex.InCorrelation);
        Assert.True(File.Exists(Path.Combine(dir.Path, "correlation.without-sgd@wd.csv")));
        Assert.Contains("'adam' is not an optimizer of this grid", Assert.Throws<ConfigException>(() => SweepCollector.Collect(dir.Path, ["adam"])).Message);
        // --where keeps the runs of one value of a listed option: 2 optimisers × 3 seeds at momentum 0.5.
        var half = SweepCollector.Collect(dir.Path, [], null, "momentum=0.5");
        Assert.Equal(6, half.InCorrelation);
        Assert.True(File.Exists(Path.Combine(dir.Path, "correlation.momentum0.5.csv")));
    }

    // A grid maps onto the configuration records: an unknown key, a key the sweep sets itself, a value out of range or
    // seeds that are not integers are errors naming the key and the file, before anything runs.
    [Theory]
    [InlineData("\"train\": {\"widht\": 4}", "unknown option 'widht'")]
    [InlineData("\"train\": {\"seed\": 4}", "option 'seed' is set by the sweep itself")]
    [InlineData("\"optimizers\": {\"sgd\": {\"inner-steps\": 2}}", "unknown option 'inner-steps' in optimizers.sgd for sgd (applies to --optimizer esgd)")]
    [InlineData("\"optimizers\": {\"esgd\": {\"ema-weight\": 2}}", "esgd_s0: ema_weight (α) must lie in (0, 1] (got 2)")]
    [InlineData("\"optimizers\": {\"lbfgs\": {}}", "optimizer 'lbfgs' must be one of sgd|sgd-flat|adam|esgd|rsgd|sam|swa|pswa")]
    [InlineData("\"optimizers\": {\"sgd\": {}}, \"seeds\": [0.5]", "\"seeds\" must be a non-empty list of distinct integers")]
    [InlineData("\"optimizers\": {\"sgd\": {}}, \"probes\": {\"sigmas\": [1]}", "unknown key probes.sigmas")]
    [InlineData("\"optimizers\": {\"sgd\": {}}, \"grid\": {\"lr\": []}", "grid.lr must be a non-empty list")]
    public void BadGridsAreRefusedNamingKeyAndFile(string body, string message)
    {
        string text = "{" + body + (body.Contains("\"optimizers\"") ? "" : ", \"optimizers\": {\"sgd\": {}}") + (body.Contains("\"seeds\"") ? "" : ", \"seeds\": [0]") + "}";
        var e = Assert.Throws<ConfigException>(() => SweepGrid.Parse(text, "/sweeps/g.json"));
        Assert.Contains("/sweeps/g.json", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void TasksAndShardsSelectGridPoints()
    {
        var grid = SweepGrid.Parse(Grid, "grid.json");
        Assert.Equal([5, 0, 7, 8], grid.Tasks("5,0,7-8").Select(j => j.Index));
        Assert.Contains("outside the grid's 0..11", Assert.Throws<ConfigException>(() => grid.Tasks("12")).Message);
        Assert.Equal([1, 4, 7, 10], SweepGrid.Shard(grid.Jobs, "1/3").Select(j => j.Index));
        Assert.Throws<ConfigException>(() => SweepGrid.Shard(grid.Jobs, "3/2"));
    }

    [Fact]
    public void TheSlurmArrayRunsOneGridPointPerTask()
    {
        using var dir = new TempDir();
        var grid = SweepGrid.Parse(Grid, "grid.json");
        string script = SlurmScript.Write(new SweepRunner(grid, dir["sweep dir"]), grid, new SlurmOptions(Partition: "gpu", MaxParallel: 3, Executable: "/opt/fm"), device: "cuda");
        string text = File.ReadAllText(script);
        Assert.Contains("#SBATCH --array=0-11%3", text);
        Assert.Contains("#SBATCH --partition=gpu", text);
        Assert.Contains($"/opt/fm sweep --grid '{Path.Combine(dir["sweep dir"], "grid.json")}' --out '{dir["sweep dir"]}' --task \"$SLURM_ARRAY_TASK_ID\" --device cuda", text);
        var jobs = File.ReadAllLines(Path.Combine(dir["sweep dir"], "jobs.tsv"));
        Assert.Equal(13, jobs.Length);
        Assert.EndsWith("--momentum 0.9 --device cuda", jobs[1]);
        Assert.Equal(Grid, File.ReadAllText(Path.Combine(dir["sweep dir"], "grid.json")));
    }
}
