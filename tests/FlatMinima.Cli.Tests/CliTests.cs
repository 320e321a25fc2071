using System.Text.Json;

namespace FlatMinima.Cli.Tests;

internal static class Run
{
    public static (int Code, string Out, string Err) Cli(params string[] argv)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = FlatMinima.Cli.Cli.Run(argv, o, e);
        return (code, o.ToString(), e.ToString());
    }

    public static JsonElement Json(params string[] argv)
    {
        var (code, output, err) = Cli(argv);
        Assert.True(code == 0, $"exit {code}: {err}");
        return JsonDocument.Parse(output).RootElement;
    }
}

public class CliBasicsTests
{
    [Fact]
    public void UnknownCommandExitsWithTwo()
    {
        var (code, _, err) = Run.Cli("nonsense");
        Assert.Equal(2, code);
        Assert.Contains("unknown command", err);
    }

    [Fact]
    public void HelpListsCommands()
    {
        var (code, output, _) = Run.Cli("--help");
        Assert.Equal(0, code);
        Assert.Contains("simulate", output);
        Assert.Contains("bayes", output);
    }
}

/// <summary>The top-level command: help, version, response files, shell completion, typos of command names.</summary>
public class CliTests
{
    [Fact]
    public void NoArgumentsPrintsHelpAndExitsTwo()
    {
        var (code, output, _) = Run.Cli();
        Assert.Equal(2, code);
        Assert.Contains("Commands:", output);
    }

    [Fact]
    public void VersionIsTheToolkitsVersion()
    {
        var (code, output, _) = Run.Cli("--version");
        Assert.Equal(0, code);
        Assert.Equal(FlatMinima.Storage.Versions.Toolkit, output.Trim());
    }

    [Theory]
    [InlineData("er", "erm")]
    [InlineData("simulte", "simulate")]
    [InlineData("local-entopy", "local-entropy")]
    public void AMistypedCommandSuggestsTheClosestAndExitsTwo(string typed, string meant)
    {
        var (code, output, err) = Run.Cli(typed, "--alpha", "2");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.StartsWith($"flatminima: unknown command '{typed}'; did you mean {meant}?", err);
    }

    [Fact]
    public void AResponseFileHoldsTheArguments()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fm-{Guid.NewGuid():N}.rsp");
        File.WriteAllText(path, "bayes\n--alpha 2\n--delta 1\n--rho 0.25\n--json\n");
        try
        {
            var j = Run.Json("@" + path);
            Assert.Equal(0.16187, j.GetProperty("test_error").GetDouble(), 5e-6); // docs/theory.md#table-bo
        }
        finally { File.Delete(path); }
        var (code, _, err) = Run.Cli("@" + path);
        Assert.Equal(2, code);
        Assert.Contains(path, err);
    }

    [Theory]
    [InlineData("er", "erm")]
    [InlineData("erm --lo", "--loss")]
    [InlineData("erm --loss squ", "square")]
    [InlineData("simulate --estimator ", "logistic")]
    public void TheSuggestDirectiveCompletes(string line, string expected)
    {
        var (code, output, _) = Run.Cli($"[suggest:{line.Length}]", line);
        Assert.Equal(0, code);
        Assert.Contains(expected, output.Split('\n', StringSplitOptions.TrimEntries));
    }
}
