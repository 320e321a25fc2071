using System.Globalization;

namespace FlatMinima.Storage;

/// <summary>Raised when another process holds the lock of a folder: a fault of the environment (exit code 1 in the
/// CLI), whose message names the folder, the holder and what to do.</summary>
public sealed class DirectoryLockedException(string message) : IOException(message);

/// <summary>
/// An advisory lock on a folder, so that two processes never work in one run or sweep directory at once. The lock is
/// an operating-system lock (<c>flock</c>) on the file <c>NAME</c> in the folder, held while the returned object lives:
/// it is released when the process ends in any way, a kill included, so a lock is never left behind. Beside it,
/// <c>NAME.holder</c> records who holds it (process id, host, start time, purpose) for the message another process
/// gets; a holder file that remains while nobody holds the lock is the trace of a process that died, reported as a
/// stale lock and replaced (<see cref="StaleHolder"/>). An exclusive lock excludes every other; shared locks (job-array
/// tasks of one sweep) exclude only an exclusive one. Within one process a lock already held is reentrant. The lock
/// file stays in the folder (removing it would let two processes lock two different files of the same name).
/// </summary>
/// <remarks>Works on local file systems and NFS (Linux maps <c>flock</c> to NFS locks); on a cluster file system
/// mounted without lock support (Lustre without <c>-o flock</c>) the operating system grants every lock.</remarks>
public sealed class DirectoryLock : IDisposable
{
    private static readonly Dictionary<string, Held> HeldByThisProcess = new(StringComparer.Ordinal);

    private sealed class Held(FileStream stream, bool shared, string holderFile)
    {
        public FileStream Stream { get; } = stream;
        public bool Shared { get; } = shared;
        public string HolderFile { get; } = holderFile;
        public int Count;
    }

    private readonly string _key;
    private bool _released;

    private DirectoryLock(string key, string? stale) { _key = key; StaleHolder = stale; }

    /// <summary>The lock file.</summary>
    public string Path => _key;

    /// <summary>When the lock was taken over from a process that died holding it: who that was (from its holder file);
    /// otherwise null.</summary>
    public string? StaleHolder { get; }

    /// <summary>
    /// Takes the lock <paramref name="name"/> (e.g. <c>.run.lock</c>) of <paramref name="directory"/> (created if needed)
    /// without waiting. <paramref name="purpose"/> (the command) is recorded for the message of a process that finds the
    /// folder busy. Throws <see cref="DirectoryLockedException"/> when another process holds it (or holds it shared
    /// when <paramref name="shared"/> is false).
    /// </summary>
    public static DirectoryLock Acquire(string directory, string name, string purpose, bool shared = false)
    {
        string dir = System.IO.Path.GetFullPath(directory);
        Directory.CreateDirectory(dir);
        string file = System.IO.Path.Combine(dir, name);
        string holderFile = file + ".holder";
        lock (HeldByThisProcess)
        {
            if (HeldByThisProcess.TryGetValue(file, out var held))
            {
                if (held.Shared && !shared)
                    throw new DirectoryLockedException($"{dir} is locked shared by this process and cannot be locked exclusively ({file}).");
                held.Count++;
                return new DirectoryLock(file, null);
            }
            FileStream stream;
            try
            {
                // FileShare.None takes flock(LOCK_EX), any other share mode flock(LOCK_SH), both without waiting.
                stream = shared
                    ? new FileStream(file, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite)
                    : new FileStream(file, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (IsLockedByOther(e))
            {
                // An exclusive holder writes its holder file just after taking the lock; shared holders write none. A
                // moment's wait tells a holder that is starting from shared holders.
                string? holder = ReadHolder(holderFile);
                for (int i = 0; holder is null && i < 20; i++)
                {
                    Thread.Sleep(50);
                    holder = ReadHolder(holderFile);
                }
                string who = holder ?? (shared ? "another process" : "other processes (job-array tasks or --task/--shard runs hold it shared)");
                throw new DirectoryLockedException(
                    $"{dir} is in use by {who} (lock {file}); wait until it finishes, or use another directory. " +
                    "The lock ends with the process that holds it.");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"cannot lock {dir} ({file}): {AtomicFile.Reason(e)}", e);
            }
            string? stale = null;
            if (!shared)
            {
                stale = ReadHolder(holderFile);
                if (stale is not null) stale += " — that process is gone";
                AtomicFile.WriteAllText(holderFile, Describe(purpose));
            }
            HeldByThisProcess[file] = new Held(stream, shared, holderFile) { Count = 1 };
            return new DirectoryLock(file, stale);
        }
    }

    // .NET reports a lock held elsewhere as an IOException carrying EWOULDBLOCK (11 on Linux, 35 on macOS); any other
    // failure (a read-only file system, a missing permission) is not "in use".
    private static bool IsLockedByOther(IOException e) =>
        e is not FileNotFoundException and not DirectoryNotFoundException && e.HResult is 11 or 35;

    /// <summary>Whether this process holds the lock file <paramref name="lockFile"/>.</summary>
    public static bool IsHeld(string lockFile)
    {
        lock (HeldByThisProcess) return HeldByThisProcess.ContainsKey(System.IO.Path.GetFullPath(lockFile));
    }

    private static string Describe(string purpose) =>
        $"process {Environment.ProcessId} on host {Environment.MachineName} since {DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC ({purpose})";

    private static string? ReadHolder(string holderFile)
    {
        try
        {
            string text = File.Exists(holderFile) ? File.ReadAllText(holderFile).Trim() : "";
            return text.Length > 0 ? text : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>Releases the lock (the last holder in this process removes the holder file, then unlocks).</summary>
    public void Dispose()
    {
        if (_released) return;
        _released = true;
        lock (HeldByThisProcess)
        {
            if (!HeldByThisProcess.TryGetValue(_key, out var held) || --held.Count > 0) return;
            HeldByThisProcess.Remove(_key);
            if (!held.Shared)
                try { File.Delete(held.HolderFile); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            held.Stream.Dispose();
        }
    }
}
