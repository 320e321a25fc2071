using System.Globalization;
using System.Text;
using FlatMinima.Storage;

namespace FlatMinima.Cli.Infrastructure;

/// <summary>
/// Machine output (one JSON object, snake_case keys, on stdout) and human output (tables). Non-finite numbers
/// become JSON null. Doubles are written in shortest round-trip form, so equal numbers give identical bytes.
/// </summary>
public static class Output
{
    /// <summary>Serialises a value tree as indented JSON.</summary>
    public static string Json(object? value) => JsonText.Serialize(value);

    /// <summary>Writes one JSON object to stdout.</summary>
    public static void WriteJson(TextWriter stdout, object? value) => stdout.WriteLine(Json(value));

    /// <summary>Formats a number for a human table: 5 significant digits, or "—" when missing.</summary>
    public static string Num(double x, string format = "G5") =>
        double.IsFinite(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "—";

    /// <summary>A cell of a human table: a number in <paramref name="format"/>, true/false, or the value's text.</summary>
    public static string Cell(object? v, string format = "G5") => v switch
    {
        double d => Num(d, format),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v?.ToString() ?? "",
    };

    /// <summary>A value ± its standard error, for human tables.</summary>
    public static string Pm(double mean, double se) =>
        double.IsFinite(se) ? $"{Num(mean)} ± {Num(se, "G2")}" : Num(mean);

    /// <summary>Renders a plain left-aligned text table.</summary>
    public static string Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = new List<IReadOnlyList<string>> { header };
        all.AddRange(rows);
        var width = new int[header.Count];
        foreach (var r in all) for (int i = 0; i < r.Count; i++) width[i] = Math.Max(width[i], r[i].Length);
        var sb = new StringBuilder();
        for (int ri = 0; ri < all.Count; ri++)
        {
            var r = all[ri];
            sb.AppendLine(string.Join("  ", r.Select((c, i) => c.PadRight(width[i]))).TrimEnd());
            if (ri == 0) sb.AppendLine(string.Join("  ", width.Select(w => new string('-', w))));
        }
        return sb.ToString();
    }
}
