using FlatMinima.Experiments;
using FlatMinima.Mixture;
using FlatMinima.Losses;
using FlatMinima.Penalties;
using FlatMinima.Replica;

namespace FlatMinima.Tests.Losses;

/// <summary>
/// The worked example of docs/norms.md: a loss the toolkit does not ship, the exponential loss ℓ(u) = e^{−u}
/// (AdaBoost's), defined by its value and two derivatives only. The default proximal map, the saddle point, the
/// learning curve, the finite-N solver (L-BFGS) and the theory-versus-simulation check all work with no other change.
/// </summary>
public class UserLossExampleTests
{
    /// <summary>The user's loss: three members.</summary>
    public sealed class ExponentialLoss : IMarginLoss
    {
        public string Name => "exponential";
        public double Value(double u) => Math.Exp(-u);
        public double Derivative(double u) => -Math.Exp(-u);
        public double SecondDerivative(double u) => Math.Exp(-u);
    }

    [Fact]
    public void DefaultProximalMapSolvesItsDefiningEquation()
    {
        // u* solves (u − a)/c = e^{−u}; closed form u* = a + W(c e^{−a}) with Lambert W: check the equation itself
        var l = new ExponentialLoss();
        foreach (var (a, c) in new[] { (-3.0, 0.5), (0.0, 1.0), (2.0, 10.0), (-8.0, 0.1) })
        {
            double u = ((IMarginLoss)l).Prox(a, c);
            Assert.Equal(0, (u - a) / c - Math.Exp(-u), 1e-10 * Math.Max(1, Math.Exp(-u)));
        }
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData(0.5, 0.5, double.NaN)]
    [InlineData(0.25, 0.3, double.NaN)]
    [InlineData(0.25, double.NaN, 1.0)]
    public void SaddlePointAgreesWithFiniteNSimulation(double rho, double lambda, double norm)
    {
        IWeightPenalty pen = double.IsNaN(norm) ? new RidgePenalty(lambda) : new SpherePenalty(norm);
        var r = TheoryCheck.Erm(new ErmProblem(new ExponentialLoss(), new MixtureModel(2, 1, rho), pen), n: 400, seeds: 6, seed: 500);
        Assert.True(r.Agree, r.Describe());
    }

    [Fact]
    public void LearningCurveInLambdaReachesBayesOptimalWhenBalanced()
    {
        // docs/theory.md#reaching-bo: any loss with ℓ'(0) ≠ 0 reaches ε_BO(α = 2, Δ = 1) = 0.20711 as λ → ∞ when ρ = ½
        var curve = LearningCurve.Sweep(new ErmProblem(new ExponentialLoss(), new MixtureModel(2, 1), 1.0), SweepVariable.Lambda, [1, 10, 100, 1000]);
        var errs = curve.Select(p => p.TestError).ToArray();
        for (int i = 1; i < errs.Length; i++) Assert.True(errs[i] <= errs[i - 1] + 1e-9);
        Assert.Equal(0.20711, errs[^1], 2e-5);
    }

    [Fact]
    public void LearningCurveInAlphaIsCheckedAgainstSimulation()
    {
        // the whole curve ε_g(α) at λ = 0.5, ρ = ¼ from the saddle point, each point against N = 300 simulations
        // (6 datasets, exact finite-N solver): |sim − theory| ≤ 3 s.e. + 2/N
        double[] alphas = [0.5, 1, 2, 4];
        var curve = LearningCurve.Sweep(new ErmProblem(new ExponentialLoss(), new MixtureModel(1, 1, 0.25), 0.5), SweepVariable.Alpha, alphas);
        for (int i = 0; i < alphas.Length; i++)
        {
            Assert.True(curve[i].Converged);
            var mc = MonteCarlo.Run(new MixtureSpec(new MixtureModel(alphas[i], 1, 0.25), 300, 40), 6, EstimatorKind.Erm(new ExponentialLoss(), 0.5));
            var st = mc.TestError;
            Assert.True(Math.Abs(st.Mean - curve[i].TestError) <= 3 * st.StdError + 2.0 / 300,
                $"alpha {alphas[i]}: theory {curve[i].TestError:G5}, simulation {st.Mean:G5} ± {st.StdError:G2}");
        }
        // more data helps: the curve decreases in α
        for (int i = 1; i < alphas.Length; i++) Assert.True(curve[i].TestError < curve[i - 1].TestError);
    }
}
