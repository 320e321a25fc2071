using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using FlatMinima.Cli.Commands;
using FlatMinima.Cli.Infrastructure;

namespace FlatMinima.Cli;

/// <summary>Entry point of the <c>flatminima</c> command, callable in-process by tests.</summary>
public static class Cli
{
    /// <summary>A new instance of every sub-command, in the order help lists them.</summary>
    public static IReadOnlyList<CliCommand> CreateCommands() =>
    [
        new Train(),
        new FlatnessCommand(),
        new Bench(),
        new Sweep(),
        new OptimBench(),
        new DemoCommand(),
        new BayesCommand(),
        new SimulateCommand(),
        new ErmCommand(),
        new CurveCommand(),
        new ThresholdCommand(),
        new CheckCommand(),
        new ReplicatedCommand(),
        new LocalEnergyCommand(),
        new LocalEntropyCommand(),
        new MaxFlatCommand(),
        new FiguresCommand(),
        new TablesCommand(),
        new CompletionCommand(),
    ];

    /// <summary>Every sub-command, for help and documentation (<see cref="Run"/> parses with fresh instances).</summary>
    public static IReadOnlyList<CliCommand> Commands { get; } = CreateCommands();

    /// <summary>The command tree: the sub-commands, <c>--help</c> and <c>--version</c> with the toolkit's texts, the
    /// <c>[suggest]</c> directive of shell completion, response files (<c>@FILE</c>).</summary>
    public static RootCommand CreateRoot()
    {
        var commands = CreateCommands();
        var root = new RootCommand("flat minima and generalisation in the Gaussian-mixture model");
        foreach (var c in commands) root.Subcommands.Add(c);
        foreach (var o in root.Options)
        {
            if (o is HelpOption h) h.Action = new HelpTextAction(() => commands);
            if (o is VersionOption v) v.Action = new VersionTextAction();
        }
        return root;
    }

    /// <summary>Runs the command line; returns the process exit code (0 done, 1 a fault or a failure, 2 bad input).</summary>
    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        if (argv.Length == 0 || argv is ["help"])
        {
            stdout.Write(Help.Root(Commands));
            return argv.Length == 0 ? 2 : 0;
        }
        return Invoke(CreateRoot(), argv, stdout, stderr);
    }

    /// <summary>Parses <paramref name="argv"/> against <paramref name="root"/> and runs what it asks for: a parse error
    /// is one line and exit code 2; a command's own failures are reported by <see cref="Failures"/>.</summary>
    internal static int Invoke(RootCommand root, string[] argv, TextWriter stdout, TextWriter stderr)
    {
        var parse = root.Parse(argv);
        if (parse.Action is ParseErrorAction)
        {
            // A response file that is not there: the parser reports only what its absence leaves missing.
            string? missing = argv.FirstOrDefault(a => a.Length > 1 && a[0] == '@' && !File.Exists(a[1..]));
            stderr.WriteLine(missing is null ? ParseErrors.OneLine(parse) : $"flatminima: response file {missing[1..]} not found.");
            return 2;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration
            {
                Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null,
            });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Help, completion and version run outside a command's own handler.
            return Failures.Report(e, "", configuring: false, stderr);
        }
    }

    /// <summary>The command line as parsed (response files expanded), for manifests: the sub-command and its tokens.</summary>
    internal static IReadOnlyList<string> Argv(ParseResult parse) => parse.Tokens.Select(t => t.Value).ToList();
}
