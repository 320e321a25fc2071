using System.Globalization;

namespace FlatMinima.Storage;

/// <summary>
/// <c>manifest.json</c> of a run directory: the command and its command line, what defines the run (its options or
/// configuration), versions and git commit (<see cref="Versions"/>), start and end time and status (<c>running</c>,
/// <c>completed</c>, or what the command records, e.g. <c>diverged</c>), plus whatever the command adds. Rewritten
/// atomically at the start and the end.
/// </summary>
public sealed class Manifest
{
    private readonly Dictionary<string, object?> _m;

    /// <param name="path">The manifest file.</param>
    /// <param name="command">The command that runs.</param>
    /// <param name="commandLine">The command line as given, for the record.</param>
    /// <param name="definition">What defines the run (e.g. <c>options</c>, or <c>config</c> and its hash), in order.</param>
    public Manifest(string path, string command, IReadOnlyList<string> commandLine, IEnumerable<KeyValuePair<string, object?>> definition)
    {
        Path = path;
        _m = new Dictionary<string, object?> { ["command"] = command, ["argv"] = commandLine.ToList() };
        foreach (var (k, v) in definition) _m[k] = v;
        _m["versions"] = Versions.Describe();
        _m["started_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        _m["finished_utc"] = null;
        _m["status"] = "running";
        Write();
    }

    /// <summary>The manifest file.</summary>
    public string Path { get; }

    /// <summary>Adds or replaces an entry (written at <see cref="Finish"/>).</summary>
    public void Set(string key, object? value) => _m[key] = value;

    /// <summary>Marks the run finished with <paramref name="status"/> and rewrites the file.</summary>
    public void Finish(string status = "completed")
    {
        _m["finished_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        _m["status"] = status;
        Write();
    }

    private void Write() => JsonText.Write(Path, _m);

    /// <summary>The status recorded in the manifest at <paramref name="path"/>, or null when there is none.</summary>
    public static string? StatusOf(string path) =>
        File.Exists(path) ? JsonText.Read(path)?["status"]?.GetValue<string>() : null;
}
