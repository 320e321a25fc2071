using System.Globalization;
using System.Text.RegularExpressions;
using FlatMinima.Experiments;
using FlatMinima.Numerics;
using MathNet.Numerics;

namespace FlatMinima.Tests.Experiments;

public class ReferenceTablesTests
{
    [Fact]
    public void NamesAreUniqueLowercaseHyphenAndDescribed()
    {
        Assert.Equal(ReferenceTables.Names.Count, ReferenceTables.Names.Distinct().Count());
        Assert.All(ReferenceTables.All, t =>
        {
            Assert.Matches("^[a-z0-9]+(-[a-z0-9]+)*$", t.Name);
            Assert.False(string.IsNullOrWhiteSpace(t.Description));
            Assert.DoesNotContain('\n', t.Description);
        });
        var e = Assert.Throws<ArgumentException>(() => ReferenceTables.Get("nope"));
        Assert.Contains("unknown table 'nope'; valid: bo-errors", e.Message);
    }

    [Fact]
    public void BayesOptimalTableIsTheClosedFormInBalancedRows()
    {
        // (E3′) written out here with MathNet's erfc: ε_BO = ½ erfc(√(α/(2Δ(α+Δ)))); oracle (E4) ½ erfc(1/√(2Δ)).
        var lines = ReferenceTables.Get("bo-errors").Compute().Lines();
        double[] alphas = [0.5, 1, 2, 5, 10, 100];
        int checkedRows = 0;
        foreach (var line in lines.Skip(2))
        {
            var c = MarkdownTable.Cells(line)!;
            if (c[0] != "0.5") continue;
            double delta = double.Parse(c[1], CultureInfo.InvariantCulture);
            for (int k = 0; k < alphas.Length; k++)
            {
                double a = alphas[k], expected = 0.5 * SpecialFunctions.Erfc(Math.Sqrt(a / (2 * delta * (a + delta))));
                Assert.Equal(expected.ToString("F5", CultureInfo.InvariantCulture), c[2 + k]);
            }
            Assert.Equal((0.5 * SpecialFunctions.Erfc(1 / Math.Sqrt(2 * delta))).ToString("F5", CultureInfo.InvariantCulture), c[8]);
            checkedRows++;
        }
        Assert.Equal(4, checkedRows);
    }

    [Fact]
    public void TablesAreTheSameOnEveryRun()
    {
        // A simulation table (fixed seeds, parallel over data sets) twice.
        Assert.Equal(ReferenceTables.Markdown("le2-simulation"), ReferenceTables.Markdown("le2-simulation"));
    }

    [Fact]
    public void NumberFormats()
    {
        Assert.Equal("0.0000", TableFormat.Fixed(-0.00001, 4));
        Assert.Equal("−0.5000", TableFormat.Fixed(-0.5, 4));
        Assert.Equal("—", TableFormat.Fixed(double.NaN, 4));
        Assert.Equal("0.000544522", TableFormat.Significant(0.000544522, 6));
        Assert.Equal("211.456", TableFormat.Significant(211.4559, 6));
        Assert.Equal("5.99400·10⁻⁸", TableFormat.Significant(5.994e-8, 6));
        Assert.Equal("−1.23·10⁷", TableFormat.Significant(-1.2345e7, 3));
        Assert.Equal("10.0", TableFormat.Significant(9.99996, 3));
        Assert.Equal("0", TableFormat.Significant(0, 6));
        Assert.Equal(["10⁻³", "10⁻²", "0.1", "1", "10", "100", "10⁴", "0.05", "1.338"],
            new[] { 1e-3, 1e-2, 0.1, 1, 10, 100, 1e4, 0.05, 1.3381 }.Select(TableFormat.Lambda));
        Assert.Equal(["1e-3", "1e-2", "0.1", "1", "10", "100", "1e4", "0.05", "1.338"],
            new[] { 1e-3, 1e-2, 0.1, 1, 10, 100, 1e4, 0.05, 1.3381 }.Select(TableFormat.AsTyped));
        Assert.Equal(["0.04163", "−0.28584", "99.99999", "211.4559", "0.00000"],
            new[] { 0.041634, -0.285837, 99.999994, 211.45587, 5.994e-8 }.Select(TableFormat.TheoryValue));
        Assert.Equal("0.02 ± 0.01", TableFormat.MeanSe(Statistic.Of([0.01, 0.03]), 2));
        Assert.Equal(["+1.2", "−0.3", "0.0", "0.0"], new[] { 1.23, -0.3, 0.04, -0.04 }.Select(x => TableFormat.Signed(x, 1)));
    }

