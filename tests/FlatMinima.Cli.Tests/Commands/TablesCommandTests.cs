using FlatMinima.Experiments;

namespace FlatMinima.Cli.Tests;

public class TablesCommandTests
{
    [Fact]
    public void ListNamesEveryTableWithItsDescription()
    {
        var (code, output, _) = Run.Cli("tables", "--list");
        Assert.Equal(0, code);
        foreach (var t in ReferenceTables.All) Assert.Contains(t.Name, output);
        var json = Run.Json("tables", "--list", "--json");
        Assert.Equal(ReferenceTables.All.Count, json.GetProperty("tables").GetArrayLength());
    }

    [Fact]
    public void PrintsANamedTableAsMarkdown()
    {
        var (code, output, _) = Run.Cli("tables", "bo-errors");
        Assert.Equal(0, code);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.Equal(2 + 12, lines.Length); // header, alignment row, 3 ρ × 4 Δ
        Assert.StartsWith("| ρ", lines[0]);
        Assert.Contains("0.23975", output); // (E3') at α = Δ = 1: H(1/√2) = 0.239750
        Assert.Contains("0.15866", output); // (E4) at Δ = 1: H(1) = 0.158655
    }

    [Fact]
    public void AnUnknownTableExitsWithTwoAndListsTheValidOnes()
    {
        var (code, _, err) = Run.Cli("tables", "no-such-table");
        Assert.Equal(2, code);
        Assert.Contains("unknown table 'no-such-table'", err);
        Assert.Contains("bo-errors", err);
        Assert.Equal(2, Run.Cli("tables").Code);
        Assert.Equal(2, Run.Cli("tables", "--list", "--update", "x.md").Code);
        Assert.Equal(2, Run.Cli("tables", "bo-errors", "--bogus").Code);
    }

    [Fact]
    public void UpdateRewritesTheMarkedBlocksAndCheckThenPasses()
    {
        string dir = Directory.CreateTempSubdirectory("fm-tables-").FullName;
        try
        {
            string a = Path.Combine(dir, "a.md"), b = Path.Combine(dir, "b.md");
            File.WriteAllText(a, "# A\n\ntext before\n" + ReferenceTableBlocks.Marker("threshold") + "\n| old | table |\n" + ReferenceTableBlocks.End + "\ntext after\n");
            File.WriteAllText(b, "# B, no tables\n");
            var (code, output, err) = Run.Cli("tables", "--check", a, b);
            Assert.Equal(1, code);
            Assert.Contains($"{a}:4: table 'threshold' is stale", output);

            (code, output, err) = Run.Cli("tables", "--update", a, b);
            Assert.True(code == 0, err);
            Assert.Contains("a.md: 1 table(s), rewritten", output);
            Assert.Contains("b.md: 0 table(s), unchanged", output);
            string text = File.ReadAllText(a);
            Assert.StartsWith("# A\n\ntext before\n" + ReferenceTableBlocks.Marker("threshold") + "\n\n| Δ", text);
            Assert.EndsWith("|\n\n" + ReferenceTableBlocks.End + "\ntext after\n", text);
            Assert.Contains("3.70003", text); // α_c(Δ = 1, ρ = ½)
            Assert.Empty(Directory.GetFiles(dir, ".*.tmp"));

            (code, output, _) = Run.Cli("tables", "--check", a, b);
            Assert.Equal(0, code);
            Assert.Contains("all up to date", output);
            // a second update changes nothing
            Assert.Contains("unchanged", Run.Cli("tables", "--update", a).Out);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void BadFilesAreErrorsNamingTheFile()
    {
        string dir = Directory.CreateTempSubdirectory("fm-tables-").FullName;
        try
        {
            string missing = Path.Combine(dir, "missing.md");
            var (code, _, err) = Run.Cli("tables", "--update", missing);
            Assert.Equal(1, code);
            Assert.Contains("missing.md", err);

            string unknown = Path.Combine(dir, "unknown.md");
            string original = ReferenceTableBlocks.Marker("no-such-table") + "\n|a|\n" + ReferenceTableBlocks.End + "\n";
            File.WriteAllText(unknown, original);
            (code, _, err) = Run.Cli("tables", "--update", unknown);
            Assert.Equal(1, code);
            Assert.Contains("unknown.md: line 1: unknown table 'no-such-table'", err);
            Assert.Equal(original, File.ReadAllText(unknown)); // untouched

            string open = Path.Combine(dir, "open.md");
            File.WriteAllText(open, ReferenceTableBlocks.Marker("threshold") + "\n| a |\n");
            var (c2, o2, _) = Run.Cli("tables", "--check", open);
            Assert.Equal(1, c2);
            Assert.Contains("has no '" + ReferenceTableBlocks.End + "'", o2);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
