namespace FlatMinima.Numerics;

/// <summary>Sample mean with its standard error over independent repetitions.</summary>
/// <param name="Mean">Sample mean.</param>
/// <param name="StdDev">Sample standard deviation (n − 1 denominator); NaN for a single value.</param>
/// <param name="Count">Number of values.</param>
public readonly record struct Statistic(double Mean, double StdDev, int Count)
{
    /// <summary>Standard error of the mean, StdDev/√n; NaN for a single value.</summary>
    public double StdError => Count > 1 ? StdDev / Math.Sqrt(Count) : double.NaN;

    /// <summary>Mean and spread of <paramref name="values"/> (two-pass, so no cancellation).</summary>
    public static Statistic Of(IReadOnlyList<double> values)
    {
        int n = values.Count;
        if (n == 0) return new Statistic(double.NaN, double.NaN, 0);
        double mean = 0;
        foreach (var v in values) mean += v;
        mean /= n;
        if (n == 1) return new Statistic(mean, double.NaN, 1);
        double ss = 0;
        foreach (var v in values) ss += (v - mean) * (v - mean);
        return new Statistic(mean, Math.Sqrt(ss / (n - 1)), n);
    }
}
