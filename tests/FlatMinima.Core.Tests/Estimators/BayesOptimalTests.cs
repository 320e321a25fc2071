using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Tests.Estimators;

public class BayesOptimalTests
{
    // docs/theory.md#table-bo: ε_BO(α) for α = 0.5, 1, 2, 5, 10, 100, then the oracle error, per (ρ, Δ). Values rounded to 5 decimals.
    public static TheoryData<double, double, double[]> BayesOptimalReferenceRows => new()
    {
        { 0.5, 0.25, [0.05124, 0.03682, 0.02967, 0.02548, 0.02411, 0.02289, 0.02275] },
        { 0.5, 0.5, [0.15866, 0.12411, 0.10295, 0.08876, 0.08377, 0.07917, 0.07865] },
        { 0.5, 1.0, [0.28185, 0.23975, 0.20711, 0.18066, 0.17018, 0.15986, 0.15866] },
        { 0.5, 2.0, [0.37591, 0.34155, 0.30854, 0.27505, 0.25930, 0.24192, 0.23975] },
        { 0.25, 0.25, [0.04269, 0.03083, 0.02492, 0.02143, 0.02029, 0.01927, 0.01916] },
        { 0.25, 0.5, [0.12702, 0.10077, 0.08425, 0.07301, 0.06902, 0.06533, 0.06492] },
        { 0.25, 1.0, [0.20883, 0.18363, 0.16187, 0.14316, 0.13553, 0.12791, 0.12702] },
        { 0.25, 2.0, [0.24560, 0.23622, 0.22254, 0.20502, 0.19580, 0.18502, 0.18363] },
        { 0.1, 0.25, [0.02635, 0.01932, 0.01574, 0.01360, 0.01290, 0.01227, 0.01220] },
        { 0.1, 0.5, [0.07006, 0.05778, 0.04939, 0.04342, 0.04125, 0.03923, 0.03900] },
        { 0.1, 1.0, [0.09666, 0.09084, 0.08394, 0.07687, 0.07373, 0.07045, 0.07006] },
        { 0.1, 2.0, [0.09999, 0.09975, 0.09866, 0.09595, 0.09397, 0.09122, 0.09084] },
    };

    private static readonly double[] Alphas = [0.5, 1, 2, 5, 10, 100];

    [Theory]
    [MemberData(nameof(BayesOptimalReferenceRows))]
    public void ReproducesTheBayesOptimalAndOracleReferenceTable(double rho, double delta, double[] expected)
    {
        // The table is rounded to 5 decimals: agreement within half a unit of the last digit (plus float slack).
        for (int i = 0; i < Alphas.Length; i++)
            Assert.Equal(expected[i], BayesOptimal.Error(new MixtureModel(Alphas[i], delta, rho)), 5.01e-6);
        Assert.Equal(expected[^1], BayesOptimal.OracleError(delta, rho), 5.01e-6);
    }

    [Fact]
    public void BalancedIdentities()
    {
        Assert.Equal(0.5 * MathNet.Numerics.SpecialFunctions.Erfc(0.5), BayesOptimal.Error(new MixtureModel(1, 1)), 1e-15); // H(1/√2)
        Assert.Equal(0.239750061093477, BayesOptimal.Error(new MixtureModel(1, 1)), 1e-12);
        Assert.Equal(0.158655253931457, BayesOptimal.OracleError(1), 1e-12);                           // H(1)
        Assert.Equal(0.207108, BayesOptimal.Error(new MixtureModel(2, 1)), 5e-7);                                         // H(√(1/3))
        // E3' in general: ½ erfc(√(α/(2Δ(α+Δ)))).
        foreach (var (a, d) in new[] { (0.3, 0.2), (3.0, 1.7), (40.0, 5.0) })
            Assert.Equal(0.5 * MathNet.Numerics.SpecialFunctions.Erfc(Math.Sqrt(a / (2 * d * (a + d)))), BayesOptimal.Error(new MixtureModel(a, d)), 1e-14);
    }

    [Theory]
    [InlineData(0.5, 1.0)]
    [InlineData(0.25, 1.0)]
    [InlineData(0.1, 0.5)]
    public void LimitsInAlpha(double rho, double delta)
    {
        // α → ∞: the oracle; α → 0: ½ if balanced, else the majority-class error min(ρ, 1−ρ).
        Assert.Equal(BayesOptimal.OracleError(delta, rho), BayesOptimal.Error(new MixtureModel(1e9, delta, rho)), 1e-7);
        Assert.Equal(Math.Min(rho, 1 - rho), BayesOptimal.Error(new MixtureModel(1e-9, delta, rho)), 1e-3);
    }

    [Fact]
    public void FitReturnsTheScaledHebbianVectorAndTheBayesBias()
    {
        var spec = new MixtureSpec(new MixtureModel(2, 1, 0.25), 300, Seed: 4);
        var s = MixtureSample.Sample(spec);
        var c = BayesOptimal.Fit(s);
        var hebb = s.Hebbian();
        double scale = 1 / (Math.Sqrt(300) * (2 + 1));
        for (int i = 0; i < 300; i++) Assert.Equal(hebb[i] * scale, c.W[i], 1e-12);
        double cPost = 1.0 / 3;
        Assert.Equal(0.5 * (1 + cPost / 300) * Math.Log(0.25 / 0.75), c.B, 1e-14);
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData(0.5, 0.20711)]
    [InlineData(0.25, 0.16187)]
    public void SimulationAtN2000AgreesWithClosedForm(double rho, double theory)
    {
        // docs/theory.md#table-bo simulation check: N = 2000, α = 2, Δ = 1. The BO estimator's m and q are unbiased at finite N
        // (‖v‖² = N exactly); the mean test error differs from ε_BO only at second order, ½ H''(κ) Var(κ) = O(1/N)
        // ≈ 1e-4 at N = 2000, so the allowance is 5e-4 on top of 3 standard errors.
        var r = MonteCarlo.Run(new MixtureSpec(new MixtureModel(2, 1, rho), 2000, Seed: 100), 6, EstimatorKind.Bayes);
        Assert.InRange(r.TestError.Mean, theory - 3 * r.TestError.StdError - 5e-4, theory + 3 * r.TestError.StdError + 5e-4);
        double mB = 2.0 / 3;
        Assert.InRange(r.M.Mean, mB - 3 * r.M.StdError - 1e-3, mB + 3 * r.M.StdError + 1e-3);
        Assert.InRange(r.Q.Mean, mB - 3 * r.Q.StdError - 1e-3, mB + 3 * r.Q.StdError + 1e-3);
        Assert.True(r.TestError.StdError < 0.002);
    }

    [Fact]
    public void BadArgumentsNameTheParameter()
    {
        Assert.Equal("alpha", Assert.Throws<ArgumentOutOfRangeException>(() => BayesOptimal.Error(new MixtureModel(0, 1))).ParamName);
        Assert.Equal("delta", Assert.Throws<ArgumentOutOfRangeException>(() => BayesOptimal.Error(new MixtureModel(1, double.NaN))).ParamName);
        Assert.Equal("rho", Assert.Throws<ArgumentOutOfRangeException>(() => BayesOptimal.Error(new MixtureModel(1, 1, 1.5))).ParamName);
    }
}
