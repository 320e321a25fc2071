using System.Diagnostics;
using System.Text.Json;

namespace FlatMinima.Cli.Tests.Faults;

/// <summary>
/// A size-limited tmpfs, mounted for one test, filled to a chosen number of free bytes. Mounting needs root (and a
/// kernel that lets this process mount): <see cref="Unavailable"/> says why not, where it does not work.
/// </summary>
internal sealed class Tmpfs : IDisposable
{
    public string Path { get; }

    public Tmpfs(int kilobytes)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fm-tmpfs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
        var r = Sh("mount", "-t", "tmpfs", "-o", $"size={kilobytes}k", "tmpfs", Path);
        if (r.Code != 0) throw new InvalidOperationException($"mount failed: {r.Err}");
    }

    /// <summary>Fills the file system up to <paramref name="freeBytes"/> free bytes (rounded to pages).</summary>
    public void Fill(long freeBytes = 0)
    {
        var info = new DriveInfo(Path);
        long fill = Math.Max(0, info.AvailableFreeSpace - freeBytes);
        using var fs = new FileStream(System.IO.Path.Combine(Path, "filler"), FileMode.Create);
        var block = new byte[4096];
        try { for (long n = 0; n < fill; n += block.Length) fs.Write(block); fs.Flush(); }
        catch (IOException) { }
    }

    public void Free() => File.Delete(System.IO.Path.Combine(Path, "filler"));

    public void Dispose()
    {
        Sh("umount", Path);
        try { Directory.Delete(Path, true); } catch (IOException) { }
    }

    private static (int Code, string Err) Sh(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, err.Trim());
    }

    /// <summary>Null when a tmpfs can be mounted here; otherwise why not.</summary>
    public static string? Unavailable { get; } = Probe();

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "not Linux";
        if (!IsRoot())
            return "the tests do not run as root (a size-limited tmpfs needs mount); CI (.ci/run) runs them as root";
        try { using var t = new Tmpfs(16); return null; }
        catch (Exception e) { return $"cannot mount a tmpfs here ({e.Message.Trim()})"; }
    }

    private static bool IsRoot()
    {
        try { return File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0"; }
        catch (Exception e) when (e is IOException or InvalidOperationException) { return false; }
    }
}

/// <summary>A test that needs a size-limited tmpfs (root): skipped, with the reason in the test output, where that is
/// not available.</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (Tmpfs.Unavailable is string why) Skip = $"needs a size-limited tmpfs for a full disk: {why}.";
    }
}

/// <summary>
/// A full disk: every command ends with one line naming the file it could not write (exit 1, no stack trace), prints
/// what it computed before an optional write, and leaves no temporary file; the run resumes once there is room.
/// Temporary files of killed processes are cleaned by the next run in their folder.
/// </summary>
public class DiskFaultTests
{
    private static void AssertOneLine(ChildResult r, string command)
    {
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("flatminima", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1 && lines[0].StartsWith($"flatminima {command}: error: ", StringComparison.Ordinal), r.ToString());
        Assert.DoesNotContain("   at ", r.Err);
    }

