using System.Text;
using System.Text.RegularExpressions;

namespace FlatMinima.Cli.Tests.Docs;

/// <summary>A text to check or to resolve references against: a repository file (path relative to the repository
/// root, with '/') or a pseudo-file such as the help text of a command ("cli: flatminima erm --help").</summary>
public sealed record SourceText(string Path, string Text);

/// <summary>One broken reference: where it is, what it says, what is wrong.</summary>
public sealed record ReferenceFinding(string Path, int Line, string Reference, string Problem)
{
    public override string ToString() => $"{Path}:{Line}: {Reference} — {Problem}";
}

/// <summary>
/// Checks that every reference in the repository points inside it. A pure function of the texts: the files to scan and
/// the documents they cite (docs/*.md, docs/references.bib) go in, findings come out. Rules:
/// <list type="number">
/// <item>no mention of the outside specification (the upper-case word) in any file, recorded run data included; no path
/// outside the repository (the shared folder one level up, the machine's work folder, absolute home folders) except in
/// recorded run data (<see cref="IsRunRecord"/>), whose manifests and logs record where a run happened;</item>
/// <item>a link or citation of an anchor of a Markdown document (written from the repository root, relative to the
/// citing file, or as a bare name for the docs folder) names an existing document that defines the anchor: an HTML
/// anchor with that id or name, or a heading whose GitHub slug is the anchor;</item>
/// <item>an equation tag in parentheses — the tags of the toolkit (E1–E4, E3′, LE, LE1–LE3, F1, F2) and any tag of the
/// shape docs/theory.md uses — is defined by docs/theory.md, the way it defines its tags: <c>\tag{T}</c> in its math, or
/// the tag in bold, <c>**(T)**</c>, at the start of a line under an HTML anchor (only blank lines and a heading between;
/// the anchor's name is free: (E3′) is under <c>e3-balanced</c>, (LE1′) under <c>le1-bias</c>). A tag whose bold line or
/// anchor is removed is undefined, and every citation of it is reported;</item>
/// <item>a section reference (a document name, a space and the section sign with a number, or the section sign with a
/// number followed by "of this page") names a numbered heading ("## N. …") of that document;</item>
/// <item>a citation key (back-quoted in square brackets) is an entry of docs/references.bib (a missing file has no
/// entries).</item>
/// </list>
/// </summary>
public static class ReferenceChecker
{
    public const string TheoryPath = "docs/theory.md", BibPath = "docs/references.bib";

    // Written so that this file does not contain what it looks for.
    private static readonly string Specification = "SP" + "EC";
    private static readonly Regex SpecificationWord = new(@"\b" + Specification + @"\b", RegexOptions.Compiled);
    private static readonly Regex OutsidePath = new(
        @"\.\./" + "shared" + @"|(?<![\w.])/" + "work" + @"/|(?<![\w.~])/home/[A-Za-z_][\w.-]*|(?<![\w.~])/" + "root" + @"/", RegexOptions.Compiled);
    private static readonly Regex AnchorLink = new(@"(?<path>(?:\.\./|\./)*(?:[\w.-]+/)*[\w.-]+\.md)#(?<anchor>[A-Za-z0-9_-]+)", RegexOptions.Compiled);
    private static readonly Regex SamePageLink = new(@"\]\(#(?<anchor>[A-Za-z0-9_-]+)\)", RegexOptions.Compiled);
    private static readonly Regex SectionRef = new(@"(?<path>(?:[\w.-]+/)*[\w.-]+\.md) §(?<sec>\d+(?:\.\d+)*)", RegexOptions.Compiled);
    private static readonly Regex ThisPageSection = new(@"§(?<sec>\d+(?:\.\d+)*) of this page", RegexOptions.Compiled);
    private static readonly Regex TagInParens = new(@"\((?<tag>[A-Z]{1,5}\d{0,2}[′']?)\)", RegexOptions.Compiled);
    private static readonly Regex BoldTag = new(@"^\s*\*\*\((?<tag>[A-Z]{1,5}\d{0,2}[′']?)\)\*\*", RegexOptions.Compiled);
    private static readonly Regex TexTag = new(@"\\tag\*?\{(?<tag>[^}]+)\}", RegexOptions.Compiled);
    private static readonly Regex HtmlAnchor = new(@"<a\s+(?:id|name)\s*=\s*""(?<id>[^""]+)""", RegexOptions.Compiled | RegexOptions.IgnoreCase);
    private static readonly Regex CitationKey = new(@"\[`(?<key>[A-Za-z][\w:-]*)`\]", RegexOptions.Compiled);
    private static readonly Regex BibEntry = new(@"@\w+\s*\{\s*(?<key>[^,\s]+)\s*,", RegexOptions.Compiled);
    private static readonly Regex Heading = new(@"^(?<hashes>#{1,6})\s+(?<text>.+?)\s*#*\s*$", RegexOptions.Compiled);
    private static readonly Regex NumberedHeading = new(@"^#{1,6}\s+(?<num>\d+(?:\.\d+)*)[.\s]", RegexOptions.Compiled);

