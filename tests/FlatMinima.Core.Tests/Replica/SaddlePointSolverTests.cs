using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Replica;

namespace FlatMinima.Tests.Replica;

public class SaddlePointSolverTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void FindsTheFixedPointOfAContraction(int anderson)
    {
        // x = cos x has the Dottie number 0.7390851332151607 as its fixed point
        var s = SaddlePointSolver.Iterate(x => [Math.Cos(x[0])], [0.0], new SaddlePointOptions(AndersonDepth: anderson));
        Assert.True(s.Converged);
        Assert.Equal(0.7390851332151607, s.State[0], 1e-11);
        Assert.Equal(s.Iterations, s.ResidualHistory.Count);
        Assert.Equal("converged", s.Reason);
    }

    [Fact]
    public void DivergenceEndsInATypedErrorCarryingTheHistory()
    {
        var opts = new SaddlePointOptions(MaxIterations: 50, AndersonDepth: 0);
        var s = SaddlePointSolver.Iterate(x => [2 * x[0] + 1], [1.0], opts);
        Assert.False(s.Converged);
        Assert.True(double.IsFinite(s.State[0]));
        var e = Assert.Throws<NonConvergenceException>(() => SaddlePointSolver.Solve(x => [2 * x[0] + 1], [1.0], opts));
        Assert.Equal(50, e.Iterations);
        Assert.Equal(50, e.ResidualHistory.Count);
        Assert.Single(e.LastState);
    }

    [Fact]
    public void NonFiniteUpdatesStopWithTheLastFiniteState()
    {
        var s = SaddlePointSolver.Iterate(x => [x[0] > 3 ? double.NaN : x[0] + 1], [0.0], new SaddlePointOptions(Damping: 0, AndersonDepth: 0));
        Assert.False(s.Converged);
        Assert.Equal("non-finite update", s.Reason);
        Assert.Equal(4.0, s.State[0]);
    }

    [Fact]
    public void OptionsAreValidatedWithTheirNames()
    {
        Assert.Contains("damping", Assert.Throws<ArgumentOutOfRangeException>(() => new SaddlePointOptions(Damping: 1).Validate()).Message);
        Assert.Contains("tolerance", Assert.Throws<ArgumentOutOfRangeException>(() => new SaddlePointOptions(Tolerance: 0).Validate()).Message);
        Assert.Contains("max-iterations", Assert.Throws<ArgumentOutOfRangeException>(() => new SaddlePointOptions(MaxIterations: 0).Validate()).Message);
    }

    [Theory]
    [InlineData("logistic", 0.1, 0.25)]
    [InlineData("hinge", 1e-3, 0.5)]
    [InlineData("square", 1.0, 0.25)]
    public void AccelerationAndDampingDoNotChangeTheFixedPoint(string loss, double lambda, double rho)
    {
        var p = new ErmProblem(MarginLosses.Parse(loss), new MixtureModel(2, 1, rho), lambda);
        var fast = ErmSaddlePoint.Solve(p);
        // the plain damped iteration alone (no Newton fallback), with the bias solved exactly at every iteration
        var plain = ErmSaddlePoint.Solve(p, new ErmSaddlePointOptions(new SaddlePointOptions(Damping: 0.6, AndersonDepth: 0, MaxIterations: 20000), ExactBias: true, Newton: false));
        Assert.Equal(plain.M, fast.M, 1e-8 * Math.Max(1, plain.M));
        Assert.Equal(plain.Q, fast.Q, 1e-8 * Math.Max(1, plain.Q));
        Assert.Equal(plain.V, fast.V, 1e-8 * Math.Max(1, plain.V));
        Assert.Equal(plain.Bias, fast.Bias, 1e-8);
        Assert.True(fast.Iterations < plain.Iterations);
    }

    public static TheoryData<string, double, double, double, double> NearSingular => new()
    {
        // loss, α, Δ, λ, ρ
        { "logistic", 2, 1, 1e-9, 0.5 },   // separable (α < α_c = 3.70), λ → 0: norm diverges
        { "hinge", 2, 1, 1e-9, 0.5 },      // max-margin limit, V ~ 1/λ
        { "logistic", 2, 1, 1e-7, 0.25 },
        { "square", 1e5, 1, 1e-3, 0.5 },   // huge α
        { "logistic", 1e5, 1, 1e-2, 0.25 },
        { "hinge", 1e4, 1, 1e-2, 0.5 },
        { "logistic", 2, 1e-4, 1e-2, 0.5 }, // tiny Δ: clusters almost noiseless
        { "hinge", 2, 1e-4, 1e-2, 0.25 },
        { "square", 2, 1e-4, 1e-6, 0.25 },
        { "logistic", 0.01, 10, 1e-3, 0.1 }, // tiny α, large Δ, extreme ρ
    };

    [Trait("Speed", "Slow")]
    [Theory]
    [MemberData(nameof(NearSingular))]
    public void NearSingularInputsConvergeOrFailLoudlyNeverNaN(string loss, double alpha, double delta, double lambda, double rho)
    {
        var p = new ErmProblem(MarginLosses.Parse(loss), new MixtureModel(alpha, delta, rho), lambda);
        var options = new ErmSaddlePointOptions(new SaddlePointOptions(MaxIterations: 150));
        var fp = new ErmSaddlePoint(p, options).TrySolve();
        foreach (var x in new[] { fp.M, fp.Q, fp.V, fp.Bias, fp.MHat, fp.QHat, fp.VHat, fp.TestError, fp.TrainError, fp.TrainLoss })
            Assert.True(double.IsFinite(x), $"{p}: non-finite observable");
        if (fp.Converged)
        {
            Assert.InRange(fp.TestError, 0, 1);
            Assert.InRange(fp.TrainError, 0, 1);
        }
        else
        {
            var e = Assert.Throws<NonConvergenceException>(() => ErmSaddlePoint.Solve(p, options));
            Assert.Equal(fp.Iterations, e.Iterations);
            Assert.NotEmpty(e.ResidualHistory);
            Assert.Contains("did not converge", e.Message);
        }
    }
}
