using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Training;
using static FlatMinima.Torch.Tests.Faults.CheckpointFaultTests;

namespace FlatMinima.Torch.Tests.Faults;

/// <summary>
/// Histories (metrics.csv, optim_log.csv, local_energy.csv) are appended, never rewritten; a resume keeps every row up
/// to its checkpoint, cuts what was written after it, and refuses a history that lost rows the checkpoint vouches for.
/// </summary>
public class HistoryFaultTests
{
    public HistoryFaultTests() => TestRuntime.Init();

    private static RunConfig WithLocalEnergy(RunConfig c, int epochs) =>
        c with { Training = c.Training with { Epochs = epochs, LeEvery = 1, LeSigma = 0.3, LeDraws = 2 } };

    private static string[] Columns(string file) => File.ReadAllLines(file).Select(l => string.Join(',', l.Split(',').Take(6))).ToArray();

    // Two histories have the same rows and fields; numbers agree to float32 rounding (an evaluation loss can differ in
    // the 7th digit between two models in one process, as libtorch's oneMKL picks kernels by operand alignment; the
    // process-level fault tests run it in its reproducible mode and compare bit for bit).
    internal static void AssertSameCsv(string[] expected, string[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {expected.Length} vs {actual.Length} lines");
        for (int i = 0; i < expected.Length; i++)
        {
            var a = expected[i].Split(','); var b = actual[i].Split(',');
            Assert.True(a.Length == b.Length, $"{what}, line {i + 1}: {expected[i]} vs {actual[i]}");
            for (int k = 0; k < a.Length; k++)
            {
                bool na = double.TryParse(a[k], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var x);
                bool nb = double.TryParse(b[k], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var y);
                Assert.True(na && nb ? Math.Abs(x - y) <= 1e-6 * Math.Max(1, Math.Abs(x)) : a[k] == b[k], $"{what}, line {i + 1}, field {k + 1}: {expected[i]} vs {actual[i]}");
            }
        }
    }

    private static void AssertSameFile(string expectedDir, string actualDir, string file, bool withoutTiming = false)
    {
        string[] Read(string d) => withoutTiming ? Columns(Path.Combine(d, file)) : File.ReadAllLines(Path.Combine(d, file));
        AssertSameCsv(Read(expectedDir), Read(actualDir), file);
    }

    // Entropy-SGD with its γ grown by a rate per outer step (the codes' (1 + γ1)^t), which does not depend on the run's
    // length: the default scoping ends at Γ at the run's last outer step, so a 2-epoch run re-planned to 4 on resume
    // (docs/optim.md, "Tests") follows another schedule from its first step than a straight 4-epoch run.
    private static EntropySgdOptions LengthFreeEsgd => new() { InnerSteps = 2, Gamma1 = 0.05 };

    // Resuming used to erase every optim_log.csv and local_energy.csv row written before the resume, and Entropy-SGD
    // with its default noise resumed onto another trajectory (its noise stream was reseeded): two epochs, then a resume
    // to four, now give the files and the weights of four epochs straight.
    [Theory]
    [InlineData("esgd")]
    [InlineData("pswa")]
    public void AResumeKeepsEveryHistoryRowBeforeIt(string optimizer)
    {
        using var dir = new TempDir();
        OptimizerConfig o = optimizer == "esgd" ? LengthFreeEsgd : new PeriodicSwaOptions { PswaStart = 1, Period = 2, SwaStart = 4 };
        Experiment.Train(dir["straight"], WithLocalEnergy(Tiny(o, 4), 4));
        Experiment.Train(dir["resumed"], WithLocalEnergy(Tiny(o, 2), 2));
        Assert.True(Experiment.Resume(dir["resumed"], epochs: 4).Completed);
        foreach (var f in new[] { "optim_log.csv", "local_energy.csv" }) AssertSameFile(dir["straight"], dir["resumed"], f);
        AssertSameFile(dir["straight"], dir["resumed"], "metrics.csv", withoutTiming: true);
        Assert.Equal(5, File.ReadAllLines(Path.Combine(dir["resumed"], "local_energy.csv")).Length);
        // The weights and the optimiser's state (Entropy-SGD: with its noise generator) are those of the straight run,
        // bit for bit.
        foreach (var f in new[] { "model.bin", "optimizer.bin" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir["straight"], "checkpoints", "epoch-0004", f)), File.ReadAllBytes(Path.Combine(dir["resumed"], "checkpoints", "epoch-0004", f)));
    }

