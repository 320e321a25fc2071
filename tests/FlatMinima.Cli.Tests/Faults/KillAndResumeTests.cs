using System.Diagnostics;
using System.Text.Json;
using Xunit.Abstractions;

namespace FlatMinima.Cli.Tests.Faults;

/// <summary>
/// kill -9 at moments drawn from a fixed seed, then resume: the run ends exactly where a run that was never
/// interrupted ends (bit for bit on the CPU), with every history row kept once; SIGINT and SIGTERM mark the manifest
/// "interrupted" and end the process with 130 and 143.
/// </summary>
public class KillAndResumeTests(ITestOutputHelper output)
{
    // Entropy-SGD with its default noise (a random stream in the checkpoint), the optimiser log and the local energy
    // every 2 epochs: every history a run keeps. Tiny: N = 30, P = 60, 12 minibatches per epoch.
    private static string[] TrainArgs(string dir, int epochs) =>
        ["train", "--out", dir, "--epochs", epochs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--n", "30", "--alpha", "2",
         "--test-size", "300", "--width", "8", "--batch-size", "5", "--optimizer", "esgd", "--inner-steps", "3", "--le-every", "2", "--le-draws", "3"];

    private static string[] Columns(string metrics) => File.ReadAllLines(metrics)
        .Select(l => string.Join(',', l.Split(',').Take(6))).ToArray();   // without time_s, images_per_s

    private static string LastCheckpoint(string dir) =>
        Directory.GetDirectories(Path.Combine(dir, "checkpoints"), "epoch-*").OrderBy(d => int.Parse(Path.GetFileName(d)[6..])).Last();

