using FlatMinima.Flatness;
using FlatMinima.Mixture;

namespace FlatMinima.Tests.Flatness;

/// <summary>The parallel-tempering estimate of the Franz–Parisi excess where RS is stable and the annealed sampler equilibrates.</summary>
public class FranzParisiTemperingTests
{
    [Fact]
    [Trait("Speed", "Slow")]
    public void TemperingAgreesWithTheReplicaTheoryAndTheAnnealedSamplerWhereRsIsStable()
    {
        // α = 2, Δ = 1, β = 2, cos ψ = 1, R = 0.6 (Λ = 0.81): N = 60, 4 data sets; |sim − theory| < 3 s.e. + 0.02 (finite N)
        var theory = FranzParisiLocalEntropy.Solve(new FranzParisiProblem(new MixtureModel(2, 1, 0.5), 2, 1), 0.6);
        Assert.True(theory.RsStable);
        var spec = new MixtureSpec(new MixtureModel(2, 1, 0.5), 60, 0);
        var pt = FranzParisiLocalEntropy.SampleTempered(spec, 1, 0.6, 2, seeds: 4, temperatures: 9, sweeps: 150, burnIn: 150);
        var annealed = FranzParisiLocalEntropy.Sample(spec, 1, 0.6, 2, seeds: 4, sweeps: 150, burnIn: 75);
        Assert.True(Math.Abs(pt.Excess - theory.Excess) < 3 * pt.StdError + 0.02, $"tempering {pt.Excess} ± {pt.StdError}, theory {theory.Excess}");
        // same data sets: the two samplers differ only by their Monte Carlo error
        double se = Math.Sqrt(pt.StdError * pt.StdError + annealed.StdError * annealed.StdError);
        Assert.True(Math.Abs(pt.Excess - annealed.Excess) < 4 * se, $"tempering {pt.Excess}, annealed {annealed.Excess} ± {se}");
        Assert.Equal(annealed.ReferenceTrainError, pt.ReferenceTrainError, 12);
        Assert.InRange(pt.MinSwapAcceptance, 0.2, 1);
        Assert.Equal(9, pt.Betas.Count);
        Assert.Equal(2, pt.Betas[^1], 12);
        Assert.Equal(pt.TrainError, pt.MeanTrainError[^1], 12);
        // the neighbours' training error falls with β' along the ladder
        Assert.True(pt.MeanTrainError[0] > pt.MeanTrainError[^1]);
    }
}
