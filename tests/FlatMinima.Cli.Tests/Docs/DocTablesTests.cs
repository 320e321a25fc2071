using System.Collections.Concurrent;
using FlatMinima.Experiments;

namespace FlatMinima.Cli.Tests.Docs;

/// <summary>
/// Every table of engine-computed numbers in the docs is marked with its generator's name; this regenerates each one and
/// fails, naming the document, the table and the first differing cell, when a printed digit differs from what the
/// engine gives. Fix: <c>flatminima tables --update docs/*.md</c> after checking why the numbers moved.
/// </summary>
public class DocTablesTests
{
    [Fact]
    [Trait("Speed", "Slow")] // regenerates every table, simulations included: about a minute of CPU
    public void EveryMarkedTableInTheDocsIsWhatTheEngineGives()
    {
        // Every tracked Markdown file: the docs, the README, the figures' README.
        var docs = Repository.Files.Where(f => f.EndsWith(".md", StringComparison.Ordinal)).ToDictionary(f => f, Repository.Read);
        var names = docs.Values.SelectMany(t => ReferenceTableBlocks.Find(t).Blocks).Select(b => b.Name).Distinct().ToList();
        Assert.NotEmpty(names);

        // Each table once, several at a time (each is deterministic whatever runs beside it).
        var generated = new ConcurrentDictionary<string, string>();
        Parallel.ForEach(names.Where(n => ReferenceTables.Names.Contains(n)),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(2, Environment.ProcessorCount / 2) },
            n => generated[n] = ReferenceTables.Markdown(n));
        string Generate(string name) => generated.TryGetValue(name, out var md) ? md : ReferenceTables.Markdown(name); // unknown: throws

        var findings = docs.SelectMany(d => ReferenceTableBlocks.Check(d.Value, Generate).Select(x => $"{d.Key}:{x.Line}: {x.Message}")).ToList();
        Assert.True(findings.Count == 0, "stale or broken tables (after checking why, run flatminima tables --update on the file):\n" +
            string.Join("\n", findings));
    }

    [Fact]
    public void TheCheckNamesTheDocumentTableAndFirstDifferingCell()
    {
        // A copy of a marked block with one digit changed, checked as the test above checks the docs.
        string md = ReferenceTables.Markdown("bo-errors");
        string stale = md.Replace("0.20711", "0.20712");
        Assert.NotEqual(md, stale);
        string doc = "# Doc\n\n" + ReferenceTableBlocks.Marker("bo-errors") + "\n\n" + stale + "\n" + ReferenceTableBlocks.End + "\n";
        var f = Assert.Single(ReferenceTableBlocks.Check(doc, ReferenceTables.Markdown));
        Assert.Equal(3, f.Line);
        Assert.Equal("bo-errors", f.Table);
        Assert.Contains("row 3 (0.5), column 'α = 2': the document has '0.20712', the engine gives '0.20711'", f.Message);
    }
}
