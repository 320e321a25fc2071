using FlatMinima.Numerics;

namespace FlatMinima.Estimators;

/// <summary>
/// The square-loss normal equations with the bias eliminated: for ½(y − a·w − b)² with a = x/√N, b = ȳ − ā·w leaves
/// AcᵀAc w (+ penalty) = Acᵀ(y − ȳ) with Ac = A − 1āᵀ (no centring without a bias). Shared by the ridge solve and the
/// fixed-norm (secular-equation) solve.
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

    public CentredSquareSystem(double[] x, double[] y, int p, int n, bool fitBias)
    {
        double scale = 1 / Math.Sqrt(n);
        YMean = fitBias ? y.Average() : 0;
        AMean = new double[n];
        if (fitBias) Kernels.MatTVec(x, p, n, Enumerable.Repeat(scale / p, p).ToArray(), AMean);
        // Feature-major centred copy: row j holds (a^μ_j − ā_j) over μ.
        var xt = Kernels.Transpose(x, p, n);
        for (int j = 0; j < n; j++)
        {
            var row = xt.AsSpan(j * p, p);
            double mj = AMean[j];
            for (int mu = 0; mu < p; mu++) row[mu] = row[mu] * scale - mj;
        }
        Gram = Kernels.RowGram(xt, n, p);
        Rhs = new double[n];
        double ym = YMean;
        Kernels.MatVec(xt, n, p, y.Select(v => v - ym).ToArray(), Rhs);
    }

    /// <summary>The bias b = ȳ − ā·w of given weights.</summary>
    public double Bias(ReadOnlySpan<double> w) => YMean - Kernels.Dot(AMean, w);
}
