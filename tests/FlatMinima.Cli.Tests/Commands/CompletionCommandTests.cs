using System.Diagnostics;

namespace FlatMinima.Cli.Tests;

public class CompletionCommandTests
{
    [Theory]
    [InlineData("bash", "complete -o default -F _flatminima_complete flatminima")]
    [InlineData("zsh", "compdef _flatminima flatminima")]
    [InlineData("pwsh", "Register-ArgumentCompleter -Native -CommandName flatminima")]
    public void PrintsAScriptThatAsksTheSuggestDirective(string shell, string registration)
    {
        var (code, output, _) = Run.Cli("completion", shell);
        Assert.Equal(0, code);
        Assert.Contains(registration, output);
        Assert.Contains("[suggest:", output);
    }

    [Fact]
    public void AnUnknownShellExitsTwo() => Assert.Equal(2, Run.Cli("completion", "fish").Code);

    // The bash script end to end: bash's completion variables for the words typed so far, the script's function, and
    // the built flatminima (through dotnet) answering the suggest directive.
    [Theory]
    [Trait("Speed", "Slow")]
    [InlineData("flatminima er", "erm")]
    [InlineData("flatminima erm --lo", "--loss")]
    public void TheBashScriptCompletesCommandsAndOptions(string line, string expected)
    {
        if (!File.Exists("/bin/bash")) return;
        string dll = Path.Combine(AppContext.BaseDirectory, "flatminima.dll");
        string script = Run.Cli("completion", "bash").Out;
        var words = line.Split(' ');
        string driver = $"flatminima() {{ dotnet '{dll}' \"$@\"; }}\n{script}\n" +
                        $"COMP_LINE='{line}'; COMP_POINT={line.Length}; COMP_WORDS=({string.Join(" ", words.Select(w => $"'{w}'"))}); COMP_CWORD={words.Length - 1}\n" +
                        "_flatminima_complete; printf '%s\\n' \"${COMPREPLY[@]}\"\n";
        var psi = new ProcessStartInfo("/bin/bash") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["FLATMINIMA_NO_PROGRESS"] = "1";
        using var bash = Process.Start(psi)!;
        bash.StandardInput.Write(driver);
        bash.StandardInput.Close();
        string output = bash.StandardOutput.ReadToEnd();
        bash.WaitForExit();
        var offered = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(expected, offered);
        Assert.All(offered, o => Assert.StartsWith(words[^1], o)); // only words that extend what was typed
    }
}
