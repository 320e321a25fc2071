using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FlatMinima.Cli.Infrastructure;

/// <summary>
/// Machine output (one JSON object, snake_case keys, on stdout) and human output (tables). Non-finite numbers
/// become JSON null. Doubles are written in shortest round-trip form, so equal numbers give identical bytes.
/// </summary>
public static class Output
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Converts a value tree (dictionaries, lists, numbers, strings) into a JSON node.</summary>
    public static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        JsonNode n => n,
        double d => double.IsFinite(d) ? JsonValue.Create(d) : null,
        float f => double.IsFinite(f) ? JsonValue.Create((double)f) : null,
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        bool b => JsonValue.Create(b),
        string s => JsonValue.Create(s),
        IDictionary<string, object?> dict => ToObject(dict),
        System.Collections.IEnumerable e => new JsonArray(e.Cast<object?>().Select(ToNode).ToArray()),
        _ => JsonValue.Create(value.ToString()),
    };

    private static JsonObject ToObject(IDictionary<string, object?> dict)
    {
        var o = new JsonObject();
        foreach (var (k, v) in dict) o[k] = ToNode(v);
        return o;
    }

    /// <summary>Serialises a value tree as indented JSON.</summary>
    public static string Json(object? value) => (ToNode(value)?.ToJsonString(Options)) ?? "null";

    /// <summary>Writes one JSON object to stdout.</summary>
    public static void WriteJson(TextWriter stdout, object? value) => stdout.WriteLine(Json(value));

    /// <summary>Formats a number for a human table: 5 significant digits, or "—" when missing.</summary>
    public static string Num(double x, string format = "G5") =>
        double.IsFinite(x) ? x.ToString(format, CultureInfo.InvariantCulture) : "—";

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
