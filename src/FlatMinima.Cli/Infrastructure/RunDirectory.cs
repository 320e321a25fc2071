using FlatMinima.Storage;
using System.Globalization;

namespace FlatMinima.Cli.Infrastructure;

/// <summary>
/// An explicit run directory: <c>manifest.json</c> (command, every option, seeds, versions, git commit, start and end
/// time) beside the results. Every file is written atomically.
/// </summary>
public sealed class RunDirectory
{
    /// <summary>The folder.</summary>
    public string Path { get; }
    private readonly Dictionary<string, object?> _manifest;

    /// <summary>Creates (or reuses) <paramref name="path"/> and starts a manifest for the command.</summary>
    public RunDirectory(string path, string command, CommandContext ctx, IReadOnlyDictionary<string, object?> options)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(Path);
        _manifest = new Dictionary<string, object?>
        {
            ["command"] = command,
            ["argv"] = ctx.Argv.ToList(),
            ["options"] = new Dictionary<string, object?>(options),
            ["versions"] = Versions.Describe(),
            ["started_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            ["finished_utc"] = null,
            ["status"] = "running",
        };
        WriteManifest();
    }

    /// <summary>Adds or replaces a manifest entry.</summary>
    public void Set(string key, object? value) => _manifest[key] = value;

    /// <summary>Writes a result file atomically inside the run directory.</summary>
    public void WriteFile(string name, string contents) => AtomicFile.WriteAllText(System.IO.Path.Combine(Path, name), contents);

    /// <summary>Marks the run finished and rewrites the manifest.</summary>
    public void Finish(string status = "completed")
    {
        _manifest["finished_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        _manifest["status"] = status;
        WriteManifest();
    }

    private void WriteManifest() => WriteFile("manifest.json", Output.Json(_manifest));
}
