using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Penalties;
using FlatMinima.Replica;

namespace FlatMinima.Tests.Penalties;

/// <summary>
/// Fixed-norm ERM: the spherical saddle point against the finite-N constrained solvers (secular equation for the
/// square loss, L-BFGS on the sphere for smooth losses). N = 500, 6 datasets; agreement = every observable within
/// 3 standard errors plus the finite-size allowance 2·max(1, |theory|)/N (TheoryCheck).
/// </summary>
public class SphereCheckTests
{
    public static TheoryData<string, double, double> Cases => new()
    {
        // loss, ρ, Q
        { "square", 0.5, 0.5 },
        { "square", 0.25, 0.5 },
        { "square", 0.25, 1.2 },   // Q above the unpenalised norm: negative multiplier
        { "logistic", 0.5, 1.0 },
        { "logistic", 0.25, 1.5 },
    };

    [Trait("Speed", "Slow")]
    [Theory]
    [MemberData(nameof(Cases))]
    public void SphereTheoryAndSimulationAgree(string loss, double rho, double norm)
    {
        var r = TheoryCheck.Erm(new ErmProblem(MarginLosses.Parse(loss), new MixtureModel(2, 1, rho), new SpherePenalty(norm)), n: 500, seeds: 6, seed: 300);
        Assert.True(r.Agree, r.Describe());
        // the constraint holds exactly at finite N
        Assert.Equal(norm, r.Simulation.Q.Mean, 1e-9);
    }

    [Fact]
    public void SquareSphereSolverIsTheRidgeSolverAtItsMultiplier()
    {
        // the Lagrangian solution at multiplier μ > 0 is the ridge minimiser at λ = μ (exact linear algebra)
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, 0.25), 200, 7));
        var sph = SphericalErm.Fit(s, SquareLoss.Instance, 0.3);
        Assert.True(sph.Converged && sph.Lambda > 0);
        var ridge = Erm.Fit(s, SquareLoss.Instance, sph.Lambda);
        for (int j = 0; j < s.N; j++) Assert.Equal(ridge.Classifier.W[j], sph.Classifier.W[j], 1e-8);
        Assert.Equal(ridge.Classifier.B, sph.Classifier.B, 1e-8);
    }

    [Fact]
    public void SmoothSphereSolverAgreesWithTheSquareLagrangianSolver()
    {
        // square loss treated as a generic smooth loss (L-BFGS on the sphere) against the secular-equation solver
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, 0.25), 150, 8));
        var exact = SphericalErm.Fit(s, SquareLoss.Instance, 0.8);
        var generic = SphericalErm.Fit(s, new SquareAsGeneric(), 0.8, new ErmOptions(Tolerance: 1e-12));
        Assert.True(generic.Converged);
        Assert.Equal(exact.Objective, generic.Objective, 1e-8 * Math.Max(1, exact.Objective));
        Assert.Equal(exact.Lambda, generic.Lambda, 1e-6);
        for (int j = 0; j < s.N; j++) Assert.Equal(exact.Classifier.W[j], generic.Classifier.W[j], 1e-5);
    }

    private sealed class SquareAsGeneric : IMarginLoss
    {
        public string Name => "square-generic";
        public double Value(double u) => 0.5 * (1 - u) * (1 - u);
        public double Derivative(double u) => u - 1;
        public double SecondDerivative(double u) => 1;
    }
}
