using FlatMinima.Torch.Data;
using FlatMinima.Torch.Flatness;
using MathNet.Numerics.LinearAlgebra;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Tests.Flatness;

public class AdaptiveSharpnessTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private readonly int _init = TestRuntime.Init() is null ? 0 : 1;

    /// <summary>L(θ) = mean_μ logit_{y_μ}(x_μ): linear in the weights and biases of a linear layer.</summary>
    private static Tensor LinearLoss(Tensor logits, Tensor y) => logits.gather(1, y.unsqueeze(1)).mean();

    /// <summary>∇L of <see cref="LinearLoss"/> for a linear layer on <paramref name="set"/>: ∂/∂W_cj = (1/n) Σ_{μ: y=c} x_μj,
    /// ∂/∂b_c = n_c/n, flattened as the layer's parameters (weight row-major, then bias).</summary>
    private static double[] LinearGradient(TensorDataSet set, long lo, long len, int classes)
    {
        var x = ProbeTestModels.ToMatrix(set.X);
        var y = set.Y.data<long>().ToArray();
        int n = x.ColumnCount;
        var g = new double[classes * n + classes];
        for (long mu = lo; mu < lo + len; mu++)
        {
            int c = (int)y[mu];
            for (int j = 0; j < n; j++) g[c * n + j] += x[(int)mu, j] / len;
            g[classes * n + c] += 1.0 / len;
        }
        return g;
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void LinearLossWorstCaseIsRhoTimesDualNormOfScaledGradient()
    {
        const int inputs = 6, classes = 3;
        var set = ProbeTestModels.RandomSet(40, inputs, classes, 21);
        manual_seed(2);
        var layer = nn.Linear(inputs, classes);
        layer.to(ScalarType.Float64);
        var theta = layer.parameters().SelectMany(p => ProbeTestModels.ToArray(p)).ToArray();
        var probe = new AdaptiveSharpness(layer, CPU) { Loss = LinearLoss };
        const double rho = 0.3, eta = 0.01;
        foreach (bool adaptive in new[] { true, false })
            foreach (var norm in new[] { SharpnessNorm.L2, SharpnessNorm.LInf })
            {
                var o = new AdaptiveSharpnessOptions { Rho = rho, Eta = eta, Adaptive = adaptive, Norm = norm, Steps = 20, Seed = 3 };
                // One perturbation for the whole set, and m-sharpness with m = 16 (batches of 16, 16 and 8).
                foreach (int? m in new int?[] { null, 16 })
                {
                    var r = probe.Compute(set, SharpnessKind.WorstCase, o with { SharpnessBatch = m });
                    var batches = m is null ? [(0L, 40L)] : new[] { (0L, 16L), (16L, 16L), (32L, 8L) };
                    double exact = batches.Average(b =>
                    {
                        var g = LinearGradient(set, b.Item1, b.Item2, classes);
                        var tg = g.Select((gi, i) => (adaptive ? Math.Abs(theta[i]) + eta : 1) * gi).ToArray();
                        return rho * (norm == SharpnessNorm.L2 ? Math.Sqrt(tg.Sum(v => v * v)) : tg.Sum(Math.Abs));
                    });
                    output.WriteLine($"adaptive={adaptive} {norm} m={m}: {r.Sharpness:R} vs ρ‖Tg‖_q = {exact:R}");
                    Assert.Equal(batches.Length, r.Batches);
                    Assert.True(r.Sharpness <= exact * (1 + 1e-12), "a point of the ball cannot beat the maximum");
                    Assert.Equal(exact, r.Sharpness, 1e-7 * exact);
                }
            }
        // The average case of a linear loss is 0 (the perturbation has mean 0), within its Monte Carlo error.
        var avg = probe.Compute(set, SharpnessKind.AverageCase, new AdaptiveSharpnessOptions { Rho = rho, Samples = 200, Seed = 4 });
        Assert.True(Math.Abs(avg.Sharpness) <= 4 * avg.StdError, $"{avg.Sharpness} ± {avg.StdError}");
    }

    /// <summary>½(θ − θ*)ᵀA(θ − θ*) evaluated at its minimum θ = θ* (d = 10), T = |θ*|.</summary>
    private static (QuadraticModel Model, Matrix<double> A, Vector<double> T) QuadraticAtMinimum(bool diagonal)
    {
        var lambda = new[] { 10.0, 3, 2.5, 2, 1.5, 1, 0.8, 0.6, 0.4, 0.2 };
        var a = diagonal ? Matrix<double>.Build.DenseOfDiagonalArray(lambda) : ProbeTestModels.WithSpectrum(lambda, 11);
        var rng = new Random(12);
        var star = Vector<double>.Build.Dense(10, _ => (rng.NextDouble() < 0.5 ? -1 : 1) * (0.5 + rng.NextDouble()));
        return (new QuadraticModel(a, star, star), a, star.PointwiseAbs());
    }

    [Fact]
    public void QuadraticWorstCaseIsTheTopEigenvalueOfTAT()
    {
        var set = ProbeTestModels.RandomSet(4, 1, 2, 1);   // the quadratic ignores its input
        const double rho = 0.2;
        // p = 2: max over ‖u‖₂ ≤ ρ of ½ uᵀ(TAT)u = ½ρ² λ_max(TAT), attained at the top eigenvector.
        var (model, a, t) = QuadraticAtMinimum(diagonal: false);
        var tat = Matrix<double>.Build.DenseOfDiagonalVector(t) * a * Matrix<double>.Build.DenseOfDiagonalVector(t);
        double top = tat.Evd(Symmetricity.Symmetric).EigenValues.Max(c => c.Real);
        var probe = new AdaptiveSharpness(model, CPU) { Loss = QuadraticModel.Loss };
        var r = probe.Compute(set, SharpnessKind.WorstCase, new AdaptiveSharpnessOptions { Rho = rho, Norm = SharpnessNorm.L2, Steps = 40, Seed = 5 });
        double exact = 0.5 * rho * rho * top;
        output.WriteLine($"p = 2: {r.Sharpness:R} vs ½ρ²λ_max(TAT) = {exact:R}");
        Assert.Equal(0, r.Loss, 12);
        Assert.True(r.Sharpness <= exact * (1 + 1e-12));
        Assert.Equal(exact, r.Sharpness, 1e-4 * exact);
        // p = ∞ with a diagonal A: every corner of the box is a maximiser, ½ρ² Σ_i a_ii T_i².
        var (dmodel, da, dt) = QuadraticAtMinimum(diagonal: true);
        var rd = new AdaptiveSharpness(dmodel, CPU) { Loss = QuadraticModel.Loss }
            .Compute(set, SharpnessKind.WorstCase, new AdaptiveSharpnessOptions { Rho = rho, Norm = SharpnessNorm.LInf, Steps = 20, Seed = 5 });
        double exactBox = 0.5 * rho * rho * Enumerable.Range(0, 10).Sum(i => da[i, i] * dt[i] * dt[i]);
        Assert.Equal(exactBox, rd.Sharpness, 1e-9 * exactBox);
    }

    [Fact]
    public void QuadraticAverageCaseIsHalfRhoSquaredTraceOfTAT()
    {
        var set = ProbeTestModels.RandomSet(4, 1, 2, 1);
        const double rho = 0.2;
        var (model, a, t) = QuadraticAtMinimum(diagonal: false);
        double trTat = Enumerable.Range(0, 10).Sum(i => a[i, i] * t[i] * t[i]);
        var probe = new AdaptiveSharpness(model, CPU) { Loss = QuadraticModel.Loss };
        // δ = ρ T ζ: Gaussian ζ gives E[½δᵀAδ] = ½ρ² tr(TAT); uniform ζ on [−1, 1] a third of it. The quadratic form
        // is dominated by one eigenvalue (a skewed, nearly χ²₁ sample), so the draws are many: 2 000.
        var g = probe.Compute(set, SharpnessKind.AverageCase, new AdaptiveSharpnessOptions { Rho = rho, Norm = SharpnessNorm.L2, Samples = 2000, Seed = 6 });
        var u = probe.Compute(set, SharpnessKind.AverageCase, new AdaptiveSharpnessOptions { Rho = rho, Norm = SharpnessNorm.LInf, Samples = 2000, Seed = 6 });
        output.WriteLine($"Gaussian {g.Sharpness:G6} ± {g.StdError:G3} vs {0.5 * rho * rho * trTat:G6}; uniform {u.Sharpness:G6} ± {u.StdError:G3} vs {0.5 * rho * rho * trTat / 3:G6}");
        Assert.True(Math.Abs(g.Sharpness - 0.5 * rho * rho * trTat) <= 4 * g.StdError, $"{g.Sharpness} ± {g.StdError} vs {0.5 * rho * rho * trTat}");
        Assert.True(Math.Abs(u.Sharpness - 0.5 * rho * rho * trTat / 3) <= 4 * u.StdError, $"{u.Sharpness} ± {u.StdError} vs {0.5 * rho * rho * trTat / 3}");
        Assert.True(g.StdError < 0.1 * g.Sharpness);
    }

    [Fact]
    [Trait("Speed", "Slow")]
    public void AdaptiveSharpnessIsInvariantUnderReluLayerRescalingPlainSharpnessIsNot()
    {
        var set = ProbeTestModels.RandomSet(50, 4, 3, 31);
        nn.Module<Tensor, Tensor> Build()
        {
            manual_seed(4);
            var m = nn.Sequential(("fc0", nn.Linear(4, 8)), ("relu", nn.ReLU()), ("out", nn.Linear(8, 3)));
            m.to(ScalarType.Float64);
            return m;
        }
        var model = Build();
        var scaled = Build();
        const double c = 3;
        using (no_grad())
            foreach (var (name, p) in scaled.named_parameters())
            {
                if (name.StartsWith("fc0.")) p.mul_(c);          // ReLU(c·z) = c·ReLU(z) for c > 0 ...
                else if (name == "out.weight") p.div_(c);       // ... undone by the next layer: the same function
            }
        var l0 = new AdaptiveSharpness(model, CPU).Compute(set, SharpnessKind.AverageCase, new AdaptiveSharpnessOptions { Samples = 1 }).Loss;
        var l1 = new AdaptiveSharpness(scaled, CPU).Compute(set, SharpnessKind.AverageCase, new AdaptiveSharpnessOptions { Samples = 1 }).Loss;
        Assert.Equal(l0, l1, 1e-12);
        foreach (var norm in new[] { SharpnessNorm.L2, SharpnessNorm.LInf })
            foreach (var kind in new[] { SharpnessKind.WorstCase, SharpnessKind.AverageCase })
            {
                double rho = norm == SharpnessNorm.L2 ? 0.5 : 0.2;
                var o = new AdaptiveSharpnessOptions { Rho = rho, Norm = norm, Steps = 10, Samples = 20, Seed = 7 };
                double sa = new AdaptiveSharpness(model, CPU).Compute(set, kind, o).Sharpness;
                double sb = new AdaptiveSharpness(scaled, CPU).Compute(set, kind, o).Sharpness;
                double pa = new AdaptiveSharpness(model, CPU).Compute(set, kind, o with { Adaptive = false }).Sharpness;
                double pb = new AdaptiveSharpness(scaled, CPU).Compute(set, kind, o with { Adaptive = false }).Sharpness;
                output.WriteLine($"{norm} {kind}: adaptive {sa:G6} vs rescaled {sb:G6}; plain {pa:G6} vs rescaled {pb:G6}");
                if (kind == SharpnessKind.WorstCase) Assert.True(sa > 0);
                Assert.Equal(sa, sb, 1e-8 * Math.Abs(sa));
                Assert.True(Math.Abs(pa - pb) > 0.1 * Math.Max(pa, pb), $"plain sharpness should change under rescaling: {pa} vs {pb}");
            }
    }

    [Fact]
    public void SameSeedSameNumbersParametersRestoredAndBadOptionsNamed()
    {
        var set = ProbeTestModels.RandomSet(30, 4, 3, 41);
        manual_seed(5);
        var model = nn.Sequential(("fc0", nn.Linear(4, 6)), ("relu", nn.ReLU()), ("out", nn.Linear(6, 3)));
        model.to(ScalarType.Float64);
        var before = model.parameters().Select(p => ProbeTestModels.ToArray(p)).ToList();
        var probe = new AdaptiveSharpness(model, CPU) { Groups = ["fc0"] };
        var o = new AdaptiveSharpnessOptions { Steps = 8, Seed = 9 };
        var a = probe.Compute(set, SharpnessKind.WorstCase, o);
        var b = probe.Compute(set, SharpnessKind.WorstCase, o);
        Assert.Equal(a.Sharpness, b.Sharpness);
        Assert.Equal(a.PerturbedError, b.PerturbedError);
        var after = model.parameters().Select(p => ProbeTestModels.ToArray(p)).ToList();
        for (int i = 0; i < before.Count; i++) Assert.Equal(before[i], after[i]);
        Assert.True(model.training);
        Assert.Contains("rho", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveSharpnessOptions { Rho = 0 }.Validate()).Message);
        Assert.Contains("sharpness_batch", Assert.Throws<ArgumentOutOfRangeException>(() => new AdaptiveSharpnessOptions { SharpnessBatch = 0 }.Validate()).Message);
    }

    [Fact]
    public void ApgdCheckpointsFollowTheSchedule()
    {
        // p = 0, 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99 → ⌈p·100⌉.
        Assert.Equal([22, 41, 57, 70, 80, 87, 93, 99], AdaptiveSharpness.Checkpoints(100));
    }
}