    /// <summary>The tags every part of the toolkit uses; each must be defined by docs/theory.md.</summary>
    public static IReadOnlyList<string> ToolkitTags { get; } = ["E1", "E2", "E3", "E3′", "E4", "LE", "LE1", "LE2", "LE3", "F1", "F2"];

    private static string Normalise(string tag) => tag.Replace('\'', '′');

    /// <summary>
    /// Recorded run data: the data files (JSON manifests and summaries, CSV, text logs) of the run folders docs/gpu/runN/,
    /// docs/optim/cpu_*/ and docs/optim/gpu/. A manifest records where its run happened (the checkout in the machine's
    /// work folder, the libtorch cache in the home folder): a fact about the run, not a reference, so these files are
    /// exempt from the outside-path rule and are not read for links, tags and citations. They are still checked for the
    /// outside specification. The exemption never covers docs or sources: Markdown, code and scripts (a run's .sh, the
    /// .py that summarise runs) in or beside those folders are checked like every other file.
    /// </summary>
    public static bool IsRunRecord(string path) =>
        Regex.IsMatch(path, @"^docs/(gpu/run\d+|optim/cpu_[^/]+|optim/gpu)/") && RecordDataExtensions.Any(e => path.EndsWith(e, StringComparison.Ordinal));

    private static readonly string[] RecordDataExtensions = [".json", ".csv", ".txt"];

