using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FlatMinima.Storage;

/// <summary>
/// JSON of a value tree (dictionaries, lists, numbers, strings, booleans) as manifests, results and <c>--json</c> output
/// write it: indented, snake_case keys as given, non-finite numbers as null, doubles in shortest round-trip form (equal
/// numbers give identical bytes), non-ASCII text unescaped.
/// </summary>
public static class JsonText
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Converts a value tree into a JSON node.</summary>
    public static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        JsonNode n => n.Parent is null ? n : n.DeepClone(),
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
    public static string Serialize(object? value) => ToNode(value)?.ToJsonString(Options) ?? "null";

    /// <summary>Writes a value tree as JSON to <paramref name="path"/>, atomically.</summary>
    public static void Write(string path, object? value) => AtomicFile.WriteAllText(path, Serialize(value));

    /// <summary>Reads a JSON file; a file that is not JSON is an <see cref="InvalidDataException"/> naming it and the
    /// position of the error (<see cref="Where"/>).</summary>
    public static JsonNode? Read(string path)
    {
        try { return JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: invalid JSON {Where(e)}", e); }
    }

    /// <summary>
    /// A parser error as a message line: the 1-based line and column (byte in the line) of the error, the JSON path when
    /// the parser knows it, and the parser's reason without its own position suffix, e.g.
    /// <c>at line 3, column 14 ($.training.seed): the JSON value could not be converted to System.Int64.</c>
    /// </summary>
    public static string Where(JsonException e)
    {
        string reason = e.Message;
        int cut = reason.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut < 0) cut = reason.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        if (cut >= 0) reason = reason[..cut];
        reason = reason.Trim();
        if (reason.Length > 0) reason = char.ToLowerInvariant(reason[0]) + reason[1..];
        string at = e.LineNumber is long line ? $"at line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}" : "";
        string path = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" ({e.Path})";
        return $"{at}{path}: {reason}".TrimStart(':', ' ');
    }
}
