using FlatMinima.Storage;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Experiments.Sweeps;

namespace FlatMinima.Torch.Tests.Faults;

/// <summary>
/// A sweep's grid is checked whole before anything runs (ids that would share a folder, values that mean the same run,
/// missing seeds, an invalid value anywhere), the Slurm script survives any path, and processes of one sweep directory
/// cannot work on the same run.
/// </summary>
public class SweepFaultTests
{
    public SweepFaultTests() => TestRuntime.Init();

    private static ConfigException Refused(string body) =>
        Assert.Throws<ConfigException>(() => SweepGrid.Parse("{" + body + "}", "/sweeps/g.json"));

    // Run ids are folder names; two grid points whose ids coincided shared a folder: one was never trained and the other
    // was counted twice in the correlations.
    [Theory]
    [InlineData("\"optimizers\": {\"sgd@a b\": {}, \"sgd@a_b\": {}}, \"seeds\": [0]", "optimizers.\"sgd@a b\"", "optimizers.\"sgd@a_b\"", "'sgd_a_b_s0'")]
    [InlineData("\"optimizers\": {\"sgd@x/y\": {}, \"sgd@x:y\": {}}, \"seeds\": [1]", "optimizers.\"sgd@x/y\"", "optimizers.\"sgd@x:y\"", "'sgd_x_y_s1'")]
    public void GridPointsWithOneRunIdAreRefusedNamingBoth(string body, string first, string second, string id)
    {
        var e = Refused(body);
        Assert.Contains("/sweeps/g.json", e.Message);
        Assert.Contains(first, e.Message);
        Assert.Contains(second, e.Message);
        Assert.Contains(id, e.Message);
    }

    // 0.05 and "0.05" (or 0.050) are one value of --lr: two grid points of one run.
    [Theory]
    [InlineData("[0.05, \"0.05\"]", "0.05 and \"0.05\"")]
    [InlineData("[0.05, 0.050]", "0.05 and 0.050")]
    public void AValueListedTwiceIsRefused(string values, string message)
    {
        var e = Refused("\"optimizers\": {\"sgd\": {}}, \"seeds\": [0], \"grid\": {\"lr\": " + values + "}");
        Assert.Contains("grid.lr lists one value twice", e.Message);
        Assert.Contains(message, e.Message);
    }

