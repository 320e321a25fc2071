using FlatMinima.Flatness;
using FlatMinima.Mixture;

namespace FlatMinima.Tests.Flatness;

public class FranzParisiTests
{
    [Theory]
    [InlineData(0.1, 1.0)]
    [InlineData(0.5, 0.8)]
    [InlineData(0.95, 0.3)]
    public void AtInfiniteTemperatureItIsTheLogVolumeOfTheSlice(double r, double cos)
    {
        // β = 0: Φ(R) = ½ ln(1 − R²) exactly (uniform measure on the sphere), whatever the reference.
        var pt = FranzParisiLocalEntropy.Solve(new FranzParisiProblem(new MixtureModel(2, 1, 0.5), 0, cos), r);
        Assert.True(pt.Converged);
        Assert.Equal(0.5 * Math.Log(1 - r * r), pt.FreeEntropy, 1e-9);
    }

    [Fact]
    public void AtSmallDistanceItReachesTheReferencesOwnTrainingError()
    {
        // R → 1: Φ − ½ ln(1 − R²) → −βα ε_t(w̃), with a √(1 − R) approach (the 0-1 boundary layer).
        var pr = new FranzParisiProblem(new MixtureModel(2, 1, 0.5), 2, 1.0);
        // the reference's training error in closed form is the BO training error (LE2 at σ = 0) for cos ψ = 1
        Assert.Equal(LocalEnergy.BayesOptimalTheory(new MixtureModel(2, 1, 0.5), 0), FranzParisiLocalEntropy.ReferenceTrainError(pr), 1e-12);
        Assert.Equal(FlatMinima.Estimators.BayesOptimal.Error(new MixtureModel(2, 1, 0.5)), FranzParisiLocalEntropy.ReferenceTestError(pr), 1e-12);
        double limit = -pr.Beta * pr.Alpha * FranzParisiLocalEntropy.ReferenceTrainError(pr);
        var d = new[] { 0.999, 0.9999 }.Select(r => FranzParisiLocalEntropy.Solve(pr, r)).ToArray();
        Assert.All(d, p => Assert.True(p.Converged));
        Assert.True(Math.Abs(d[1].Excess - limit) < 0.01, $"{d[1].Excess} vs {limit}");
        double ratio = (d[0].Excess - limit) / (d[1].Excess - limit);
        Assert.InRange(ratio, 2.5, 3.8); // √10 = 3.16
        Assert.Equal(FranzParisiLocalEntropy.ReferenceTrainError(pr), d[1].TrainError, 0.005);
    }

    [Fact]
    public void LocalEntropyGrowsAsTheReferenceApproachesBayesOptimal()
    {
        // The flatness claim (Baldassi et al. 2020) in this model: at fixed distance, the closer the reference is
        // to the BO direction, the larger the local entropy.
        foreach (double r in new[] { 0.8, 0.9, 0.95 })
        {
            var e = new[] { 0.6, 0.8, 0.9, 1.0 }.Select(c => FranzParisiLocalEntropy.Solve(new FranzParisiProblem(new MixtureModel(2, 1, 0.5), 2, c), r).Excess).ToArray();
            for (int i = 1; i < e.Length; i++) Assert.True(e[i] > e[i - 1], $"R={r}: {string.Join(", ", e)}");
        }
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData(1.0, 0.3)]
    [InlineData(1.0, 0.9)]
    [InlineData(0.8, 0.6)]
    public void ReplicaTheoryAgreesWithSamplingAtModerateN(double cos, double r)
    {
        // N = 120, α = 2, Δ = 1, β = 2; 6 data sets, annealed Metropolis on the slice, TI in β.
        // Tolerance: 3 standard errors plus a finite-size allowance of 0.01.
        var theory = FranzParisiLocalEntropy.Solve(new FranzParisiProblem(new MixtureModel(2, 1, 0.5), 2, cos), r);
        var sim = FranzParisiLocalEntropy.Sample(new MixtureSpec(new MixtureModel(2, 1, 0.5), 120, 0), cos, r, 2, seeds: 6, sweeps: 150, burnIn: 75);
        Assert.True(Math.Abs(sim.Excess - theory.Excess) < 3 * sim.StdError + 0.01, $"sim {sim.Excess} ± {sim.StdError}, theory {theory.Excess}");
    }

    [Fact]
    public void BadInputNamesTheParameter()
    {
        Assert.Equal("reference-cosine", Assert.Throws<ArgumentOutOfRangeException>(() => new FranzParisiProblem(new MixtureModel(2, 1), ReferenceCosine: 1.5)).ParamName);
        Assert.Equal("R", Assert.Throws<ArgumentOutOfRangeException>(() => FranzParisiLocalEntropy.Solve(new FranzParisiProblem(new MixtureModel(2, 1)), 1.0)).ParamName);
    }
}
