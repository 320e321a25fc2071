using System.Text.Json.Nodes;

namespace FlatMinima.Cli.Tests;

public class FlatnessCommandTests
{

    [Fact]
    public void LocalEnergyTheoryJsonIsAlignedWithSigmaAndMatchesTheReferenceTable()
    {
        var (code, stdout, _) = Run.Cli("local-energy", "--estimator", "bayes", "--alpha", "2", "--delta", "1", "--sigma", "0,0.1,0.3,1", "--theory", "--json");
        Assert.Equal(0, code);
        var j = JsonNode.Parse(stdout)!;
        var le = j["local_energy"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray();
        Assert.Equal(4, le.Length);
        double[] spec = [0.11034, 0.11149, 0.12038, 0.19324]; // docs/theory.md#table-le2
        for (int i = 0; i < 4; i++) Assert.Equal(spec[i], le[i], 6e-6);
        Assert.Equal(0.20711, j["test_error"]!.GetValue<double>(), 6e-6);
        Assert.Equal(1.0, j["cosine_bo"]!.GetValue<double>());
    }

    [Fact]
    public void LocalEnergySimulationWritesCsv()
    {
        string path = Path.Combine(Path.GetTempPath(), $"le-{Guid.NewGuid():N}.csv");
        var (code, stdout, _) = Run.Cli("local-energy", "--estimator", "square", "--lambda", "1", "--alpha", "2", "--delta", "1",
            "--sigma", "0,0.5", "--n", "200", "--seeds", "2", "--json", "--out", path);
        Assert.Equal(0, code);
        var j = JsonNode.Parse(stdout)!;
        Assert.Equal(2, j["local_energy"]!.AsArray().Count);
        var lines = File.ReadAllLines(path);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("sigma,local_energy", lines[0]);
        File.Delete(path);
    }

    [Fact]
    public void MaxFlatJsonHasCosineAndTestError()
    {
        var (code, stdout, _) = Run.Cli("maxflat", "--alpha", "2", "--delta", "1", "--sigma", "10", "--n", "200", "--steps", "300", "--json");
        Assert.Equal(0, code);
        var j = JsonNode.Parse(stdout)!;
        Assert.True(j["cosine_bo"]![0]!.GetValue<double>() > 0.98);
        Assert.True(Math.Abs(j["test_error"]![0]!.GetValue<double>() - j["bo_test_error"]![0]!.GetValue<double>()) < 0.01);
    }

    [Fact]
    public void LocalEntropyTheoryRuns()
    {
        var (code, stdout, _) = Run.Cli("local-entropy", "--alpha", "2", "--delta", "1", "--overlap", "0.5,0.9", "--theory", "--json");
        Assert.Equal(0, code);
        Assert.Equal(2, JsonNode.Parse(stdout)!["rows"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("local-energy", "--estimator", "bayes", "--alpha", "2", "--delta", "1", "--sigma", "-1", "--theory")]
    [InlineData("local-energy", "--estimator", "maxflat", "--alpha", "2", "--delta", "1", "--sigma", "1", "--theory")]
    [InlineData("maxflat", "--alpha", "2", "--delta", "1", "--sigma", "1", "--method", "sideways")]
    [InlineData("maxflat", "--alpha", "2", "--delta", "1", "--sigma", "1", "--objective", "loss", "--loss", "hinge")]
    [InlineData("local-entropy", "--alpha", "2", "--delta", "1", "--overlap", "1.5", "--theory")]
    public void BadInputExitsWithTwoAndOneLine(params string[] argv)
    {
        var (code, _, err) = Run.Cli(argv);
        Assert.Equal(2, code);
        Assert.Single(err.Trim().Split('\n'));
    }
}
