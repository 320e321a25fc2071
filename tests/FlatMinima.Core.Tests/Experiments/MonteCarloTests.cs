using FlatMinima.Experiments;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Tests.Experiments;

public class MonteCarloTests
{
    [Fact]
    public void ParallelRunEqualsSequentialRunBitForBit()
    {
        var spec = new MixtureSpec(new MixtureModel(2, 1, 0.3), 150, Seed: 7);
        var est = EstimatorKind.Parse("logistic", 0.5);
        var par = MonteCarlo.Run(spec, 6, est, maxParallelism: 4);
        var seq = MonteCarlo.Run(spec, 6, est, maxParallelism: 1);
        Assert.Equal(seq.Seeds, par.Seeds);
        for (int k = 0; k < 6; k++) Assert.Equal(seq.PerSeed[k].Values, par.PerSeed[k].Values);
        // Seed k of a run is the single-seed run started at Seed + k.
        var single = MonteCarlo.Run(spec.WithSeed(7 + 4), 1, est);
        Assert.Equal(seq.PerSeed[4].Values, single.PerSeed[0].Values);
    }

    [Fact]
    public void StatisticMatchesHandComputation()
    {
        var s = Statistic.Of([1.0, 2.0, 4.0, 7.0]);
        Assert.Equal(3.5, s.Mean, 1e-15);
        Assert.Equal(Math.Sqrt(7.0), s.StdDev, 1e-14);          // Σ(x−x̄)² = 21, /3 = 7
        Assert.Equal(Math.Sqrt(7.0) / 2, s.StdError, 1e-14);
        Assert.True(double.IsNaN(Statistic.Of([3.0]).StdError));
    }

    [Fact]
    public void BayesTrainLossIsUndefinedAndSeedsMustBePositive()
    {
        var r = MonteCarlo.Run(new MixtureSpec(new MixtureModel(1, 1, 0.5), 50), 2, EstimatorKind.Bayes);
        Assert.True(double.IsNaN(r.TrainLoss.Mean));
        Assert.Equal("seeds", Assert.Throws<ArgumentOutOfRangeException>(() =>
            MonteCarlo.Run(new MixtureSpec(new MixtureModel(1, 1, 0.5), 50), 0, EstimatorKind.Bayes)).ParamName);
        Assert.Equal("estimator", Assert.Throws<ArgumentException>(() => EstimatorKind.Parse("ridge-ish", 1)).ParamName);
    }
}
