using FlatMinima.Cli.Commands;

using FlatMinima.Cli.Infrastructure;
using FlatMinima.Storage;

namespace FlatMinima.Cli;

/// <summary>Entry point of the `flatminima` command, callable in-process by tests.</summary>
public static class Cli
{
    /// <summary>Every sub-command, in the order the help lists them.</summary>
    public static IReadOnlyList<ICommand> Commands { get; } =
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
    ];

    /// <summary>Runs the command line; returns the process exit code (0 ok, 1 failure, 2 bad input).</summary>
    public static int Run(string[] argv, TextWriter stdout, TextWriter stderr)
    {
        if (argv.Length == 0 || argv[0] is "--help" or "-h" or "help")
        {
            stdout.Write(Help());
            return argv.Length == 0 ? 2 : 0;
        }
        if (argv[0] is "--version")
        {
            stdout.WriteLine(Versions.Toolkit);
            return 0;
        }
        var cmd = Commands.FirstOrDefault(c => c.Name == argv[0]);
        if (cmd is null)
        {
            stderr.WriteLine($"flatminima: unknown command '{argv[0]}'; valid commands: {string.Join(", ", Commands.Select(c => c.Name))}.");
            return 2;
        }
        if (argv.Skip(1).Any(a => a is "--help" or "-h"))
        {
            stdout.Write(cmd.Usage);
            return 0;
        }
        try
        {
            var args = new Args(argv.Skip(1));
            return cmd.Run(args, new CommandContext(stdout, stderr, argv));
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"flatminima {cmd.Name}: {e.Message}");
            return 2;
        }
        catch (ArgumentException e)
        {
            stderr.WriteLine($"flatminima {cmd.Name}: {FirstLine(e)}");
            return 2;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            stderr.WriteLine($"flatminima {cmd.Name}: error: {FirstLine(e)}");
            return 1;
        }
    }

    // ArgumentException appends " (Parameter 'x')" and the actual value on new lines; keep our own message only.
    private static string FirstLine(Exception e)
    {
        string m = e.Message;
        int cut = m.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (cut >= 0) m = m[..cut];
        int nl = m.IndexOf('\n');
        return (nl >= 0 ? m[..nl] : m).Trim();
    }

    /// <summary>The top-level help text.</summary>
    public static string Help()
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("flatminima — flat minima and generalisation in the Gaussian-mixture model");
        sb.AppendLine();
        sb.AppendLine("usage: flatminima COMMAND [options]   (flatminima COMMAND --help for its options)");
        sb.AppendLine();
        foreach (var c in Commands) sb.AppendLine($"  {c.Name,-14}{c.Summary}");
        sb.AppendLine();
        sb.AppendLine("Every command takes --json for one machine-readable JSON object on stdout. Bad input exits with code 2.");
        return sb.ToString();
    }
}