    private static void AssertNoTemporaryFiles(string dir) =>
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir, "*.tmp", SearchOption.AllDirectories));

    // figures --out on a full disk aborted with exit 134 and a stack trace from SkiaSharp's stream callback, leaving
    // the half-written PNG behind as a temporary file.
    [TmpfsFact]
    public void FiguresOnAFullDiskEndWithOneLine()
    {
        using var disk = new Tmpfs(256);
        disk.Fill(8192);
        string out_ = Path.Combine(disk.Path, "figures");
        var r = Child.Run(["figures", "--only", "fig1_bayes_error", "--quick", "--out", out_]);
        Assert.Equal(1, r.Code);
        AssertOneLine(r, "figures");
        Assert.Contains($"cannot write {Path.Combine(out_, "fig1_bayes_error.png")}: No space left on device", r.Err);
        AssertNoTemporaryFiles(disk.Path);
    }

    // train on a disk that fills up during the run: one line naming the checkpoint it could not write, no temporary
    // folder left, the manifest says "failed"; with room again the run resumes and ends as a straight run.
    [TmpfsFact]
    [Trait("Speed", "Slow")]
    public void TrainOnADiskThatFillsUpFailsNamingTheCheckpointAndResumesLater()
    {
        using var disk = new Tmpfs(2048);
        using var scratch = new Scratch("disk");
        // A wide MLP, so that checkpoints dominate what a run writes. The straight run first, on a normal disk, measures
        // a checkpoint; the tmpfs then has room for the run's small files and one and a half checkpoints: the first is
        // written, the second (written beside it before the first is pruned) fills the disk.
        string[] args = ["--epochs", "4", "--n", "20", "--alpha", "2", "--test-size", "100", "--width", "256", "--batch-size", "10"];
        var straight = Child.Run(["train", "--out", scratch["straight"], .. args]);
        Assert.True(straight.Code == 0, straight.ToString());
        long checkpoint = new DirectoryInfo(Path.Combine(scratch["straight"], "checkpoints", "epoch-0004")).GetFiles().Sum(f => f.Length);
        string run = Path.Combine(disk.Path, "run");
        disk.Fill(checkpoint * 3 / 2 + 64 * 1024);
        var r = Child.Run(["train", "--out", run, .. args]);
        Assert.Equal(1, r.Code);
        AssertOneLine(r, "train");
        Assert.True(r.Err.Contains("cannot write the checkpoint " + Path.Combine(run, "checkpoints", "epoch-0002")), r.ToString());
        Assert.Contains("No space left on device", r.Err);
        AssertNoTemporaryFiles(disk.Path);
        using (var m = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "manifest.json"))))
            Assert.Equal("failed", m.RootElement.GetProperty("status").GetString());
        disk.Free();
        var resumed = Child.Run(["train", "--resume", run]);
        Assert.True(resumed.Code == 0, resumed.ToString());
        static string[] Columns(string d) => File.ReadAllLines(Path.Combine(d, "metrics.csv")).Select(l => string.Join(',', l.Split(',').Take(6))).ToArray();
        Assert.Equal(Columns(scratch["straight"]), Columns(run));
    }

    // simulate --out on a full disk fails before it computes (its manifest is written first); curve prints its table
    // and then fails to write the file.
    [TmpfsFact]
    public void SimulateAndCurveOnAFullDisk()
    {
        using var disk = new Tmpfs(64);
        disk.Fill(0);
        var s = Child.Run(["simulate", "--estimator", "square", "--alpha", "2", "--delta", "1", "--lambda", "0.1", "--n", "50", "--seeds", "2", "--out", Path.Combine(disk.Path, "sim")]);
        Assert.Equal(1, s.Code);
        AssertOneLine(s, "simulate");
        Assert.Contains("manifest.json", s.Err);
        var c = Child.Run(["curve", "--loss", "square", "--over", "alpha", "--from", "0.5", "--to", "2", "--points", "4", "--lambda", "0.1", "--delta", "1", "--json", "--out", Path.Combine(disk.Path, "curve.csv")]);
        Assert.Equal(1, c.Code);
        Assert.Equal(4, JsonDocument.Parse(c.Out).RootElement.GetProperty("points").GetArrayLength());
        Assert.Contains($"cannot write {Path.Combine(disk.Path, "curve.csv")}: No space left on device", c.Err);
        AssertNoTemporaryFiles(disk.Path);
    }

    // flatness --run on a run directory mounted read-only: the probes run (nothing is written before them), the JSON
    // is printed, then the write of flatness.json fails with exit 1 naming the file (it used to compute for a minute
    // and lose every result). A read-only bind mount, because root ignores permission bits.
    [TmpfsFact]
    [Trait("Speed", "Slow")]
    public void FlatnessOnAReadOnlyRunPrintsItsResultsThenNamesTheFile()
    {
        using var scratch = new Scratch("readonly");
        string run = scratch["run"], ro = scratch["ro"];
        var t = Child.Run(["train", "--out", run, "--epochs", "2", "--n", "20", "--alpha", "2", "--test-size", "100", "--width", "8", "--batch-size", "10"]);
        Assert.True(t.Code == 0, t.ToString());
        Directory.CreateDirectory(ro);
        Assert.Equal(0, Mount("--bind", run, ro));
        try
        {
            Assert.Equal(0, Mount("-o", "remount,bind,ro", ro));
            var r = Child.Run(["flatness", "--run", ro, "--probes", "le,hessian", "--sigma", "0,0.1", "--draws", "2", "--top-k", "1", "--max-iter", "3", "--samples", "20", "--json"]);
            Assert.Equal(1, r.Code);
            using var doc = JsonDocument.Parse(r.Out);
            Assert.Equal(2, doc.RootElement.GetProperty("local_energy").GetArrayLength());
            Assert.Equal(1, doc.RootElement.GetProperty("hessian_top").GetProperty("values").GetArrayLength());
            AssertOneLine(r, "flatness");
            Assert.Contains($"cannot write {Path.Combine(ro, "flatness.json")}: Read-only file system", r.Err);
        }
        finally { Mount("-u", ro); }
    }

    private static int Mount(params string[] args)
    {
        var psi = new ProcessStartInfo(args[0] == "-u" ? "umount" : "mount") { RedirectStandardError = true };
        foreach (var a in args[0] == "-u" ? args[1..] : args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardError.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode;
    }

    // Temporary files of a killed writer (.NAME.PID.tmp, PID gone) are removed by the next run in that folder; those
    // of a live process are left alone.
    [Fact]
    [Trait("Speed", "Slow")]
    public void OrphanedTemporaryFilesAreCleanedByTheNextRun()
    {
        using var dir = new Scratch("orphans");
        int dead;
        using (var p = Process.Start(new ProcessStartInfo("true"))!) { p.WaitForExit(); dead = p.Id; }
        int live = Environment.ProcessId;
        // A theory command's run directory.
        string sim = dir["sim"];
        Directory.CreateDirectory(sim);
        File.WriteAllText(Path.Combine(sim, $".summary.json.{dead}.tmp"), "half");
        File.WriteAllText(Path.Combine(sim, $".per_seed.csv.{live}.tmp"), "in use");
        var s = Child.Run(["simulate", "--estimator", "square", "--alpha", "2", "--delta", "1", "--lambda", "0.1", "--n", "30", "--seeds", "2", "--out", sim]);
        Assert.True(s.Code == 0, s.ToString());
        Assert.False(File.Exists(Path.Combine(sim, $".summary.json.{dead}.tmp")));
        Assert.True(File.Exists(Path.Combine(sim, $".per_seed.csv.{live}.tmp")));
        // A training run: a folder of only orphans is an empty folder; a resume cleans the run and its checkpoints.
        string run = dir["run"];
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, $".config.json.{dead}.tmp"), "half");
        string[] tiny = ["--epochs", "2", "--n", "20", "--alpha", "2", "--test-size", "100", "--width", "8", "--batch-size", "10"];
        Assert.Equal(0, Child.Run(["train", "--out", run, .. tiny]).Code);
        Assert.False(File.Exists(Path.Combine(run, $".config.json.{dead}.tmp")));
        Directory.CreateDirectory(Path.Combine(run, "checkpoints", $".epoch-0003.{dead}.tmp"));
        File.WriteAllText(Path.Combine(run, $".metrics.csv.{dead}.tmp"), "half");
        Assert.Equal(0, Child.Run(["train", "--resume", run, "--epochs", "3"]).Code);
        AssertNoTemporaryFiles(run);
    }
}
