namespace FlatMinima.Cli.Tests.Docs;

/// <summary>
/// One place to cite: every reference in the tracked sources, docs and the CLI's help points to a document of the
/// repository that defines it, and nothing points outside (rules in <see cref="ReferenceChecker"/>).
/// </summary>
public class ReferenceTests
{
    private const string FixtureTheory = "tests/FlatMinima.Cli.Tests/Docs/Fixtures/theory.md";

    /// <summary>This file: its small texts below hold deliberately broken references.</summary>
    private const string ThisFile = "tests/FlatMinima.Cli.Tests/Docs/ReferenceTests.cs";

    /// <summary>Every tracked text file (sources, project files, docs, scripts, CI, figure CSVs and SVGs, recorded run
    /// data); binary files (a NUL character, as git decides) are skipped.</summary>
    internal static IReadOnlyList<SourceText> ScannedFiles() =>
        Repository.Files.Where(f => f != ThisFile).Select(f => new SourceText(f, Repository.Read(f)))
            .Where(f => !f.Text.Contains('\0')).ToArray();

    /// <summary>The documents references resolve against: every tracked Markdown file and the bibliography.</summary>
    internal static IReadOnlyList<SourceText> Documents() =>
        Repository.Files.Where(f => f.EndsWith(".md", StringComparison.Ordinal) || f == ReferenceChecker.BibPath)
            .Select(f => new SourceText(f, Repository.Read(f))).ToArray();

    /// <summary>The help of the CLI and of every command, as the user sees it.</summary>
    internal static IReadOnlyList<SourceText> HelpTexts() =>
        new[] { "--help" }.Select(h => (Name: "flatminima --help", Argv: new[] { h }))
            .Concat(FlatMinima.Cli.Cli.Commands.Select(c => (Name: $"flatminima {c.Name} --help", Argv: new[] { c.Name, "--help" })))
            .Select(x => new SourceText("cli: " + x.Name, Run.Cli(x.Argv).Out)).ToArray();

    private static string Report(IReadOnlyList<ReferenceFinding> findings) =>
        $"{findings.Count} broken reference(s):\n" + string.Join("\n", findings.Take(300)) + (findings.Count > 300 ? "\n…" : "");

    [Fact]
    [Trait("Speed", "Slow")] // every tracked text file and every command's --help
    public void EveryReferenceInTheRepositoryResolves()
    {
        Assert.True(Repository.Exists(ReferenceChecker.TheoryPath),
            $"{ReferenceChecker.TheoryPath} is missing: code, docs and help cite its anchors and equation tags, so the reference " +
            "check cannot pass without it.");
        var findings = ReferenceChecker.Check([.. ScannedFiles(), .. HelpTexts()], Documents());
        Assert.True(findings.Count == 0, Report(findings));
    }

    [Fact]
    public void HelpOfEveryCommandIsChecked()
    {
        var help = HelpTexts();
        Assert.Equal(FlatMinima.Cli.Cli.Commands.Count + 1, help.Count);
        Assert.All(help, h => Assert.Contains("Usage:", h.Text));
    }

    [Fact]
    [Trait("Speed", "Slow")] // checks every tracked text file twice
    public void ARemovedAnchorOfTheTheoryIsReportedAtEveryCitation()
    {
        // The real docs/theory.md once it is in the repository, until then the stand-in fixture under its name.
        string theory = Repository.Exists(ReferenceChecker.TheoryPath) ? Repository.Read(ReferenceChecker.TheoryPath) : Repository.Read(FixtureTheory);
        var docs = Documents().Where(d => d.Path != ReferenceChecker.TheoryPath).Append(new SourceText(ReferenceChecker.TheoryPath, theory)).ToArray();
        var scan = ScannedFiles().Where(f => f.Path != FixtureTheory).ToArray();
        const string anchor = "erm-saddle-point";
        Assert.Contains(anchor, ReferenceChecker.DefinedAnchors(theory));
        string without = WithoutAnchor(theory, anchor);
        Assert.DoesNotContain(anchor, ReferenceChecker.DefinedAnchors(without));

        var before = ReferenceChecker.Check(scan, docs).Select(f => f.ToString()).ToHashSet();
        var broken = docs.Select(d => d.Path == ReferenceChecker.TheoryPath ? d with { Text = without } : d).ToArray();
        var added = ReferenceChecker.Check(scan, broken).Where(f => !before.Contains(f.ToString())).ToList();

        // Exactly the citations of that anchor, each with its file and line: theory.md#ANCHOR anywhere, and the
        // same-page links ](#ANCHOR) of the theory itself.
        int citations = scan.Where(f => !ReferenceChecker.IsRunRecord(f.Path)).Sum(f => CountOf(f.Text, "theory.md#" + anchor));
        int samePage = CountOf(theory, "](#" + anchor);
        Assert.True(citations > 10, $"only {citations} citations of {anchor}");
        Assert.Equal(citations + samePage, added.Count);
        Assert.All(added, f =>
        {
            bool own = f.Path == ReferenceChecker.TheoryPath && f.Reference == "](#" + anchor + ")";
            Assert.True(own || f.Reference.EndsWith("theory.md#" + anchor, StringComparison.Ordinal), f.ToString());
            Assert.Contains("defines no anchor '" + anchor + "'", f.Problem);
            Assert.Contains((own ? "](#" : "theory.md#") + anchor, scan.First(s => s.Path == f.Path).Text.Split('\n')[f.Line - 1]);
        });
    }

