using System.Text.Json;

namespace FlatMinima.Cli.Tests;

/// <summary><c>check --finite-size</c> and the replicon keys of <c>local-entropy</c> and <c>replicated</c>.</summary>
public class FiniteSizeCommandTests
{
    [Fact]
    public void FiniteSizeJsonHasEveryObservableWithItsFitAndVerdict()
    {
        var j = Run.Json("check", "--loss", "square", "--alpha", "2", "--delta", "1", "--lambda", "1", "--finite-size", "20,40,80",
            "--seeds", "4", "--json");
        Assert.Contains(j.GetProperty("verdict").GetString(), new[] { "agree", "disagree", "form-does-not-fit" });
        Assert.Equal(3, j.GetProperty("sizes").GetArrayLength());
        foreach (var obs in new[] { "test_error", "train_error", "train_loss", "m", "q", "bias" })
        {
            var o = j.GetProperty(obs);
            foreach (var k in new[] { "theory", "form", "mean", "se", "extrapolated", "extrapolated_se", "interval", "chi2", "dof", "p_value", "z", "verdict" })
                Assert.True(o.TryGetProperty(k, out _), $"{obs}.{k}");
            Assert.Equal("1/n", o.GetProperty("form").GetString());
            Assert.Equal(1, o.GetProperty("dof").GetInt32());
            var iv = o.GetProperty("interval");
            Assert.True(iv[0].GetDouble() <= o.GetProperty("extrapolated").GetDouble() && o.GetProperty("extrapolated").GetDouble() <= iv[1].GetDouble());
        }
        // the theory is the replica fixed point of docs/theory.md#table-erm (square, λ = 1)
        Assert.Equal(0.22869, j.GetProperty("test_error").GetProperty("theory").GetDouble(), 1e-5);
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void FiniteSizeOutWritesTheRunDirectoryAndOneFigurePerObservable()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"fm-fs-{Guid.NewGuid():N}");
        try
        {
            var (code, output, err) = Run.Cli("check", "--loss", "square", "--alpha", "2", "--delta", "1", "--lambda", "1",
                "--finite-size", "20,30,40", "--seeds", "3", "--form", "1/sqrt(n)", "--out", dir);
            Assert.True(code == 0, err);
            Assert.Contains("verdict:", output);
            foreach (var f in new[] { "manifest.json", "summary.json", "per_seed.csv" })
                Assert.True(File.Exists(Path.Combine(dir, f)), f);
            foreach (var ext in new[] { ".png", ".svg", ".pdf", ".csv" })
                Assert.True(File.Exists(Path.Combine(dir, "finite_size_test_error" + ext)), ext);
            Assert.Equal(1 + 3 * 3, File.ReadAllLines(Path.Combine(dir, "per_seed.csv")).Length);
            var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json"))).RootElement;
            Assert.Equal("1/sqrt(n)", summary.GetProperty("q").GetProperty("form").GetString());
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("20,40")]
    [InlineData("20,40,5")]
    [InlineData("20,40,80.5")]
    public void BadLadderExitsWithTwo(string ladder)
    {
        var (code, _, err) = Run.Cli("check", "--loss", "square", "--alpha", "2", "--delta", "1", "--lambda", "1", "--finite-size", ladder);
        Assert.Equal(2, code);
        Assert.Contains("--finite-size", err);
    }

    [Fact]
    public void NWithFiniteSizeExitsWithTwo()
    {
        var (code, _, err) = Run.Cli("check", "--loss", "square", "--alpha", "2", "--delta", "1", "--lambda", "1", "--finite-size", "20,40,80", "--n", "100");
        Assert.Equal(2, code);
        Assert.Contains("--n", err);
        (code, _, err) = Run.Cli("check", "--loss", "square", "--alpha", "2", "--delta", "1", "--lambda", "1", "--finite-size", "20,40,80", "--form", "1/n^2");
        Assert.Equal(2, code);
        Assert.Contains("form", err);
    }

    [Fact]
    public void LocalEntropyTheoryReportsTheReplicon()
    {
        // α = 2, Δ = 1, β = 2 around BO: stable (docs/theory.md#rs-stability); β = 0 gives exactly 1
        var rows = Run.Json("local-entropy", "--alpha", "2", "--delta", "1", "--beta", "2", "--overlap", "0.5,0.9", "--theory", "--json").GetProperty("rows");
        foreach (var r in rows.EnumerateArray())
        {
            Assert.True(r.GetProperty("rs_stable").GetBoolean());
            Assert.InRange(r.GetProperty("replicon").GetDouble(), 0.78, 0.95);
        }
        var hot = Run.Json("local-entropy", "--alpha", "2", "--delta", "1", "--beta", "0", "--overlap", "0.5", "--theory", "--json").GetProperty("rows")[0];
        Assert.Equal(1.0, hot.GetProperty("replicon").GetDouble(), 12);
    }

    [Fact]
    public void ReplicatedBetaYReportsTheReplicon()
    {
        var j = Run.Json("replicated", "--loss", "square", "--alpha", "2", "--delta", "1", "--rho", "0.25", "--y", "3", "--gamma", "200",
            "--norm", "0.5", "--beta-y", "10", "--json");
        Assert.True(j.GetProperty("rs_stable").GetBoolean());
        Assert.Equal(0.6211, j.GetProperty("replicon").GetDouble(), 4); // figure 10's y = 10, γ = 200 (docs/theory.md#rs-stability)
        var plain = Run.Json("replicated", "--loss", "square", "--alpha", "2", "--delta", "1", "--y", "3", "--gamma", "1", "--json");
        Assert.False(plain.TryGetProperty("replicon", out _));
    }
}
