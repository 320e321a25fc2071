using System.Text.Json;
using FlatMinima.Cli.Tests.Faults;

namespace FlatMinima.Cli.Tests;

/// <summary>
/// The linear algebra of the finite-N commands as the user sees it: the provider chosen by FLATMINIMA_BLAS and how
/// the cores were shared in every --json output, results of the two providers equal to rounding, and a problem
/// larger than the memory refused with its estimate (exit 2). Each case runs the built command as a child process,
/// because the provider is chosen once per process and the memory limit is the process's own.
/// </summary>
public class LinearAlgebraOutputTests
{
    private static JsonElement Json(ChildResult r)
    {
        Assert.True(r.Code == 0, r.ToString());
        return JsonDocument.Parse(r.Out).RootElement;
    }

    private static ChildResult Check(string provider) => Child.Run(
        ["check", "--loss", "square", "--alpha", "2", "--delta", "1", "--lambda", "0.1", "--n", "200", "--seeds", "3", "--seed", "4", "--threads", "2", "--json"],
        env: new Dictionary<string, string> { ["FLATMINIMA_BLAS"] = provider });

    [Fact]
    [Trait("Speed", "Slow")]
    public void CheckReportsTheProviderAndBothProvidersAgreeToRounding()
    {
        var managed = Json(Check("managed"));
        var la = managed.GetProperty("linear_algebra");
        Assert.Equal("managed", la.GetProperty("provider").GetString());
        Assert.Equal(2, la.GetProperty("seeds_at_once").GetInt32());   // 3 seeds on 2 cores: two at once, one thread each
        Assert.Equal(1, la.GetProperty("threads_per_solve").GetInt32());
        var native = Check("openblas");
        if (native.Code != 0)
        {
            // No OpenBLAS on this machine: the forced choice fails in one line naming the package (CI installs it).
            Assert.Contains("libopenblas0-pthread", native.Err);
            Assert.Single(native.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            return;
        }
        var j = Json(native);
        Assert.Equal("openblas", j.GetProperty("linear_algebra").GetProperty("provider").GetString());
        Assert.Contains("OpenBLAS", j.GetProperty("linear_algebra").GetProperty("library").GetString());
        // The square ridge solve: double-precision Cholesky (managed) against the single-precision factor refined to
        // double accuracy (OpenBLAS); the observables agree far below their standard errors (~1e-2).
        foreach (var key in new[] { "test_error", "train_error", "m", "q", "bias" })
        {
            double a = managed.GetProperty(key).GetProperty("simulation").GetDouble(), b = j.GetProperty(key).GetProperty("simulation").GetDouble();
            Assert.True(Math.Abs(a - b) <= 1e-10 * Math.Max(1, Math.Abs(a)), $"{key}: managed {a:R}, openblas {b:R}");
        }
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void AProblemLargerThanTheMemoryIsRefusedWithItsEstimate()
    {
        // A 256 MB heap limit for the child; N = 5000 at α = 2 needs X alone = 10 000 × 5 000 × 8 B = 400 MB.
        var r = Child.Run(
            ["simulate", "--estimator", "square", "--alpha", "2", "--delta", "1", "--lambda", "0.1", "--n", "5000", "--seeds", "2", "--json"],
            env: new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "0x10000000" });
        Assert.True(r.Code == 2, r.ToString());
        Assert.Equal("", r.Out);
        string line = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("n = 5000, alpha = 2 (P = 10000) needs about", line);
        var m = System.Text.RegularExpressions.Regex.Match(line,
            @"needs about (\d+(?:\.\d+)?) (MB|GB) for one dataset and its solve, but \d+(?:\.\d+)? MB is available");
        Assert.True(m.Success, line);
        double estimate = double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * (m.Groups[2].Value == "GB" ? 1000 : 1);
        Assert.InRange(estimate, 400 + 200, 2000);   // X and the 5000 × 5000 Gram at least; the managed copies at most
    }

    // Every finite-N command's --json names the provider and how its jobs shared the cores (jobs: seeds, or seeds × σ
    // for maxflat, seeds × sizes for check --finite-size): min(jobs, cores) at once, the other cores to each solve.
    [Theory]
    [InlineData(2, "demo", "--n", "100", "--seeds", "2", "--json")]
    [InlineData(2, "local-energy", "--estimator", "square", "--lambda", "0.1", "--alpha", "2", "--delta", "1", "--sigma", "0,0.5", "--n", "100", "--seeds", "2", "--json")]
    [InlineData(4, "maxflat", "--alpha", "2", "--delta", "1", "--sigma", "1,10", "--n", "100", "--seeds", "2", "--steps", "50", "--json")]
    [InlineData(6, "check", "--loss", "square", "--alpha", "2", "--delta", "1", "--lambda", "1", "--finite-size", "20,40,80", "--seeds", "2", "--json")]
    [InlineData(3, "check", "--loss", "logistic", "--alpha", "2", "--delta", "1", "--lambda", "1", "--n", "100", "--seeds", "3", "--json")]
    [InlineData(2, "replicated", "--loss", "square", "--alpha", "2", "--delta", "1", "--y", "3", "--gamma", "1", "--n", "60", "--seeds", "2", "--json")]
    public void FiniteNCommandsReportTheLinearAlgebraTheyUsed(int jobs, params string[] argv)
    {
        var j = Run.Json(argv);
        // demo prints one simulation per estimator, each with its own record.
        var la = (argv[0] == "demo" ? j.GetProperty("simulations")[0] : j).GetProperty("linear_algebra");
        Assert.Contains(la.GetProperty("provider").GetString(), new[] { "openblas", "managed" });
        Assert.False(string.IsNullOrEmpty(la.GetProperty("library").GetString()));
        int workers = Math.Min(jobs, Environment.ProcessorCount);
        Assert.Equal(workers, la.GetProperty("seeds_at_once").GetInt32());
        Assert.Equal(Math.Max(1, Environment.ProcessorCount / workers), la.GetProperty("threads_per_solve").GetInt32());
    }

    [Fact]
    public void FiguresReportTheProvider()
    {
        string dir = Path.Combine(Path.GetTempPath(), "fm-la-figs-" + Guid.NewGuid().ToString("N"));
        try
        {
            var la = Run.Json("figures", "--out", dir, "--quick", "--only", "fig1_bayes_error", "--json").GetProperty("linear_algebra");
            Assert.Contains(la.GetProperty("provider").GetString(), new[] { "openblas", "managed" });
            Assert.Equal(Environment.ProcessorCount, la.GetProperty("threads_per_solve").GetInt32());
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
