using System.Text.Json;

namespace FlatMinima.Cli.Tests;

public class ReplicaCommandTests
{

    [Fact]
    public void ErmJsonHasTheDocumentedKeysAndReferenceValues()
    {
        var (code, stdout, _) = Run.Cli("erm", "--loss", "logistic", "--alpha", "2", "--delta", "1", "--lambda", "0.1", "--json");
        Assert.Equal(0, code);
        var j = JsonDocument.Parse(stdout).RootElement;
        foreach (var k in new[] { "test_error", "train_error", "train_loss", "m", "q", "v", "bias", "iterations", "converged" })
            Assert.True(j.TryGetProperty(k, out _), k);
        Assert.Equal(0.23221, j.GetProperty("test_error").GetDouble(), 1e-5); // docs/theory.md#table-erm
        Assert.Equal(3.53536, j.GetProperty("q").GetDouble(), 1e-4);
        Assert.True(j.GetProperty("converged").GetBoolean());
    }

    [Fact]
    public void ThresholdJson()
    {
        var (code, stdout, _) = Run.Cli("threshold", "--delta", "1", "--rho", "0.25", "--bias", "--json");
        Assert.Equal(0, code);
        Assert.Equal(4.40144, JsonDocument.Parse(stdout).RootElement.GetProperty("alpha_c").GetDouble(), 1e-4);
    }

    [Fact]
    public void CurveWritesCsvAndJson()
    {
        string file = Path.Combine(Path.GetTempPath(), $"fm-curve-{Guid.NewGuid():N}.csv");
        var (code, stdout, _) = Run.Cli("curve", "--loss", "hinge", "--over", "lambda", "--from", "0.01", "--to", "100", "--points", "5",
                                    "--log", "--alpha", "2", "--delta", "1", "--out", file, "--json");
        Assert.Equal(0, code);
        var pts = JsonDocument.Parse(stdout).RootElement.GetProperty("points");
        Assert.Equal(5, pts.GetArrayLength());
        Assert.Equal(1.0, pts[2].GetProperty("lambda").GetDouble(), 1e-12);
        Assert.Equal(0.22809, pts[2].GetProperty("test_error").GetDouble(), 1e-5); // docs/theory.md#table-erm hinge λ = 1
        var lines = File.ReadAllLines(file);
        File.Delete(file);
        Assert.Equal(6, lines.Length);
        Assert.StartsWith("alpha,lambda,test_error", lines[0]);
    }

    [Fact]
    public void CheckReportsZScoresAndVerdict()
    {
        var (code, stdout, _) = Run.Cli("check", "--loss", "square", "--alpha", "2", "--delta", "1", "--lambda", "1",
                                    "--n", "200", "--seeds", "4", "--json");
        Assert.Equal(0, code);
        var j = JsonDocument.Parse(stdout).RootElement;
        Assert.Contains(j.GetProperty("verdict").GetString(), new[] { "agree", "disagree" });
        var te = j.GetProperty("test_error");
        Assert.Equal(0.22869, te.GetProperty("theory").GetDouble(), 1e-5);
        Assert.True(te.GetProperty("se").GetDouble() > 0);
        Assert.True(te.TryGetProperty("z", out _));
    }

    [Theory]
    [InlineData("erm", "--loss", "square", "--alpha", "2", "--delta", "1", "--lambda", "0", "lambda")]
    [InlineData("erm", "--loss", "quartic", "--alpha", "2", "--delta", "1", "--lambda", "1", "--loss")]
    [InlineData("erm", "--loss", "square", "--alpha", "2", "--delta", "1", "--lambda", "1", "--rho", "1.5", "rho")]
    [InlineData("erm", "--loss", "square", "--alpha", "2", "--delta", "1", "--lambda", "1", "--damping", "1", "damping")]
    [InlineData("threshold", "--delta", "0", "delta")]
    [InlineData("curve", "--loss", "square", "--over", "beta", "--from", "1", "--to", "2", "--points", "3", "--delta", "1", "--over")]
    [InlineData("curve", "--loss", "square", "--over", "alpha", "--from", "1", "--to", "2", "--points", "0", "--delta", "1", "--lambda", "1", "--points")]
    [InlineData("check", "--loss", "square", "--alpha", "2", "--delta", "1", "--lambda", "1", "--seeds", "1", "--seeds")]
    public void BadInputExitsWithTwoAndNamesTheParameter(params string[] argvAndName)
    {
        var argv = argvAndName[..^1];
        var (code, _, stderr) = Run.Cli(argv);
        Assert.Equal(2, code);
        Assert.Contains(argvAndName[^1], stderr);
        Assert.Single(stderr.Trim().Split('\n'));
    }
}
