namespace FlatMinima.Experiments;

/// <summary>A generated table in a document: the text between <c>&lt;!-- table: NAME --&gt;</c> and
/// <c>&lt;!-- end table --&gt;</c>.</summary>
/// <param name="Name">The table's name in <see cref="ReferenceTables"/>.</param>
/// <param name="MarkerLine">1-based line of the opening marker.</param>
/// <param name="EndLine">1-based line of the closing marker.</param>
/// <param name="Content">The lines between the markers, without leading and trailing blank lines.</param>
public sealed record TableBlock(string Name, int MarkerLine, int EndLine, IReadOnlyList<string> Content);

/// <summary>Something wrong with a marked table: stale, unknown, or badly marked.</summary>
/// <param name="Table">The table's name (empty for a marker without a name).</param>
/// <param name="Line">1-based line of the opening marker (or of the stray marker).</param>
/// <param name="Message">What is wrong, with the first differing cell for a stale table.</param>
public sealed record TableFinding(string Table, int Line, string Message);

/// <summary>
/// The marked table blocks of a Markdown document, found, checked and rewritten as pure functions of the text. A block
/// is the line <c>&lt;!-- table: NAME --&gt;</c>, the table, and the line <c>&lt;!-- end table --&gt;</c>; its content is
/// written as a blank line, the generated Markdown and a blank line, so that every Markdown renderer sees the table as
/// its own block.
/// </summary>
public static class ReferenceTableBlocks
{
    private const string OpenPrefix = "<!-- table:", OpenSuffix = "-->", EndMarker = "<!-- end table -->";

    /// <summary>The opening marker of table <paramref name="name"/>.</summary>
    public static string Marker(string name) => $"<!-- table: {name} -->";

    /// <summary>The closing marker.</summary>
    public static string End => EndMarker;

    /// <summary>Every marked block of <paramref name="text"/>, and the marking errors (an opening marker without a name
    /// or without its end, a nested opening marker, a stray end marker).</summary>
    public static (IReadOnlyList<TableBlock> Blocks, IReadOnlyList<TableFinding> Errors) Find(string text)
    {
        var lines = SplitLines(text);
        var blocks = new List<TableBlock>();
        var errors = new List<TableFinding>();
        int open = -1;
        string? name = null;
        for (int i = 0; i < lines.Length; i++)
        {
            string t = lines[i].Trim();
            if (t.StartsWith(OpenPrefix, StringComparison.Ordinal) && t.EndsWith(OpenSuffix, StringComparison.Ordinal))
            {
                if (open >= 0)
                    errors.Add(new(name!, open + 1, $"table '{name}' has no '{EndMarker}' before the next table marker (line {i + 1})."));
                name = t[OpenPrefix.Length..^OpenSuffix.Length].Trim();
                open = i;
                if (name.Length == 0) { errors.Add(new("", i + 1, "table marker without a name.")); open = -1; }
            }
            else if (t == EndMarker)
            {
                if (open < 0) { errors.Add(new("", i + 1, $"'{EndMarker}' without an opening table marker.")); continue; }
                blocks.Add(new TableBlock(name!, open + 1, i + 1, TrimBlank(lines[(open + 1)..i])));
                open = -1;
            }
        }
        if (open >= 0) errors.Add(new(name!, open + 1, $"table '{name}' has no '{EndMarker}'."));
        return (blocks, errors);
    }

    /// <summary>
    /// Compares every marked block with what <paramref name="generate"/> gives for its name and returns one finding per
    /// stale or unknown table (and per marking error). A stale table's message names the first differing cell.
    /// <paramref name="generate"/> throws <see cref="ArgumentException"/> for an unknown name.
    /// </summary>
    public static IReadOnlyList<TableFinding> Check(string text, Func<string, string> generate)
    {
        ArgumentNullException.ThrowIfNull(generate);
        var (blocks, errors) = Find(text);
        var findings = new List<TableFinding>(errors);
        foreach (var b in blocks)
        {
            string expected;
            try { expected = generate(b.Name); }
            catch (ArgumentException e) { findings.Add(new(b.Name, b.MarkerLine, e.Message)); continue; }
            string? diff = FirstDifference(TrimBlank(SplitLines(expected)), b.Content);
            if (diff is not null) findings.Add(new(b.Name, b.MarkerLine, $"table '{b.Name}' is stale: {diff}"));
        }
        return findings;
    }

