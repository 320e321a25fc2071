using System.Text.Json;

namespace FlatMinima.Cli.Tests.Faults;

/// <summary>
/// What the command line makes of faults: bad input exits 2 with one line naming the parameter and its range, a
/// fault (a corrupt or edited file, a folder that cannot be written) exits 1 with one line naming the file, and
/// results are printed before an optional file write that can fail.
/// </summary>
public class CliFaultTests
{
    private static readonly string[] Tiny = ["--epochs", "2", "--n", "20", "--alpha", "2", "--test-size", "100", "--width", "8", "--batch-size", "10"];

    // One error line, no stack trace (stderr may also hold progress lines and human tables).
    private static void AssertOneLine(string err, string command)
    {
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("flatminima", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count == 1 && lines[0].StartsWith($"flatminima {command}:", StringComparison.Ordinal), err);
        Assert.DoesNotContain("   at ", err);
    }

    private static string[] With(string option, string value) =>
        Tiny.Select((a, i) => i > 0 && Tiny[i - 1] == option ? value : a).ToArray();

    // train --out into an existing run used to mix two runs (the new checkpoints pruned at once, flatness probing the
    // old weights); now it is refused, and --overwrite replaces the run.
    [Fact]
    [Trait("Speed", "Slow")]
    public void TrainIntoAnExistingRunIsRefusedUnlessOverwritten()
    {
        using var dir = new Scratch("exists");
        string run = dir["run"];
        Assert.Equal(0, Run.Cli(["train", "--out", run, .. With("--epochs", "4")]).Code);
        var r = Run.Cli(["train", "--out", run, .. Tiny]);
        Assert.Equal(2, r.Code);
        Assert.Contains(run, r.Err);
        Assert.Contains("--overwrite", r.Err);
        AssertOneLine(r.Err, "train");
        Assert.Equal(5, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);   // untouched
        File.WriteAllText(Path.Combine(run, "notes.txt"), "mine");
        r = Run.Cli(["train", "--out", run, .. Tiny, "--overwrite", "--json"]);
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);
        Assert.Equal(["epoch-0001", "epoch-0002"], Directory.GetDirectories(Path.Combine(run, "checkpoints")).Select(Path.GetFileName).Order());
        Assert.Equal("mine", File.ReadAllText(Path.Combine(run, "notes.txt")));   // not a run's file: kept
        // A folder with other files is not a run: refused even with --overwrite, and nothing in it is deleted.
        string other = dir["other"];
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, "thesis.tex"), "x");
        r = Run.Cli(["train", "--out", other, .. Tiny, "--overwrite"]);
        Assert.Equal(2, r.Code);
        Assert.Contains("holds no run", r.Err);
        Assert.Equal(["thesis.tex"], Directory.GetFileSystemEntries(other).Select(Path.GetFileName));
    }

    // A corrupt checkpoint or an edited configuration: exit 1, one line naming the file (and the field); never a run
    // on other weights or other data with exit 0.
    [Theory]
    [InlineData("flip", "model.bin", "SHA-256 differs")]
    [InlineData("truncate", "model.bin", "bytes")]
    [InlineData("seed", "config.json", "training.seed = 7 (manifest: 0)")]
    [InlineData("json", "config.json", "line 3, column")]
    [InlineData("manifest", "manifest.json", "line 1, column")]
    [Trait("Speed", "Slow")]
    public void ACorruptOrEditedRunExitsOneNamingTheFile(string fault, string file, string message)
    {
        using var dir = new Scratch("corrupt");
        string run = dir["run"];
        Assert.Equal(0, Run.Cli(["train", "--out", run, .. Tiny]).Code);
        string path = file == "model.bin" ? Path.Combine(run, "checkpoints", "epoch-0002", file) : Path.Combine(run, file);
        switch (fault)
        {
            case "flip": { var b = File.ReadAllBytes(path); b[^20] ^= 1; File.WriteAllBytes(path, b); break; }
            case "truncate": { using var fs = new FileStream(path, FileMode.Open); fs.SetLength(fs.Length - 7); break; }
            case "seed": File.WriteAllText(path, File.ReadAllText(path).Replace("\"seed\": 0", "\"seed\": 7")); break;
            case "json": { var l = File.ReadAllLines(path); l[2] = l[2].Replace(":", ""); File.WriteAllLines(path, l); break; }
            case "manifest": File.WriteAllText(path, "{\"command\": train}"); break;
        }
        foreach (var argv in new[] { new[] { "train", "--resume", run, "--epochs", "3" }, ["flatness", "--run", run, "--probes", "le", "--draws", "2"] })
        {
            var r = Run.Cli(argv);
            Assert.True(r.Code == 1, $"{string.Join(' ', argv)}: {r.Code} {r.Err}");
            Assert.Contains(path, r.Err);
            Assert.Contains(message, r.Err);
            AssertOneLine(r.Err, argv[0]);
            Assert.Equal("", r.Out);
        }
    }

    // flatness on a run directory it cannot write into (here flatness.json is a folder, which no permission bit can
    // undo, so the probe holds for root too): the results are printed first, then the failed write exits 1 naming the
    // file. It used to compute for minutes and lose everything.
    [Fact]
    [Trait("Speed", "Slow")]
    public void FlatnessPrintsItsResultsBeforeAWriteThatFails()
    {
        using var dir = new Scratch("ro");
        string run = dir["run"];
        Assert.Equal(0, Run.Cli(["train", "--out", run, .. Tiny]).Code);
        Directory.CreateDirectory(Path.Combine(run, "flatness.json"));
        var r = Run.Cli("flatness", "--run", run, "--probes", "le", "--sigma", "0,0.1", "--draws", "2", "--json");
        Assert.Equal(1, r.Code);
        using var doc = JsonDocument.Parse(r.Out);
        Assert.Equal(2, doc.RootElement.GetProperty("local_energy").GetArrayLength());
        Assert.Contains(Path.Combine(run, "flatness.json"), r.Err);
        AssertOneLine(r.Err, "flatness");
        Assert.Empty(Directory.GetFiles(run, "*.tmp"));
    }

    // Sizes: a count that is not an integer, or too large for what it sizes, is bad input naming the parameter and its
    // range, before anything is allocated or computed.
    [Theory]
    [InlineData("--test-size", "2e9", "--test-size must be an integer in [1, 2147483647] (got '2e9')")]
    [InlineData("--test-size", "2000000000", "test_size must be an integer in [1, MAX] for n = 20 and P = 40")]
    [InlineData("--n", "1e5", "--n must be an integer in [1, 2147483647] (got '1e5')")]
    [InlineData("--epochs", "0", "epochs must be an integer >= 1 (got 0)")]
    public void OversizedOrMalformedCountsAreBadInput(string option, string value, string message)
    {
        using var dir = new Scratch("size");
        var argv = Tiny.ToList();
        int i = argv.IndexOf(option);
        if (i >= 0) argv[i + 1] = value; else argv.AddRange([option, value]);
        var r = Run.Cli(["train", "--out", dir["run"], .. argv]);
        Assert.Equal(2, r.Code);
        // (P + test_size)·N values in one array: test_size ≤ ⌊Array.MaxLength/N⌋ − P.
        Assert.Contains(message.Replace("MAX", (Array.MaxLength / 20 - 40).ToString(System.Globalization.CultureInfo.InvariantCulture)), r.Err);
        AssertOneLine(r.Err, "train");
        Assert.False(Directory.Exists(dir["run"]));
    }

    // curve --points 10000000 was accepted (about 75 minutes, memory growing, nothing written until the end); the
    // limit is stated up front.
    [Fact]
    public void ACurveOfTooManyPointsIsRefusedUpFront()
    {
        var r = Run.Cli("curve", "--loss", "square", "--over", "alpha", "--from", "0.5", "--to", "5", "--points", "10000000", "--lambda", "0.1", "--delta", "1");
        Assert.Equal(2, r.Code);
        Assert.Contains("--points must be an integer in [1, 100000] (got 10000000)", r.Err);
        Assert.Equal(2, Run.Cli("curve", "--loss", "square", "--over", "alpha", "--from", "0.5", "--to", "5", "--points", "1e7", "--lambda", "0.1", "--delta", "1").Code);
        Assert.Contains("points must be an integer in [1, 100000]",
            Assert.Throws<ArgumentOutOfRangeException>(() => FlatMinima.Replica.LearningCurve.Grid(0.5, 5, 10_000_000)).Message);
    }

    // curve --out into a folder that cannot take the file: the table is printed first, the write fails with exit 1
    // naming the file.
    [Fact]
    public void CurvePrintsBeforeItsWriteFails()
    {
        using var dir = new Scratch("curve");
        string target = dir["curve.csv"];
        Directory.CreateDirectory(target);   // a folder where the file should go
        var r = Run.Cli("curve", "--loss", "square", "--over", "alpha", "--from", "0.5", "--to", "2", "--points", "3", "--lambda", "0.1", "--delta", "1", "--out", target, "--json");
        Assert.Equal(1, r.Code);
        Assert.Equal(3, JsonDocument.Parse(r.Out).RootElement.GetProperty("points").GetArrayLength());
        Assert.Contains($"cannot write {target}", r.Err);
        AssertOneLine(r.Err, "curve");
    }
}
