using System.CommandLine;
using System.CommandLine.Parsing;

namespace FlatMinima.Cli.Infrastructure;

/// <summary>
/// The command-line parser's errors as one line, the most useful first: an unknown option or command (with the closest
/// valid names: "unknown option --alpah; did you mean --alpha?"), then a malformed or out-of-range value, a missing
/// required option (with its range or choices), then a rule of the command (two options of an exclusive group).
/// </summary>
public static class ParseErrors
{
    public static string OneLine(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        string who = command is CliCommand ? $"flatminima {command.Name}" : "flatminima";
        return $"{who}: {Message(parse, command)}";
    }

    private static string Message(ParseResult parse, Command command)
    {
        if (parse.UnmatchedTokens.Count > 0) return Unknown(parse.UnmatchedTokens[0], command);
        var errors = parse.Errors;
        var option = errors.FirstOrDefault(e => e.SymbolResult is OptionResult or ArgumentResult);
        if (option is not null) return OptionMessage(option);
        return FirstLine(errors.Count > 0 ? errors[0].Message : "invalid command line.");
    }

    private static string Unknown(string token, Command command)
    {
        if (command is not CliCommand)
        {
            var names = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
            return token.StartsWith('-')
                ? $"unknown option {token}{Suggest(token, ["--help", "--version"])} (flatminima --help lists the commands)"
                : $"unknown command '{token}'{Suggest(token, names)} (commands: {string.Join(", ", names)})";
        }
        if (!token.StartsWith('-')) return $"unexpected argument '{token}' (flatminima {command.Name} --help lists the options).";
        string name = token.Split('=', ':')[0];
        var options = command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--")).ToList();
        string hint = Suggest(name, options);
        return hint.Length > 0 ? $"unknown option {name}{hint}" : $"unknown option {name} (flatminima {command.Name} --help lists the options)";
    }

    private static string OptionMessage(ParseError e)
    {
        var result = e.SymbolResult is ArgumentResult { Parent: OptionResult p } ? p : e.SymbolResult as OptionResult;
        if (result is { IdentifierToken: null } && result.Option.Required)
        {
            var o = result.Option;
            var facts = new List<string>();
            if (!string.IsNullOrEmpty(o.Description)) facts.Add(o.Description);
            if (o is IOptionFacts f)
            {
                if (f.Range is { } r) facts.Add("in " + r);
                else if (f.ValueName.Contains('|')) facts.Add("one of " + f.ValueName);
            }
            return $"{o.Name} is required{(facts.Count > 0 ? $" ({string.Join("; ", facts)})" : "")}.";
        }
        if (result is { IdentifierToken: not null, Tokens.Count: 0 } && result.Option.Arity.MinimumNumberOfValues > 0)
            return $"{result.Option.Name} needs a value.";
        return FirstLine(e.Message);
    }

    /// <summary>"; did you mean --alpha?" for the closest names (edit distance with transpositions, or a prefix), or "".</summary>
    public static string Suggest(string token, IReadOnlyList<string> names)
    {
        var scored = names.Distinct().Select(n => (Name: n, D: Distance(token, n))).ToList();
        int limit = Math.Max(1, Math.Min(3, token.TrimStart('-').Length / 3));
        var close = scored.Where(x => x.D <= limit).OrderBy(x => x.D).ThenBy(x => x.Name, StringComparer.Ordinal).ToList();
        if (close.Count > 0) close = close.Where(x => x.D == close[0].D).ToList();
        else if (token.TrimStart('-').Length >= 2)
            close = scored.Where(x => x.Name.StartsWith(token, StringComparison.Ordinal)).OrderBy(x => x.Name, StringComparer.Ordinal).ToList();
        if (close.Count == 0 || close.Count > 3) return "";
        return "; did you mean " + string.Join(" or ", close.Select(x => x.Name)) + "?";
    }

    // Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions cost 1.
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }

    private static string FirstLine(string m)
    {
        int nl = m.IndexOf('\n');
        return (nl >= 0 ? m[..nl] : m).Trim();
    }
}
