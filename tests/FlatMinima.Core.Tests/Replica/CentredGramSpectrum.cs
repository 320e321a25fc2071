using FlatMinima.Mixture;
using MathNet.Numerics.LinearAlgebra;

namespace FlatMinima.Tests.Replica;

/// <summary>
/// The exact finite-N Gaussian system of the replicated square-loss centre at finite temperature (docs/norms.md §3):
/// the eigendecomposition H = Σ h_i v_i v_iᵀ of the centred Gram matrix AᵀA (A = X/√N with its column means removed),
/// the projections c = Vᵀ Aᵀ(y − ȳ), and the multiplier λ that meets the norm budget.
/// </summary>
internal sealed class CentredGramSpectrum
{
    public required int N { get; init; }
    /// <summary>Eigenvalues h_i.</summary>
    public required double[] H { get; init; }
    /// <summary>Eigenvectors (columns).</summary>
    public required Matrix<double> V { get; init; }
    /// <summary>c = Vᵀ Aᵀ(y − ȳ).</summary>
    public required double[] C { get; init; }
    /// <summary>Column means of A and the mean label, for the bias b = ȳ − āᵀw.</summary>
    public required Vector<double> ColumnMean { get; init; }
    public required double LabelMean { get; init; }

    public static CentredGramSpectrum Of(MixtureSample s)
    {
        int n = s.N, p = s.P;
        double sc = 1 / Math.Sqrt(n), yMean = s.Y.Average();
        var a = Matrix<double>.Build.Dense(p, n, (i, j) => s.X[i * n + j] * sc);
        var aMean = a.ColumnSums() / p;
        for (int i = 0; i < p; i++) a.SetRow(i, a.Row(i) - aMean);
        var evd = a.TransposeThisAndMultiply(a).Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Symmetric);
        var c = evd.EigenVectors.TransposeThisAndMultiply(a.TransposeThisAndMultiply(Vector<double>.Build.Dense(s.Y.Select(v => v - yMean).ToArray()))).ToArray();
        return new CentredGramSpectrum
        {
            N = n, H = evd.EigenValues.Select(z => z.Real).ToArray(), V = evd.EigenVectors, C = c, ColumnMean = aMean, LabelMean = yMean,
        };
    }

    /// <summary>The multiplier λ ∈ (−min h, γ) at which the centre's mean square norm plus its thermal fluctuations
    /// equal <paramref name="norm"/>, by bisection (the budget decreases in λ).</summary>
    public double Multiplier(double gamma, double betaY, double norm)
    {
        double Budget(double l)
        {
            double kap = 1 - l / gamma, mean = 0, tr = 0;
            for (int i = 0; i < N; i++) { double r = C[i] / (H[i] + l); mean += kap * kap * r * r; tr += (H[i] + gamma) / (H[i] + l); }
            return mean / N + tr / N * (gamma - l) / (gamma * gamma) / betaY - norm;
        }
        double lo = -H.Min() + 1e-12, hi = gamma - 1e-12;
        for (int it = 0; it < 200; it++) { double mid = 0.5 * (lo + hi); if (Budget(mid) > 0) lo = mid; else hi = mid; }
        return 0.5 * (lo + hi);
    }
}
