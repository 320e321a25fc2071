using System.Text.Json;

namespace FlatMinima.Cli.Tests;

/// <summary><c>--penalty</c>/<c>--norm</c> on erm, check and simulate, and <c>flatminima replicated</c>.</summary>
public class NormsCommandTests
{

    [Fact]
    public void ErmOnTheSphereAtTheNormOfARidgeRowReproducesThatRow()
    {
        // docs/theory.md#table-erm, square, ρ = ¼, λ = 1: q = 0.18744, m = 0.30524, ε_g = 0.18409; the sphere at that q has λ̃ = 1
        var (code, stdout, _) = Run.Cli("erm", "--loss", "square", "--alpha", "2", "--delta", "1", "--rho", "0.25", "--penalty", "sphere", "--norm", "0.18744", "--json");
        Assert.Equal(0, code);
        var j = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal("sphere", j.GetProperty("penalty").GetString());
        Assert.Equal(0.18409, j.GetProperty("test_error").GetDouble(), 2e-5);
        Assert.Equal(0.30524, j.GetProperty("m").GetDouble(), 1e-4);
        Assert.Equal(1.0, j.GetProperty("multiplier").GetDouble(), 2e-3);
    }

    [Theory]
    [InlineData("--penalty", "sphere", "--lambda", "1", "--norm", "0.5")]
    [InlineData("--penalty", "ridge", "--lambda", "1", "--norm", "0.5")]
    [InlineData("--penalty", "sphere", "--norm", "-1")]
    [InlineData("--penalty", "cube", "--lambda", "1")]
    public void BadPenaltyInputExitsTwoWithOneLine(params string[] extra)
    {
        var (code, _, err) = Run.Cli(["erm", "--loss", "square", "--alpha", "2", "--delta", "1", .. extra]);
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
        Assert.Matches("penalty|norm|lambda", err);
    }

    [Fact]
    public void ReplicatedTheoryJsonHasTheDocumentedKeys()
    {
        var (code, stdout, _) = Run.Cli("replicated", "--loss", "square", "--alpha", "2", "--delta", "1", "--rho", "0.25", "--y", "3",
            "--gamma", "100000", "--norm", "0.18744", "--json");
        Assert.Equal(0, code);
        var j = JsonDocument.Parse(stdout).RootElement;
        foreach (var k in new[] { "test_error", "train_error", "m", "q", "bias", "replica_q", "replica_center_overlap", "replica_replica_overlap", "converged" })
            Assert.True(j.TryGetProperty(k, out _), k);
        // strong coupling: ERM at the same norm, here docs/theory.md#table-erm's square ρ = ¼, λ = 1 row
        Assert.Equal(0.18409, j.GetProperty("test_error").GetDouble(), 3e-5);
        Assert.Equal(0.05390, j.GetProperty("train_error").GetDouble(), 1e-4);
        Assert.Equal(0.16187, j.GetProperty("bayes_optimal_error").GetDouble(), 1e-5);
    }

    [Theory]
    [InlineData("--y", "0", "--gamma", "1")]
    [InlineData("--y", "3")]
    [InlineData("--y", "3", "--gamma", "1", "--distance", "0.1")]
    [InlineData("--y", "3", "--gamma", "-1")]
    public void ReplicatedBadInputExitsTwo(params string[] extra)
    {
        var (code, _, err) = Run.Cli(["replicated", "--loss", "square", "--alpha", "2", "--delta", "1", .. extra]);
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void ReplicatedSimulationReportsTheoryBesideIt()
    {
        var (code, stdout, _) = Run.Cli("replicated", "--loss", "square", "--alpha", "2", "--delta", "1", "--rho", "0.25", "--y", "2",
            "--gamma", "2", "--norm", "0.05", "--n", "120", "--seeds", "3", "--json");
        Assert.Equal(0, code);
        var j = JsonDocument.Parse(stdout).RootElement;
        Assert.True(j.GetProperty("converged").GetBoolean());
        Assert.Equal(0.05, j.GetProperty("q").GetDouble(), 1e-9);
        double th = j.GetProperty("test_error_theory").GetDouble(), sim = j.GetProperty("test_error").GetDouble(), se = j.GetProperty("test_error_se").GetDouble();
        Assert.True(Math.Abs(sim - th) <= 4 * se + 2.0 / 120, $"{sim} vs {th} ± {se}");
    }
}
