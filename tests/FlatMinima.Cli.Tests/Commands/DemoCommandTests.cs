using System.Text.Json;

namespace FlatMinima.Cli.Tests;

public class DemoCommandTests
{
    [Fact]
    public void DemoReportsTheBayesErrorBesideSimulations()
    {
        var j = Run.Json("demo", "--n", "100", "--seeds", "2", "--json");
        Assert.Equal(0.20711, j.GetProperty("bayes_error_theory").GetDouble(), 5e-6);
        var sims = j.GetProperty("simulations").EnumerateArray().Select(e => e.GetProperty("estimator").GetString()).ToList();
        Assert.Equal(["bayes", "square", "logistic", "hinge"], sims);
    }
}
