using FlatMinima.Cli.Infrastructure;

namespace FlatMinima.Cli.Tests.Infrastructure;

public class ParseErrorsTests
{
    [Fact]
    public void AMistypedOptionSuggestsTheClosestAndExitsTwo()
    {
        var (code, output, err) = Run.Cli("erm", "--alpah", "2", "--delta", "1", "--loss", "square", "--lambda", "1");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal("flatminima erm: unknown option --alpah; did you mean --alpha?", err.Trim());
    }

    [Fact]
    public void AnUnknownOptionWithoutACloseNameSaysWhereTheOptionsAreListed()
    {
        var (code, _, err) = Run.Cli("bayes", "--alpha", "1", "--delta", "1", "--frobnicate", "3");
        Assert.Equal(2, code);
        Assert.Equal("flatminima bayes: unknown option --frobnicate (flatminima bayes --help lists the options)", err.Trim());
    }

    [Fact]
    public void AMissingRequiredOptionNamesItsRange()
    {
        var (code, _, err) = Run.Cli("bayes", "--alpha", "2");
        Assert.Equal(2, code);
        Assert.Equal("flatminima bayes: --delta is required (noise variance Δ of each cluster; in (0, ∞)).", err.Trim());
    }

    [Fact]
    public void AValueOutsideTheRangeNamesTheOptionAndTheRange()
    {
        var (code, _, err) = Run.Cli("erm", "--loss", "square", "--alpha", "2", "--delta", "1", "--lambda", "1", "--damping", "1");
        Assert.Equal(2, code);
        Assert.Equal("flatminima erm: --damping must lie in [0, 1) (got 1).", err.Trim());
    }

    [Theory]
    [InlineData("check", "--finite-size", "20,40,80", "--n", "100", "give --finite-size or --n, not both")]
    [InlineData("replicated", "--y", "3", "--gamma", "1", "--distance", "0.1", "give exactly one of --distance and --gamma")]
    [InlineData("replicated", "--y", "3", "--gamma", "1", "--theory", "--n", "50", "give --theory or --n, not both")]
    public void ExclusiveOptionsNameBoth(string command, params string[] rest)
    {
        string[] argv = [command, "--loss", "square", "--alpha", "2", "--delta", "1", .. rest[..^1]];
        if (command == "check") argv = [.. argv, "--lambda", "1"];
        var (code, _, err) = Run.Cli(argv);
        Assert.Equal(2, code);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.Contains(rest[^1], err);
    }

    [Fact]
    public void TheSpherePenaltyTakesTheNormNotLambda()
    {
        var (code, _, err) = Run.Cli("erm", "--loss", "square", "--alpha", "2", "--delta", "1", "--penalty", "sphere", "--lambda", "1", "--norm", "0.5");
        Assert.Equal(2, code);
        Assert.Contains("lambda", err);
        Assert.Contains("norm", err);
    }

    // λ or --norm: ridge and l1 take λ, the sphere takes the norm Q; either mix is one line, exit code 2.
    [Theory]
    [InlineData("erm", "--penalty", "sphere", "--lambda", "1", "--norm", "0.5", "lambda does not apply to the penalty sphere; give the norm Q.")]
    [InlineData("erm", "--lambda", "1", "--norm", "0.5", "norm applies to the penalty sphere only.")]
    [InlineData("simulate", "--estimator", "square", "--lambda", "1", "--norm", "0.5", "norm applies to the penalty sphere only.")]
    public void LambdaAndTheNormAreOneOrTheOther(string command, params string[] rest)
    {
        string[] argv = [command, .. command == "erm" ? ["--loss", "square"] : Array.Empty<string>(), "--alpha", "2", "--delta", "1", .. rest[..^1]];
        var (code, output, err) = Run.Cli(argv);
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal($"flatminima {command}: {rest[^1]}", err.Trim());
    }

    [Theory]
    [InlineData("--alpah", "--alpha")]     // a transposition
    [InlineData("--alph", "--alpha")]      // a letter missing
    [InlineData("--lamda", "--lambda")]
    [InlineData("--seds", "--seeds")]
    public void SuggestsTheNameAtTheSmallestEditDistance(string typed, string meant)
    {
        string[] names = ["--alpha", "--delta", "--rho", "--lambda", "--seeds", "--seed", "--n"];
        Assert.Equal($"; did you mean {meant}?", ParseErrors.Suggest(typed, names));
    }

    [Fact]
    public void SuggestsNothingForAnUnrelatedName() => Assert.Equal("", ParseErrors.Suggest("--frobnicate", ["--alpha", "--delta"]));
}
