using FlatMinima.Storage;

namespace FlatMinima.Core.Tests.Storage;

public class AtomicFileTests
{
    [Fact]
    public void AFailedWriteKeepsTheOldFileAndLeavesNoTemporary()
    {
        string dir = Directory.CreateTempSubdirectory("fm-atomic").FullName;
        string path = Path.Combine(dir, "a.txt");
        AtomicFile.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s => { s.WriteByte(1); throw new InvalidOperationException("disk"); }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["a.txt"], Directory.GetFiles(dir).Select(Path.GetFileName));
        AtomicFile.WriteAllText(path, "new");
        Assert.Equal("new", File.ReadAllText(path));
        Directory.Delete(dir, true);
    }

    [Theory]
    [InlineData(".metrics.csv.1234.tmp", true)]
    [InlineData(".a.9.tmp", true)]
    [InlineData("metrics.csv.1234.tmp", false)]
    [InlineData(".metrics.csv.tmp", false)]
    [InlineData(".metrics.csv.12x.tmp", false)]
    [InlineData(".metrics.csv", false)]
    public void RecognisesItsTemporaryNames(string name, bool expected) => Assert.Equal(expected, AtomicFile.IsTemporary(name));

    [Fact]
    public void TheTemporaryNameIsRecognised() =>
        Assert.True(AtomicFile.IsTemporary(AtomicFile.TemporaryPath("/x/y/result.json")));
}

public class AtomicFileFaultTests
{
    // A folder where the file should go (a failure no permission bit can undo, so it holds for root too): an
    // IOException naming the final file, not the temporary one, and no temporary file left.
    [Fact]
    public void AWriteThatFailsNamesTheFileAndLeavesNoTemporary()
    {
        string dir = Directory.CreateTempSubdirectory("fm-atomic").FullName;
        string path = Path.Combine(dir, "summary.json");
        Directory.CreateDirectory(path);
        var e = Assert.Throws<IOException>(() => AtomicFile.WriteAllText(path, "{}"));
        Assert.StartsWith($"cannot write {path}: ", e.Message);
        Assert.DoesNotContain(".tmp", e.Message);
        Assert.Equal(["summary.json"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName));
        // A parent that is a file.
        File.WriteAllText(Path.Combine(dir, "file"), "x");
        Assert.StartsWith($"cannot write {Path.Combine(dir, "file", "a.csv")}: ", Assert.Throws<IOException>(() => AtomicFile.WriteAllText(Path.Combine(dir, "file", "a.csv"), "")).Message);
        Directory.Delete(dir, true);
    }

    // Temporary files and folders of processes that no longer run are removed; those of live processes, and files that
    // are not temporary names, stay; a name restricts the cleaning to that file's temporaries.
    [Fact]
    public void OrphansOfDeadProcessesAreCleaned()
    {
        string dir = Directory.CreateTempSubdirectory("fm-orphans").FullName;
        int dead;
        using (var p = System.Diagnostics.Process.Start("true")) { p.WaitForExit(); dead = p.Id; }
        int live = Environment.ProcessId;
        foreach (var n in new[] { $".a.csv.{dead}.tmp", $".b.csv.{dead}.tmp", $".a.csv.{live}.tmp", "a.csv", $"a.csv.{dead}.tmp" }) File.WriteAllText(Path.Combine(dir, n), "x");
        Directory.CreateDirectory(Path.Combine(dir, $".epoch-0003.{dead}.tmp"));
        File.WriteAllText(Path.Combine(dir, $".epoch-0003.{dead}.tmp", "model.bin"), "x");
        Assert.Equal([$".a.csv.{dead}.tmp"], AtomicFile.CleanOrphans(dir, "a.csv"));
        Assert.Equal([$".b.csv.{dead}.tmp", $".epoch-0003.{dead}.tmp"], AtomicFile.CleanOrphans(dir).Order());
        Assert.Equal([$".a.csv.{live}.tmp", "a.csv", $"a.csv.{dead}.tmp"], Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).Order());
        Assert.Empty(AtomicFile.CleanOrphans(Path.Combine(dir, "missing")));
        Directory.Delete(dir, true);
    }
}

public class EpochLogTests
{
    private static string Temp() => Path.Combine(Directory.CreateTempSubdirectory("fm-epochlog").FullName, "log.csv");

