using System.CommandLine;
using FlatMinima.Cli.Infrastructure;

namespace FlatMinima.Cli.Commands;

/// <summary>
/// <c>flatminima completion bash|zsh|pwsh</c>: a shell script that completes command names, options and their choices
/// by asking <c>flatminima</c> itself through System.CommandLine's <c>[suggest:POSITION]</c> directive
/// (<c>flatminima "[suggest:6]" "erm --"</c> lists the options of erm), so the completions always match the installed
/// version.
/// </summary>
public sealed class CompletionCommand : CliCommand
{
    private readonly Argument<string> _shell = new("SHELL") { Description = "bash, zsh or pwsh" };

    public CompletionCommand() : base("completion", "print a shell completion script: source <(flatminima completion bash)")
    {
        _shell.AcceptOnlyFromAmong("bash", "zsh", "pwsh");
        Arguments.Add(_shell);
    }

    public override IReadOnlyList<string> Usage => ["bash|zsh|pwsh"];

    public override string Notes =>
        "bash:  echo 'source <(flatminima completion bash)' >> ~/.bashrc\n" +
        "zsh:   echo 'source <(flatminima completion zsh)' >> ~/.zshrc   (after compinit)\n" +
        "pwsh:  flatminima completion pwsh >> $PROFILE";

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        string script = p.GetValue(_shell) switch
        {
            "bash" => Bash,
            "zsh" => Zsh,
            _ => Pwsh,
        };
        return () => { ctx.Out.Write(script); return 0; };
    }

    // Each script passes the command line up to the cursor without the program's name, and the cursor's offset in it.
    internal const string Bash = """
        # flatminima completion for bash: source <(flatminima completion bash)
        _flatminima_complete() {
            local line="${COMP_LINE:0:COMP_POINT}"
            if [[ "$line" == *[[:space:]]* ]]; then line="${line#*[[:space:]]}"; else line=""; fi
            local IFS=$'\n'
            COMPREPLY=( $(compgen -W "$(flatminima "[suggest:${#line}]" "$line" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}") )
        }
        complete -o default -F _flatminima_complete flatminima

        """;

    internal const string Zsh = """
        # flatminima completion for zsh: source <(flatminima completion zsh), after compinit
        _flatminima() {
            local line=${BUFFER[1,CURSOR]}
            if [[ "$line" == *[[:space:]]* ]]; then line=${line#*[[:space:]]}; else line=""; fi
            local -a completions
            completions=(${(f)"$(flatminima "[suggest:${#line}]" "$line" 2>/dev/null)"})
            compadd -- $completions
        }
        compdef _flatminima flatminima

        """;

    internal const string Pwsh = """
        # flatminima completion for PowerShell: flatminima completion pwsh >> $PROFILE
        Register-ArgumentCompleter -Native -CommandName flatminima -ScriptBlock {
            param($wordToComplete, $commandAst, $cursorPosition)
            $text = $commandAst.ToString()
            $upTo = $text.Substring(0, [Math]::Min([Math]::Max(0, $cursorPosition - $commandAst.Extent.StartOffset), $text.Length))
            $i = $upTo.IndexOf(' ')
            $line = if ($i -ge 0) { $upTo.Substring($i + 1) } else { '' }
            flatminima "[suggest:$($line.Length)]" "$line" | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
                [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
            }
        }

        """;
}
