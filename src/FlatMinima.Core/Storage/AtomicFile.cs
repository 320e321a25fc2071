namespace FlatMinima.Storage;

/// <summary>
/// Writes files through a temporary file in the same folder and a rename, so that a reader never sees half a file and
/// a crash leaves either the old file or the new one under the final name. The temporary file is named
/// <c>.NAME.PID.tmp</c>; <see cref="IsTemporary"/> recognises such names and <see cref="CleanOrphans"/> removes those
/// of processes that no longer run, so that a later run cleans up after a process killed between the write and the
/// rename. A write that fails (a full disk, a read-only folder) removes its temporary file and throws an
/// <see cref="IOException"/> that names the final file.
/// </summary>
public static class AtomicFile
{
    /// <summary>Atomically replaces <paramref name="path"/> with <paramref name="contents"/> (UTF-8).</summary>
    public static void WriteAllText(string path, string contents) => Write(path, s =>
    {
        using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), bufferSize: -1, leaveOpen: true);
        w.Write(contents);
    });

    /// <summary>Atomically replaces <paramref name="path"/> with <paramref name="bytes"/>.</summary>
    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    /// <summary>Atomically replaces <paramref name="path"/> with what <paramref name="write"/> writes into a stream.
    /// If <paramref name="write"/> throws, the temporary file is removed and the old file stays. A failure of the file
    /// system is an <see cref="IOException"/> naming <paramref name="path"/> (the original error is its inner exception).</summary>
    /// <remarks>The stream is a managed <see cref="FileStream"/>: a writer implemented in native code (an image
    /// encoder) should render into memory and pass the bytes to <see cref="WriteAllBytes"/>, because an exception
    /// thrown through native frames cannot be caught and ends the process.</remarks>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string tmp = TemporaryPath(full);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(fs);
                // An exporter may close the stream itself; what it wrote is then already flushed.
                if (fs.CanWrite) fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw new IOException($"cannot write {full}: {Reason(e)}", e);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>The reason of a file-system error without the path .NET appends (the caller names the file).</summary>
    public static string Reason(Exception e)
    {
        string m = e.Message.Trim();
        int cut = m.IndexOf(" : '", StringComparison.Ordinal);
        if (cut > 0 && m.EndsWith('\'')) m = m[..cut];
        return m.TrimEnd('.');
    }

    /// <summary>The temporary name used for <paramref name="path"/> by this process.</summary>
    public static string TemporaryPath(string path)
    {
        string full = Path.GetFullPath(path);
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
    }

    /// <summary>Whether <paramref name="fileName"/> is a temporary name of the form <c>.NAME.PID.tmp</c>.</summary>
    public static bool IsTemporary(string fileName) => TemporaryOwner(fileName) is not null;

    /// <summary>The process id in a temporary name <c>.NAME.PID.tmp</c>, or null when the name is not one.</summary>
    public static int? TemporaryOwner(string fileName)
    {
        string name = Path.GetFileName(fileName);
        if (!name.StartsWith('.') || !name.EndsWith(".tmp", StringComparison.Ordinal)) return null;
        string stem = name[..^4];
        int dot = stem.LastIndexOf('.');
        if (dot <= 0 || dot + 1 >= stem.Length || !stem[(dot + 1)..].All(char.IsAsciiDigit)) return null;
        return int.TryParse(stem[(dot + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid) ? pid : null;
    }

    /// <summary>
    /// Removes the temporary files and folders (<c>.NAME.PID.tmp</c>) in <paramref name="directory"/> whose process no
    /// longer runs on this machine: what a killed writer left behind. With <paramref name="name"/>, only those of that
    /// file. Best effort: what cannot be removed (a read-only folder) is left. Returns the names removed.
    /// </summary>
    /// <remarks>Process ids are those of this machine: call it in a folder that processes on other machines do not
    /// write at the same time (a run directory under its lock, a sweep directory under its exclusive lock).</remarks>
    public static IReadOnlyList<string> CleanOrphans(string directory, string? name = null)
    {
        var removed = new List<string>();
        if (!Directory.Exists(directory)) return removed;
        IEnumerable<string> entries;
        try { entries = Directory.EnumerateFileSystemEntries(directory, ".*.tmp").ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return removed; }
        foreach (var entry in entries)
        {
            string file = Path.GetFileName(entry);
            if (TemporaryOwner(file) is not int pid || pid == Environment.ProcessId || IsRunning(pid)) continue;
            if (name is not null && !file.StartsWith("." + name + ".", StringComparison.Ordinal)) continue;
            try
            {
                if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true); else File.Delete(entry);
                removed.Add(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
        return removed;
    }

    /// <summary>Whether a process with id <paramref name="pid"/> runs on this machine.</summary>
    public static bool IsRunning(int pid)
    {
        if (OperatingSystem.IsLinux()) return Directory.Exists($"/proc/{pid}");
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
