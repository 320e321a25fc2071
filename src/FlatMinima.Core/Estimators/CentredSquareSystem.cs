using FlatMinima.Numerics;

namespace FlatMinima.Estimators;

/// <summary>
/// The square-loss normal equations with the bias eliminated: for ½(y − a·w − b)² with a = x/√N, b = ȳ − ā·w leaves
/// AcᵀAc w (+ penalty) = Acᵀ(y − ȳ) with Ac = A − 1āᵀ (no centring without a bias), in double precision: the
/// fixed-norm (secular-equation) solve needs the matrix itself. (The ridge solve goes through
/// <see cref="ILinearAlgebraProvider.SolveCentredRidge"/>.)
/// </summary>
internal sealed class CentredSquareSystem
{
    /// <summary>Mean label ȳ (0 without bias).</summary>
    public double YMean { get; }
    /// <summary>Mean scaled input ā (zeros without bias).</summary>
    public double[] AMean { get; }
    /// <summary>AcᵀAc, N × N row-major (symmetric).</summary>
    public double[] Gram { get; }
    /// <summary>Acᵀ(y − ȳ).</summary>
    public double[] Rhs { get; }

    public CentredSquareSystem(double[] x, double[] y, int p, int n, bool fitBias, int threads)
        : this(x, y, p, n, Means(x, y, p, n, fitBias), threads) { }

    /// <summary>Builds the system from means already computed (see <see cref="Means"/>), with
    /// <see cref="ILinearAlgebraProvider.CentredColumnGram"/> on <paramref name="threads"/> threads.</summary>
    public CentredSquareSystem(double[] x, double[] y, int p, int n, (double YMean, double[] AMean) means, int threads)
    {
        double scale = 1 / Math.Sqrt(n);
        (YMean, AMean) = means;
        Gram = new double[MemoryBudget.SquareMatrixLength(n, "n")];
        Rhs = new double[n];
        double ym = YMean;
        LinearAlgebra.Current.CentredColumnGram(x, p, n, scale, AMean, y.Select(v => v - ym).ToArray(), Gram, Rhs, threads);
    }

    /// <summary>ȳ and ā = (1/P) Σ_μ x^μ/√N; zeros without a bias (no centring).</summary>
    public static (double YMean, double[] AMean) Means(double[] x, double[] y, int p, int n, bool fitBias)
    {
        var aMean = new double[n];
        if (!fitBias) return (0, aMean);
        double scale = 1 / Math.Sqrt(n);   // same arithmetic as before the refactor: results stay bit-identical
        LinearAlgebra.Current.Gemv(true, p, n, 1.0, x, Enumerable.Repeat(scale / p, p).ToArray(), 0.0, aMean);
        return (y.Average(), aMean);
    }

    /// <summary>The bias b = ȳ − ā·w of given weights.</summary>
    public double Bias(ReadOnlySpan<double> w) => YMean - Kernels.Dot(AMean, w);
}
