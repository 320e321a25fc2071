namespace FlatMinima.Cli.Infrastructure;

/// <summary>One `flatminima` sub-command. Commands parse, call the libraries, print and write files: nothing else.</summary>
public interface ICommand
{
    /// <summary>Name on the command line.</summary>
    string Name { get; }
    /// <summary>One-line summary for the command list.</summary>
    string Summary { get; }
    /// <summary>Full usage text for <c>flatminima NAME --help</c>.</summary>
    string Usage { get; }
    /// <summary>Runs the command; returns the exit code. Throws <see cref="UsageException"/> or
    /// <see cref="ArgumentException"/> for bad input (exit 2).</summary>
    int Run(Args args, CommandContext ctx);
}

/// <summary>Where a command writes: stdout for results, stderr for progress and messages.</summary>
public sealed class CommandContext(TextWriter stdout, TextWriter stderr, IReadOnlyList<string> argv)
{
    public TextWriter Out { get; } = stdout;
    public TextWriter Err { get; } = stderr;
    /// <summary>The full command line as given (for manifests).</summary>
    public IReadOnlyList<string> Argv { get; } = argv;
    /// <summary>Whether a live progress display is wanted (stderr is a terminal and not disabled).</summary>
    public bool ShowProgress { get; init; } = !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("FLATMINIMA_NO_PROGRESS") is null;
}