    [Fact]
    public void MarkdownTablePadsAlignsAndEscapes()
    {
        var t = new MarkdownTable(["loss", "λ", "note"]).Add("square", "10⁻³", "a|b").Add("hinge", "1", "x");
        Assert.Equal(
        [
            "| loss   | λ    | note |",
            "| ------ | ---: | ---- |",
            "| square | 10⁻³ | a\\|b |",
            "| hinge  |    1 | x    |",
        ], t.Lines());
        Assert.Equal(["square", "10⁻³", "a|b"], MarkdownTable.Cells(t.Lines()[2]));
        Assert.Null(MarkdownTable.Cells("not a table line"));
        Assert.Throws<ArgumentException>(() => t.Add("only one cell"));
    }

    private const string Two =
        "intro\n<!-- table: one -->\n| old |\n<!-- end table -->\nmiddle\n  <!-- table: two -->  \n\n| x |\n| --- |\n\n<!-- end table -->\nend";

    [Fact]
    public void BlocksAreFoundWithTheirLines()
    {
        var (blocks, errors) = ReferenceTableBlocks.Find(Two);
        Assert.Empty(errors);
        Assert.Equal([("one", 2, 4), ("two", 6, 11)], blocks.Select(b => (b.Name, b.MarkerLine, b.EndLine)));
        Assert.Equal(["| x |", "| --- |"], blocks[1].Content);

        var (_, bad) = ReferenceTableBlocks.Find("<!-- end table -->\n<!-- table: a -->\n<!-- table: b -->\n<!-- table:  -->\n");
        Assert.Equal([1, 2, 3, 4], bad.Select(e => e.Line).Order());
    }

    [Fact]
    public void UpdateReplacesOnlyTheBlocksAndIsIdempotent()
    {
        string Gen(string name) => name == "one" ? "| a | b |\n| --- | --: |\n| r | 1 |\n" : "| x |\n| --- |\n";
        string updated = ReferenceTableBlocks.Update(Two, Gen);
        Assert.Equal(
            "intro\n<!-- table: one -->\n\n| a | b |\n| --- | --: |\n| r | 1 |\n\n<!-- end table -->\nmiddle\n  <!-- table: two -->  \n\n| x |\n| --- |\n\n<!-- end table -->\nend",
            updated);
        Assert.Equal(updated, ReferenceTableBlocks.Update(updated, Gen));
        Assert.Empty(ReferenceTableBlocks.Check(updated, Gen));
        Assert.Equal("a\r\n<!-- table: two -->\r\n\r\n| x |\r\n| --- |\r\n\r\n<!-- end table -->\r\n",
            ReferenceTableBlocks.Update("a\r\n<!-- table: two -->\r\n<!-- end table -->\r\n", Gen));
        var e = Assert.Throws<FormatException>(() => ReferenceTableBlocks.Update(Two, n => n == "one" ? throw new ArgumentException("unknown table 'one'") : "| x |"));
        Assert.Equal("line 2: unknown table 'one'", e.Message);
    }

    [Fact]
    public void CheckReportsTheFirstDifferingCell()
    {
        string doc = "<!-- table: t -->\n| loss | ε_g |\n| --- | --: |\n| square | 0.28166 |\n| hinge | 0.28178 |\n<!-- end table -->\n";
        var f = Assert.Single(ReferenceTableBlocks.Check(doc, _ => "| loss | ε_g |\n| --- | --: |\n| square | 0.28166 |\n| hinge | 0.28177 |\n"));
        Assert.Equal(1, f.Line);
        Assert.Equal("table 't' is stale: row 2 (hinge), column 'ε_g': the document has '0.28178', the engine gives '0.28177'.", f.Message);
        var shorter = Assert.Single(ReferenceTableBlocks.Check(doc, _ => "| loss | ε_g |\n| --- | --: |\n| square | 0.28166 |\n"));
        Assert.Contains("extra in the document", shorter.Message);
        var unknown = Assert.Single(ReferenceTableBlocks.Check(doc, n => throw new ArgumentException($"unknown table '{n}'")));
        Assert.Equal("unknown table 't'", unknown.Message);
        Assert.Matches(new Regex("spacing only"), Assert.Single(ReferenceTableBlocks.Check(doc,
            _ => "| loss | ε_g |\n| --- | --: |\n| square |  0.28166 |\n| hinge | 0.28178 |\n")).Message);
    }
}
