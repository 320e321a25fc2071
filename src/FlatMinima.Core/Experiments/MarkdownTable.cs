using System.Globalization;
using System.Text;
using FlatMinima.Numerics;

namespace FlatMinima.Experiments;

/// <summary>Horizontal alignment of a Markdown table column.</summary>
public enum ColumnAlignment
{
    /// <summary>Text: <c>---</c>.</summary>
    Left,
    /// <summary>Numbers: <c>---:</c>.</summary>
    Right,
}

/// <summary>
/// A table of already formatted cells, written as a GitHub Markdown table: a header row, an alignment row and one
/// line per row, each cell padded to its column's width so that the source reads as a table too. Numbers are
/// formatted by the caller (see <see cref="TableFormat"/>) with a fixed number of digits per column, so the text is
/// the same on every run and a changed digit is a changed line.
/// </summary>
public sealed class MarkdownTable
{
    private readonly List<string[]> _rows = [];

    /// <summary>Column headers.</summary>
    public IReadOnlyList<string> Header { get; }
    /// <summary>Rows of formatted cells.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Rows => _rows;

    /// <summary>A table with the given columns. Without <paramref name="alignment"/> the first column (the row labels)
    /// and every column with a cell that starts with a letter are left-aligned, the others (numbers) right-aligned.</summary>
    public MarkdownTable(IReadOnlyList<string> header, IReadOnlyList<ColumnAlignment>? alignment = null)
    {
        if (header.Count == 0) throw new ArgumentException("a table needs at least one column.", nameof(header));
        if (alignment is not null && alignment.Count != header.Count)
            throw new ArgumentException($"{alignment.Count} alignments for {header.Count} columns.", nameof(alignment));
        Header = header.Select(Clean).ToArray();
        _alignment = alignment?.ToArray();
    }

    private readonly ColumnAlignment[]? _alignment;

    /// <summary>Column alignments, one per header.</summary>
    public IReadOnlyList<ColumnAlignment> Alignment => _alignment ?? Header.Select((_, c) =>
        c == 0 || _rows.Any(r => r[c].Length > 0 && char.IsLetter(r[c][0])) ? ColumnAlignment.Left : ColumnAlignment.Right).ToArray();

    /// <summary>Appends a row; it must have one cell per column.</summary>
    public MarkdownTable Add(params string[] cells)
    {
        if (cells.Length != Header.Count)
            throw new ArgumentException($"a row of {cells.Length} cells for {Header.Count} columns.", nameof(cells));
        _rows.Add(cells.Select(Clean).ToArray());
        return this;
    }

    // A '|' inside a cell would split it; a newline would end the table.
    private static string Clean(string cell) => cell.Replace("|", "\\|").Replace('\n', ' ').Trim();

    /// <summary>The table's lines (no trailing newline on the last).</summary>
    public IReadOnlyList<string> Lines()
    {
        var align = Alignment;
        var width = Header.Select((h, c) => Math.Max(3, _rows.Select(r => r[c].Length).Append(h.Length).Max())).ToArray();
        var lines = new List<string> { Line(Header, width, align, header: true) };
        lines.Add("|" + string.Join("|", width.Select((w, c) =>
            " " + (align[c] == ColumnAlignment.Right ? new string('-', w - 1) + ":" : new string('-', w)) + " ")) + "|");
        lines.AddRange(_rows.Select(r => Line(r, width, align, header: false)));
        return lines;
    }

    private static string Line(IReadOnlyList<string> cells, int[] width, IReadOnlyList<ColumnAlignment> align, bool header) =>
        "|" + string.Join("|", cells.Select((s, c) =>
            " " + (align[c] == ColumnAlignment.Right && !header ? s.PadLeft(width[c]) : s.PadRight(width[c])) + " ")) + "|";

    /// <summary>The table as Markdown, lines separated by '\n', ending with a newline.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var l in Lines()) sb.Append(l).Append('\n');
        return sb.ToString();
    }

    /// <summary>Splits a Markdown table line into its cells (unescaping <c>\|</c>); null if it is not a table line.</summary>
    public static string[]? Cells(string line)
    {
        string t = line.Trim();
        if (t.Length < 2 || t[0] != '|' || t[^1] != '|') return null;
        var cells = new List<string>();
        var cur = new StringBuilder();
        for (int i = 1; i < t.Length - 1; i++)
        {
            if (t[i] == '\\' && t[i + 1] == '|') { cur.Append('|'); i++; continue; }
            if (t[i] == '|') { cells.Add(cur.ToString().Trim()); cur.Clear(); continue; }
            cur.Append(t[i]);
        }
        cells.Add(cur.ToString().Trim());
        return cells.ToArray();
    }
}

