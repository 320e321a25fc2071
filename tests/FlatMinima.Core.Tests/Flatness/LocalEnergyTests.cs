using FlatMinima.Flatness;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Tests.Flatness;

public class LocalEnergyTests
{
    // docs/theory.md#table-le2: BO/Hebbian training error and (LE2), ρ = ½, Δ = 1; columns σ = 0, 0.1, 0.3, 1.
    [Theory]
    [InlineData(1.0, 0.07865, 0.07968, 0.08778, 0.15866)]
    [InlineData(2.0, 0.11034, 0.11149, 0.12038, 0.19324)]
    [InlineData(5.0, 0.13666, 0.13785, 0.14703, 0.21929)]
    [InlineData(10.0, 0.14713, 0.14833, 0.15755, 0.22916)]
    public void BayesOptimalTheoryReproducesTheLe2ReferenceTable(double alpha, double e0, double e01, double e03, double e1)
    {
        var e = LocalEnergy.BayesOptimalTheory(new MixtureModel(alpha, 1.0, 0.5), [0, 0.1, 0.3, 1.0]);
        double[] expected = [e0, e01, e03, e1];
        for (int k = 0; k < 4; k++) Assert.Equal(expected[k], e[k], 6e-6); // table rounded to 5 digits
    }

    [Fact]
    public void BayesOptimalTheoryReproducesTheTheoryColumnOfTheLe2SimulationCheck()
    {
        // docs/theory.md#table-le2 simulation-check table, theory column, ρ = ¼ (4 digits): σ = 0, 0.5, 1, 2.
        var e = LocalEnergy.BayesOptimalTheory(new MixtureModel(2, 1, 0.25), [0, 0.5, 1, 2]);
        double[] expected = [0.0943, 0.1113, 0.1544, 0.2492];
        for (int k = 0; k < 4; k++) Assert.Equal(expected[k], e[k], 6e-5);
        var balanced = LocalEnergy.BayesOptimalTheory(new MixtureModel(2, 1, 0.5), [0, 0.5, 1, 2]);
        double[] expectedBalanced = [0.1103, 0.1367, 0.1932, 0.2919];
        for (int k = 0; k < 4; k++) Assert.Equal(expectedBalanced[k], balanced[k], 6e-5);
    }

    [Fact]
    public void BayesOptimalTheoryBalancedClosedForm()
    {
        // E_σ^BO = H(√((α+Δ)/(αΔ))/√(1+σ²)) when ρ = ½ (docs/theory.md#le2).
        foreach (var (a, d, s) in new[] { (2.0, 1.0, 0.5), (0.7, 2.5, 3.0), (10.0, 0.25, 0.0) })
            Assert.Equal(Gaussian.H(Math.Sqrt((a + d) / (a * d)) / Math.Sqrt(1 + s * s)), LocalEnergy.BayesOptimalTheory(new MixtureModel(a, d, 0.5), s), 1e-14);
    }

    // docs/theory.md#table-local-energy rows, from the independent implementation's fixed points (m, q, V) of
    // docs/theory.md#table-erm (hinge λ = 1 and 1e-3: the list of independent values; the others as in the engine's tables);
    // columns σ = 0, 0.1, 0.3, 0.5, 1. E_0 of logistic λ = 10, 0.1, hinge λ = 1 and square λ = 1e-3 is the independent
    // training error printed under the local-energy table; every other E_σ is the engine's table.
    [Theory]
    [InlineData("logistic", 10, 0.08903, 0.01190, 0.09538, 0.10501, 0.10627, 0.11547, 0.13232, 0.19062)]
    [InlineData("logistic", 0.1, 1.37560, 3.53536, 4.06977, 0.03488, 0.03768, 0.05872, 0.09308, 0.18546)]
    [InlineData("hinge", 1, 0.58636, 0.61922, 0.50585, 0.08264, 0.08362, 0.09185, 0.10851, 0.18324)]
    [InlineData("square", 1, 0.36940, 0.24707, 0.41421, 0.05746, 0.05927, 0.07335, 0.09901, 0.18136)]
    [InlineData("square", 1e-3, 0.49975, 0.74776, 0.99801, 0.04159, 0.04471, 0.06869, 0.11022, 0.21911)]
    [InlineData("logistic", 1e-3, 5.77983, 89.24288, 211.4559, 0.00000, 0.00032, 0.04692, 0.11211, 0.22347)]
    [InlineData("hinge", 1e-3, 1.73107, 8.98273, 192.38, 0.00000, 0.00018, 0.06161, 0.13127, 0.23865)]
    public void ErmTheoryFromTheReferenceFixedPointsReproducesTheLocalEnergyTable(string loss, double lambda, double m, double q, double v,
        double e0, double e01, double e03, double e05, double e1)
    {
        _ = lambda;
        var law = new FlatMinima.Replica.TrainingMarginLaw(MarginLosses.Parse(loss), new MixtureModel(2, 1.0, 0.5), m, q, v, 0);
        var e = LocalEnergy.ErmTheory(law, [0, 0.1, 0.3, 0.5, 1.0]);
        double[] expected = [e0, e01, e03, e05, e1];
        // 1e-4: the fixed point (m, q, V) is itself given to 4–6 digits in docs/theory.md#table-erm.
        for (int k = 0; k < 5; k++) Assert.Equal(expected[k], e[k], 1e-4);
    }

