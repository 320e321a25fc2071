namespace FlatMinima.Cli.Tests;

public class SweepTests
{
    private const string Grid = """
    {
      "train": {"data": "gmm", "n": 20, "alpha": 2, "test-size": 200, "model": "mlp", "width": 8, "epochs": 2, "batch-size": 10},
      "optimizers": {"sgd": {"lr": 0.05}, "esgd": {"lr": 0.1, "inner-steps": 2}},
      "seeds": [0, 1],
      "grid": {"weight-decay": [0, 0.001]},
      "probes": {"sigma": [0.05, 0.1], "draws": 2, "le_samples": 40, "hessian_samples": 40, "top_k": 1, "max_iter": 3, "trace_samples": 2}
    }
    """;


    private static string Temp() { var d = Path.Combine(Path.GetTempPath(), "sweep-test-" + Guid.NewGuid()); Directory.CreateDirectory(d); return d; }

    // Timing columns differ between runs; everything else must be identical (CPU runs are deterministic).
    private static List<string> Strip(string csv) => csv.Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(l => string.Join(',', l.Split(',').SkipLast(2))).ToList();

    [Fact]
    [Trait("Speed", "Slow")]
    public void TinySweepRunsEndToEnd_ResumesAsNoOp_AndAnEmittedJobArrayCollectsToTheSameTable()
    {
        string dir = Temp();
        string grid = Path.Combine(dir, "grid.json");
        File.WriteAllText(grid, Grid);
        // 1. The whole grid in one process: 2 optimisers × 2 weight decays × 2 seeds = 8 runs.
        string a = Path.Combine(dir, "a");
        var r = Run.Cli("sweep", "--grid", grid, "--out", a, "--json");
        Assert.True(r.Code == 0, r.Err);
        var table = File.ReadAllLines(Path.Combine(a, "sweep.csv"));
        Assert.Equal(9, table.Length);
        Assert.StartsWith("id,optimizer,seed,weight-decay,epochs,train_loss,train_error,test_loss,test_error,epsilon_bo,le_delta_pct_sigma0.05,le_delta_pct_sigma0.1,hessian_top,hessian_trace", table[0]);
        var ids = table.Skip(1).Select(l => l.Split(',')[0]).ToList();
        Assert.Equal(["sgd_weight-decay0_s0", "sgd_weight-decay0_s1", "sgd_weight-decay0.001_s0", "sgd_weight-decay0.001_s1",
                      "esgd_weight-decay0_s0", "esgd_weight-decay0_s1", "esgd_weight-decay0.001_s0", "esgd_weight-decay0.001_s1"], ids);
        // Every row has a test error in [0, 1] and the GM Bayes error ε_BO(α = 2, Δ = 1) = H(√(2/3)) = 0.20710...
        foreach (var row in table.Skip(1))
        {
            var f = row.Split(',');
            double te = double.Parse(f[8], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(te, 0, 1);
            Assert.Equal(0.2071080891, double.Parse(f[9], System.Globalization.CultureInfo.InvariantCulture), 6);
            Assert.NotEqual("", f[12]);
        }
        Assert.Contains("\"spearman\"", File.ReadAllText(Path.Combine(a, "correlation.json")));
        Assert.Equal(9, File.ReadAllLines(Path.Combine(a, "correlation.csv")).Length); // 4 measures × 2 methods + header
        // --exclude esgd: correlations over the 4 SGD runs only, written beside (not over) the full ones; the value is
        // Spearman's ρ (Pearson correlation of mid-ranks) recomputed here from sweep.csv.
        var ex = Run.Cli("sweep", "--collect", "--out", a, "--exclude", "esgd", "--json");
        Assert.True(ex.Code == 0, ex.Err);
        Assert.Equal(9, File.ReadAllLines(Path.Combine(a, "correlation.csv")).Length);
        var exLines = File.ReadAllLines(Path.Combine(a, "correlation.without-esgd.csv"));
        var sgdRows = table.Skip(1).Select(l => l.Split(',')).Where(f => f[1] == "sgd").ToList();
        double[] le = sgdRows.Select(f => double.Parse(f[11], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        double[] err = sgdRows.Select(f => double.Parse(f[8], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var rho = exLines.Single(l => l.StartsWith("local_energy_sigma0.1,spearman,")).Split(',');
        Assert.Equal("4", rho[5]);
        Assert.Equal(SpearmanByHand(le, err), double.Parse(rho[2], System.Globalization.CultureInfo.InvariantCulture), 12);
        Assert.Contains("\"runs_in_correlation\": 4", ex.Out);
        // The generalisation-gap correlations: the same measures against test − train error.
        double[] gapErr = sgdRows.Select(f => double.Parse(f[8], System.Globalization.CultureInfo.InvariantCulture) - double.Parse(f[6], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var rhoGap = File.ReadAllLines(Path.Combine(a, "correlation_gap.without-esgd.csv")).Single(l => l.StartsWith("local_energy_sigma0.1,spearman,")).Split(',');
        Assert.Equal(SpearmanByHand(le, gapErr), double.Parse(rhoGap[2], System.Globalization.CultureInfo.InvariantCulture), 12);
        Assert.Equal(9, File.ReadAllLines(Path.Combine(a, "correlation_gap.csv")).Length);
        var bad = Run.Cli("sweep", "--collect", "--out", a, "--exclude", "adam");
        Assert.Equal(2, bad.Code);
        Assert.Contains("--exclude: 'adam' is not an optimizer of this grid (one of sgd, esgd)", bad.Err);
        // 2. Running again skips every finished run.
        var again = Run.Cli("sweep", "--grid", grid, "--out", a);
        Assert.Equal(0, again.Code);
        Assert.Equal(8, again.Err.Split('\n').Count(l => l.Contains("done, skipped")));

        // 3. Emit a Slurm array, run its tasks as Slurm would (in a scrambled order, two at once as one range), collect.
        string b = Path.Combine(dir, "b");
        var em = Run.Cli("sweep", "--grid", grid, "--out", b, "--emit-slurm", "--slurm-partition", "gpu", "--slurm-max-parallel", "3");
        Assert.True(em.Code == 0, em.Err);
        string script = File.ReadAllText(Path.Combine(b, "sweep.slurm"));
        Assert.Contains("#SBATCH --array=0-7%3", script);
        Assert.Contains("#SBATCH --partition=gpu", script);
        Assert.Contains("--task \"$SLURM_ARRAY_TASK_ID\"", script);
        Assert.Equal(9, File.ReadAllLines(Path.Combine(b, "jobs.tsv")).Length);
        foreach (var t in new[] { "5", "0", "7", "2-3", "1", "6", "4" })
            Assert.Equal(0, Run.Cli("sweep", "--grid", Path.Combine(b, "grid.json"), "--out", b, "--task", t).Code);
        // Collect before all tasks exist reports what is missing; after, the table equals the single-process one.
        var col = Run.Cli("sweep", "--collect", "--out", b);
        Assert.True(col.Code == 0, col.Err);
        var sa = Strip(File.ReadAllText(Path.Combine(a, "sweep.csv"))); var sb = Strip(File.ReadAllText(Path.Combine(b, "sweep.csv")));
        // The job array re-trains every run in other processes. An evaluation loss can differ in the 7th digit between
        // processes (libtorch's oneMKL chooses its kernels by the alignment of the operands unless its conditional
        // reproducibility mode, MKL_CBWR, is set), so numbers are compared to 1e-6 relative; identifiers, counts and
        // everything else must match exactly.
        Assert.Equal(sa.Count, sb.Count);
        for (int i = 0; i < sa.Count; i++)
        {
            var fa = sa[i].Split(','); var fb = sb[i].Split(',');
            Assert.True(fa.Length == fb.Length, $"row {i}:\n{sa[i]}\n{sb[i]}");
            for (int k = 0; k < fa.Length; k++)
            {
                bool na = double.TryParse(fa[k], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var x);
                bool nb = double.TryParse(fb[k], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var y);
                if (na && nb) Assert.True(Math.Abs(x - y) <= 1e-6 * Math.Max(1, Math.Abs(x)), $"row {i}, field {k}:\n{sa[i]}\n{sb[i]}");
                else Assert.True(fa[k] == fb[k], $"row {i}, field {k}:\n{sa[i]}\n{sb[i]}");
            }
        }
        Assert.Equal(File.ReadAllText(Path.Combine(a, "correlation.csv")), File.ReadAllText(Path.Combine(b, "correlation.csv")));
        Directory.Delete(dir, true);
    }

    private static double SpearmanByHand(double[] x, double[] y)
    {
        static double[] Ranks(double[] v) => v.Select(a => v.Count(b => b < a) + (v.Count(b => b == a) + 1) / 2.0).ToArray();
        double[] rx = Ranks(x), ry = Ranks(y);
        double mx = rx.Average(), my = ry.Average();
        double sxy = rx.Zip(ry).Sum(t => (t.First - mx) * (t.Second - my));
        return sxy / Math.Sqrt(rx.Sum(a => (a - mx) * (a - mx)) * ry.Sum(b => (b - my) * (b - my)));
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void CollectReportsMissingRuns()
    {
        string dir = Temp();
        string grid = Path.Combine(dir, "grid.json");
        File.WriteAllText(grid, Grid);
        Assert.Equal(0, Run.Cli("sweep", "--grid", grid, "--out", dir + "/c", "--task", "0").Code);
        var col = Run.Cli("sweep", "--collect", "--out", dir + "/c", "--json");
        Assert.Equal(0, col.Code);
        Assert.Contains("7 of 8 runs have no result yet", col.Err);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(dir, "c", "sweep.csv")).Length);
        Directory.Delete(dir, true);
    }

    [Theory]
    [InlineData("--task", "8", "outside the grid")]
    [InlineData("--shard", "3/2", "--shard")]
    public void BadSweepInputExitsWithTwo(string opt, string value, string message)
    {
        string dir = Temp();
        string grid = Path.Combine(dir, "grid.json");
        File.WriteAllText(grid, Grid);
        var r = Run.Cli("sweep", "--grid", grid, "--out", dir + "/d", opt, value);
        Assert.Equal(2, r.Code);
        Assert.Contains(message, r.Err);
        Directory.Delete(dir, true);
    }

    [Theory]
    [InlineData("esgd", "--ema-weight", "2", "ema_weight")]
    [InlineData("esgd", "--noise-convention", "wrong", "langevin|paper")]
    [InlineData("rsgd", "--replicas", "0", "replicas")]
    [InlineData("sam", "--sam-rho", "-0.1", "rho")]
    [InlineData("pswa", "--pswa-start", "9", "pswa_start")]
    [InlineData("sgd", "--inner-steps", "3", "unknown option --inner-steps")]
    public void BadOptimizerOptionsExitWithTwoNamingTheParameter(string opt, string name, string value, string message)
    {
        string dir = Temp();
        var r = Run.Cli("train", "--out", dir, "--optimizer", opt, "--epochs", "4", "--n", "10", name, value);
        Assert.Equal(2, r.Code);
        Assert.Contains(message, r.Err);
        Assert.Single(r.Err.Trim().Split('\n'), l => l.StartsWith("flatminima train:"));
        Directory.Delete(dir, true);
    }
}
