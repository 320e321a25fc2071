namespace FlatMinima.Cli.Tests.Faults;

/// <summary>
/// Two processes on one sweep directory: a second whole sweep is refused naming the first (they used to delete each
/// other's files, and an Entropy-SGD point trained twice at once reported another test error than a sequential
/// sweep); job-array tasks of different grid points run side by side; two tasks of one grid point do not.
/// </summary>
public class ConcurrentSweepTests
{
    private const string Grid = """
    {
      "train": {"n": 20, "alpha": 2, "test-size": 200, "width": 8, "epochs": 4, "batch-size": 5},
      "optimizers": {"esgd": {"inner-steps": 2}},
      "seeds": [0, 1],
      "probes": {"sigma": [0.1], "draws": 2, "hessian_samples": 20, "max_iter": 2, "trace_samples": 2}
    }
    """;

    private static List<string> Table(string sweep) => File.ReadAllLines(Path.Combine(sweep, "sweep.csv"))
        .Select(l => string.Join(',', l.Split(',').SkipLast(2))).ToList();   // without the timing columns

    [Fact]
    [Trait("Speed", "Slow")]
    public void ASecondSweepOfOneDirectoryIsRefusedAndTheTablesEqualASequentialSweep()
    {
        using var dir = new Scratch("concurrent");
        string grid = dir["grid.json"];
        File.WriteAllText(grid, Grid);
        var reference = Child.Run(["sweep", "--grid", grid, "--out", dir["sequential"]]);
        Assert.True(reference.Code == 0, reference.ToString());

        // A directory whose sweep lock another process holds (here: this test process) is refused up front, naming it.
        string held = dir["held"];
        using (FlatMinima.Storage.DirectoryLock.Acquire(held, ".sweep.lock", "a sweep in the test"))
        {
            var refused = Child.Run(["sweep", "--grid", grid, "--out", held]);
            Assert.True(refused.Code == 1, refused.ToString());
            Assert.Contains($"is in use by process {Environment.ProcessId} on host {Environment.MachineName}", refused.Err);
            Assert.Contains("(a sweep in the test)", refused.Err);
            Assert.False(Directory.Exists(Path.Combine(held, "runs")));
        }

        // Two whole sweeps started at once on one directory: one runs the grid, the other is refused (or, started after
        // the first finished, finds every point done); the tables are those of the sequential sweep.
        string shared = dir["shared"];
        using (var a = Child.Start(["sweep", "--grid", grid, "--out", shared]))
        using (var b = Child.Start(["sweep", "--grid", grid, "--out", shared]))
        {
            var ra = a.Wait(300); var rb = b.Wait(300);
            var results = new[] { ra, rb };
            Assert.Single(results, r => r.Code == 0 && r.Err.Contains("training"));
            Assert.Single(results, r => r.Code == 1 && r.Err.Contains("is in use by process") || r.Code == 0 && !r.Err.Contains("training"));
        }
        Assert.Equal(Table(dir["sequential"]), Table(shared));
        Assert.Equal(File.ReadAllText(Path.Combine(dir["sequential"], "correlation.csv")), File.ReadAllText(Path.Combine(shared, "correlation.csv")));

        // Job-array tasks share the directory, each grid point under its own lock: while grid point 0 is held (by this
        // process), a task of point 0 is refused it (exit 1) and a task of point 1 runs.
        string tasks = dir["tasks"];
        using (FlatMinima.Storage.DirectoryLock.Acquire(tasks, ".sweep.lock", "task 0", shared: true))
        using (FlatMinima.Storage.DirectoryLock.Acquire(Path.Combine(tasks, "runs", "esgd_s0"), ".run.lock", "grid point 0"))
        {
            var t0 = Child.Run(["sweep", "--grid", grid, "--out", tasks, "--task", "0"]);
            Assert.True(t0.Code == 1, t0.ToString());
            Assert.Contains("esgd_s0 is in use by process", t0.Err);
            var t1 = Child.Run(["sweep", "--grid", grid, "--out", tasks, "--task", "1"]);
            Assert.True(t1.Code == 0, t1.ToString());
        }
        Assert.Equal(0, Child.Run(["sweep", "--grid", grid, "--out", tasks, "--task", "0"]).Code);
        var collect = Child.Run(["sweep", "--collect", "--out", tasks]);
        Assert.True(collect.Code == 0, collect.ToString());
        Assert.Equal(Table(dir["sequential"]), Table(tasks));
    }
}
