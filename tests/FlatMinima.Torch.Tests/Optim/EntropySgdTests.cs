using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Training;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Tests.Optim;

public class EntropySgdTests
{
    // Quadratic f(w') = ½a‖w' − c‖², coupling γ to the anchor w: the Gibbs measure exp(−[f + γ/2‖w' − w‖²]/T) is Gaussian
    // with mean m = (a c + γ w)/(a + γ). SGLD with step η' is a discrete OU process with the same mean and stationary
    // variance T/(k(1 − η'k/2)), k = a + γ, where T = ε² (Langevin convention: noise ε√(2η')) or ε²/2 (paper: ε√η').
    [Theory]
    [InlineData(NoiseConvention.Langevin, 1.0)]
    [InlineData(NoiseConvention.Paper, 0.5)]
    public void InnerLoopMeanAndVarianceMatchTheGaussian(NoiseConvention conv, double tempFactor)
    {
        TestRuntime.Init();
        const int d = 2000, burn = 100, steps = 400;
        double a = 1, gamma = 1, eta = 0.1, eps = 0.1;
        var rng = new Random(1);
        var w0 = Enumerable.Range(0, d).Select(_ => (float)rng.NextDouble()).ToArray();
        var c = Enumerable.Range(0, d).Select(_ => (float)(2 * rng.NextDouble() - 1)).ToArray();
        using var model = new QuadModel(w0);
        using var opt = new EntropySgd(model, new EntropySgdOptions
        {
            Lr = 0.1, Momentum = 0, Nesterov = false, InnerSteps = 1_000_000, SgldLr = eta, Noise = eps, Convention = conv,
            EmaWeight = 0.01, Gamma0 = gamma, Gamma1 = 0, Seed = 7,
        });
        var (x, y) = Quad.Batch();
        var loss = Quad.Loss(a, c);
        var m = w0.Select((w, i) => (a * c[i] + gamma * w) / (a + gamma)).ToArray();
        double sum = 0, sumSq = 0; long n = 0;
        for (int s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            opt.Step(model, x, y, loss);
            if (s < burn) continue;
            var v = Quad.Values(model.W);
            for (int i = 0; i < d; i++) { double dev = v[i] - m[i]; sum += dev; sumSq += dev * dev; n++; }
        }
        double k = a + gamma, T = eps * eps * tempFactor;
        double varTheory = T / (k * (1 - eta * k / 2));
        double meanDev = sum / n, varEmp = sumSq / n - meanDev * meanDev;
        // Coordinates are independent; in time the samples are AR(1) with ρ = 1 − η'k = 0.8, so the standard error of the
        // pooled mean is √(var/(d·steps)·(1+ρ)/(1−ρ)).
        double seMean = Math.Sqrt(varTheory / ((double)d * (steps - burn)) * 9);
        Assert.True(Math.Abs(meanDev) < 5 * seMean, $"mean deviation {meanDev} vs 5·SE {5 * seMean}");
        Assert.True(Math.Abs(varEmp / varTheory - 1) < 0.03, $"variance {varEmp} vs theory {varTheory}");
        // The running mean μ is centred on its expectation, which follows the deterministic recursions
        // E[w'] ← E[w'] − η'(a(E[w'] − c) + γ(E[w'] − w)), E[μ] ← (1 − α)E[μ] + αE[w'] from w' = μ = w0.
        var mu = Quad.Values(opt.Mean);
        var expMu = new double[d];
        for (int i = 0; i < d; i++)
        {
            double ew = w0[i], em = w0[i];
            for (int s = 0; s < steps; s++) { ew -= eta * (a * (ew - c[i]) + gamma * (ew - w0[i])); em = 0.99 * em + 0.01 * ew; }
            expMu[i] = em;
        }
        double muDev = mu.Select((u, i) => u - expMu[i]).Average();
        double muSd = Math.Sqrt(mu.Select((u, i) => Math.Pow(u - expMu[i] - muDev, 2)).Sum() / (d - 1));
        Assert.True(Math.Abs(muDev) < 5 * muSd / Math.Sqrt(d), $"μ deviation {muDev}");
        Assert.True(muSd < Math.Sqrt(varTheory), "the average is tighter than a single sample");
    }

    [Fact]
    public void OuterStepMatchesTheFormula()
    {
        TestRuntime.Init();
        const int L = 3;
        double a = 2, eta1 = 0.05, alpha = 0.25, lr = 0.3, g0 = 0.5, g1 = 0.1, wd = 0.01;
        float[] w0 = [1f, -2f, 0.5f], c = [0.2f, 0.4f, -1f];
        using var model = new QuadModel(w0);
        using var opt = new EntropySgd(model, new EntropySgdOptions
        {
            Lr = lr, Momentum = 0, Nesterov = false, InnerSteps = L, SgldLr = eta1, Noise = 0, EmaWeight = alpha,
            // The earlier defaults, pinned: decay wd in the γ-scaled outer step only.
            Gamma0 = g0, Gamma1 = g1, OuterWeightDecay = wd, WeightDecay = 0, GScale = true,
        });
        var (x, y) = Quad.Batch();
        var loss = Quad.Loss(a, c);
        // Reference: the recursion of docs/optim.md#entropy-sgd in double precision.
        var w = w0.Select(v => (double)v).ToArray();
        for (int t = 0; t < 2; t++)
        {
            double gamma = g0 * Math.Pow(1 + g1, t);
            var wp = (double[])w.Clone(); var mu = (double[])w.Clone();
            for (int l = 0; l < L; l++)
            {
                for (int i = 0; i < 3; i++) wp[i] -= eta1 * (a * (wp[i] - c[i]) + gamma * (wp[i] - w[i]));
                for (int i = 0; i < 3; i++) mu[i] = (1 - alpha) * mu[i] + alpha * wp[i];
            }
            for (int i = 0; i < 3; i++) w[i] -= lr * gamma * ((w[i] - mu[i]) + wd * w[i]);
            for (int l = 0; l < L; l++) { using var s = NewDisposeScope(); opt.Step(model, x, y, loss); }
            var got = Quad.Values(model.W);
            for (int i = 0; i < 3; i++) Assert.Equal(w[i], got[i], 5);
            Assert.Equal(t + 1, opt.OuterSteps);
        }
        Assert.Equal(g0 * (1 + g1) * (1 + g1), opt.Gamma, 12);
    }

