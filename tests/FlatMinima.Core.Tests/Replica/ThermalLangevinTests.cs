using FlatMinima.Mixture;
using FlatMinima.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace FlatMinima.Tests.Replica;

/// <summary>
/// The finite-temperature replicated system sampled directly: Langevin dynamics of y replicas and a centre kept on the
/// sphere ‖w̃‖² = NQ (projected Euler–Maruyama), square loss with each replica's bias eliminated, against the exact
/// Gaussian computation with the sphere replaced by its multiplier on the same sample (docs/norms.md §3).
/// N = 80, y = 3, β = 2, γ = 1.5, Q = 0.3, ρ = ¼; 150 000 steps of size 0.02/(s_max + yγ). Observed: m of the centre's
/// time average 0.2523 (Gaussian 0.2524), its q 0.1577 (Gaussian 0.1560; the zero-temperature value would be Q = 0.3).
/// Tolerance: 2 % of m + 0.005 and 5 % of q + 0.005 (time-averaging and O(η) discretisation errors).
/// </summary>
public class ThermalLangevinTests
{
    [Trait("Speed", "Slow")]
    [Fact]
    public void LangevinCentreMeanMatchesTheGaussianComputation()
    {
        const int n = 80, y = 3;
        const double rho = 0.25, norm = 0.3, gamma = 1.5, beta = 2.0; // βy = 6
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, rho), n, 77));
        int p = s.P;
        double sc = 1 / Math.Sqrt(n), yMean = s.Y.Average();
        var a = Matrix<double>.Build.Dense(p, n, (i, j) => s.X[i * n + j] * sc);
        var aMean = a.ColumnSums() / p;
        for (int i = 0; i < p; i++) a.SetRow(i, a.Row(i) - aMean);
        var h = a.TransposeThisAndMultiply(a);
        var g = a.TransposeThisAndMultiply(Vector<double>.Build.Dense(s.Y.Select(v => v - yMean).ToArray()));
        // exact Gaussian centre with the sphere's multiplier from the finite-N budget
        var evd = h.Evd(Symmetricity.Symmetric);
        var ev = evd.EigenValues.Select(z => z.Real).ToArray();
        var c = evd.EigenVectors.TransposeThisAndMultiply(g).ToArray();
        double by = beta * y;
        double Budget(double lam)
        {
            double kap = 1 - lam / gamma, mean = 0, tr = 0;
            for (int i = 0; i < n; i++) { double r = c[i] / (ev[i] + lam); mean += kap * kap * r * r; tr += (ev[i] + gamma) / (ev[i] + lam); }
            return mean / n + tr / n * (gamma - lam) / (gamma * gamma) / by - norm;
        }
        double lo = -ev.Min() + 1e-12, hi = gamma - 1e-12;
        for (int it = 0; it < 200; it++) { double mid = 0.5 * (lo + hi); if (Budget(mid) > 0) lo = mid; else hi = mid; }
        double l = 0.5 * (lo + hi), kappa = 1 - l / gamma;
        var wr = evd.EigenVectors * Vector<double>.Build.Dense(c.Select((ci, i) => ci / (ev[i] + l)).ToArray());
        var exactCentre = kappa * wr;

        // Langevin
        var rng = Rng.ForStream(5, 0);
        double sMax = ev.Max(), eta = 0.02 / (sMax + gamma * y), radius = Math.Sqrt(n * norm), noise = Math.Sqrt(2 * eta / beta);
        var w = Enumerable.Range(0, y).Select(_ => exactCentre.Clone()).ToArray();
        var ct = exactCentre * (radius / exactCentre.L2Norm());
        var sumC = Vector<double>.Build.Dense(n);
        int burn = 10_000, steps = 150_000;
        var z = Vector<double>.Build.Dense(n);
        for (int t = 0; t < burn + steps; t++)
        {
            var gc = Vector<double>.Build.Dense(n);
            for (int r = 0; r < y; r++)
            {
                var grad = h * w[r] - g + gamma * (w[r] - ct);
                gc += gamma * (ct - w[r]);
                for (int j = 0; j < n; j++) z[j] = rng.NextGaussian();
                w[r] = w[r] - eta * grad + noise * z;
            }
            for (int j = 0; j < n; j++) z[j] = rng.NextGaussian();
            ct = ct - eta * gc + noise * z;
            ct *= radius / ct.L2Norm();
            if (t >= burn) sumC += ct;
        }
        var meanC = sumC / steps;
        var v = Vector<double>.Build.Dense(s.V);
        double mL = meanC.DotProduct(v) / n, qL = meanC.DotProduct(meanC) / n;
        double mE = exactCentre.DotProduct(v) / n, qE = exactCentre.DotProduct(exactCentre) / n;
        Assert.True(Math.Abs(mL - mE) < 0.02 * Math.Abs(mE) + 0.005, $"m: Langevin {mL:G4}, Gaussian {mE:G4}");
        Assert.True(Math.Abs(qL - qE) < 0.05 * qE + 0.005, $"q of the mean: Langevin {qL:G4}, Gaussian {qE:G4}");
    }
}
