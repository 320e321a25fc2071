using MathNet.Numerics.Distributions;
using MathNet.Numerics.Statistics;

namespace FlatMinima.Numerics;

/// <summary>A rank correlation with its (1 − level) confidence interval and sample size.</summary>
public sealed record RankCorrelationResult(string Method, double Value, double Lower, double Upper, int N, double Level);

/// <summary>
/// Spearman's ρ (MathNet's <see cref="Correlation.Spearman"/>, average ranks for ties) and Kendall's τ-b, with
/// confidence intervals from the Fisher z-transform and the variance approximations of Fieller, Hartley and Pearson
/// (1957): var z = 1.06/(n − 3) for Spearman, 0.437/(n − 4) for Kendall. The intervals need n ≥ 5 (NaN otherwise).
/// </summary>
public static class RankCorrelation
{
    public static RankCorrelationResult Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y, double level = 0.95)
    {
        Validate(x, y, level);
        double r = x.Count < 2 ? double.NaN : Correlation.Spearman(x, y);
        var (lo, hi) = FisherInterval(r, x.Count, 1.06, 3, level);
        return new RankCorrelationResult("spearman", r, lo, hi, x.Count, level);
    }

    public static RankCorrelationResult Kendall(IReadOnlyList<double> x, IReadOnlyList<double> y, double level = 0.95)
    {
        Validate(x, y, level);
        double t = TauB(x, y);
        var (lo, hi) = FisherInterval(t, x.Count, 0.437, 4, level);
        return new RankCorrelationResult("kendall", t, lo, hi, x.Count, level);
    }

    /// <summary>Kendall's τ-b = (C − D)/√((n0 − n1)(n0 − n2)), with ties in x (n1) and in y (n2) corrected.</summary>
    public static double TauB(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        int n = x.Count;
        long c = 0, d = 0, tx = 0, ty = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                int sx = Math.Sign(x[i] - x[j]), sy = Math.Sign(y[i] - y[j]);
                if (sx == 0 && sy == 0) { tx++; ty++; }
                else if (sx == 0) tx++;
                else if (sy == 0) ty++;
                else if (sx == sy) c++;
                else d++;
            }
        long n0 = (long)n * (n - 1) / 2;
        double den = Math.Sqrt((double)(n0 - tx) * (n0 - ty));
        return den > 0 ? (c - d) / den : double.NaN;
    }

    private static (double, double) FisherInterval(double r, int n, double varNum, int off, double level)
    {
        if (n <= off || double.IsNaN(r) || n < 5) return (double.NaN, double.NaN);
        double rc = Math.Clamp(r, -0.999999, 0.999999);
        double z = Math.Atanh(rc), se = Math.Sqrt(varNum / (n - off)), q = Normal.InvCDF(0, 1, 0.5 + level / 2);
        return (Math.Tanh(z - q * se), Math.Tanh(z + q * se));
    }

    private static void Validate(IReadOnlyList<double> x, IReadOnlyList<double> y, double level)
    {
        if (x.Count != y.Count) throw new ArgumentException($"x and y must have the same length (got {x.Count} and {y.Count}).");
        if (!(level > 0 && level < 1)) throw new ArgumentOutOfRangeException(nameof(level), $"level must lie in (0, 1) (got {level}).");
        if (x.Any(double.IsNaN) || y.Any(double.IsNaN)) throw new ArgumentException("x and y must not contain NaN.");
    }
}
