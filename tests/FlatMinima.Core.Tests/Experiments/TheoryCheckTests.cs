using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Replica;

namespace FlatMinima.Tests.Experiments;

/// <summary>
/// Replica theory against exact finite-N ERM: N = 1000, 6 datasets per case. Agreement: every observable within
/// 3 standard errors plus the finite-size allowance 2·max(1, |theory|)/N (TheoryCheck). Observed |z| ≤ 2 in all cases.
/// </summary>
public class TheoryCheckTests
{
    public static TheoryData<string, double, double, double, double> Cases => new()
    {
        // loss, α, Δ, λ, ρ
        { "square", 2, 1, 0.1, 0.5 },
        { "square", 3, 0.5, 1, 0.25 },
        { "logistic", 2, 1, 0.1, 0.5 },
        { "logistic", 4, 0.5, 0.05, 0.25 },
        { "hinge", 2, 1, 1, 0.5 },
        { "hinge", 2, 1, 0.5, 0.25 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheoryAndSimulationAgree(string loss, double alpha, double delta, double lambda, double rho)
    {
        var r = TheoryCheck.Erm(new ErmProblem(MarginLosses.Parse(loss), new MixtureModel(alpha, delta, rho), lambda), n: 1000, seeds: 6, seed: 100);
        Assert.True(r.Agree, r.Describe());
        Assert.All(r.Rows, row => Assert.Contains(row.Observable + ": th ", r.Describe()));
        Assert.Equal(Observables.Names, r.Rows.Select(x => x.Observable));
        Assert.Equal("agree", r.Verdict);
    }

    [Fact]
    public void CheckDetectsAWrongTheory()
    {
        // the simulation at λ = 1 is compared with the theory of λ = 0.1: must disagree (the check can fail)
        var r = TheoryCheck.Erm(new ErmProblem(SquareLoss.Instance, new MixtureModel(2, 1), 1), n: 400, seeds: 4, seed: 7);
        var wrong = ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, new MixtureModel(2, 1), 0.1));
        var se = r.Simulation.Q.StdError;
        Assert.True(Math.Abs(r.Simulation.Q.Mean - wrong.Q) > 3 * se + 2.0 * wrong.Q / 400);
    }
}
