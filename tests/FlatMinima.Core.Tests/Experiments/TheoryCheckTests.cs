using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Numerics;
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

    [Trait("Speed", "Slow")]
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
        // the simulation at λ = 1 is compared with the theory of λ = 0.1: TheoryCheck's verdict must be "disagree"
        var r = TheoryCheck.Erm(new ErmProblem(SquareLoss.Instance, new MixtureModel(2, 1), 1), n: 400, seeds: 4, seed: 7);
        var wrong = ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, new MixtureModel(2, 1), 0.1));
        var se = r.Simulation.Q.StdError;
        Assert.True(Math.Abs(r.Simulation.Q.Mean - wrong.Q) > 3 * se + 2.0 * wrong.Q / 400);
        var rows = TheoryCheck.Compare(Theory(wrong), r.Simulation);
        Assert.False(rows.Single(x => x.Observable == "q").Agrees);
        Assert.False(new TheoryCheckResult(wrong, r.Simulation, rows, TheoryCheck.DefaultAllowanceScale).Agree);
        // and the right theory gives back the check's own rows
        Assert.Equal(r.Rows, TheoryCheck.Compare(Theory(r.Theory), r.Simulation));
        Assert.True(r.Agree, r.Describe());
    }

    private static Observables Theory(ErmFixedPoint fp) => new(fp.TestError, fp.TrainError, fp.TrainLoss, fp.M, fp.Q, fp.Bias);

    [Theory]
    [InlineData(0.99, true)]
    [InlineData(1.01, false)]
    public void VerdictIsThreeStandardErrorsPlusTheAllowance(double fraction, bool agrees)
    {
        // four datasets whose q is 0.3 + d ± s: mean 0.3 + d, s.e. s/√3; N = 100, so a = 2·max(1, 0.3)/100 = 0.02. With
        // d = fraction·(3 s.e. + a) the check agrees just inside the bound and disagrees just outside it.
        double s = 0.01, seQ = s / Math.Sqrt(3), bound = 3 * seQ + 0.02, d = fraction * bound;
        var spec = new MixtureModel(2, 1).AtSize(100);
        Observables Seed(double q) => new(0.2, 0.1, 0.3, 0.5, q, 0);
        var sim = new MonteCarloResult(spec, [0, 1, 2, 3], [Seed(0.3 + d - s), Seed(0.3 + d + s), Seed(0.3 + d - s), Seed(0.3 + d + s)]);
        var q = TheoryCheck.Compare(Seed(0.3), sim).Single(x => x.Observable == "q");
        Assert.Equal(seQ, q.StdError, 1e-15);
        Assert.Equal(0.02, q.Allowance, 1e-15);
        Assert.Equal(d / seQ, q.Z, 1e-9);
        Assert.Equal(agrees, q.Agrees);
        // the observables that are equal in theory and simulation agree, with z = 0
        Assert.All(TheoryCheck.Compare(Seed(0.3), sim).Where(x => x.Observable != "q"), x => Assert.True(x.Agrees && x.Z == 0));
    }
}