    // docs/theory.md#table-local-energy straight from the replica fixed point (LE3 from the ERM saddle point). E_0 of logistic
    // λ = 10, 0.1, hinge λ = 1 and square λ = 1e-3 is the independent training error printed under that table, of square
    // λ = 1e4 the independent ε_t of docs/theory.md#table-erm; the other values are the engine's tables (the last row is
    // the BO row).
    [Theory]
    [InlineData("logistic", 10, 0.10501, 0.10627, 0.11547, 0.13232, 0.19062)]
    [InlineData("logistic", 0.1, 0.03488, 0.03768, 0.05872, 0.09308, 0.18546)]
    [InlineData("hinge", 1, 0.08264, 0.08362, 0.09185, 0.10851, 0.18324)]
    [InlineData("square", 1, 0.05746, 0.05927, 0.07335, 0.09901, 0.18136)]
    [InlineData("square", 1e-3, 0.04159, 0.04471, 0.06869, 0.11022, 0.21911)]
    [InlineData("square", 1e4, 0.11038, 0.11149, 0.12038, 0.13666, 0.19324)] // λ → ∞: the BO row
    public void ErmTheoryFromTheReplicaFixedPointReproducesTheLocalEnergyTable(string loss, double lambda,
        double e0, double e01, double e03, double e05, double e1)
    {
        var fp = FlatMinima.Replica.ErmSaddlePoint.Solve(new FlatMinima.Replica.ErmProblem(MarginLosses.Parse(loss), new MixtureModel(2, 1), lambda));
        var e = LocalEnergy.ErmTheory(fp, [0, 0.1, 0.3, 0.5, 1.0]);
        double[] expected = [e0, e01, e03, e05, e1];
        for (int k = 0; k < 5; k++) Assert.Equal(expected[k], e[k], 1e-4);
    }

