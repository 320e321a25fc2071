using System.CommandLine;
using System.Diagnostics;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Experiments;
using FlatMinima.Storage;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima tables</c>: prints the docs' reference tables (<see cref="ReferenceTables"/>), or rewrites and
/// checks the marked table blocks of Markdown files (<see cref="ReferenceTableBlocks"/>).</summary>
public sealed class TablesCommand : CliCommand
{
    private readonly Argument<string[]> _names = new("NAME|FILE") { Arity = ArgumentArity.ZeroOrMore, Description = "table names, or with --update/--check Markdown files" };
    private readonly Option<bool> _list = Opt.Flag("--list", "list every table with a one-line description");
    private readonly Option<bool> _update = Opt.Flag("--update", "recompute every table marked in the FILEs and rewrite it in place (atomically). A table is marked " +
        "by the line '" + ReferenceTableBlocks.Marker("NAME") + "' before it and '" + ReferenceTableBlocks.End + "' after it");
    private readonly Option<bool> _check = Opt.Flag("--check", "recompute every marked table of the FILEs and report each one that differs from what the engine " +
        "gives, with its first differing cell; exit code 1 if any does");
    private readonly Option<bool> _json = CommonOptions.Json();

    public TablesCommand() : base("tables", "the docs' reference tables as Markdown; rewrite or check the marked tables of docs")
    {
        Arguments.Add(_names);
        Add(_list, _update, _check, _json);
    }

    public override IReadOnlyList<string> Usage =>
    [
        "NAME [NAME...] [--json]",
        "--list [--json]",
        "--update FILE [FILE...]",
        "--check FILE [FILE...] [--json]",
    ];

    public override string Notes =>
        "NAME prints the named table as Markdown (header, alignment row, rows). Simulation tables use fixed seeds; the same build prints\n" +
        "the same digits on every run.";

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        bool list = p.Value(_list), json = p.Value(_json), update = p.Value(_update), check = p.Value(_check);
        var rest = p.GetValue(_names)?.ToList() ?? [];
        if ((list ? 1 : 0) + (update ? 1 : 0) + (check ? 1 : 0) > 1) throw new UsageException("give one of --list, --update, --check.");
        if (update && json) throw new UsageException("--json is not available with --update.");
        if (list)
        {
            if (rest.Count > 0) throw new UsageException($"unexpected argument '{rest[0]}' with --list.");
            return () => List(ctx, json);
        }
        if (rest.Count == 0) throw new UsageException(update || check ? "name at least one Markdown file." : "name a table (see --list).");
        if (update || check) return () => Files(ctx, rest, check, json);
        var tables = rest.Select(ReferenceTables.Get).ToList(); // unknown names fail before any work
        return () => Print(ctx, tables, json);
    }

    private static int List(CommandContext ctx, bool json)
    {
        if (json)
        {
            Output.WriteJson(ctx.Out, new Dictionary<string, object?>
            {
                ["tables"] = ReferenceTables.All.Select(t => new Dictionary<string, object?> { ["name"] = t.Name, ["description"] = t.Description }).ToList(),
            });
            return 0;
        }
        int w = ReferenceTables.Names.Max(n => n.Length);
        foreach (var t in ReferenceTables.All) ctx.Out.WriteLine($"{t.Name.PadRight(w)}  {t.Description}");
        return 0;
    }

    private static int Print(CommandContext ctx, IReadOnlyList<ReferenceTable> tables, bool json)
    {
        var rows = new List<Dictionary<string, object?>>();
        for (int i = 0; i < tables.Count; i++)
        {
            var clock = Stopwatch.StartNew();
            string md = tables[i].Compute().ToString();
            if (json) rows.Add(new() { ["name"] = tables[i].Name, ["description"] = tables[i].Description, ["markdown"] = md, ["seconds"] = clock.Elapsed.TotalSeconds });
            else
            {
                if (i > 0) ctx.Out.WriteLine();
                ctx.Out.Write(md);
            }
            ctx.Err.WriteLine($"{tables[i].Name}: {clock.Elapsed.TotalSeconds:F1} s");
        }
        if (json) Output.WriteJson(ctx.Out, new Dictionary<string, object?> { ["tables"] = rows });
        return 0;
    }

    private static int Files(CommandContext ctx, List<string> files, bool check, bool json)
    {
        var texts = new Dictionary<string, string>();
        foreach (var f in files)
        {
            try { texts[f] = File.ReadAllText(f); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"cannot read {f}: {e.Message}", e);
            }
        }
        // Each table is computed once, however many files mark it.
        var cache = new Dictionary<string, string>();
        string Generate(string name)
        {
            if (!cache.TryGetValue(name, out var md))
            {
                var clock = Stopwatch.StartNew();
                cache[name] = md = ReferenceTables.Markdown(name);
                ctx.Err.WriteLine($"{name}: {clock.Elapsed.TotalSeconds:F1} s");
            }
            return md;
        }

        if (check)
        {
            var findings = files.SelectMany(f => ReferenceTableBlocks.Check(texts[f], Generate).Select(x => (File: f, Finding: x))).ToList();
            if (json)
                Output.WriteJson(ctx.Out, new Dictionary<string, object?>
                {
                    ["files"] = files, ["tables_checked"] = cache.Count,
                    ["findings"] = findings.Select(x => new Dictionary<string, object?>
                    { ["file"] = x.File, ["line"] = x.Finding.Line, ["table"] = x.Finding.Table, ["message"] = x.Finding.Message }).ToList(),
                });
            else
            {
                foreach (var (f, x) in findings) ctx.Out.WriteLine($"{f}:{x.Line}: {x.Message}");
                if (findings.Count == 0) ctx.Out.WriteLine($"{files.Count} file(s), {cache.Count} table(s): all up to date.");
            }
            return findings.Count == 0 ? 0 : 1;
        }

        // Compute everything first, then write: a failure leaves every file as it was.
        var updated = new Dictionary<string, string>();
        foreach (var f in files)
        {
            try { updated[f] = ReferenceTableBlocks.Update(texts[f], Generate); }
            catch (FormatException e) { throw new InvalidDataException($"{f}: {e.Message}", e); }
        }
        foreach (var f in files)
        {
            int n = ReferenceTableBlocks.Find(texts[f]).Blocks.Count;
            bool changed = updated[f] != texts[f];
            if (changed) AtomicFile.WriteAllText(f, updated[f]);
            ctx.Out.WriteLine($"{f}: {n} table(s), {(changed ? "rewritten" : "unchanged")}.");
        }
        return 0;
    }
}
