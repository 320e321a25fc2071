using FlatMinima.Estimators;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace FlatMinima.Tests.Replica;

/// <summary>
/// docs/norms.md §3, finite temperature: for the square loss the replicas integrate out exactly, the centre's law is
/// ∝ exp(−βy M_γL(w̃)) on the sphere, and its mean solves (K_γ + μ)w̃ = K_γ w₀ with K_γ = γH(H + γ)⁻¹, w₀ = H⁻¹g
/// (H the centred Gram matrix, μ the sphere's multiplier, whatever β and y are). The identity
/// (K_γ + μ)⁻¹K_γ w₀ = κ (H + λ)⁻¹ g with κ = γ/(γ + μ), λ = μγ/(γ + μ) puts the centre on the rescaled ridge path,
/// and the replicas' mean (H + γ)⁻¹(g + γw̃) is the ridge solution at λ itself. Checked here with exact linear algebra
/// on a finite-N sample.
/// </summary>
public class FiniteTemperatureIdentityTests
{
    [Theory]
    [InlineData(1.0, 0.3)]
    [InlineData(0.2, 2.0)]
    [InlineData(5.0, -0.1)]
    public void CentreMeanIsARescaledRidgeSolution(double gamma, double mu)
    {
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, 0.25), 120, 3));
        int n = s.N, p = s.P;
        double scale = 1 / Math.Sqrt(n), yMean = s.Y.Average();
        var a = Matrix<double>.Build.Dense(p, n, (mu2, j) => s.X[mu2 * n + j] * scale);
        var aMean = a.ColumnSums() / p;
        for (int i = 0; i < p; i++) a.SetRow(i, a.Row(i) - aMean);
        var h = a.TransposeThisAndMultiply(a);
        var g = a.TransposeThisAndMultiply(Vector<double>.Build.Dense(s.Y.Select(v => v - yMean).ToArray()));
        var id = Matrix<double>.Build.DenseIdentity(n);
        var w0 = h.Solve(g);
        var kGamma = gamma * h * (h + gamma * id).Inverse();
        var centre = (kGamma + mu * id).Solve(kGamma * w0);
        double kappa = gamma / (gamma + mu), lambda = mu * gamma / (gamma + mu);
        var ridge = (h + lambda * id).Solve(g);
        Assert.True((centre - kappa * ridge).InfinityNorm() < 1e-8 * ridge.InfinityNorm());
        var replica = (h + gamma * id).Solve(g + gamma * centre);
        Assert.True((replica - ridge).InfinityNorm() < 1e-8 * ridge.InfinityNorm());
        // and the ridge solution is the toolkit's finite-N ERM when λ > 0
        if (lambda > 0)
        {
            var erm = Erm.Fit(s, SquareLoss.Instance, lambda);
            for (int j = 0; j < n; j++) Assert.Equal(ridge[j], erm.Classifier.W[j], 1e-8);
        }
    }
}
