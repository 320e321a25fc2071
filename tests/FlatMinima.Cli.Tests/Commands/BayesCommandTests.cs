using System.Text.Json;

namespace FlatMinima.Cli.Tests;

public class BayesCommandTests
{
    [Fact]
    public void JsonHasTheClosedFormValues()
    {
        var j = Run.Json("bayes", "--alpha", "2", "--delta", "1", "--rho", "0.25", "--json");
        Assert.Equal(0.16187, j.GetProperty("test_error").GetDouble(), 5e-6);   // docs/theory.md#table-bo
        Assert.Equal(0.12702, j.GetProperty("oracle_error").GetDouble(), 5e-6);
        Assert.Equal(2.0 / 3, j.GetProperty("m").GetDouble(), 1e-12);
        Assert.Equal(2.0 / 3, j.GetProperty("q").GetDouble(), 1e-12);
        Assert.Equal(0.5 * Math.Log(1.0 / 3), j.GetProperty("bias").GetDouble(), 1e-12);
    }

    [Fact]
    public void HumanTableByDefault()
    {
        var (code, output, _) = Run.Cli("bayes", "--alpha", "1", "--delta", "1");
        Assert.Equal(0, code);
        Assert.Contains("0.239750", output);
    }
}
