using System.Globalization;
using System.Text;

namespace FlatMinima.Storage;

/// <summary>
/// A history file of a run: CSV with a header and one or more rows per epoch, the epoch in the first column. Rows are
/// appended (one write and one flush to disk per call), never rewritten, so the cost of an epoch does not grow with
/// the run and a crash loses at most the rows being written. A resume calls <see cref="Reconcile"/> with the epoch of
/// its checkpoint: rows of later epochs (written after the checkpoint, before a kill) and a torn last row are cut
/// off, earlier rows are kept and their epochs returned for the caller to check against what the run must have
/// written.
/// </summary>
public sealed class EpochLog(string path, string header)
{
    /// <summary>The file.</summary>
    public string Path { get; } = path;
    /// <summary>The header line (without the line break).</summary>
    public string Header { get; } = header;

    /// <summary>Whether the file exists.</summary>
    public bool Exists => File.Exists(Path);

    /// <summary>Appends <paramref name="rows"/> (lines without line breaks); the file is created with its header
    /// (atomically) when missing.</summary>
    public void Append(IEnumerable<string> rows)
    {
        var sb = new StringBuilder();
        foreach (var r in rows) sb.Append(r).Append('\n');
        if (sb.Length == 0) return;
        if (!File.Exists(Path)) AtomicFile.WriteAllText(Path, Header + "\n");
        try
        {
            using var fs = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
            fs.Write(Encoding.UTF8.GetBytes(sb.ToString()));
            fs.Flush(flushToDisk: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot append to {Path}: {AtomicFile.Reason(e)}", e);
        }
    }

    /// <summary>Appends one row.</summary>
    public void Append(string row) => Append([row]);

    /// <summary>
    /// Cuts the file after the rows of <paramref name="epoch"/>: the first row of a later epoch and everything after
    /// it, and a last row without its line break (a write cut short), are removed in place. Returns the epochs that
    /// remain (in file order, distinct), or null when the file does not exist. A header other than
    /// <see cref="Header"/> or a malformed complete row is an <see cref="InvalidDataException"/> naming the file and
    /// the line.
    /// </summary>
    public IReadOnlyList<int>? Reconcile(int epoch)
    {
        if (!File.Exists(Path)) return null;
        byte[] bytes = File.ReadAllBytes(Path);
        int headerEnd = Array.IndexOf(bytes, (byte)'\n');
        string expected = Header + "\n";
        if (headerEnd < 0)
        {
            // Only a header cut short (or nothing) was written: the file had no rows yet.
            if (expected.StartsWith(Encoding.UTF8.GetString(bytes), StringComparison.Ordinal)) { AtomicFile.WriteAllText(Path, expected); return []; }
            throw new InvalidDataException($"{Path}: line 1 is not the header '{Header}'.");
        }
        string head = Encoding.UTF8.GetString(bytes, 0, headerEnd).TrimEnd('\r');
        if (head != Header) throw new InvalidDataException($"{Path}: line 1 is '{Shorten(head)}', expected the header '{Header}'.");
        var epochs = new List<int>();
        long cut = bytes.Length;
        int start = headerEnd + 1, line = 1;
        while (start < bytes.Length)
        {
            line++;
            int end = Array.IndexOf(bytes, (byte)'\n', start);
            if (end < 0) { cut = start; break; }   // torn last row
            string text = Encoding.UTF8.GetString(bytes, start, end - start).TrimEnd('\r');
            if (text.Length > 0)
            {
                int comma = text.IndexOf(',');
                string first = comma < 0 ? text : text[..comma];
                if (!int.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out int e) || comma < 0)
                    throw new InvalidDataException($"{Path}: line {line} ('{Shorten(text)}') is not a row of epoch,...");
                if (e > epoch) { cut = start; break; }
                if (epochs.Count == 0 || epochs[^1] != e) epochs.Add(e);
            }
            start = end + 1;
        }
        if (cut < bytes.Length)
        {
            try
            {
                using var fs = new FileStream(Path, FileMode.Open, FileAccess.Write, FileShare.Read);
                fs.SetLength(cut);
                fs.Flush(flushToDisk: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"cannot truncate {Path} to the checkpoint's epoch {epoch}: {AtomicFile.Reason(e)}", e);
            }
        }
        return epochs;
    }

    /// <summary>
    /// Checks that the file's epochs up to a checkpoint (<paramref name="present"/>, from <see cref="Reconcile"/>, null
    /// for a missing file) are exactly <paramref name="expected"/>; otherwise an <see cref="InvalidDataException"/> names
    /// the file, the missing or unexpected epochs and <paramref name="checkpoint"/>.
    /// </summary>
    public void Verify(IReadOnlyList<int>? present, IReadOnlyCollection<int> expected, string checkpoint)
    {
        var have = present ?? [];
        var missing = expected.Except(have).Order().ToList();
        var extra = have.Except(expected).Order().ToList();
        if (missing.Count == 0 && extra.Count == 0 && (present is not null || expected.Count == 0)) return;
        string what = present is null ? "is missing"
            : missing.Count > 0 ? $"has no rows for epoch{(missing.Count > 1 ? "s" : "")} {Ranges(missing)}"
            : $"has rows for epoch{(extra.Count > 1 ? "s" : "")} {Ranges(extra)} that the run does not write";
        throw new InvalidDataException(
            $"{Path} {what}, but {checkpoint} vouches for {(expected.Count == 0 ? "no rows" : "epochs " + Ranges(expected.Order().ToList()))}: " +
            "the history was truncated, deleted or edited, and a checkpoint cannot rebuild it. Restore the file, or train the run again (--overwrite).");
    }

    /// <summary>Epochs as ranges, e.g. <c>1–4, 7</c>.</summary>
    public static string Ranges(IReadOnlyList<int> sorted)
    {
        var parts = new List<string>();
        for (int i = 0; i < sorted.Count;)
        {
            int j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(j == i ? sorted[i].ToString(CultureInfo.InvariantCulture) : $"{sorted[i]}–{sorted[j]}");
            i = j + 1;
        }
        return string.Join(", ", parts);
    }

    private static string Shorten(string s) => s.Length > 60 ? s[..60] + "…" : s;
}
