using FlatMinima.Numerics;
using FlatMinima.Torch.Flatness;
using MathNet.Numerics.LinearAlgebra;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Tests.Flatness;

public class SpectralDensityTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private readonly int _init = TestRuntime.Init() is null ? 0 : 1;

    /// <summary>d = 60, spectrum in two clusters: 48 eigenvalues uniform in [0.5, 1.5], 12 uniform in [18, 22].</summary>
    private static (Matrix<double> A, double[] Lambda) TwoClusters()
    {
        var rng = new Random(5);
        var lambda = Enumerable.Range(0, 48).Select(_ => 0.5 + rng.NextDouble())
            .Concat(Enumerable.Range(0, 12).Select(_ => 18 + 4 * rng.NextDouble())).ToArray();
        return (ProbeTestModels.WithSpectrum(lambda, 6), lambda);
    }

    private static SpectralDensityResult OnMatrix(Matrix<double> a, SlqOptions o)
    {
        var at = ProbeTestModels.ToTensor(a);
        var like = new List<Tensor> { zeros(a.RowCount, dtype: ScalarType.Float64) };
        return SpectralDensity.Lanczos(v => [at.mv(v[0])], like, o);
    }

    [Fact]
    public void QuadraticMomentsEqualTraceOfPowersWithinMonteCarloError()
    {
        var (a, lambda) = TwoClusters();
        int d = lambda.Length;
        var r = OnMatrix(a, new SlqOptions { Steps = 20, Vectors = 200, Seed = 1 });
        // Every row of weights sums to 1, every node lies in [λ_min, λ_max] (Cauchy interlacing of the Ritz values).
        foreach (var w in r.Weights) Assert.Equal(1, w.Sum(), 12);
        foreach (var n in r.Nodes) Assert.All(n, x => Assert.InRange(x, lambda.Min() - 1e-9, lambda.Max() + 1e-9));
        Assert.All(r.StepsTaken, k => Assert.Equal(20, k));
        for (int k = 1; k <= 4; k++)
        {
            double exact = lambda.Sum(l => Math.Pow(l, k)) / d;   // tr(A^k)/d
            var (mean, se) = r.Moment(k);
            Assert.True(se > 0 && se < 0.1 * exact, $"k = {k}: standard error {se} is not a useful size");
            Assert.True(Math.Abs(mean - exact) <= 4 * se, $"k = {k}: SLQ {mean} ± {se} vs tr(A^k)/d = {exact}");
        }
        Assert.True(Math.Abs(r.Trace - lambda.Sum()) <= 4 * r.TraceStdError, $"trace {r.Trace} ± {r.TraceStdError} vs {lambda.Sum()}");
        // The density integrates to 1 and its mean is the first moment (tr A / d within the same error).
        Assert.Equal(1, r.DensityIntegral(), 6);
        Assert.Equal(r.Moment(1).Mean, r.DensityMean(), 6);
        Assert.True(Math.Abs(r.DensityMean() - lambda.Average()) <= 4 * r.Moment(1).StdError);
        // The extreme Ritz value has converged to λ_max (20 steps, relative gap of the top eigenvalue ≈ 1 %).
        Assert.InRange(r.TopRitz, lambda.Max() * (1 - 1e-3), lambda.Max() + 1e-9);
        Assert.InRange(r.BottomRitz, lambda.Min() - 1e-9, lambda.Min() * (1 + 1e-2));
    }

    [Fact]
    public void QuadratureIsExactForLowDegreePolynomialsPerVector()
    {
        // For one starting vector v, Σ_j τ_j θ_j^k = v̂ᵀ A^k v̂ exactly for k ≤ 2m − 1 (m = 6 here: k ≤ 11).
        var (a, _) = TwoClusters();
        var o = new SlqOptions { Steps = 6, Vectors = 3, Seed = 4 };
        var r = OnMatrix(a, o);
        for (int v = 0; v < 3; v++)
        {
            // The documented starting vector: Rademacher from generator seed Mix(seed, 0x51A, v), normalised.
            using var g = new Generator((ulong)Seeds.Mix(4, 0x51A, v));
            var z = randint(0, 2, [a.RowCount], dtype: ScalarType.Float64, generator: g).mul_(2).sub_(1);
            var vh = Vector<double>.Build.DenseOfArray(ProbeTestModels.ToArray(z)).Normalize(2);
            var ak = vh;
            for (int k = 1; k <= 11; k++)
            {
                ak = a * ak;
                double exact = vh.DotProduct(ak);
                double quad = r.Nodes[v].Zip(r.Weights[v]).Sum(t => t.Second * Math.Pow(t.First, k));
                Assert.True(Math.Abs(quad - exact) <= 1e-9 * Math.Abs(exact), $"vector {v}, k = {k}: quadrature {quad} vs v̂ᵀA^k v̂ = {exact}");
            }
        }
    }

    /// <summary>A logistic model on 200 random samples in 20 dimensions (d = 21 parameters with the bias), its exact
    /// Hessian and that Hessian's eigen-decomposition (eigenvalues ascending).</summary>
    private static (LogisticModel Model, FlatMinima.Torch.Data.TensorDataSet Set, Matrix<double> H, double[] Ev, Matrix<double> U) Logistic()
    {
        var set = ProbeTestModels.RandomSet(200, 20, 2, 17);
        var gw = new Random(3);
        var model = new LogisticModel(Enumerable.Range(0, 20).Select(_ => 0.3 * (gw.NextDouble() - 0.5)).ToArray(), 0.1);
        var h = model.ExactHessian(set);
        var evd = h.Evd(Symmetricity.Symmetric);
        return (model, set, h, evd.EigenValues.Select(c => c.Real).ToArray(), evd.EigenVectors);
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void LogisticModelRitzValuesAndWeightsAreTheExactHessiansEigenpairs()
    {
        var (model, set, h, ev, u) = Logistic();
        int d = ev.Length;   // 21
        var r = new SpectralDensity(model, CPU).Compute(set, new SlqOptions { Steps = d, Vectors = 3, Seed = 2 });
        Assert.Equal(d, r.Parameters);
        Assert.Equal(200, r.Samples);
        // Full Lanczos (m = d): the Ritz values are the eigenvalues of the exact Hessian, the top one λ_max ...
        Assert.Equal(ev.Max(), r.TopRitz, 1e-9 * ev.Max());
        Assert.Equal(ev.Min(), r.BottomRitz, 1e-9 * ev.Max());
        for (int v = 0; v < 3; v++)
        {
            Assert.Equal(d, r.Nodes[v].Length);
            // ... and the weights are τ_i = (v̂·u_i)² for the documented starting vector v.
            using var g = new Generator((ulong)Seeds.Mix(2, 0x51A, v));
            var z = randint(0, 2, [d], dtype: ScalarType.Float64, generator: g).mul_(2).sub_(1);
            var vh = Vector<double>.Build.DenseOfArray(ProbeTestModels.ToArray(z)).Normalize(2);
            for (int i = 0; i < d; i++)
            {
                int j = Enumerable.Range(0, d).MinBy(k => Math.Abs(ev[k] - r.Nodes[v][i]));
                Assert.True(Math.Abs(ev[j] - r.Nodes[v][i]) < 1e-9 * ev.Max(), $"node {r.Nodes[v][i]} is not an eigenvalue");
                double tau = Math.Pow(vh.DotProduct(u.Column(j)), 2);
                Assert.Equal(tau, r.Weights[v][i], 1e-9);
            }
        }
        Assert.True(Math.Abs(r.Trace - h.Trace()) <= 4 * r.TraceStdError, $"trace {r.Trace} ± {r.TraceStdError} vs {h.Trace()}");
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void LogisticModelDensityMatchesTheBroadenedExactHistogram()
    {
        // The model's Hessian, applied as an explicit matrix (fast products, so that 400 vectors are affordable).
        var (_, _, h, ev, _) = Logistic();
        int d = ev.Length;
        double width = 0.05 * (ev.Max() - ev.Min());
        var r = OnMatrix(h, new SlqOptions { Steps = d, Vectors = 400, Width = width, Seed = 8 });
        // The exact histogram broadened with the same width: ρ(x) = (1/d) Σ_i φ_σ(x − λ_i).
        var exact = r.Grid.Select(x => ev.Sum(l => Math.Exp(-0.5 * Math.Pow((x - l) / width, 2))) / (d * width * Math.Sqrt(2 * Math.PI))).ToArray();
        double l1 = 0, seArea = 0;
        for (int i = 1; i < r.Grid.Length; i++)
        {
            double dx = r.Grid[i] - r.Grid[i - 1];
            l1 += 0.5 * (Math.Abs(r.Density[i] - exact[i]) + Math.Abs(r.Density[i - 1] - exact[i - 1])) * dx;
            seArea += 0.5 * (r.DensityStdError[i] + r.DensityStdError[i - 1]) * dx;
        }
        // What is left is the Monte Carlo error of the weights (E|error| ≈ 0.8 SE pointwise): the L1 distance stays
        // within 3 ∫SE. ∫SE is below 0.05, so moving one eigenvalue's mass 1/d ≈ 0.048 by several σ (an L1 change of
        // about 0.095) would fail.
        output.WriteLine($"density vs exact: L1 = {l1:G4}, ∫SE = {seArea:G4}, {r.Seconds:F2} s");
        Assert.True(seArea < 0.05, $"∫SE = {seArea}");
        Assert.True(l1 <= 3 * seArea, $"L1 distance {l1} vs 3 ∫SE = {3 * seArea}");
        Assert.Equal(1, r.DensityIntegral(), 6);
        Assert.True(Math.Abs(r.DensityMean() - ev.Average()) <= 4 * r.Moment(1).StdError);
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void SameSeedSameDensityAndParametersUntouched()
    {
        var set = ProbeTestModels.RandomSet(64, 5, 3, 9);
        manual_seed(1);
        var model = nn.Sequential(("fc0", nn.Linear(5, 6)), ("act", nn.Tanh()), ("out", nn.Linear(6, 3)));
        model.to(ScalarType.Float64);
        var before = model.parameters().Select(p => ProbeTestModels.ToArray(p)).ToList();
        var probe = new SpectralDensity(model, CPU);
        var o = new SlqOptions { Steps = 6, Vectors = 2, Seed = 5 };
        var a = probe.Compute(set, o);
        var b = probe.Compute(set, o);
        var c = probe.Compute(set, o with { Seed = 6 });
        Assert.Equal(a.Density, b.Density);
        Assert.Equal(a.Nodes.SelectMany(x => x), b.Nodes.SelectMany(x => x));
        Assert.NotEqual(a.Trace, c.Trace);
        var after = model.parameters().Select(p => ProbeTestModels.ToArray(p)).ToList();
        for (int i = 0; i < before.Count; i++) Assert.Equal(before[i], after[i]);
        // Gaussian starting vectors and a parameter group work too.
        var g = new SpectralDensity(model, CPU) { Groups = ["out"] }.Compute(set, o with { VectorKind = ProbeVectorKind.Gaussian });
        Assert.Equal(6 * 3 + 3, g.Parameters);
        Assert.Equal("gaussian", g.VectorKind);
        Assert.StartsWith("eigenvalue,density,density_se,width\n", a.DensityCsv());
        Assert.Equal(a.Grid.Length + 1, a.DensityCsv().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(1 + a.Nodes.Sum(n => n.Length), a.NodesCsv().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void TinyMlpTopRitzAgreesWithPowerIterationAndTheDenseSpectrumIncludingNegativeEigenvalues()
    {
        // A tanh MLP 3-4-2 in float64 away from any minimum: its Hessian has negative eigenvalues.
        manual_seed(3);
        var model = nn.Sequential(("fc0", nn.Linear(3, 4)), ("act", nn.Tanh()), ("out", nn.Linear(4, 2)));
        model.to(ScalarType.Float64);
        var set = ProbeTestModels.RandomSet(16, 3, 2, 7);
        var ps = model.parameters().Select(p => (Tensor)p).ToList();
        int d = (int)ps.Sum(p => p.numel());
        var loss = nn.functional.cross_entropy(model.forward(set.X), set.Y);
        var g = autograd.grad([loss], ps, retain_graph: true, create_graph: true);
        var flat = cat(g.Select(t => t.reshape(-1)).ToList());
        var h = Matrix<double>.Build.Dense(d, d);
        for (int i = 0; i < d; i++)
        {
            var row = ProbeTestModels.ToArray(cat(autograd.grad([flat[i]], ps, retain_graph: true).Select(t => t.reshape(-1)).ToList()));
            for (int j = 0; j < d; j++) h[i, j] = row[j];
        }
        var ev = h.Evd(Symmetricity.Symmetric).EigenValues.Select(c => c.Real).ToArray();
        Assert.True(ev.Min() < 0, "the test needs a Hessian with negative eigenvalues");
        var r = new SpectralDensity(model, CPU).Compute(set, new SlqOptions { Steps = d, Vectors = 2, Seed = 3 });
        Assert.Equal(ev.Max(), r.TopRitz, 1e-8 * ev.Max());
        Assert.Equal(ev.Min(), r.BottomRitz, 1e-8 * ev.Max());
        // Power iteration converges to the eigenvalue of largest magnitude; here that is λ_max.
        Assert.True(ev.Max() > -ev.Min());
        var top = new Probes(model, CPU).HessianTop(set, 1, seed: 1, maxIter: 2000, tol: 1e-12);
        Assert.Equal(top.Values[0], r.TopRitz, 1e-6 * ev.Max());
        // Negative eigenvalues carry density below 0.
        Assert.True(r.Grid.Zip(r.Density).Where(t => t.First < 0.5 * ev.Min()).Sum(t => t.Second) > 0);
    }

    [Fact]
    public void BadOptionsNameTheOption()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SlqOptions { Steps = 0 }.Validate());
        Assert.Contains("slq_steps", e.Message);
        Assert.Contains("slq_width", Assert.Throws<ArgumentOutOfRangeException>(() => new SlqOptions { Width = -1 }.Validate()).Message);
    }
}
