using FlatMinima.Cli.Infrastructure;

namespace FlatMinima.Cli.Tests.Infrastructure;

/// <summary>Machine output stays clean: progress and messages go to stderr, stdout holds the JSON object only.</summary>
public class CommandContextTests
{
    [Fact]
    public void JsonOnStdoutIsTheOnlyOutputThereWhileProgressGoesToStderr()
    {
        var (code, output, err) = Run.Cli("simulate", "--estimator", "square", "--lambda", "1", "--alpha", "2", "--delta", "1", "--n", "40", "--seeds", "2", "--json");
        Assert.Equal(0, code);
        using var doc = System.Text.Json.JsonDocument.Parse(output); // throws on anything after the object
        Assert.StartsWith("{", output);
        Assert.EndsWith("}", output.TrimEnd());
        // Redirected stderr: plain progress lines (or none with FLATMINIMA_NO_PROGRESS), never terminal control codes.
        Assert.DoesNotContain('\u001b', err);
        Assert.DoesNotContain('\r', err);
    }

    [Fact]
    public void AHumanTableIsPlainAlignedTextWhenStdoutIsNotATerminal()
    {
        var o = new StringWriter();
        var ctx = new CommandContext(o, new StringWriter(), []);
        Assert.False(ctx.OutIsTerminal);
        ctx.Table(["quantity", "value"], [["m", "0.5"], ["test error", "0.2"]]);
        Assert.Equal("quantity    value\n----------  -----\nm           0.5\ntest error  0.2\n", o.ToString().Replace("\r\n", "\n"));
    }

    [Fact]
    public void ProgressLinesEndWithOneLineOnStderr()
    {
        var err = new StringWriter();
        var lines = new ProgressLines(err, "simulate", 3);
        for (int i = 0; i < 3; i++) lines.Tick();
        lines.Finish();
        Assert.Matches(@"^simulate: 3/3 done \(\d+\.\d s\)\s*$", err.ToString());
    }
}