    // A kill after the history rows of an epoch were appended but before its checkpoint: the rows of that epoch, and a
    // row cut in the middle, are removed on resume, and the run then ends as a straight run does.
    [Fact]
    public void RowsWrittenAfterTheCheckpointAreCutOnResume()
    {
        using var dir = new TempDir();
        var c = WithLocalEnergy(Tiny(LengthFreeEsgd, 3), 3);
        Experiment.Train(dir["straight"], c);
        Experiment.Train(dir["killed"], c with { Training = c.Training with { Epochs = 2 } });
        // What a process killed between the row writes of epoch 3 and its checkpoint leaves behind.
        File.AppendAllText(Path.Combine(dir["killed"], "metrics.csv"), "3,0.5,0.25,0.6,0.3,0.1,0.01,100\n4,0.4");
        File.AppendAllText(Path.Combine(dir["killed"], "optim_log.csv"), "3,9,anchor,distance,1\n");
        File.AppendAllText(Path.Combine(dir["killed"], "local_energy.csv"), "3,0.3,2,1,");
        Assert.True(Experiment.Resume(dir["killed"], epochs: 3).Completed);
        foreach (var f in new[] { "optim_log.csv", "local_energy.csv" }) AssertSameFile(dir["straight"], dir["killed"], f);
        AssertSameFile(dir["straight"], dir["killed"], "metrics.csv", withoutTiming: true);
    }

    // A deleted or truncated history is an error naming the file and the missing epochs: no checkpoint can rebuild
    // the per-epoch losses and errors, and a resume must not continue a history with a silent gap.
    [Theory]
    [InlineData("metrics.csv", "delete", "is missing")]
    [InlineData("metrics.csv", "truncate", "has no rows for epoch 2")]
    [InlineData("optim_log.csv", "delete", "is missing")]
    [InlineData("local_energy.csv", "truncate", "has no rows for epoch 2")]
    public void ALostHistoryIsNamedOnResume(string file, string how, string message)
    {
        using var dir = new TempDir();
        Experiment.Train(dir.Path, WithLocalEnergy(Tiny(new EntropySgdOptions { InnerSteps = 2 }, 2), 2));
        string path = Path.Combine(dir.Path, file);
        if (how == "delete") File.Delete(path);
        else File.WriteAllLines(path, File.ReadAllLines(path).Where(l => !l.StartsWith("2,", StringComparison.Ordinal)));
        var e = Assert.Throws<InvalidDataException>(() => Experiment.Resume(dir.Path, epochs: 3));
        Assert.Contains(path, e.Message);
        Assert.Contains(message, e.Message);
        Assert.Contains("epoch-0002", e.Message);
    }

    // metrics.csv is appended, not replaced: a reader that opened it after the first epoch sees every later row
    // through the same handle (a file rewritten by rename would leave that handle on the old one-row file).
    [Fact]
    public void MetricsAreAppendedNotRewritten()
    {
        using var dir = new TempDir();
        var reader = new OpenAtFirstEpoch(Path.Combine(dir.Path, "metrics.csv"));
        Experiment.Train(dir.Path, Tiny(new SgdOptions(), 4), reporter: reader);
        using var stream = reader.Stream!;
        stream.Position = 0;
        var lines = new StreamReader(stream).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(5, lines.Length);
    }

    private sealed class OpenAtFirstEpoch(string path) : IRunReporter
    {
        public FileStream? Stream { get; private set; }
        public void Epoch(EpochMetrics metrics, int epochs)
        {
            if (metrics.Epoch == 1) Stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
    }

    // A resume with no checkpoint yet (killed in its first epoch) starts from the beginning and keeps nothing of the
    // rows written after the start.
    [Fact]
    public void AResumeBeforeTheFirstCheckpointStartsOver()
    {
        using var dir = new TempDir();
        var c = Tiny(new SgdOptions(), 2);
        Experiment.Train(dir["straight"], c);
        Experiment.Train(dir["killed"], c);
        Directory.Delete(Path.Combine(dir["killed"], "checkpoints"), true);
        File.WriteAllText(Path.Combine(dir["killed"], "metrics.csv"), MetricsLog.Header + "\n1,0.5,0.2");
        Assert.True(Experiment.Resume(dir["killed"]).Completed);
        AssertSameFile(dir["straight"], dir["killed"], "metrics.csv", withoutTiming: true);
    }
}