    private static void AssertSameRun(string expected, string actual)
    {
        Assert.Equal(Columns(Path.Combine(expected, "metrics.csv")), Columns(Path.Combine(actual, "metrics.csv")));
        Assert.Equal(File.ReadAllText(Path.Combine(expected, "optim_log.csv")), File.ReadAllText(Path.Combine(actual, "optim_log.csv")));
        Assert.Equal(File.ReadAllText(Path.Combine(expected, "local_energy.csv")), File.ReadAllText(Path.Combine(actual, "local_energy.csv")));
        string a = LastCheckpoint(expected), b = LastCheckpoint(actual);
        Assert.Equal(Path.GetFileName(a), Path.GetFileName(b));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "model.bin")), File.ReadAllBytes(Path.Combine(b, "model.bin")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "optimizer.bin")), File.ReadAllBytes(Path.Combine(b, "optimizer.bin")));
        using var m = JsonDocument.Parse(File.ReadAllText(Path.Combine(actual, "manifest.json")));
        Assert.Equal("completed", m.RootElement.GetProperty("status").GetString());
        Assert.Empty(Directory.EnumerateFileSystemEntries(actual, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void KilledAtRandomMomentsAndResumedEndsBitForBitAsAStraightRun()
    {
        using var dir = new Scratch("kill");
        const int epochs = 20;
        // The straight run, timed: S seconds until its first epoch is written (start-up), T in all.
        var clock = Stopwatch.StartNew();
        double startup;
        ChildResult straight;
        using (var s = Child.Start(TrainArgs(dir["straight"], epochs)))
        {
            string metrics = Path.Combine(dir["straight"], "metrics.csv");
            while (!(File.Exists(metrics) && File.ReadAllLines(metrics).Length > 1) && !s.HasExited) Thread.Sleep(5);
            startup = clock.Elapsed.TotalSeconds;
            straight = s.Wait(300);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        Assert.True(straight.Code == 0, straight.ToString());

        // Kill moments from a fixed seed: rounds 0 and 2 during start-up (before or while the run directory is made or
        // opened and verified), the others at a random point of one of the next epochs (while its rows, hooks or
        // checkpoint are written), timed from the progress of metrics.csv so that the machine's speed does not matter.
        // A killed run is resumed, or started again (--overwrite) when it was killed before it stored its configuration.
        var rng = new Random(20_260_101);
        string run = dir["killed"];
        double perEpoch = (seconds - startup) / epochs;
        int kills = 0, resumes = 0;
        for (int round = 0; round < 5; round++)
        {
            bool stored = File.Exists(Path.Combine(run, "config.json"));
            int reached = Reached(run);
            string[] args = round == 0 ? TrainArgs(run, epochs) : stored ? ["train", "--resume", run] : [.. TrainArgs(run, epochs), "--overwrite"];
            if (round > 0 && stored) resumes++;
            bool early = round is 0 or 2;
            int target = reached + 1 + rng.Next(4);   // within the next few epochs: the run is far from its end
            double fraction = rng.NextDouble();
            using var c = Child.Start(args);
            string metrics = Path.Combine(run, "metrics.csv");
            if (early)
            {
                // a moment of the straight run's start-up, but never after this run's first new row: on a machine that
                // has become quieter since the straight run, start-up and epochs are shorter
                var wait = Stopwatch.StartNew();
                while (!c.HasExited && wait.Elapsed.TotalSeconds < fraction * startup && !(File.Exists(metrics) && File.ReadAllLines(metrics).Length > reached + 1)) Thread.Sleep(2);
            }
            else
            {
                var wait = Stopwatch.StartNew();
                while (!c.HasExited && wait.Elapsed.TotalSeconds < 120 && !(File.Exists(metrics) && File.ReadAllLines(metrics).Length > target)) Thread.Sleep(2);
                WaitForExit(c, fraction * perEpoch);
            }
            if (!c.HasExited) { c.Signal(Child.SIGKILL); kills++; }
            c.Wait(60);
            output.WriteLine($"round {round}: from epoch {reached}, killed {(early ? $"{fraction * startup:F2} s after the start" : $"{fraction:F2} of an epoch after row {target}")}; now at epoch {Reached(run)}");
        }
        var last = File.Exists(Path.Combine(run, "config.json")) ? Child.Run(["train", "--resume", run]) : Child.Run([.. TrainArgs(run, epochs), "--overwrite"]);
        Assert.True(last.Code == 0, last.ToString());
        output.WriteLine($"{kills} kills, {resumes} resumes; straight run {seconds:F1} s, start-up {startup:F1} s");
        Assert.True(kills >= 4, $"only {kills} of 5 rounds were killed before the end.");
        AssertSameRun(dir["straight"], run);
    }

    private static int Reached(string run)
    {
        string c = Path.Combine(run, "checkpoints");
        return Directory.Exists(c) && Directory.GetDirectories(c, "epoch-*").Length > 0 ? int.Parse(Path.GetFileName(LastCheckpoint(run))[6..]) : 0;
    }

    private static bool WaitForExit(Child c, double seconds)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds) { if (c.HasExited) return true; Thread.Sleep(10); }
        return c.HasExited;
    }

    // SIGINT and SIGTERM: the manifest says "interrupted" and names the signal; the exit code is 128 + signal; the run
    // resumes to the numbers of a straight run.
    [Theory]
    [InlineData(Child.SIGINT, 130, "SIGINT")]
    [InlineData(Child.SIGTERM, 143, "SIGTERM")]
    [Trait("Speed", "Slow")]
    public void ASignalMarksTheManifestInterruptedAndTheRunResumes(int signal, int code, string name)
    {
        using var dir = new Scratch("signal");
        const int epochs = 200;
        string run = dir["run"];
        using (var c = Child.Start(TrainArgs(run, epochs)))
        {
            // Signal once the run has written a few epochs.
            var clock = Stopwatch.StartNew();
            string metrics = Path.Combine(run, "metrics.csv");
            while (!(File.Exists(metrics) && File.ReadAllLines(metrics).Length > 3) && !c.HasExited && clock.Elapsed.TotalSeconds < 60) Thread.Sleep(10);
            Assert.False(c.HasExited, "the run ended before it could be signalled");
            c.Signal(signal);
            var r = c.Wait(60);
            Assert.True(r.Code == code, r.ToString());
        }
        using (var m = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "manifest.json"))))
        {
            Assert.Equal("interrupted", m.RootElement.GetProperty("status").GetString());
            Assert.Equal(name, m.RootElement.GetProperty("signal").GetString());
            Assert.NotEqual(JsonValueKind.Null, m.RootElement.GetProperty("finished_utc").ValueKind);
        }
        int reached = int.Parse(Path.GetFileName(LastCheckpoint(run))[6..]);
        var resumed = Child.Run(["train", "--resume", run, "--epochs", (reached + 2).ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(resumed.Code == 0, resumed.ToString());
        using (var m = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "manifest.json"))))
            Assert.Contains(m.RootElement.GetProperty("previous").EnumerateArray(), p => p.GetProperty("status").GetString() == "interrupted");
    }
}
