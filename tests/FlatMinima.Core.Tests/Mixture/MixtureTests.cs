using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Tests.Mixture;

public class MixtureTests
{
    [Fact]
    public void SameSeedGivesIdenticalSampleAndOtherSeedDoesNot()
    {
        var spec = new MixtureSpec(new MixtureModel(1.5, 0.7, 0.3), 50, Seed: 11);
        var a = MixtureSample.Sample(spec);
        var b = MixtureSample.Sample(spec);
        Assert.Equal(a.X, b.X);
        Assert.Equal(a.Y, b.Y);
        Assert.Equal(a.V, b.V);
        var c = MixtureSample.Sample(spec.WithSeed(12));
        Assert.NotEqual(a.X, c.X);
    }

    [Fact]
    public void CentroidIsNormalisedAndSamplesHaveTheModelMoments()
    {
        // x = y v/√N + √Δ z: y x·v/N has mean ‖v‖²/N^{3/2} = 1/√N and variance Δ‖v‖²/N² = Δ/N per sample.
        var spec = new MixtureSpec(new MixtureModel(4, 0.5, 0.25), 400, Seed: 3);
        var s = MixtureSample.Sample(spec);
        Assert.Equal(400, s.V.Length);
        Assert.Equal(1600, s.P);
        Assert.Equal(spec.N, Kernels.Norm2(s.V), 1e-9);
        // Label fraction: binomial s.e. √(ρ(1−ρ)/P) ≈ 0.011.
        double fracPlus = s.Y.Count(v => v > 0) / (double)s.P;
        Assert.InRange(fracPlus, 0.25 - 0.033, 0.25 + 0.033);
        // Projection on v: y x·v/√N = ‖v‖²/N + √Δ ξ, i.e. mean 1 and variance Δ.
        double sum = 0, sum2 = 0;
        for (int mu = 0; mu < s.P; mu++)
        {
            double t = s.Y[mu] * Kernels.Dot(s.Row(mu), s.V) / Math.Sqrt(s.N);
            sum += t; sum2 += t * t;
        }
        double mean = sum / s.P, variance = sum2 / s.P - mean * mean;
        Assert.InRange(mean, 1 - 3 * Math.Sqrt(0.5 / s.P), 1 + 3 * Math.Sqrt(0.5 / s.P));
        Assert.InRange(variance, 0.5 * (1 - 3 * Math.Sqrt(2.0 / s.P)), 0.5 * (1 + 3 * Math.Sqrt(2.0 / s.P)));
        // Noise variance off the centroid: ‖x‖² ≈ 1 + ΔN per sample.
        double norm2 = 0;
        for (int mu = 0; mu < s.P; mu++) norm2 += Kernels.Norm2(s.Row(mu));
        Assert.Equal(1 + 0.5 * s.N, norm2 / s.P, 0.02 * 0.5 * s.N);
    }

    [Fact]
    public void ClosedFormTestErrorMatchesAFreshTestSet()
    {
        // E1 is exact at finite N once m, q use the realised v. Check it against 200 000 fresh samples of the same
        // mixture (same v), for an arbitrary classifier with a bias: binomial s.e. ≈ 0.0009.
        var spec = new MixtureSpec(new MixtureModel(1, 0.8, 0.3), 60, Seed: 5);
        var train = MixtureSample.Sample(spec);
        var rng = new Rng(99);
        var w = new double[spec.N];
        for (int i = 0; i < w.Length; i++) w[i] = 0.8 * train.V[i] + rng.NextGaussian();
        double b = -0.4;
        double predicted = train.TestError(w, b);

        const int tests = 200_000;
        int errors = 0;
        var x = new double[spec.N];
        double invSqrtN = 1 / Math.Sqrt(spec.N), sd = Math.Sqrt(spec.Delta);
        for (int t = 0; t < tests; t++)
        {
            double y = rng.NextSign(spec.Rho);
            for (int i = 0; i < spec.N; i++) x[i] = y * train.V[i] * invSqrtN + sd * rng.NextGaussian();
            double h = Kernels.Dot(w, x) * invSqrtN + b;
            if (y * h < 0) errors++;
        }
        double empirical = errors / (double)tests;
        double se = Math.Sqrt(predicted * (1 - predicted) / tests);
        Assert.InRange(empirical, predicted - 4 * se, predicted + 4 * se);
    }

    [Fact]
    public void TestErrorIsInvariantUnderPositiveRescaling()
    {
        double e1 = GeneralizationError.Of(0.4, 0.9, -0.2, 1.3, 0.3);
        double e2 = GeneralizationError.Of(0.4 * 7, 0.9 * 49, -0.2 * 7, 1.3, 0.3);
        Assert.Equal(e1, e2, 1e-14);
        // Hand value: ρ H((m+b)/√(Δq)) + (1−ρ) H((m−b)/√(Δq)) with m = 0.4, q = 0.9, b = −0.2, Δ = 1.3, ρ = 0.3.
        double s = Math.Sqrt(1.3 * 0.9);
        Assert.Equal(0.3 * Gaussian.H(0.2 / s) + 0.7 * Gaussian.H(0.6 / s), e1, 1e-15);
    }

