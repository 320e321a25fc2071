using System.Globalization;
using System.Runtime.InteropServices;

namespace FlatMinima.Storage;

/// <summary>
/// <c>manifest.json</c> of a run directory: the command and its command line, what defines the run (its options or
/// configuration), versions and git commit (<see cref="Versions"/>), start and end time and status (<c>running</c>,
/// <c>completed</c>, <c>interrupted</c>, or what the command records, e.g. <c>diverged</c>), plus whatever the command
/// adds. Rewritten atomically at the start and the end.
/// </summary>
/// <remarks>
/// A process that receives SIGINT or SIGTERM marks every manifest it has not finished <c>interrupted</c> (with the
/// signal and the time) before it ends with the signal's exit code (130, 143): the first manifest installs the
/// handlers, which do not stop the process themselves. What the command had written before stays consistent on its
/// own (atomic files, appended histories, checkpoints that verify), so the run can be resumed.
/// </remarks>
public sealed class Manifest
{
    private static readonly object Gate = new();
    private static readonly HashSet<Manifest> Running = [];
    private static List<PosixSignalRegistration>? _signals;

    private readonly Dictionary<string, object?> _m;
    private bool _closed;

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
        lock (Gate)
        {
            Write();
            Running.Add(this);
            InstallSignalHandlers();
        }
    }

    /// <summary>The manifest file.</summary>
    public string Path { get; }

    /// <summary>Adds or replaces an entry (written at <see cref="Finish"/>).</summary>
    public void Set(string key, object? value)
    {
        lock (Gate) _m[key] = value;
    }

    /// <summary>Marks the run finished with <paramref name="status"/> and rewrites the file. A manifest already marked
    /// interrupted by a signal keeps that status.</summary>
    public void Finish(string status = "completed")
    {
        lock (Gate)
        {
            if (_closed) return;
            _m["finished_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
            _m["status"] = status;
            Write();
            _closed = true;
            Running.Remove(this);
        }
    }

    private void Write() => JsonText.Write(Path, _m);

    /// <summary>Marks every manifest of this process that is still running <c>interrupted</c>, naming
    /// <paramref name="signal"/>; returns how many. Called by the signal handlers; a front end that stops a run in
    /// another way may call it too.</summary>
    public static int InterruptAll(string signal)
    {
        lock (Gate)
        {
            int n = 0;
            foreach (var m in Running)
            {
                m._m["finished_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
                m._m["status"] = "interrupted";
                m._m["signal"] = signal;
                try { m.Write(); n++; }
                catch (IOException) { }   // a manifest that cannot be written stays "running"; the process ends anyway
                m._closed = true;
            }
            Running.Clear();
            return n;
        }
    }

    private static void InstallSignalHandlers()
    {
        if (_signals is not null) return;
        _signals = [];
        try
        {
            // The handlers do not cancel: after they return the runtime ends the process with the signal's default
            // action, i.e. exit code 128 + signal (130 for SIGINT, 143 for SIGTERM).
            _signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => InterruptAll("SIGINT")));
            _signals.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => InterruptAll("SIGTERM")));
        }
        catch (PlatformNotSupportedException) { }
    }

    /// <summary>The status recorded in the manifest at <paramref name="path"/>, or null when there is none.</summary>
    public static string? StatusOf(string path) =>
        File.Exists(path) ? JsonText.Read(path)?["status"]?.GetValue<string>() : null;
}
