namespace FlatMinima.Cli.Tests;

public class OptimResumeTests
{
    private static int Run(params string[] argv) => FlatMinima.Cli.Tests.Run.Cli(argv).Code;

    // Training 2 epochs and resuming to 4 gives the same metrics as 4 epochs straight (to 1e-6), for every optimiser: its
    // state lives in its checkpoint, Entropy-SGD's noise generator included. Schedules that depend on the run's length
    // (γ/g scoping, the default swa_start) are pinned, since --epochs changes on resume.
    [Theory]
    [InlineData("esgd", "--noise 0 --gamma1 0.01")]
    [InlineData("esgd", "--gamma1 0.01")]
    [InlineData("rsgd", "--replicas 2 --gmax 1")]
    [InlineData("rsgd", "--replicas 2 --coupling 0.5 --gmax 1 --centre explicit")]
    [InlineData("sam", "--sam-rho 0.05")]
    [InlineData("swa", "--swa-start 2")]
    [InlineData("pswa", "--pswa-start 1 --pswa-period 2 --swa-start 4")]
    public void ResumeMatchesAStraightRun(string optimizer, string extra)
    {
        string root = Path.Combine(Path.GetTempPath(), "optim-resume-" + Guid.NewGuid());
        string[] common = ["--n", "20", "--alpha", "2", "--test-size", "100", "--width", "8", "--batch-size", "10", "--optimizer", optimizer, .. extra.Split(' ')];
        string a = Path.Combine(root, "a"), b = Path.Combine(root, "b");
        Assert.Equal(0, Run(["train", "--out", a, "--epochs", "4", .. common]));
        Assert.Equal(0, Run(["train", "--out", b, "--epochs", "2", .. common]));
        Assert.Equal(0, Run("train", "--resume", b, "--epochs", "4"));
        static double[][] Cols(string dir) => File.ReadAllLines(Path.Combine(dir, "metrics.csv")).Skip(1)
            .Select(l => l.Split(',').Take(6).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToArray();
        var ca = Cols(a); var cb = Cols(b);
        Assert.Equal(4, cb.Length);
        // Identical up to float32 rounding (eSGD's last test loss differs in the 7th digit; every other value is equal).
        for (int i = 0; i < ca.Length; i++)
            for (int j = 0; j < 6; j++)
                Assert.True(Math.Abs(ca[i][j] - cb[i][j]) <= 1e-6 * Math.Max(1, Math.Abs(ca[i][j])), $"epoch {i + 1}, column {j}: {ca[i][j]} vs {cb[i][j]}");
        Directory.Delete(root, true);
    }
}