    // Rows are appended; a resume at epoch E keeps the rows of epochs ≤ E and cuts the first later row and everything
    // after it, and a last row without its line break.
    [Fact]
    public void ReconcileCutsAfterTheEpochAndATornRow()
    {
        string path = Temp();
        var log = new EpochLog(path, "epoch,x");
        Assert.Null(log.Reconcile(3));
        log.Append(["1,a", "1,b"]);
        log.Append("2,c");
        log.Append("3,d");
        File.AppendAllText(path, "4,e\n5,");
        Assert.Equal([1, 2, 3], log.Reconcile(3));
        Assert.Equal("epoch,x\n1,a\n1,b\n2,c\n3,d\n", File.ReadAllText(path));
        Assert.Equal([1, 2], log.Reconcile(2));
        Assert.Equal("epoch,x\n1,a\n1,b\n2,c\n", File.ReadAllText(path));
        File.AppendAllText(path, "3,tor");
        Assert.Equal([1, 2], log.Reconcile(5));
        Assert.Equal("epoch,x\n1,a\n1,b\n2,c\n", File.ReadAllText(path));
        File.WriteAllText(path, "epo");   // a header cut short: no rows yet
        Assert.Equal([], log.Reconcile(0)!);
        Assert.Equal("epoch,x\n", File.ReadAllText(path));
    }

    [Fact]
    public void AForeignHeaderOrAMalformedRowIsNamed()
    {
        string path = Temp();
        File.WriteAllText(path, "step,x\n1,a\n");
        Assert.Contains($"{path}: line 1 is 'step,x', expected the header 'epoch,x'", Assert.Throws<InvalidDataException>(() => new EpochLog(path, "epoch,x").Reconcile(1)).Message);
        File.WriteAllText(path, "epoch,x\n1,a\nnope\n2,b\n");
        Assert.Contains($"{path}: line 3", Assert.Throws<InvalidDataException>(() => new EpochLog(path, "epoch,x").Reconcile(2)).Message);
    }

    [Fact]
    public void VerifyNamesTheMissingEpochs()
    {
        var log = new EpochLog("/runs/r/metrics.csv", "epoch,x");
        log.Verify([1, 2, 3], [1, 2, 3], "ckpt");
        log.Verify(null, [], "ckpt");
        var e = Assert.Throws<InvalidDataException>(() => log.Verify([1, 2, 5], [1, 2, 3, 4, 5], "checkpoints/epoch-0005"));
        Assert.Contains("/runs/r/metrics.csv has no rows for epochs 3–4, but checkpoints/epoch-0005 vouches for epochs 1–5", e.Message);
        Assert.Contains("/runs/r/metrics.csv is missing", Assert.Throws<InvalidDataException>(() => log.Verify(null, [1], "c")).Message);
        Assert.Contains("has rows for epoch 3 that the run does not write", Assert.Throws<InvalidDataException>(() => log.Verify([2, 3, 4], [2, 4], "c")).Message);
    }
}

public class ManifestInterruptTests
{
    // SIGINT/SIGTERM mark every manifest still running "interrupted" with the signal; a Finish afterwards (the main
    // thread ending its work while the process goes down) does not overwrite that.
    [Fact]
    public void InterruptMarksRunningManifestsAndFinishKeepsIt()
    {
        string dir = Directory.CreateTempSubdirectory("fm-manifest").FullName;
        var done = new Manifest(Path.Combine(dir, "done.json"), "simulate", [], []);
        done.Finish();
        var running = new Manifest(Path.Combine(dir, "running.json"), "train", ["train"], []);
        Assert.True(Manifest.InterruptAll("SIGTERM") >= 1);
        Assert.Equal("interrupted", Manifest.StatusOf(Path.Combine(dir, "running.json")));
        Assert.Equal("SIGTERM", JsonText.Read(Path.Combine(dir, "running.json"))!["signal"]!.GetValue<string>());
        Assert.Equal("completed", Manifest.StatusOf(Path.Combine(dir, "done.json")));
        running.Finish();
        Assert.Equal("interrupted", Manifest.StatusOf(Path.Combine(dir, "running.json")));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void InvalidJsonIsNamedWithItsPosition()
    {
        string dir = Directory.CreateTempSubdirectory("fm-json").FullName;
        string path = Path.Combine(dir, "manifest.json");
        File.WriteAllText(path, "{\n  \"status\": running\n}");
        var e = Assert.Throws<InvalidDataException>(() => JsonText.Read(path));
        Assert.StartsWith($"{path}: invalid JSON at line 2, column 13", e.Message);
        Directory.Delete(dir, true);
    }
}