    /// <summary>
    /// <paramref name="text"/> with the content of every marked block replaced by what <paramref name="generate"/>
    /// gives for its name. Line endings are kept.
    /// </summary>
    /// <exception cref="FormatException">A marking error or an unknown table name (the message gives the line).</exception>
    public static string Update(string text, Func<string, string> generate)
    {
        ArgumentNullException.ThrowIfNull(generate);
        var (blocks, errors) = Find(text);
        if (errors.Count > 0) throw new FormatException($"line {errors[0].Line}: {errors[0].Message}");
        string nl = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        var lines = SplitLines(text);
        var result = new List<string>();
        int next = 0;
        foreach (var b in blocks)
        {
            string generated;
            try { generated = generate(b.Name); }
            catch (ArgumentException e) { throw new FormatException($"line {b.MarkerLine}: {e.Message}", e); }
            result.AddRange(lines[next..b.MarkerLine]); // up to and including the opening marker
            result.Add("");
            result.AddRange(TrimBlank(SplitLines(generated)));
            result.Add("");
            next = b.EndLine - 1; // the closing marker
        }
        result.AddRange(lines[next..]);
        return string.Join(nl, result);
    }

    /// <summary>
    /// Null if the two tables have the same lines; otherwise where they first differ, as "row R (LABEL), column
    /// 'HEADER': the document has 'X', the engine gives 'Y'" (or a line-level description when the shapes differ).
    /// </summary>
    public static string? FirstDifference(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        int n = Math.Max(expected.Count, actual.Count);
        string[]? header = expected.Count > 0 ? MarkdownTable.Cells(expected[0]) : null;
        for (int i = 0; i < n; i++)
        {
            string? e = i < expected.Count ? expected[i] : null, a = i < actual.Count ? actual[i] : null;
            if (e is not null && a is not null && e.Trim() == a.Trim()) continue;
            if (e is null) return $"line {i + 1} of the table is extra in the document: '{a!.Trim()}'.";
            if (a is null) return $"the document lacks line {i + 1} of the table: '{e.Trim()}'.";
            var ec = MarkdownTable.Cells(e);
            var ac = MarkdownTable.Cells(a);
            if (ec is null || ac is null || ec.Length != ac.Length)
                return $"line {i + 1} of the table differs: the document has '{a.Trim()}', the engine gives '{e.Trim()}'.";
            for (int c = 0; c < ec.Length; c++)
            {
                if (ec[c] == ac[c]) continue;
                string where = i == 0 ? "header" : i == 1 ? "alignment row" : $"row {i - 1} ({ec[0]})";
                string column = header is not null && c < header.Length ? header[c] : $"#{c + 1}";
                return $"{where}, column '{column}': the document has '{ac[c]}', the engine gives '{ec[c]}'.";
            }
            // Same cells, different spacing.
            return $"line {i + 1} of the table differs in spacing only: the document has '{a.Trim()}', the engine gives '{e.Trim()}'.";
        }
        return null;
    }

    private static string[] SplitLines(string text) => text.Replace("\r\n", "\n").Split('\n');

    private static IReadOnlyList<string> TrimBlank(IReadOnlyList<string> lines)
    {
        int a = 0, b = lines.Count;
        while (a < b && string.IsNullOrWhiteSpace(lines[a])) a++;
        while (b > a && string.IsNullOrWhiteSpace(lines[b - 1])) b--;
        return lines.Skip(a).Take(b - a).ToArray();
    }
}
