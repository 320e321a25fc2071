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

    /// <summary>A record of the user's: two numeric fields, a vector and a flag.</summary>
    private sealed record Margins(double MeanMargin, int Errors, double[] FirstMargins, bool Separable);

    private static Margins MeasureMargins(MixtureSample s)
    {
        var c = FlatMinima.Estimators.BayesOptimal.Fit(s);
        var u = s.Margins(c.W, c.B);
        return new Margins(u.Average(), u.Count(x => x < 0), u.Take(3).ToArray(), u.All(x => x > 0));
    }

    [Fact]
    public void GenericRunReturnsEverySeedsRecordInOrderForAnyThreadCount()
    {
        var spec = new MixtureModel(2, 1, 0.3).AtSize(80, seed: 11);
        var one = MonteCarlo.Run(spec, 5, MeasureMargins, threads: 1);
        var four = MonteCarlo.Run(spec, 5, MeasureMargins, threads: 4);
        Assert.Equal([11L, 12, 13, 14, 15], one.Seeds);
        for (int k = 0; k < 5; k++)
        {
            // seed k's record is the measurement of the single sample of seed 11 + k
            var direct = MeasureMargins(MixtureSample.Sample(spec.WithSeed(11 + k)));
            Assert.Equal(direct.MeanMargin, one.PerSeed[k].MeanMargin);
            Assert.Equal(direct.FirstMargins, four.PerSeed[k].FirstMargins);
            Assert.Equal(one.PerSeed[k].Errors, four.PerSeed[k].Errors);
        }
        // a statistic per numeric field, by its snake_case name; vectors component by component
        Assert.Equal(["mean_margin", "errors"], MonteCarloResult<Margins>.Fields);
        var byHand = Statistic.Of(one.PerSeed.Select(r => (double)r.Errors).ToArray());
        Assert.Equal(byHand, one["errors"]);
        Assert.Equal(one["mean_margin"], one.Summary.Single(kv => kv.Key == "mean_margin").Value);
        var perComponent = one.OfEach(r => r.FirstMargins);
        Assert.Equal(3, perComponent.Length);
        Assert.Equal(Statistic.Of(one.PerSeed.Select(r => r.FirstMargins[2]).ToArray()), perComponent[2]);
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => one["separable"]).ParamName);
    }

    [Fact]
    public void GridRunGivesEveryPointTheSameDatasets()
    {
        var spec = new MixtureModel(2, 1).AtSize(60, seed: 3);
        double[] lambdas = [0.1, 1, 10];
        var grid = MonteCarlo.Run(spec, 3, lambdas, (s, l) => EstimatorKind.Erm(FlatMinima.Losses.SquareLoss.Instance, l).Measure(s), threads: 2);
        Assert.Equal(3, grid.Count);
        for (int i = 0; i < lambdas.Length; i++)
        {
            var alone = MonteCarlo.Run(spec, 3, EstimatorKind.Erm(FlatMinima.Losses.SquareLoss.Instance, lambdas[i]), maxParallelism: 1);
            for (int k = 0; k < 3; k++) Assert.Equal(alone.PerSeed[k].Values, grid[i].PerSeed[k].Values);
        }
        Assert.Equal("threads", Assert.Throws<ArgumentOutOfRangeException>(() => MonteCarlo.Workers(0)).ParamName);
        Assert.Equal(Environment.ProcessorCount, MonteCarlo.Workers(null));
    }
}
