using FlatMinima.Estimators;
using FlatMinima.Torch.Optim;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Tests.Optim;

public class ReplicatedSgdTests
{
    // Loss ½a‖w^a‖² for every replica, coupling 2g(w^a − w̄), no momentum: the centre of mass moves by (1 − ηa) per
    // step and every replica's deviation from it by (1 − η(a + 2g)).
    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(1.0, 2.0)]
    public void ReplicasContractToTheCentreAtTheCouplingRate(double a, double g)
    {
        TestRuntime.Init();
        double eta = 0.05;
        float[][] inits = [[1f, 2f, -1f], [0f, -3f, 2f], [4f, 1f, 1f]];
        using var centre = new QuadModel([0f, 0f, 0f]);
        using var opt = new ReplicatedSgd(centre, i => new QuadModel(inits[i]), null, new ReplicatedSgdOptions
        {
            Replicas = 3, Lr = eta, Momentum = 0, Nesterov = false, WeightDecay = 0, G0 = g, Gmax = 1, Epochs = 1,
        });
        var (x, y) = Quad.Batch();
        var loss = Quad.Loss(a, [0f, 0f, 0f]);
        var mean0 = Enumerable.Range(0, 3).Select(i => inits.Average(r => (double)r[i])).ToArray();
        // The centre model is the centre of mass from the start.
        Assert.Equal(mean0, Quad.Values(centre.W).Select(v => (double)v).ToArray(), new Tol(1e-6));
        double Dist(int r) => Math.Sqrt(Quad.Values(((QuadModel)opt.Replicas[r]).W).Select((v, i) => Math.Pow(v - Quad.Values(centre.W)[i], 2)).Sum());
        var d0 = Enumerable.Range(0, 3).Select(Dist).ToArray();
        const int k = 10;
        for (int s = 0; s < k; s++) { using var sc = NewDisposeScope(); opt.Step(centre, x, y, loss); }
        double rate = Math.Pow(1 - eta * (a + 2 * g), k);
        for (int r = 0; r < 3; r++) Assert.Equal(rate, Dist(r) / d0[r], 5);
        var cm = Quad.Values(centre.W);
        for (int i = 0; i < 3; i++) Assert.Equal(mean0[i] * Math.Pow(1 - eta * a, k), cm[i], 4);
    }

    // The trainer's learning-rate schedule scales the per-replica rate: with factor ½ the deviations contract by
    // (1 − (η/2)(a + 2g)) per step.
    [Fact]
    public void LearningRateFactorScalesTheContraction()
    {
        TestRuntime.Init();
        double eta = 0.05, a = 1, g = 2, f = 0.5;
        float[][] inits = [[1f, 2f, -1f], [0f, -3f, 2f], [4f, 1f, 1f]];
        using var centre = new QuadModel([0f, 0f, 0f]);
        using var opt = new ReplicatedSgd(centre, i => new QuadModel(inits[i]), null, new ReplicatedSgdOptions
        {
            Replicas = 3, Lr = eta, Momentum = 0, Nesterov = false, WeightDecay = 0, G0 = g, Gmax = 1, Epochs = 1,
        });
        opt.ScaleLearningRate(f);
        Assert.Equal(eta * f, opt.LearningRate, 15);
        var (x, y) = Quad.Batch();
        var loss = Quad.Loss(a, [0f, 0f, 0f]);
        double Dist(int r) => Math.Sqrt(Quad.Values(((QuadModel)opt.Replicas[r]).W).Select((v, i) => Math.Pow(v - Quad.Values(centre.W)[i], 2)).Sum());
        var d0 = Enumerable.Range(0, 3).Select(Dist).ToArray();
        const int k = 10;
        for (int s = 0; s < k; s++) { using var sc = NewDisposeScope(); opt.Step(centre, x, y, loss); }
        for (int r = 0; r < 3; r++) Assert.Equal(Math.Pow(1 - f * eta * (a + 2 * g), k), Dist(r) / d0[r], 5);
    }

    // The earlier per-epoch schedule by a total factor, now Core's CouplingSchedule.ByFactor over the run's epochs.
    [Fact]
    public void CouplingSchedulesReachGmaxTimesG0()
    {
        double g0 = 0.02, gmax = 100; int E = 10;
        foreach (var s in new[] { CouplingShape.Exponential, CouplingShape.Linear, CouplingShape.Cosine })
        {
            var c = CouplingSchedule.ByFactor(s, gmax);
            Assert.Equal(g0, c.At(0, E, g0), 12);
            Assert.Equal(g0 * gmax, c.At(E, E, g0), 9);
        }
        Assert.Equal(g0 * 10, CouplingSchedule.ByFactor(CouplingShape.Exponential, gmax).At(5, E, g0), 9);      // 100^{1/2}
        Assert.Equal(g0 + g0 * 99 / 2, CouplingSchedule.ByFactor(CouplingShape.Linear, gmax).At(5, E, g0), 9);
        Assert.Equal(g0 + (g0 * 100 - g0) / 2, CouplingSchedule.ByFactor(CouplingShape.Cosine, gmax).At(5, E, g0), 9);
    }

    [Fact]
    public void InvalidOptionsAreRejectedByName()
    {
        Assert.Contains("replicas", Assert.ThrowsAny<ArgumentException>(() => new ReplicatedSgdOptions { Replicas = 0 }.Validate()).Message);
        Assert.Contains("gmax", Assert.ThrowsAny<ArgumentException>(() => new ReplicatedSgdOptions { Gmax = 0.1 }.Validate()).Message);
        Assert.Contains("coupling_every", Assert.ThrowsAny<ArgumentException>(() => new ReplicatedSgdOptions { CouplingEvery = 0 }.Validate()).Message);
        Assert.Contains("nesterov", Assert.ThrowsAny<ArgumentException>(() => new ReplicatedSgdOptions { Momentum = 0, Nesterov = true }.Validate()).Message);
    }
}

internal sealed class Tol(double tol) : IEqualityComparer<double>
{
    public bool Equals(double a, double b) => Math.Abs(a - b) <= tol;
    public int GetHashCode(double v) => 0;
}