    // A grid without seeds, or with seeds that are not integers, gets one line naming the key and the file (it failed
    // with ".NET cannot convert Int32"); an epoch count of 0 or any other invalid value is refused before anything runs.
    [Theory]
    [InlineData("\"optimizers\": {\"sgd\": {}}", "\"seeds\" is missing")]
    [InlineData("\"optimizers\": {\"sgd\": {}}, \"seeds\": 3", "\"seeds\" is not a list")]
    [InlineData("\"optimizers\": {\"sgd\": {}}, \"seeds\": [0, 0.5]", "\"seeds\" must be a non-empty list of distinct integers (got 0.5)")]
    [InlineData("\"optimizers\": {\"sgd\": {}}, \"seeds\": [\"1\"]", "\"seeds\" must be a non-empty list of distinct integers (got \"1\")")]
    [InlineData("\"train\": {\"epochs\": 0}, \"optimizers\": {\"sgd\": {}}, \"seeds\": [0]", "sgd_s0: epochs must be an integer >= 1 (got 0)")]
    [InlineData("\"optimizers\": {\"sgd\": {}}, \"seeds\": [0], \"grid\": {\"epochs\": [2, -1]}", "epochs must be an integer >= 1 (got -1)")]
    [InlineData("\"optimizers\": {\"sgd\": {}}, \"seeds\": [0], \"grid\": {\"test-size\": [2000000000]}", "test_size must be an integer in [1, ")]
    [InlineData("\"optimizers\": {\"sgd\": {}}, \"seeds\": [0], \"probes\": {\"draws\": 0}", "probes.draws must be an integer >= 1")]
    public void SeedsAndEveryValueAreCheckedUpFront(string body, string message)
    {
        var e = Refused(body);
        Assert.Contains("/sweeps/g.json", e.Message);
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    // The job array's script with a sweep directory whose path holds a space, a quote, a '#', a '%' and a '$': every
    // path is quoted for sbatch (#SBATCH lines) and for bash (the command), and jobs.tsv gives runnable command lines.
    [Fact]
    public void TheSlurmScriptQuotesEveryPath()
    {
        using var dir = new TempDir();
        string sweep = dir["my sweep #1 'x' 50% $HOME"];
        var grid = SweepGrid.Parse("{\"train\": {\"epochs\": 1}, \"optimizers\": {\"sgd\": {}}, \"seeds\": [0, 1]}", "g.json");
        string script = SlurmScript.Write(new SweepRunner(grid, sweep), grid, new SlurmOptions(Gpus: 0, Executable: "/opt/flat minima/bin/flatminima"), device: null);
        string text = File.ReadAllText(script);
        string logs = Path.Combine(sweep, "logs").Replace("%", "%%");
        Assert.Contains($"#SBATCH --output=\"{logs}/%A_%a.out\"", text);
        Assert.Contains("'/opt/flat minima/bin/flatminima' sweep --grid '" + Path.Combine(sweep, "grid.json").Replace("'", "'\\''") + "'", text);
        Assert.Contains("--out '" + sweep.Replace("'", "'\\''") + "' --task \"$SLURM_ARRAY_TASK_ID\"", text);
        Assert.DoesNotContain("#SBATCH --gres", text);
        Assert.True(Directory.Exists(Path.Combine(sweep, "logs")), "Slurm opens the output file before the script runs");
        var tsv = File.ReadAllLines(Path.Combine(sweep, "jobs.tsv"));
        Assert.Contains("--out '" + Path.Combine(sweep, "runs", "sgd_s0").Replace("'", "'\\''") + "'", tsv[1]);
        // bash reads the quoted words back as the paths (the script is checked by the shell itself).
        var psi = new System.Diagnostics.ProcessStartInfo("bash", ["-n", script]) { RedirectStandardError = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
    }

    // The lock of a sweep directory: who holds it is recorded for the message another process gets, a record left by
    // a process that died is reported as a stale lock and taken over, shared holders (job-array tasks) exclude an
    // exclusive one (a whole sweep). The processes themselves are tested in the command's fault tests.
    [Fact]
    public void OneSweepDirectoryIsLockedByAWholeSweepAndSharedByTasks()
    {
        using var dir = new TempDir();
        using (var held = DirectoryLock.Acquire(dir.Path, SweepRunner.LockFile, "a sweep of another process"))
        {
            // The holder is this process: simulate another process by reading the holder record the way it does.
            Assert.Contains($"process {Environment.ProcessId} on host {Environment.MachineName}", File.ReadAllText(dir[SweepRunner.LockFile + ".holder"]));
        }
        Assert.False(File.Exists(dir[SweepRunner.LockFile + ".holder"]), "a released lock leaves no holder record");
        // A holder record without a holder is the trace of a process that died: the next sweep takes the lock over and says so.
        File.WriteAllText(dir[SweepRunner.LockFile + ".holder"], "process 999999 on host elsewhere since 2020-01-01 00:00:00 UTC (flatminima sweep)");
        using (var taken = DirectoryLock.Acquire(dir.Path, SweepRunner.LockFile, "flatminima sweep"))
            Assert.Contains("process 999999 on host elsewhere", taken.StaleHolder);
        // Shared holders (tasks) coexist; an exclusive one is refused while one is held (within one process the lock is
        // reentrant, so this checks the registry's rule; across processes the operating system's lock does the same).
        using (DirectoryLock.Acquire(dir.Path, SweepRunner.LockFile, "task 0", shared: true))
        using (DirectoryLock.Acquire(dir.Path, SweepRunner.LockFile, "task 1", shared: true))
            Assert.Throws<DirectoryLockedException>(() => DirectoryLock.Acquire(dir.Path, SweepRunner.LockFile, "flatminima sweep"));
    }
}