    /// <summary>The text with the anchor removed, however it is defined: its HTML anchors deleted, and a heading whose
    /// slug is the anchor renamed.</summary>
    private static string WithoutAnchor(string markdown, string anchor)
    {
        string text = System.Text.RegularExpressions.Regex.Replace(markdown,
            @"<a\s+(?:id|name)\s*=\s*""" + anchor + @"""\s*>\s*</a>", "");
        return string.Join("\n", text.Split('\n').Select(line =>
            line.StartsWith('#') && ReferenceChecker.Slug(line.TrimStart('#').Trim()) == anchor ? line + " (renamed)" : line));
    }

    private static int CountOf(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal))
            if (i + what.Length == text.Length || !(char.IsLetterOrDigit(text[i + what.Length]) || text[i + what.Length] is '-' or '_')) n++;
        return n;
    }

    // ---- the rules, on small texts ----

    private static readonly SourceText Theory = new(ReferenceChecker.TheoryPath,
        "# Theory\n\n<a id=\"e1\"></a>\n$$x \\tag{E1}$$\n\n<a id=\"le2\"></a>\n$$y \\tag{LE2}$$\n\n$$z \\tag{BO1}$$\n\n" +
        "## 2. The model\n\n### 2.1 Data\n\n## Local energy (LE1–LE3)\n");
    private static readonly SourceText Bib = new(ReferenceChecker.BibPath, "@article{pittorino2021entropic,\n  title = {x},\n}\n");

    private static IReadOnlyList<ReferenceFinding> CheckOne(string path, string text, params SourceText[] extraDocs) =>
        ReferenceChecker.Check([new SourceText(path, text)], [Theory, Bib, new SourceText(path, text), .. extraDocs]);

    [Fact]
    public void TheOutsideSpecificationAndOutsidePathsAreFound()
    {
        string spec = "SP" + "EC", shared = "../" + "shared/theory", work = "/" + "work/main", home = "/" + "root/x";
        var f = CheckOne("src/A.cs", $"// see {spec} §4\n// {shared}/x.md\n// {work}/docs\n// {home}\n// MixtureSpec and the spectrum are fine");
        Assert.Equal([1, 2, 3, 4], f.Select(x => x.Line));
        // recorded run data may name the folder it ran in, but not the specification
        var rec = CheckOne("docs/gpu/run3/log.txt", $"dir {work}\nnote {spec} §4.1");
        Assert.Equal([2], rec.Select(x => x.Line));
        Assert.Empty(CheckOne("docs/optim/cpu_fmnist/runs/sgd_s0/manifest.json", $"{{\"dir\": \"{work}/runs\", \"cache\": \"{home}\"}}"));
        Assert.Single(CheckOne("docs/optim/gpu/summary.json", $"{{\"note\": \"{spec}\"}}"));
        // docs and sources in or beside those folders are not records
        foreach (var path in new[] { "docs/gpu/run3/README.md", "docs/gpu/run3/run_gpu3.sh", "docs/optim/gpu/plot.py", "docs/optim/summarise.py", "docs/gpu/notes.txt" })
            Assert.Equal([1], CheckOne(path, $"{work}/runs").Select(x => x.Line));
    }

    [Fact]
    public void AnchorsResolveThroughHtmlAnchorsAndHeadingSlugs()
    {
        var other = new SourceText("docs/norms.md", "# Norms\n\n## 3. The replicated system\n\n## Checks (tests)\n<a name=\"worked\"></a>\n");
        string text = "theory.md#e1 docs/theory.md#le2 ../docs/norms.md#3-the-replicated-system docs/norms.md#checks-tests " +
                      "norms.md#worked [here](#a-heading-here)\n\n## A heading here\n";
        Assert.Empty(CheckOne("docs/flatness.md", text, other));
        Assert.Empty(CheckOne("figures/README.md", "../docs/theory.md#e1", other));
        var f = CheckOne("src/B.cs", "docs/theory.md#e9 and docs/nowhere.md#x and theory.md#2-the-model", other);
        Assert.Equal(2, f.Count);
        Assert.Equal("](#elsewhere)", Assert.Single(CheckOne("docs/x.md", "[link](#elsewhere)\n## Here\n")).Reference);
        Assert.Contains("defines no anchor 'e9'", f[0].Problem);
        Assert.Contains("not a document", f[1].Problem);
    }

    [Fact]
    public void EquationTagsMustBeDefinedByTheTheory()
    {
        // E1 by anchor and \tag, LE2 likewise, BO1 by \tag alone; E3 and LE are toolkit tags it lacks; BO7 has its shape.
        var f = CheckOne("src/C.cs", "(E1) (LE2) (BO1) (E3) (LE) (BO7) (GM) (CPU) (BO) f(x)");
        Assert.Equal(["(E3)", "(LE)", "(BO7)"], f.Select(x => x.Reference));
        Assert.Empty(CheckOne("src/D.cs", "(E1), and E5 without parentheses is not a citation"));
        // a tag the theory writes in parentheses beside an anchor of its name counts as defined, and its prefix is a tag shape
        var own = new SourceText(ReferenceChecker.TheoryPath, "<a id=\"erm1\"></a>\n**(ERM1)** the saddle point\n");
        var g = ReferenceChecker.Check([new SourceText("src/F.cs", "(ERM1) (ERM2) (E1)")], [own, Bib]);
        Assert.Equal(["(ERM2)", "(E1)"], g.Select(x => x.Reference));
        // theory.md's own way: the bold tag under its anchor, whatever the anchor's name, with a heading between or not
        string defs = "<a id=\"le1-bias\"></a>\n**(LE1′)** perturbed bias\n\n<a id=\"e1\"></a>\n### Error\n\n**(E1)**\n\nText.\n**(E2)** under text, not an anchor\n";
        var ok = ReferenceChecker.Check([new SourceText("src/G.cs", "(LE1′) (LE1') (E1) (E2)")], [new SourceText(ReferenceChecker.TheoryPath, defs), Bib]);
        Assert.Equal(["(E2)"], ok.Select(x => x.Reference));
        // a removed tag: its anchor gone, or its bold line gone — every citation is reported
        foreach (var removed in new[] { defs.Replace("<a id=\"le1-bias\"></a>\n", ""), defs.Replace("**(LE1′)** perturbed bias\n", "") })
        {
            var r = ReferenceChecker.Check([new SourceText("src/G.cs", "(LE1′)\n(E1)\nsee (LE1′)")], [new SourceText(ReferenceChecker.TheoryPath, removed), Bib]);
            Assert.Equal([1, 3], r.Select(x => x.Line));
            Assert.All(r, x => Assert.Contains("does not define the tag LE1′", x.Problem));
        }
        var missing = ReferenceChecker.Check([new SourceText("src/E.cs", "(E1)")], [Bib]);
        Assert.Contains("missing", Assert.Single(missing).Problem);
    }

    [Fact]
    public void SectionReferencesNeedANumberedHeading()
    {
        var f = CheckOne("docs/norms.md", "## 1. Intro\n\nsee docs/theory.md §2, theory.md §2.1, docs/theory.md §5, §1 of this page, §4 of this page");
        Assert.Equal(["docs/theory.md §5", "§4 of this page"], f.Select(x => x.Reference));
    }

    [Fact]
    public void CitationKeysMustBeInTheBibliography()
    {
        var f = CheckOne("docs/optim.md", "Pittorino et al. (2021) [`pittorino2021entropic`], Foret et al. (2021) [`foret2021sam`]");
        Assert.Equal("[`foret2021sam`]", Assert.Single(f).Reference);
        var noBib = ReferenceChecker.Check([new SourceText("docs/x.md", "[`pittorino2021entropic`]")], [Theory]);
        Assert.Contains("missing", Assert.Single(noBib).Problem);
    }

    [Fact]
    public void HeadingSlugsFollowGitHub()
    {
        Assert.Equal("3-the-replicated-system", ReferenceChecker.Slug("3. The replicated system"));
        Assert.Equal("entropy-sgd---optimizer-esgd", ReferenceChecker.Slug("Entropy-SGD (`--optimizer esgd`)"));
        Assert.Equal("local-energy-le1le3", ReferenceChecker.Slug("Local energy (LE1–LE3)"));
        var anchors = ReferenceChecker.DefinedAnchors("# A\n## A\n```\n## Not a heading\n```\n## B <a id=\"b-x\"></a>\n");
        Assert.Equal(["a", "a-1", "b", "b-x"], anchors.Order());
    }
}
