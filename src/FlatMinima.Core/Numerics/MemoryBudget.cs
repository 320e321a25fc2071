using System.Globalization;

namespace FlatMinima.Numerics;

/// <summary>
/// Sizes and memory checks made before large arrays are allocated: every matrix length is computed in checked
/// arithmetic against the largest .NET array, and a computation whose estimate exceeds the memory available is
/// refused with a <see cref="ProblemTooLargeException"/> that states the estimate.
/// </summary>
public static class MemoryBudget
{
    /// <summary>
    /// Bytes this process can still allocate: the smaller of the runtime's limit
    /// (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>: physical memory, or a container or heap limit) less the
    /// managed heap in use, and the machine's free memory now (MemAvailable in /proc/meminfo, where readable).
    /// </summary>
    public static long AvailableBytes
    {
        get
        {
            long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes - GC.GetTotalMemory(false);
            long free = MachineFreeBytes();
            return Math.Max(0, free > 0 ? Math.Min(limit, free) : limit);
        }
    }

    /// <summary><see cref="AvailableBytes"/> after a full garbage collection (arrays of finished work, e.g. the
    /// dataset of the previous seed, may still be counted before it). Used before refusing.</summary>
    public static long AvailableAfterCollection()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
        return AvailableBytes;
    }

    /// <summary>Length rows·cols of a row-major matrix, or an <see cref="ArgumentOutOfRangeException"/> naming
    /// <paramref name="parameter"/> when it exceeds the largest array (<see cref="Array.MaxLength"/> values).</summary>
    public static int MatrixLength(int rows, int cols, string parameter)
    {
        long length = (long)rows * cols;
        if (rows < 0 || cols < 0 || length > Array.MaxLength)
            throw new ArgumentOutOfRangeException(parameter, length,
                $"{parameter} is too large: a {rows} x {cols} matrix has {length} entries, more than the largest array " +
                $"({Array.MaxLength}); reduce n or alpha (P = round(alpha n)).");
        return (int)length;
    }

    /// <summary>Length order² of a square matrix (see <see cref="MatrixLength"/>).</summary>
    public static int SquareMatrixLength(int order, string parameter) => MatrixLength(order, order, parameter);

    /// <summary>Refuses a computation that needs more than <see cref="AvailableBytes"/>.</summary>
    /// <param name="bytes">Estimated bytes still to allocate.</param>
    /// <param name="what">What needs them, e.g. "the ERM solve (P = 16000, N = 8000)".</param>
    /// <exception cref="ProblemTooLargeException">The estimate exceeds the memory available.</exception>
    public static void Require(long bytes, string what)
    {
        if (bytes <= AvailableBytes) return;
        long available = AvailableAfterCollection();
        if (bytes > available)
            throw new ProblemTooLargeException(bytes, available,
                $"{what} needs about {Format(bytes)} but {Format(available)} is available; reduce n or alpha.");
    }

    /// <summary>Bytes in decimal units with three significant digits: "1.02 GB".</summary>
    public static string Format(long bytes) => bytes switch
    {
        >= 1_000_000_000 => (bytes / 1e9).ToString("G3", CultureInfo.InvariantCulture) + " GB",
        >= 1_000_000 => (bytes / 1e6).ToString("G3", CultureInfo.InvariantCulture) + " MB",
        _ => (bytes / 1e3).ToString("G3", CultureInfo.InvariantCulture) + " kB",
    };

    private static long MachineFreeBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
                }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        catch (FormatException) { }
        return -1;
    }
}

/// <summary>
/// A problem whose memory estimate exceeds what the machine has: bad input for this machine (the CLI prints the
/// message and exits with code 2). <see cref="ArgumentException.ParamName"/> is "n".
/// </summary>
public sealed class ProblemTooLargeException(long requiredBytes, long availableBytes, string message)
    : ArgumentOutOfRangeException("n", message)
{
    /// <summary>The estimate that did not fit.</summary>
    public long RequiredBytes { get; } = requiredBytes;

    /// <summary>The memory that was available.</summary>
    public long AvailableBytes { get; } = availableBytes;
}
