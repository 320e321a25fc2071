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

    /// <summary>
    /// Requires <paramref name="value"/> in the interval from <paramref name="lo"/> to <paramref name="hi"/>, each end
    /// closed or open as given; an infinite end means no bound on that side (the value must still be finite). The
    /// message states the interval in the usual notation, e.g. "must lie in [0, 1)" or "must be a finite number &gt;= 1".
    /// </summary>
    public static double Interval(double value, double lo, bool loClosed, double hi, bool hiClosed, string name)
    {
        bool ok = double.IsFinite(value)
                  && (double.IsNegativeInfinity(lo) || (loClosed ? value >= lo : value > lo))
                  && (double.IsPositiveInfinity(hi) || (hiClosed ? value <= hi : value < hi));
        if (ok) return value;
        string range = double.IsPositiveInfinity(hi) && double.IsNegativeInfinity(lo) ? "must be a finite number"
            : double.IsPositiveInfinity(hi) ? $"must be a finite number {(loClosed ? ">=" : ">")} {Show(lo)}"
            : double.IsNegativeInfinity(lo) ? $"must be a finite number {(hiClosed ? "<=" : "<")} {Show(hi)}"
            : $"must lie in {(loClosed ? "[" : "(")}{Show(lo)}, {Show(hi)}{(hiClosed ? "]" : ")")}";
        throw new ArgumentOutOfRangeException(name, value, $"{name} {range} (got {Show(value)}).");
    }

    private static string Show(double x) => x.ToString("G6", System.Globalization.CultureInfo.InvariantCulture);
}
