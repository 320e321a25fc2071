using FlatMinima.Flatness;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using MathNet.Numerics.LinearAlgebra;

namespace FlatMinima.Tests.Flatness;

public class LocalEntropyTests
{
    [Fact]
    public void SquareLossMatchesTheGaussianIntegral()
    {
        // Square loss + ridge: e^{−βL − βγ/2‖w−w̃‖²} is Gaussian, so ψ(γ) = [−U_min − ½ Σ_i ln((e_i + λ + γ)/γ)]/N exactly,
        // e_i the eigenvalues of AᵀA, A_μj = y^μ x^μ_j/√N. N = 20, α = 2; MALA + thermodynamic integration in γ.
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, 0.5), 20, 3));
        int n = s.N, p = s.P;
        double b = 0.1, lam = 0.5, beta = 1;
        var wt = s.Hebbian().Select(x => x / (Math.Sqrt(n) * 3)).ToArray();
        var a = Matrix<double>.Build.Dense(p, n, (i, j) => s.Y[i] * s.X[i * n + j] / Math.Sqrt(n));
        var c = Vector<double>.Build.Dense(p, i => 1 - s.Y[i] * b);
        var ata = a.TransposeThisAndMultiply(a);
        var eig = ata.Evd().EigenValues.Select(e => e.Real).ToArray();
        var wv = Vector<double>.Build.DenseOfArray(wt);
        double Psi(double g)
        {
            var m = ata + Matrix<double>.Build.DenseIdentity(n) * (lam + g);
            var ws = m.Solve(a.TransposeThisAndMultiply(c) + g * wv);
            var r = c - a * ws;
            double umin = beta * (0.5 * r.DotProduct(r) + 0.5 * lam * ws.DotProduct(ws) + 0.5 * g * (ws - wv).DotProduct(ws - wv));
            return (-umin - 0.5 * eig.Sum(e => Math.Log((e + lam + g) / g))) / n;
        }
        var res = LocalEntropy.Estimate(s, wt, b, SquareLoss.Instance, lam, new LocalEntropyOptions(Beta: beta, Chains: 6));
        foreach (int k in new[] { 0, 4, 8 })
        {
            double exact = Psi(res.Gammas[k]);
            Assert.True(Math.Abs(res.Profile[k] - exact) < 4 * res.ProfileStdError[k] + 0.003,
                $"γ={res.Gammas[k]}: {res.Profile[k]} ± {res.ProfileStdError[k]} vs exact {exact}");
        }
        Assert.Equal(Psi(1e9), res.ReferenceEnergy, 1e-6); // γ → ∞ limit −βL(w̃)/N
    }

    [Fact]
    public void ErrorCountingLossMatchesBruteForceIntegrationInTwoDimensions()
    {
        // N = 2: ψ(γ) = ½ ln ∫ d²w N(w; w̃, 1/(βγ)) e^{−βE(w)} by a 2-D grid (E the number of training errors).
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(3, 1, 0.5), 2, 4));
        var w0 = new[] { 0.8, 0.5 };
        double b = 0.05, beta = 1;
        double Psi(double g)
        {
            double sd = 1 / Math.Sqrt(beta * g), lim = 8 * sd;
            int k = 641; double h = 2 * lim / (k - 1), z = 0;
            var w = new double[2];
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                {
                    w[0] = w0[0] - lim + i * h; w[1] = w0[1] - lim + j * h;
                    double e = s.P * s.TrainError(w, b);
                    double da = (w[0] - w0[0]) / sd, db = (w[1] - w0[1]) / sd;
                    z += h * h * Math.Exp(-beta * e - 0.5 * (da * da + db * db)) / (2 * Math.PI * sd * sd);
                }
            return Math.Log(z) / 2;
        }
        var res = LocalEntropy.Estimate(s, w0, b, null, 0, new LocalEntropyOptions(Beta: beta, Chains: 8, Sweeps: 4000, BurnIn: 200));
        foreach (int k in new[] { 0, 4, 8 })
        {
            double exact = Psi(res.Gammas[k]);
            Assert.True(Math.Abs(res.Profile[k] - exact) < 4 * res.ProfileStdError[k] + 0.005,
                $"γ={res.Gammas[k]}: {res.Profile[k]} ± {res.ProfileStdError[k]} vs exact {exact}");
        }
    }

    [Fact]
    public void LogisticLossMatchesBruteForceIntegrationInTwoDimensions()
    {
        // MALA on a non-Gaussian smooth target: N = 2, logistic loss + ridge, ψ(γ) by a 2-D grid.
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(3, 1, 0.5), 2, 6));
        var w0 = new[] { 0.6, -0.4 };
        double b = 0.1, beta = 1, lam = 0.2;
        double Psi(double g)
        {
            double sd = 1 / Math.Sqrt(beta * g), lim = 8 * sd;
            int k = 401; double h = 2 * lim / (k - 1), z = 0;
            var w = new double[2];
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                {
                    w[0] = w0[0] - lim + i * h; w[1] = w0[1] - lim + j * h;
                    double l = s.P * s.TrainLoss(LogisticLoss.Instance, w, b) + 0.5 * lam * (w[0] * w[0] + w[1] * w[1]);
                    double da = (w[0] - w0[0]) / sd, db = (w[1] - w0[1]) / sd;
                    z += h * h * Math.Exp(-beta * l - 0.5 * (da * da + db * db)) / (2 * Math.PI * sd * sd);
                }
            return Math.Log(z) / 2;
        }
        var res = LocalEntropy.Estimate(s, w0, b, LogisticLoss.Instance, lam, new LocalEntropyOptions(Beta: beta, Chains: 8, Sweeps: 3000, BurnIn: 300));
        foreach (int k in new[] { 0, 4, 8 })
        {
            double exact = Psi(res.Gammas[k]);
            Assert.True(Math.Abs(res.Profile[k] - exact) < 4 * res.ProfileStdError[k] + 0.005,
                $"γ={res.Gammas[k]}: {res.Profile[k]} ± {res.ProfileStdError[k]} vs exact {exact}");
        }
    }

    [Fact]
    public void OptionsValidateTheGammaGrid()
    {
        Assert.Equal("gamma", Assert.Throws<ArgumentOutOfRangeException>(() => new LocalEntropyOptions(Gammas: [1, 0.5])).ParamName);
        Assert.Equal("beta", Assert.Throws<ArgumentOutOfRangeException>(() => new LocalEntropyOptions(Beta: 0)).ParamName);
        Assert.Equal("chains", Assert.Throws<ArgumentOutOfRangeException>(() => new LocalEntropyOptions(Chains: 1)).ParamName);
    }
}