    [Fact]
    public void ZeroWeightsGiveTheConstantClassifier()
    {
        Assert.Equal(0.3, GeneralizationError.Of(0, 0, -1, 1, 0.3));   // always −1: wrong on the +1 cluster
        Assert.Equal(0.7, GeneralizationError.Of(0, 0, 1, 1, 0.3));
    }

    public static TheoryData<Func<object>, string, string> InvalidSpecs => new()
    {
        { () => new MixtureSpec(new MixtureModel(0, 1)), "alpha", "> 0" },
        { () => new MixtureSpec(new MixtureModel(-1, 1)), "alpha", "> 0" },
        { () => new MixtureSpec(new MixtureModel(double.NaN, 1)), "alpha", "> 0" },
        { () => new MixtureSpec(new MixtureModel(double.PositiveInfinity, 1)), "alpha", "> 0" },
        { () => new MixtureSpec(new MixtureModel(1, 0)), "delta", "> 0" },
        { () => new MixtureSpec(new MixtureModel(1, -2)), "delta", "> 0" },
        { () => new MixtureSpec(new MixtureModel(1, 1, 0)), "rho", "(0, 1)" },
        { () => new MixtureSpec(new MixtureModel(1, 1, 1)), "rho", "(0, 1)" },
        { () => new MixtureSpec(new MixtureModel(1, 1, double.NaN)), "rho", "(0, 1)" },
        { () => new MixtureSpec(new MixtureModel(1, 1, 0.5), 0), "n", ">= 1" },
        // the data model is validated on every copy too, so no problem type can hold an invalid (α, Δ, ρ)
        { () => new MixtureModel(2, 1) with { Alpha = 0 }, "alpha", "> 0" },
        { () => new MixtureModel(2, 1) with { Delta = -1 }, "delta", "> 0" },
        { () => new MixtureModel(2, 1) with { Rho = 1 }, "rho", "(0, 1)" },
    };

    [Fact]
    public void OneModelFeedsTheSpecAndEveryProblem()
    {
        var model = new MixtureModel(Alpha: 2, Delta: 1, Rho: 0.25);
        var spec = model.AtSize(300, seed: 4);
        Assert.Equal((2.0, 1.0, 0.25, 600), (spec.Alpha, spec.Delta, spec.Rho, spec.P));
        Assert.Same(model, new FlatMinima.Replica.ErmProblem(FlatMinima.Losses.SquareLoss.Instance, model, 0.1).Model);
        Assert.Equal(new MixtureModel(3, 1, 0.25), new FlatMinima.Replica.ErmProblem(FlatMinima.Losses.SquareLoss.Instance, model, 0.1).WithAlpha(3).Model);
        Assert.False(model.Balanced);
        Assert.True((model with { Rho = 0.5 }).Balanced);
    }

    [Theory]
    [MemberData(nameof(InvalidSpecs))]
    public void InvalidSpecNamesTheParameterAndItsRange(Func<object> make, string parameter, string range)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(make);
        Assert.Equal(parameter, e.ParamName);
        Assert.Contains(parameter, e.Message);
        Assert.Contains(range, e.Message);
    }
}

public class ExactLabelCountTests
{
    [Fact]
    public void ExactCountsGiveRoundRhoPPositiveLabelsAndKeepTheNoiseStreamApart()
    {
        var spec = new MixtureSpec(new MixtureModel(2, 1, 0.3), 101, Seed: 9, ExactLabelCounts: true);
        var s = MixtureSample.Sample(spec);
        Assert.Equal((int)Math.Round(0.3 * 202), s.Y.Count(y => y > 0));
        Assert.Equal(s.Y, MixtureSample.Sample(spec).Y);
        // The centroid is drawn from the same stream either way.
        Assert.Equal(MixtureSample.Sample(spec with { ExactLabelCounts = false }).V, s.V);
    }
}

public class SampleCountTests
{
    [Fact]
    public void SampleCountBeyondTheLargestIntegerIsRefusedNamingAlphaTimesN()
    {
        // α N = 3·10⁹ > 2³¹ − 1: a cast to int would wrap to a negative P.
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MixtureModel(3, 1).AtSize(1_000_000_000));
        Assert.Equal("alpha·n", e.ParamName);
        Assert.Contains("alpha·n must lie in (0, 2.14748E+09]", e.Message);
        Assert.Contains("got 3E+09", e.Message);
        // The largest α N that fits is accepted, and rounds as before.
        Assert.Equal(2_000_000_000, new MixtureModel(2, 1).AtSize(1_000_000_000).P);
        Assert.Equal(int.MaxValue, new MixtureModel(int.MaxValue / 1e9, 1).AtSize(1_000_000_000).P);
        // A with that changes the model alone is checked when P is read.
        var spec = new MixtureModel(2, 1).AtSize(1_000_000_000);
        Assert.Equal("alpha·n", Assert.Throws<ArgumentOutOfRangeException>(() => (spec with { Model = new MixtureModel(2.5, 1) }).P).ParamName);
    }
}