    [Fact]
    public void AutomaticGamma0BalancesLossAndCoupling()
    {
        TestRuntime.Init();
        float[] w0 = [1f, 1f], c = [0f, 0f];
        using var model = new QuadModel(w0);
        using var opt = new EntropySgd(model, new EntropySgdOptions { Lr = 0.1, Momentum = 0, Nesterov = false, InnerSteps = 5, SgldLr = 0.1, Noise = 0, Gamma1 = 0, GammaCap = 1e6, Gamma0Auto = true });
        var (x, y) = Quad.Batch();
        var loss = Quad.Loss(1, c);
        using (var s = NewDisposeScope()) opt.Step(model, x, y, loss);
        // After one plain step w' = 0.9·w0 (γ not yet known): f(w') = ½·2·0.81 = 0.81, ½‖w − w'‖² = ½·2·0.01 = 0.01.
        using (var s = NewDisposeScope()) opt.Step(model, x, y, loss);
        Assert.Equal(0.81 / 0.01, opt.Gamma, 3);
        // With the default cap γ ≤ 1/η' the same calibration saturates at 10.
        using var model2 = new QuadModel(w0);
        using var opt2 = new EntropySgd(model2, new EntropySgdOptions { Lr = 0.1, Momentum = 0, Nesterov = false, InnerSteps = 5, SgldLr = 0.1, Noise = 0, Gamma1 = 0, Gamma0Auto = true });
        for (int i = 0; i < 2; i++) { using var s = NewDisposeScope(); opt2.Step(model2, x, y, loss); }
        Assert.Equal(10, opt2.Gamma, 12);
    }

    [Theory]
    [InlineData("lr", 0.0)]
    [InlineData("inner_steps", 0.0)]
    [InlineData("ema_weight", 1.5)]
    [InlineData("sgld_lr", -1.0)]
    [InlineData("noise", -1e-3)]
    [InlineData("gmax", 0.5)]
    public void InvalidOptionsAreRejectedByName(string name, double v)
    {
        var o = name switch
        {
            "lr" => new EntropySgdOptions { Lr = v },
            "inner_steps" => new EntropySgdOptions { InnerSteps = (int)v },
            "ema_weight" => new EntropySgdOptions { EmaWeight = v },
            "sgld_lr" => new EntropySgdOptions { SgldLr = v },
            "noise" => new EntropySgdOptions { Noise = v },
            _ => new EntropySgdOptions { Gmax = v },
        };
        var e = Assert.ThrowsAny<ArgumentException>(() => o.Validate());
        Assert.Contains(name, e.Message);
    }
}

/// <summary>The default Entropy-SGD against SGD at a matched gradient budget (docs/optim.md#entropy-sgd).</summary>
public class EntropySgdDefaultsTests
{
    public EntropySgdDefaultsTests() => TestRuntime.Init();

    // GM data N = 100, α = 2 (200 training samples), MLP 100-128-128-2, batch 20, weight decay 5·10⁻⁴, 10 epochs: SGD
    // (lr 0.05, momentum 0.9) and the default eSGD take the same 100 gradient evaluations (eSGD: 20 outer steps of L = 5).
    // The final model's training error on the whole training set (eval mode), seed by seed, is within one point of SGD's
    // (measured on seeds 0–9 with these settings: 0 % for both on every seed, docs/optim.md; the earlier defaults,
    // EntropySgdOptions.EarlierDefaults with lr 0.1, gave 1.95 ± 1.26 %, every seed but one above SGD's by ≥ 0.5).
    [Fact]
    [Trait("Speed", "Slow")]
    public void DefaultEntropySgdFitsLikeSgdAtAMatchedBudget()
    {
        foreach (long seed in new long[] { 0, 1, 2, 3 })
        {
            double sgd = FinalTrainingError(new SgdOptions { Lr = 0.05, WeightDecay = 5e-4 }, seed);
            double esgd = FinalTrainingError(new EntropySgdOptions { WeightDecay = 5e-4 }, seed);
            Assert.True(esgd <= sgd + 0.01, $"seed {seed}: eSGD {esgd:P2} vs SGD {sgd:P2}");
        }
    }

    private static double FinalTrainingError(OptimizerConfig optimizer, long seed)
    {
        using var dir = new TempDir();
        var config = new RunConfig(new GmmDataConfig { N = 100, Alpha = 2, TestSize = 100 }, new MlpConfig(), optimizer,
            new TrainingConfig { Epochs = 10, BatchSize = 20, Seed = seed });
        Assert.True(Experiment.Train(dir.Path, config).Completed);
        using var trained = TrainedModel.Load(TrainingRun.Open(dir.Path));
        return Trainer.Evaluate(trained.Model, trained.Data.Train, trained.Device).Error;
    }
}