/// <summary>
/// Number formats of the reference tables: invariant culture, the Unicode minus sign, no negative zero, and a fixed
/// number of digits per column, so that two runs that agree to the printed digits print the same text.
/// </summary>
public static class TableFormat
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary><paramref name="x"/> with <paramref name="decimals"/> digits after the point ("0.20711").</summary>
    public static string Fixed(double x, int decimals)
    {
        if (double.IsNaN(x)) return "—";
        string s = x.ToString("F" + decimals, Inv);
        return Minus(s);
    }

    /// <summary><paramref name="x"/> with an explicit sign ("+1.2", "−0.3"; zero as printed, "0.0").</summary>
    public static string Signed(double x, int decimals)
    {
        string s = Fixed(x, decimals);
        return s.StartsWith('−') || s.All(c => c is '0' or '.') ? s : "+" + s;
    }

    /// <summary>Mean ± standard error, both with <paramref name="decimals"/> decimals ("0.20568 ± 0.00039").</summary>
    public static string MeanSe(Statistic s, int decimals) =>
        $"{Fixed(s.Mean, decimals)} ± {Fixed(s.StdError, decimals)}";

    /// <summary>
    /// <paramref name="x"/> with <paramref name="digits"/> significant digits: plain decimals for 10⁻⁴ ≤ |x| &lt; 10⁶
    /// ("0.000544522", "211.456"), otherwise mantissa·10^exponent ("5.99871·10⁻⁸"); exactly 0 prints "0".
    /// </summary>
    public static string Significant(double x, int digits)
    {
        if (double.IsNaN(x)) return "—";
        if (x == 0) return "0";
        double ax = Math.Abs(x);
        int exp = (int)Math.Floor(Math.Log10(ax));
        // Rounding may carry into the next decade (9.9999995 → 10.0000).
        double mant = Math.Round(ax / Math.Pow(10, exp), digits - 1);
        if (mant >= 10) { exp++; mant /= 10; }
        if (exp >= -4 && exp < 6)
        {
            int decimals = Math.Max(0, digits - 1 - exp);
            return Fixed(x, decimals);
        }
        string m = mant.ToString("F" + (digits - 1), Inv);
        return (x < 0 ? "−" : "") + m + "·10" + Superscript(exp);
    }

    /// <summary>A power of ten, e.g. 10⁻³ for −3, 1 for 0, 10 for 1, 10⁴ for 4.</summary>
    public static string PowerOfTen(int exponent) => exponent switch
    {
        0 => "1",
        1 => "10",
        2 => "100",
        _ => "10" + Superscript(exponent),
    };

    /// <summary>A regularisation strength as the tables print it: powers of ten as 10⁻³ … 10⁴ (0.1, 1, 10, 100
    /// written out), anything else with up to 4 significant digits.</summary>
    public static string Lambda(double lambda)
    {
        double l = Math.Log10(lambda);
        int e = (int)Math.Round(l);
        if (Math.Abs(l - e) < 1e-12 && lambda > 0) return e == -1 ? "0.1" : PowerOfTen(e);
        return Minus(lambda.ToString("G4", Inv));
    }

    /// <summary>A theory value as docs/theory.md#tables prints it: 5 decimals, 4 when |x| ≥ 100 ("0.04163", "211.4559").</summary>
    public static string TheoryValue(double x) => Fixed(x, Math.Abs(x) >= 100 ? 4 : 5);

    /// <summary>A parameter as one types it after an option (<c>--lambda 1e-3</c>), as docs/theory.md's tables print λ:
    /// powers of ten below 0.1 or above 100 as 1e-3, 1e4; anything else with up to 4 significant digits (0.05, 0.1, 1, 100).</summary>
    public static string AsTyped(double x)
    {
        double l = Math.Log10(Math.Abs(x));
        int e = (int)Math.Round(l);
        if (x != 0 && Math.Abs(l - e) < 1e-12 && (e < -1 || e > 2)) return (x < 0 ? "−" : "") + "1e" + e.ToString(Inv);
        return Minus(x.ToString("G4", Inv));
    }

    /// <summary>A short number as written in a label or a header ("0.25", "2", "1e4" → "10⁴").</summary>
    public static string Short(double x) => Minus(x.ToString("G6", Inv));

    /// <summary>Unicode superscript of an integer ("⁻³").</summary>
    public static string Superscript(int n)
    {
        const string digits = "⁰¹²³⁴⁵⁶⁷⁸⁹";
        var sb = new StringBuilder();
        if (n < 0) sb.Append('⁻');
        foreach (char c in Math.Abs(n).ToString(Inv)) sb.Append(digits[c - '0']);
        return sb.ToString();
    }

    // The Unicode minus, and "−0.000" (a small negative number rounded to zero) printed as "0.000".
    private static string Minus(string s)
    {
        if (!s.StartsWith('-')) return s;
        return s.Skip(1).All(c => c is '0' or '.') ? s[1..] : "−" + s[1..];
    }
}
