using FlatMinima.Estimators;
using FlatMinima.Flatness;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Tests.Flatness;

public class ObjectiveTests
{
    private static readonly MixtureSample Small = MixtureSample.Sample(new MixtureSpec(new MixtureModel(1.5, 1, 0.4), 60, 5));

    private static (double[] W, double B) Point(int n, long seed)
    {
        var rng = new Rng((ulong)seed);
        var w = new double[n];
        rng.FillGaussian(w);
        return (w, 0.3);
    }

    private static void CheckGradient(IFlatnessObjective obj, double tol)
    {
        var (w, b) = Point(obj.N, 3);
        var g = new double[obj.N];
        obj.Evaluate(w, b, g, out double gb);
        var tmp = new double[obj.N];
        double h = 1e-5;
        foreach (int j in new[] { 0, 7, obj.N - 1 })
        {
            double keep = w[j];
            w[j] = keep + h; double fp = obj.Evaluate(w, b, tmp, out _);
            w[j] = keep - h; double fm = obj.Evaluate(w, b, tmp, out _);
            w[j] = keep;
            Assert.Equal((fp - fm) / (2 * h), g[j], tol);
        }
        double fbp = obj.Evaluate(w, b + h, tmp, out _), fbm = obj.Evaluate(w, b - h, tmp, out _);
        Assert.Equal((fbp - fbm) / (2 * h), gb, tol);
    }

    [Fact]
    public void SmoothedErrorValueIsTheExactLocalEnergyAndItsGradientIsExact()
    {
        foreach (double sigma in new[] { 0.2, 1.0, 5.0 })
        {
            var obj = new SmoothedErrorObjective(Small, sigma);
            var (w, b) = Point(Small.N, 1);
            Assert.Equal(LocalEnergy.Exact(Small, w, b, sigma), obj.Evaluate(w, b, new double[Small.N], out _), 1e-14);
            CheckGradient(obj, 1e-8);
        }
    }

    [Fact]
    public void SmoothedErrorIsNormIndependent()
    {
        var obj = new SmoothedErrorObjective(Small, 0.7);
        var (w, b) = Point(Small.N, 2);
        double f1 = obj.Evaluate(w, b, new double[Small.N], out _);
        var w3 = w.Select(x => 3.7 * x).ToArray();
        Assert.Equal(f1, obj.Evaluate(w3, 3.7 * b, new double[Small.N], out _), 1e-14);
    }

    [Theory]
    [InlineData("square", 0.0, 0.0)]
    [InlineData("square", 0.8, 0.5)]
    [InlineData("logistic", 0.0, 0.1)]
    [InlineData("logistic", 1.3, 0.0)]
    public void SmoothedLossGradientMatchesFiniteDifferences(string loss, double sigma, double lambda)
        => CheckGradient(new SmoothedLossObjective(Small, MarginLosses.Parse(loss), sigma, lambda), 1e-7);

    [Theory]
    [InlineData("square", 0.6)]
    [InlineData("logistic", 0.6)]
    public void SmoothedLossIsTheExpectedLossUnderMultiplicativeNoise(string lossName, double sigma)
    {
        // Against its definition: E_ζ[(1/P) Σ ℓ(u(w ⊙ (1+σζ), b))] by 2000 noise draws, within 4 standard errors.
        var loss = MarginLosses.Parse(lossName);
        var (w, b) = Point(Small.N, 4);
        double value = new SmoothedLossObjective(Small, loss, sigma).Evaluate(w, b, new double[Small.N], out _);
        int draws = 2000;
        var vals = new double[draws];
        var wp = new double[Small.N];
        var rng = new Rng(99);
        for (int d = 0; d < draws; d++)
        {
            for (int j = 0; j < wp.Length; j++) wp[j] = w[j] * (1 + sigma * rng.NextGaussian());
            vals[d] = Small.TrainLoss(loss, wp, b);
        }
        var st = FlatMinima.Numerics.Statistic.Of(vals);
        Assert.True(Math.Abs(st.Mean - value) < 4 * st.StdError, $"{value} vs {st.Mean} ± {st.StdError}");
    }

    [Fact]
    public void MinibatchesAreUnbiasedPiecesOfTheFullObjective()
    {
        // The mean of the minibatch values (and gradients) over a partition into equal halves is the full value.
        int p = Small.P, half = p / 2;
        Assert.Equal(0, p % 2);
        var rowsA = Enumerable.Range(0, half).ToArray();
        var rowsB = Enumerable.Range(half, half).ToArray();
        foreach (IFlatnessObjective obj in new IFlatnessObjective[]
                 { new SmoothedErrorObjective(Small, 0.7), new SmoothedLossObjective(Small, LogisticLoss.Instance, 0.5, 0.3) })
        {
            var (w, b) = Point(Small.N, 8);
            var g = new double[Small.N]; var ga = new double[Small.N]; var gbv = new double[Small.N];
            double f = obj.Evaluate(w, b, g, out double gb);
            double fa = obj.Evaluate(w, b, ga, out double gba, rowsA), fb = obj.Evaluate(w, b, gbv, out double gbb, rowsB);
            Assert.Equal(f, 0.5 * (fa + fb), 1e-12);
            Assert.Equal(gb, 0.5 * (gba + gbb), 1e-12);
            for (int j = 0; j < Small.N; j++) Assert.Equal(g[j], 0.5 * (ga[j] + gbv[j]), 1e-12);
        }
    }

    [Fact]
    public void ReplicatedSgdWithMinibatchesStillReachesTheBoDirection()
    {
        var data = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, 0.5), 200, 2));
        var fit = MaxFlatness.Fit(data, new MaxFlatnessOptions(Sigma: 30, Replicated: new ReplicatedOptions(BatchSize: 100)));
        Assert.True(fit.CosineBo > 0.98, $"cos = {fit.CosineBo}");
    }

    [Fact]
    public void OptionsRejectBadInputNamingTheParameter()
    {
        Assert.Equal("gamma-max", Assert.Throws<ArgumentOutOfRangeException>(() => new CouplingSchedule(Final: 0)).ParamName);
        Assert.Equal("replicas", Assert.Throws<ArgumentOutOfRangeException>(() => new ReplicatedOptions(Replicas: 0)).ParamName);
        Assert.Equal("momentum", Assert.Throws<ArgumentOutOfRangeException>(() => new ReplicatedOptions(Momentum: 1)).ParamName);
        Assert.Equal("ema", Assert.Throws<ArgumentOutOfRangeException>(() => new EntropicOptions(EmaWeight: -0.1)).ParamName);
        Assert.Equal("sigma", Assert.Throws<ArgumentOutOfRangeException>(() => new MaxFlatnessOptions(Sigma: 0)).ParamName);
        Assert.Equal("loss", Assert.Throws<ArgumentOutOfRangeException>(() => new SmoothedLossObjective(Small, HingeLoss.Instance, 0.5)).ParamName);
        Assert.Equal("schedule", Assert.Throws<ArgumentOutOfRangeException>(() => CouplingSchedule.ParseShape("step")).ParamName);
    }
}
