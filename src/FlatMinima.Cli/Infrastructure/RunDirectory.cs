using FlatMinima.Storage;

namespace FlatMinima.Cli.Infrastructure;

/// <summary>
/// An explicit run directory of the theory commands (<c>simulate --out</c>): <c>manifest.json</c> (command, every option,
/// seeds, versions, git commit, start and end time; <see cref="Manifest"/>) beside the results. Every file is written
/// atomically.
/// </summary>
public sealed class RunDirectory
{
    /// <summary>The folder.</summary>
    public string Path { get; }
    private readonly Manifest _manifest;

    /// <summary>Creates (or reuses) <paramref name="path"/> and starts a manifest for the command.</summary>
    public RunDirectory(string path, string command, CommandContext ctx, IReadOnlyDictionary<string, object?> options)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(Path);
        AtomicFile.CleanOrphans(Path);   // what a killed earlier run left half written
        _manifest = new Manifest(System.IO.Path.Combine(Path, "manifest.json"), command, ctx.Argv,
            [new("options", new Dictionary<string, object?>(options))]);
    }

    /// <summary>Adds or replaces a manifest entry.</summary>
    public void Set(string key, object? value) => _manifest.Set(key, value);

    /// <summary>Writes a result file atomically inside the run directory.</summary>
    public void WriteFile(string name, string contents) => AtomicFile.WriteAllText(System.IO.Path.Combine(Path, name), contents);

    /// <summary>Marks the run finished and rewrites the manifest.</summary>
    public void Finish(string status = "completed") => _manifest.Finish(status);
}
