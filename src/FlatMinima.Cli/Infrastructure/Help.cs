using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Text;

namespace FlatMinima.Cli.Infrastructure;

/// <summary>
/// Help generated from the declared options: the usage forms, then every option with its value, description, valid
/// range and default (or "required"), grouped as the command groups them, then the command's notes. Lines wrap at
/// <see cref="Width"/> columns.
/// </summary>
public static class Help
{
    public const int Width = 120;
    private const int MaxNameColumn = 34;

    /// <summary>The help of the top-level command.</summary>
    public static string Root(IEnumerable<CliCommand> commands)
    {
        var sb = new StringBuilder();
        sb.AppendLine("flatminima — flat minima and generalisation in the Gaussian-mixture model");
        sb.AppendLine();
        sb.AppendLine("Usage:");
        sb.AppendLine("  flatminima COMMAND [options]      (flatminima COMMAND --help lists its options with their defaults)");
        sb.AppendLine("  flatminima @FILE.rsp               (options read from a response file, one or more per line)");
        sb.AppendLine();
        sb.AppendLine("Commands:");
        var list = commands.ToList();
        int w = list.Max(c => c.Name.Length) + 2;
        foreach (var c in list) Wrap(sb, "  " + c.Name.PadRight(w), c.Summary);
        sb.AppendLine();
        sb.AppendLine("Options:");
        Wrap(sb, "  " + "--version".PadRight(w), "the toolkit's version");
        Wrap(sb, "  " + "-h, --help".PadRight(w), "this help");
        sb.AppendLine();
        sb.AppendLine("Every command takes --json for one machine-readable JSON object on stdout; progress and messages go to stderr.");
        sb.AppendLine("Exit codes: 0 done; 2 bad input (one line naming the parameter and its valid range); 1 a fault (a missing or");
        sb.AppendLine("corrupt file, named), a solver that did not converge, or an internal error (FLATMINIMA_DEBUG=1 adds the stack trace).");
        sb.AppendLine("Shell completion: flatminima completion bash|zsh|pwsh prints the script to source.");
        return sb.ToString();
    }

    /// <summary>The help of one command.</summary>
    public static string Of(CliCommand command)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"flatminima {command.Name} — {command.Summary}");
        sb.AppendLine();
        sb.AppendLine("Usage:");
        foreach (var u in command.Usage) sb.AppendLine($"  flatminima {command.Name} {u}".TrimEnd());
        var groups = command.HelpGroups;
        var rows = groups.SelectMany(g => g.Options).Select(o => FirstColumn(o)).Append("-h, --help").ToList();
        int w = Math.Min(MaxNameColumn, rows.Max(r => r.Length)) + 2;
        foreach (var g in groups)
        {
            sb.AppendLine();
            sb.AppendLine(g.Heading is null ? "Options:" : g.Heading + ":");
            if (g.Note is not null) Wrap(sb, "  ", g.Note);
            foreach (var o in g.Options) Row(sb, FirstColumn(o), g.Describe?.Invoke(o) ?? SecondColumn(o), w);
        }
        if (groups.Count == 0) { sb.AppendLine(); sb.AppendLine("Options:"); }
        Row(sb, "-h, --help", "this help", w);
        if (command.Notes is { } notes)
        {
            sb.AppendLine();
            foreach (var line in notes.TrimEnd().Split('\n')) Wrap(sb, "", line);
        }
        return sb.ToString();
    }

    /// <summary>The option with its value placeholder: <c>--alpha A</c>.</summary>
    public static string FirstColumn(Option o) =>
        o is IOptionFacts { ValueName.Length: > 0 } f ? $"{o.Name} {f.ValueName}" : o.Name;

    /// <summary>The description with the facts: <c>sample ratio [in (0, ∞); required]</c>.</summary>
    public static string SecondColumn(Option o)
    {
        var facts = new List<string>();
        if (o is IOptionFacts f)
        {
            if (f.Range is { } r) facts.Add("in " + r);
            if (o.Required) facts.Add("required");
            else if (f.DefaultText is { } d) facts.Add("default: " + d);
        }
        else if (o.Required) facts.Add("required");
        return (o.Description ?? "") + (facts.Count > 0 ? $" [{string.Join("; ", facts)}]" : "");
    }

    private static void Row(StringBuilder sb, string first, string second, int w)
    {
        if (first.Length + 2 > w)
        {
            sb.AppendLine("  " + first);
            Wrap(sb, new string(' ', w + 2), second);
        }
        else Wrap(sb, "  " + first.PadRight(w), second);
    }

    // Word-wraps text after a first-line prefix, continuation lines indented to the prefix's width.
    private static void Wrap(StringBuilder sb, string prefix, string text)
    {
        string indent = new(' ', prefix.Length);
        var line = new StringBuilder(prefix);
        bool empty = true;
        foreach (var word in text.Split(' '))
        {
            if (!empty && line.Length + 1 + word.Length > Width)
            {
                sb.AppendLine(line.ToString().TrimEnd());
                line.Clear().Append(indent);
                empty = true;
            }
            if (!empty) line.Append(' ');
            line.Append(word);
            empty = false;
        }
        sb.AppendLine(line.ToString().TrimEnd());
    }
}

/// <summary>Prints the generated help of the command the parser found (<c>--help</c>, <c>-h</c>).</summary>
internal sealed class HelpTextAction(Func<IEnumerable<CliCommand>> commands) : SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        output.Write(parse.CommandResult.Command is CliCommand c ? Help.Of(c) : Help.Root(commands()));
        return 0;
    }
}

/// <summary>Prints the toolkit's version (<c>--version</c>).</summary>
internal sealed class VersionTextAction : SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parse)
    {
        parse.InvocationConfiguration.Output.WriteLine(Storage.Versions.Toolkit);
        return 0;
    }
}
