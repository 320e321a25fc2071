using FlatMinima.Mixture;
using FlatMinima.Numerics;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Data;

/// <summary>
/// The two-cluster Gaussian mixture of docs/theory.md#model as tensors, drawn by Core's <see cref="MixtureSample.Sample"/>
/// with the same seed, so the training set is exactly Core's realisation of <c>spec</c>. The test set comes from the
/// same distribution with the same centroid v: Core's sampler is run for P + P_test samples with the same seed (v
/// depends on the seed and N only, and the samples are drawn in order), and the first P rows — identical to
/// <c>MixtureSample.Sample(spec)</c> — are the training set. Labels: y = +1 → class 1, y = −1 → class 0.
/// Inputs are the raw x^μ (float32).
/// </summary>
public static class GmmData
{
    /// <summary>Draws the data set; <paramref name="testSize"/> ≥ 1 fresh samples form the test set.</summary>
    public static DataSplit Create(MixtureSpec spec, int testSize = 10_000)
    {
        Guard.AtLeast(testSize, 1, "test_size");
        int p = spec.P, n = spec.N;
        var all = MixtureSample.Sample(spec with { Model = spec.Model with { Alpha = (double)(p + testSize) / n } });
        if (all.P != p + testSize) throw new InvalidOperationException($"internal: expected {p + testSize} samples, got {all.P}.");
        var train = Make(all, 0, p);
        var test = Make(all, p, testSize);
        var info = new Dictionary<string, object?>
        {
            ["name"] = "gmm", ["alpha"] = spec.Alpha, ["delta"] = spec.Delta, ["rho"] = spec.Rho, ["n"] = n, ["p"] = p,
            ["test"] = testSize, ["seed"] = spec.Seed, ["exact_norm_v"] = spec.ExactNormV,
        };
        return new DataSplit(train, test, info);
    }

    private static TensorDataSet Make(MixtureSample s, int start, int count)
    {
        var x = new float[count * s.N];
        for (int i = 0; i < x.Length; i++) x[i] = (float)s.X[start * s.N + i];
        var y = new long[count];
        for (int i = 0; i < count; i++) y[i] = s.Y[start + i] > 0 ? 1 : 0;
        return new TensorDataSet("gmm", tensor(x, [count, s.N]), tensor(y, [count]), 2);
    }

    /// <summary>Bayes-optimal error ε_BO(α, Δ, ρ) of docs/theory.md#e3, from Core: the floor no classifier trained on αN
    /// samples can beat.</summary>
    public static double BayesOptimalError(MixtureModel model) => FlatMinima.Estimators.BayesOptimal.Error(model);
}