    [Theory]
    [InlineData("square", 0.01)]
    [InlineData("logistic", 1.0)]
    public void ErmTheoryAgreesWithExactLocalEnergyOfFiniteNErm(string loss, double lambda)
    {
        // docs/theory.md#table-local-energy finite-N check: LE1 of the exact ERM minimiser vs LE3 of its fixed point; N = 800, α = 2, Δ = 1,
        // mean of 2 datasets, tolerance 0.01 (the finite-size allowance at N ≈ 10³ of docs/theory.md#tables).
        var l = MarginLosses.Parse(loss);
        double[] sig = [0, 0.1, 0.3, 1.0];
        var theory = LocalEnergy.ErmTheory(FlatMinima.Replica.ErmSaddlePoint.Solve(new FlatMinima.Replica.ErmProblem(l, new MixtureModel(2, 1), lambda)), sig);
        var mean = new double[sig.Length];
        for (int seed = 0; seed < 2; seed++)
        {
            var sample = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, 0.5), 800, 20 + seed));
            var c = FlatMinima.Estimators.Erm.Fit(sample, l, lambda).Classifier;
            var e = LocalEnergy.Exact(sample, c.W, c.B, sig);
            for (int k = 0; k < sig.Length; k++) mean[k] += e[k] / 2;
        }
        for (int k = 0; k < sig.Length; k++) Assert.Equal(theory[k], mean[k], 0.01);
    }

    [Theory]
    [InlineData("square", 1.0, 0.5)]
    [InlineData("logistic", 0.1, 0.25)]
    public void ErmCosineWithBayesOptimalMatchesFiniteN(string loss, double lambda, double rho)
    {
        // cos(w_ERM, Σ y x) from the fixed point's margin law against exact ERM at N = 800 (mean of 2 data sets, ±0.01).
        var l = MarginLosses.Parse(loss);
        double theory = HebbianOverlap.ErmCosine(FlatMinima.Replica.ErmSaddlePoint.Solve(new FlatMinima.Replica.ErmProblem(l, new MixtureModel(2, 1, rho), lambda)));
        double sim = 0;
        for (int seed = 0; seed < 2; seed++)
        {
            var sample = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, rho), 800, 30 + seed));
            var w = FlatMinima.Estimators.Erm.Fit(sample, l, lambda).Classifier.W;
            var h = sample.Hebbian();
            sim += Kernels.Dot(w, h) / Math.Sqrt(Kernels.Norm2(w) * Kernels.Norm2(h)) / 2;
        }
        Assert.Equal(theory, sim, 0.01);
        Assert.Equal(1.0, HebbianOverlap.ErmCosine(FlatMinima.Replica.ErmSaddlePoint.Solve(new FlatMinima.Replica.ErmProblem(SquareLoss.Instance, new MixtureModel(2, 1), 1e4))), 1e-3);
    }

    [Fact]
    public void ErmTheoryMatchesSquareLossClosedForm()
    {
        // Square loss: u* = (a + c)/(1 + c) is Gaussian, so E_σ = Σ_y p_y H( (m+yb+c)/(1+c) / √(Δq/(1+c)² + σ²Δq) ).
        double m = 0.4, q = 0.3, v = 0.7, b = -0.2, delta = 1.3, rho = 0.3, c = delta * v;
        var law = new FlatMinima.Replica.TrainingMarginLaw(SquareLoss.Instance, new MixtureModel(1, delta, rho), m, q, v, b);
        double[] sig = [0, 0.05, 0.2, 1, 4];
        var e = LocalEnergy.ErmTheory(law, sig);
        for (int k = 0; k < sig.Length; k++)
        {
            double sd = Math.Sqrt(delta * q / ((1 + c) * (1 + c)) + sig[k] * sig[k] * delta * q);
            double expected = rho * Gaussian.H((m + b + c) / (1 + c) / sd) + (1 - rho) * Gaussian.H((m - b + c) / (1 + c) / sd);
            Assert.Equal(expected, e[k], 1e-9);
        }
    }

    [Fact]
    public void ExactAgreesWithBruteForceMonteCarlo()
    {
        // LE1 against its own definition: 400 noise draws on one dataset, with and without bias perturbation.
        var sample = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, 0.3), 300, 7));
        var w = sample.Hebbian();
        double kappa = 1 / (Math.Sqrt(sample.N) * (2 + 1)), b = 0.5 * Math.Log(0.3 / 0.7) * 3; // BO bias for w = s/√N·(1/κ')
        for (int j = 0; j < w.Length; j++) w[j] *= kappa * 3;
        foreach (bool pb in new[] { false, true })
            foreach (double sigma in new[] { 0.1, 0.5, 1.5 })
            {
                double exact = LocalEnergy.Exact(sample, w, b, sigma, pb);
                var mc = LocalEnergy.MonteCarlo(sample, w, b, sigma, 400, 11, pb);
                Assert.True(Math.Abs((mc.Mean - exact) / mc.StdError) < 4, $"σ={sigma} bias={pb}: exact {exact}, MC {mc.Mean} ± {mc.StdError}");
            }
    }

    [Fact]
    public void ExactAtLargeNMatchesBayesOptimalTheory()
    {
        // docs/theory.md#table-le2 simulation check: N = 1000, α = 2, Δ = 1; mean over 3 datasets (s.e. ≈ 0.004), tolerance 0.01.
        foreach (double rho in new[] { 0.5, 0.25 })
        {
            double[] sig = [0, 0.5, 1, 2];
            var mean = new double[sig.Length];
            for (int seed = 0; seed < 3; seed++)
            {
                var sample = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, rho), 1000, seed));
                var w = sample.Hebbian();
                double scale = 1 / (Math.Sqrt(sample.N) * 3);
                for (int j = 0; j < w.Length; j++) w[j] *= scale;
                var exact = LocalEnergy.Exact(sample, w, 0.5 * Math.Log(rho / (1 - rho)), sig);
                for (int k = 0; k < sig.Length; k++) mean[k] += exact[k] / 3;
            }
            var theory = LocalEnergy.BayesOptimalTheory(new MixtureModel(2, 1, rho), sig);
            for (int k = 0; k < sig.Length; k++) Assert.Equal(theory[k], mean[k], 0.01);
        }
    }

    [Fact]
    public void LogisticProximalMapDoesNotCycle()
    {
        // Regression: safeguarded Newton used to 2-cycle here (c = ΔV of logistic at λ = 1e-3, docs/theory.md#table-erm).
        double a = -2.6466419997942623, c = 211.4559;
        double u = LogisticLoss.Instance.Prox(a, c);
        Assert.Equal(0, (u - a) / c + LogisticLoss.Instance.Derivative(u), 1e-12);
    }

    [Fact]
    public void BadInputNamesTheParameter()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => LocalEnergy.BayesOptimalTheory(new MixtureModel(2, 1, 0.5), -0.1));
        Assert.Equal("sigma", ex.ParamName);
        Assert.Equal("rho", Assert.Throws<ArgumentOutOfRangeException>(() => LocalEnergy.BayesOptimalTheory(new MixtureModel(2, 1, 1.0), 0.1)).ParamName);
        Assert.Equal("q", Assert.Throws<ArgumentOutOfRangeException>(() => new FlatMinima.Replica.TrainingMarginLaw(SquareLoss.Instance, new MixtureModel(1, 1, 0.5), 0.1, 0, 1, 0)).ParamName);
    }
}
