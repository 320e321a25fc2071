using System.CommandLine;
using FlatMinima.Cli.Infrastructure;

namespace FlatMinima.Cli.Tests.Infrastructure;

/// <summary>The option kinds: conversion in the invariant culture, the range through Guard, defaults, lists, choices.</summary>
public class OptionsTests
{
    private static (ParseResult Parse, string? Error) Parse(Option option, params string[] argv)
    {
        var command = new RootCommand { option };
        var p = command.Parse(argv);
        return (p, p.Errors.Count > 0 ? p.Errors[0].Message : null);
    }

    [Theory]
    [InlineData("0.5", null)]
    [InlineData("1e-3", null)]
    [InlineData("0", "--rho must lie in (0, 1) (got 0).")]
    [InlineData("1", "--rho must lie in (0, 1) (got 1).")]
    [InlineData("NaN", "--rho must be a real number (got 'NaN').")]
    [InlineData("Infinity", "--rho must be finite (got 'Infinity').")]
    [InlineData("0,5", "--rho must be a real number (got '0,5').")]
    public void ARealIsCheckedAgainstItsRange(string text, string? error)
    {
        var rho = Opt.Real("--rho", "R", "fraction", 0.5, "(0, 1)");
        Assert.Equal(error, Parse(rho, "--rho", text).Error);
    }

    [Fact]
    public void TheDefaultAppliesWhenTheOptionIsAbsent()
    {
        var rho = Opt.Real("--rho", "R", "fraction", 0.5, "(0, 1)");
        var (p, error) = Parse(rho);
        Assert.Null(error);
        Assert.Equal(0.5, p.GetValue(rho));
        Assert.False(p.Given(rho));
    }

    [Fact]
    public void AnIntegerRangeSaysInteger()
    {
        var n = Opt.Int("--n", "N", "dimension", 1000, "[10, inf)");
        Assert.Equal("--n must be an integer >= 10 (got 5).", Parse(n, "--n", "5").Error);
        Assert.Equal("--n must be an integer (got '2.5').", Parse(n, "--n", "2.5").Error);
    }

    [Fact]
    public void AListChecksEveryElement()
    {
        var sigma = Opt.Reals("--sigma", "LIST", "scales", null, "[0, inf)", required: true);
        var (p, error) = Parse(sigma, "--sigma", "0, 0.1,1");
        Assert.Null(error);
        Assert.Equal([0, 0.1, 1], p.GetValue(sigma)!);
        Assert.Equal("--sigma must be a finite number >= 0 (got -1).", Parse(sigma, "--sigma", "0,-1").Error);
        Assert.Equal("--sigma must be a real number (got 'x' in '0,x').", Parse(sigma, "--sigma", "0,x").Error);
    }

    [Fact]
    public void AnAbsentOptionalListIsNull()
    {
        var gamma = Opt.Reals("--gamma", "LIST", "grid", "13 points", "(0, inf)");
        Assert.Null(Parse(gamma).Parse.ListOrNull(gamma));
    }

    [Fact]
    public void AChoiceIsCaseInsensitiveAndListsTheValidOnes()
    {
        var loss = Opt.Choice("--loss", "loss", ["square", "logistic", "hinge"]);
        Assert.Equal("square", Parse(loss, "--loss", "Square").Parse.GetValue(loss));
        Assert.Equal("--loss must be one of square|logistic|hinge (got 'quartic').", Parse(loss, "--loss", "quartic").Error);
        Assert.True(loss.Required);
    }
}
