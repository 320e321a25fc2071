using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Penalties;
using FlatMinima.Replica;

namespace FlatMinima.Tests.Replica;

/// <summary>
/// ERM without bias (b = 0, no bias condition), ridge and fixed norm, against finite-N solvers with the bias fixed at 0:
/// N = 500, 6 datasets, agreement within 3 s.e. + 2·max(1,|th|)/N.
/// </summary>
public class NoBiasTests
{
    public static TheoryData<string, double, double, double> Cases => new()
    {
        // loss, ρ, λ (NaN: sphere), Q
        { "square", 0.25, 1.0, double.NaN },
        { "square", 0.25, double.NaN, 0.5 },
        { "square", 0.5, double.NaN, 0.5 },
        { "logistic", 0.25, double.NaN, 1.5 },
    };

    [Trait("Speed", "Slow")]
    [Theory]
    [MemberData(nameof(Cases))]
    public void TheoryAndSimulationAgreeWithoutBias(string loss, double rho, double lambda, double norm)
    {
        IWeightPenalty pen = double.IsNaN(norm) ? new RidgePenalty(lambda) : new SpherePenalty(norm);
        var problem = new ErmProblem(MarginLosses.Parse(loss), new MixtureModel(2, 1, rho), pen) { LearnBias = false };
        var r = TheoryCheck.Erm(problem, n: 500, seeds: 6, seed: 700);
        Assert.Equal(0, r.Theory.Bias);
        Assert.True(r.Agree, r.Describe());
        Assert.All(r.Simulation.PerSeed, o => Assert.Equal(0, o.Bias));
    }

    [Fact]
    public void WithoutBiasTheSquareLossFixedPointIsTheClosedFormAtBZero()
    {
        // docs/theory.md#erm-saddle-point square loss in closed form with b = 0: m̂ = α(1 − m)/(1+ΔV) for any ρ when the bias is 0
        // (E_y[(1 − m − y·0)] is ρ-independent), V̂ = αΔ/(1+ΔV), q̂ = αΔ[(1−m)² + Δq]/(1+ΔV)²;
        // so the unbalanced no-bias fixed point equals the balanced one
        var a = ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, new MixtureModel(2, 1, 0.25), 1.0) { LearnBias = false });
        Assert.Equal(0.36940, a.M, 1e-5);   // docs/theory.md#table-erm, square, ρ = ½, λ = 1
        Assert.Equal(0.24707, a.Q, 1e-5);
    }
}
