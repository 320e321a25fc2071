namespace FlatMinima.Numerics;

/// <summary>
/// Validation at the public boundary. Every failure is an <see cref="ArgumentOutOfRangeException"/> whose message
/// names the parameter (in the words of docs/theory.md) and its valid range, so the CLI can print it as one line.
/// </summary>
public static class Guard
{
    /// <summary>Requires a finite value &gt; 0.</summary>
    public static double Positive(double value, string name)
    {
        if (!(value > 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number > 0 (got {Show(value)}).");
        return value;
    }

    /// <summary>Requires a finite value ≥ 0.</summary>
    public static double NonNegative(double value, string name)
    {
        if (!(value >= 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number >= 0 (got {Show(value)}).");
        return value;
    }

    /// <summary>Requires lo &lt; value &lt; hi (open interval).</summary>
    public static double OpenInterval(double value, double lo, double hi, string name)
    {
        if (!(value > lo && value < hi))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must lie in the open interval ({Show(lo)}, {Show(hi)}) (got {Show(value)}).");
        return value;
    }

    /// <summary>Requires lo ≤ value ≤ hi.</summary>
    public static double ClosedInterval(double value, double lo, double hi, string name)
    {
        if (!(value >= lo && value <= hi))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must lie in [{Show(lo)}, {Show(hi)}] (got {Show(value)}).");
        return value;
    }

    /// <summary>Requires an integer ≥ <paramref name="min"/>.</summary>
    public static int AtLeast(int value, int min, string name)
    {
        if (value < min)
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be an integer >= {min} (got {value}).");
        return value;
    }

    /// <summary>Requires a finite number.</summary>
    public static double Finite(double value, string name)
    {
        if (!double.IsFinite(value))
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number (got {Show(value)}).");
        return value;
    }

    private static string Show(double x) => x.ToString("G6", System.Globalization.CultureInfo.InvariantCulture);
}
