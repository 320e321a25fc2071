namespace FlatMinima.Cli.Tests;

public class CliBasicsTests
{
    [Fact]
    public void UnknownCommandExitsWithTwo()
    {
        var o = new StringWriter(); var e = new StringWriter();
        Assert.Equal(2, FlatMinima.Cli.Cli.Run(["nonsense"], o, e));
        Assert.Contains("unknown command", e.ToString());
    }
}
