namespace FlatMinima.Storage;

/// <summary>
/// Writes files through a temporary file in the same folder and a rename, so that a reader never sees half a file and
/// a crash leaves either the old file or the new one under the final name. The temporary file is named
/// <c>.NAME.PID.tmp</c>; <see cref="IsTemporary"/> recognises such names so that a later run can clean up after a
/// process that died between the write and the rename.
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
    /// If <paramref name="write"/> throws, the temporary file is removed and the old file stays.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string tmp = TemporaryPath(full);
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(fs);
                // An exporter may close the stream itself; what it wrote is then already flushed.
                if (fs.CanWrite) fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>The temporary name used for <paramref name="path"/> by this process.</summary>
    public static string TemporaryPath(string path)
    {
        string full = Path.GetFullPath(path);
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
    }

    /// <summary>Whether <paramref name="fileName"/> is a temporary name of the form <c>.NAME.PID.tmp</c>.</summary>
    public static bool IsTemporary(string fileName)
    {
        string name = Path.GetFileName(fileName);
        if (!name.StartsWith('.') || !name.EndsWith(".tmp", StringComparison.Ordinal)) return false;
        string stem = name[..^4];
        int dot = stem.LastIndexOf('.');
        return dot > 0 && stem[(dot + 1)..].All(char.IsAsciiDigit) && dot + 1 < stem.Length;
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