    /// <summary>Checks <paramref name="scan"/>; links and tags resolve against <paramref name="documents"/> (by path).</summary>
    public static IReadOnlyList<ReferenceFinding> Check(IReadOnlyList<SourceText> scan, IReadOnlyList<SourceText> documents)
    {
        var docs = documents.GroupBy(d => d.Path).ToDictionary(g => g.Key, g => g.First().Text);
        var anchors = new Dictionary<string, HashSet<string>>();
        HashSet<string> AnchorsOf(string path)
        {
            if (!anchors.TryGetValue(path, out var set)) anchors[path] = set = DefinedAnchors(docs[path]);
            return set;
        }
        docs.TryGetValue(TheoryPath, out var theory);
        var theoryTags = theory is null ? new HashSet<string>() : DefinedTags(theory);
        var prefixes = ToolkitTags.Concat(theoryTags).Select(TagPrefix).ToHashSet();
        var bibKeys = docs.TryGetValue(BibPath, out var bib) ? BibEntry.Matches(bib).Select(m => m.Groups["key"].Value).ToHashSet() : [];

        var findings = new List<ReferenceFinding>();
        foreach (var file in scan)
        {
            bool record = IsRunRecord(file.Path);
            var lines = file.Text.Replace("\r\n", "\n").Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i];
                void Add(string reference, string problem) => findings.Add(new(file.Path, i + 1, reference, problem));

                foreach (Match m in SpecificationWord.Matches(line)) Add(m.Value, "names the outside specification; cite docs/theory.md instead.");
                if (!record)
                    foreach (Match m in OutsidePath.Matches(line)) Add(m.Value, "is a path outside the repository.");
                if (record) continue; // records are outputs, not references

                foreach (Match m in AnchorLink.Matches(line))
                {
                    string target = m.Groups["path"].Value, anchor = m.Groups["anchor"].Value;
                    string? resolved = Resolve(file.Path, target, docs);
                    if (resolved is null) Add(m.Value, $"{target} is not a document of the repository.");
                    else if (!AnchorsOf(resolved).Contains(anchor)) Add(m.Value, $"{resolved} defines no anchor '{anchor}'.");
                }
                foreach (Match m in SamePageLink.Matches(line))
                    if (!docs.ContainsKey(file.Path) || !AnchorsOf(file.Path).Contains(m.Groups["anchor"].Value))
                        Add(m.Value, $"{file.Path} defines no anchor '{m.Groups["anchor"].Value}'.");
                foreach (Match m in SectionRef.Matches(line))
                {
                    string target = m.Groups["path"].Value, sec = m.Groups["sec"].Value;
                    string? resolved = Resolve(file.Path, target, docs);
                    if (resolved is null) Add(m.Value, $"{target} is not a document of the repository.");
                    else if (!NumberedSections(docs[resolved]).Contains(sec)) Add(m.Value, $"{resolved} has no heading numbered {sec}.");
                }
                foreach (Match m in ThisPageSection.Matches(line))
                    if (!docs.TryGetValue(file.Path, out var self) || !NumberedSections(self).Contains(m.Groups["sec"].Value))
                        Add(m.Value, $"{file.Path} has no heading numbered {m.Groups["sec"].Value}.");
                foreach (Match m in TagInParens.Matches(line))
                {
                    string tag = Normalise(m.Groups["tag"].Value);
                    bool shaped = prefixes.Contains(TagPrefix(tag)) && (tag.Any(char.IsDigit) || ToolkitTags.Contains(tag) || theoryTags.Contains(tag));
                    if (!shaped) continue;
                    if (theory is null) Add(m.Value, $"cites an equation tag, and {TheoryPath} is missing.");
                    else if (!theoryTags.Contains(tag))
                        Add(m.Value, $"{TheoryPath} does not define the tag {tag} (no \\tag{{{tag}}}, no **({tag})** under an anchor).");
                }
                foreach (Match m in CitationKey.Matches(line))
                    if (!bibKeys.Contains(m.Groups["key"].Value))
                        Add(m.Value, bib is null ? $"{BibPath} is missing, so it defines no key." : $"{BibPath} has no entry '{m.Groups["key"].Value}'.");
            }
        }
        return findings;
    }

    /// <summary>The document a citation in <paramref name="from"/> names: relative to the citing file's folder, to the
    /// repository root, or (for a bare name such as theory.md) in docs/.</summary>
    public static string? Resolve(string from, string target, IReadOnlyDictionary<string, string> docs)
    {
        string dir = from.Contains('/') ? from[..from.LastIndexOf('/')] : "";
        foreach (var candidate in new[] { Combine(dir, target), Combine("", target), Combine("docs", target) })
            if (candidate is not null && docs.ContainsKey(candidate)) return candidate;
        return null;
    }

    private static string? Combine(string dir, string rel)
    {
        var parts = new List<string>(dir.Length == 0 ? [] : dir.Split('/'));
        foreach (var p in rel.Split('/'))
        {
            if (p is "." or "") continue;
            if (p == "..") { if (parts.Count == 0) return null; parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(p);
        }
        return string.Join('/', parts);
    }

    /// <summary>Anchors a Markdown text defines: HTML anchors and GitHub heading slugs (outside code blocks).</summary>
    public static HashSet<string> DefinedAnchors(string markdown)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>();
        bool fence = false;
        foreach (var raw in markdown.Replace("\r\n", "\n").Split('\n'))
        {
            string line = raw.TrimEnd();
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) { fence = !fence; continue; }
            foreach (Match m in HtmlAnchor.Matches(line)) set.Add(m.Groups["id"].Value);
            if (fence) continue;
            var h = Heading.Match(line);
            if (!h.Success) continue;
            string slug = Slug(h.Groups["text"].Value);
            int n = seen.GetValueOrDefault(slug);
            seen[slug] = n + 1;
            set.Add(n == 0 ? slug : $"{slug}-{n}");
        }
        return set;
    }

    /// <summary>GitHub's heading slug: lower case, markup and punctuation removed, spaces to hyphens.</summary>
    public static string Slug(string heading)
    {
        string text = Regex.Replace(heading, @"<[^>]+>", "");          // inline HTML (anchors)
        text = Regex.Replace(text, @"\[([^\]]*)\]\([^)]*\)", "$1").Trim(); // links keep their text
        var sb = new StringBuilder();
        foreach (char c in text.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c) || c is '-' or '_') sb.Append(c);
            else if (c == ' ') sb.Append('-');
        }
        return sb.ToString();
    }

    /// <summary>Tags a theory text defines: <c>\tag{…}</c> in its math, and every tag written in bold, <c>**(T)**</c>, at
    /// the start of a line whose nearest preceding line other than blank lines and headings carries an HTML anchor.</summary>
    public static HashSet<string> DefinedTags(string markdown)
    {
        var set = TexTag.Matches(markdown).Select(m => Normalise(m.Groups["tag"].Value.Trim())).ToHashSet();
        var lines = markdown.Replace("\r\n", "\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var m = BoldTag.Match(lines[i]);
            if (!m.Success) continue;
            int k = i - 1;
            while (k >= 0 && (string.IsNullOrWhiteSpace(lines[k]) || Heading.IsMatch(lines[k]))) k--;
            if (k >= 0 && HtmlAnchor.IsMatch(lines[k])) set.Add(Normalise(m.Groups["tag"].Value));
        }
        return set;
    }

    /// <summary>Section numbers of the numbered headings ("## 3. …", "### 3.2 …").</summary>
    public static HashSet<string> NumberedSections(string markdown)
    {
        var set = new HashSet<string>();
        bool fence = false;
        foreach (var line in markdown.Replace("\r\n", "\n").Split('\n'))
        {
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) { fence = !fence; continue; }
            if (fence) continue;
            var m = NumberedHeading.Match(line);
            if (m.Success) set.Add(m.Groups["num"].Value.TrimEnd('.'));
        }
        return set;
    }

    private static string TagPrefix(string tag) => new(tag.TakeWhile(char.IsLetter).ToArray());
}
