using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Penalties;
using FlatMinima.Replica;

namespace FlatMinima.Tests.Penalties;

/// <summary>
/// A penalty the toolkit does not ship, written by a user as a <see cref="SeparablePenalty"/> from its value, two
/// derivatives and its kink only: the elastic net r(w) = λ(a|w| + (1 − a)w²/2). It goes through the saddle point, the
/// finite-N solver (proximal gradient with the default scalar prox) and the theory-versus-simulation check unchanged.
/// The generic weight side it relies on (Gaussian quadrature of the scalar problem) is checked against the closed
/// forms of the ridge and L1 penalties, written the same way.
/// </summary>
public class UserPenaltyExampleTests
{
    /// <summary>The user's penalty: r, r', r'', one kink at 0 and a strength.</summary>
    public sealed class ElasticNet(double lambda, double l1Share) : SeparablePenalty
    {
        public double Lambda { get; } = Guard.Positive(lambda, "lambda");
        public double L1Share { get; } = Guard.ClosedInterval(l1Share, 0, 1, "l1-share");
        public override string Name => "elastic-net";
        public override double Value(double w) => Lambda * (L1Share * Math.Abs(w) + 0.5 * (1 - L1Share) * w * w);
        public override double Derivative(double w) => Lambda * (L1Share * Math.Sign(w) + (1 - L1Share) * w);
        public override double SecondDerivative(double w) => Lambda * (1 - L1Share);
        public override IReadOnlyList<Kink> Kinks => L1Share > 0 ? [new(0, -Lambda * L1Share, Lambda * L1Share)] : [];
        public override double? Strength => Lambda;
        public override IWeightPenalty WithStrength(double strength) => new ElasticNet(strength, L1Share);
    }

    private static readonly (double MHat, double QHat, double VHat)[] Conjugates = [(0.4, 0.9, 1.3), (1.2, 0.2, 0.5), (0.05, 2.0, 3.0), (0.7, 0.5, 1.5)];

    [Theory]
    [InlineData(0.3)]
    [InlineData(2.0)]
    public void GenericWeightSideReproducesTheRidgeAndL1ClosedForms(double lambda)
    {
        // the ridge is the elastic net with a = 0, L1 the one with a = 1; their closed forms (docs/theory.md#erm-saddle-point, docs/norms.md)
        // are independent of the quadrature of SeparablePenalty
        foreach (var (exact, generic) in new (IWeightPenalty, IWeightPenalty)[]
                 { (new RidgePenalty(lambda), new ElasticNet(lambda, 0)), (new L1Penalty(lambda), new ElasticNet(lambda, 1)) })
            foreach (var (mh, qh, vh) in Conjugates)
            {
                var e = exact.Update(mh, qh, vh);
                var g = generic.Update(mh, qh, vh);
                Assert.Equal(e.M, g.M, 1e-11);
                Assert.Equal(e.Q, g.Q, 1e-11);
                Assert.Equal(e.V, g.V, 1e-11);
                Assert.Equal(exact.Prior(mh, qh, vh), generic.Prior(mh, qh, vh), 1e-11);
                Assert.Equal(exact.Value(e, mh, qh, vh), generic.Value(g, mh, qh, vh), 1e-11);
                foreach (var v in new[] { -3.0, -0.2, 0.0, 0.05, 1.7 })
                    Assert.Equal(exact.Prox(v, vh), generic.Prox(v, vh), 1e-13);
            }
    }

    [Fact]
    public void PriorDerivativesReproduceTheUpdate()
    {
        // the stationarity conditions of the penalty's own free-energy term: ∂Prior/∂m̂ = −m, ∂Prior/∂q̂ = −V/2, ∂Prior/∂V̂ = q/2
        var pen = new ElasticNet(0.4, 0.5);
        foreach (var (mh, qh, vh) in Conjugates)
        {
            var w = pen.Update(mh, qh, vh);
            double h = 1e-5;
            Assert.Equal(-w.M, (pen.Prior(mh + h, qh, vh) - pen.Prior(mh - h, qh, vh)) / (2 * h), 1e-7);
            Assert.Equal(-w.V / 2, (pen.Prior(mh, qh + h, vh) - pen.Prior(mh, qh - h, vh)) / (2 * h), 1e-7);
            Assert.Equal(w.Q / 2, (pen.Prior(mh, qh, vh + h) - pen.Prior(mh, qh, vh - h)) / (2 * h), 1e-7);
        }
    }

    [Theory]
    [InlineData("square", 0.5)]
    [InlineData("logistic", 0.25)]
    public void FixedPointIsAStationaryPointOfTheFreeEnergy(string loss, double rho)
    {
        var sp = new ErmSaddlePoint(new ErmProblem(MarginLosses.Parse(loss), new MixtureModel(2, 1, rho), new ElasticNet(0.3, 0.5)));
        var fp = sp.TrySolve();
        Assert.True(fp.Converged, fp.Reason);
        var g = FreeEnergy.Gradient(sp, fp);
        for (int i = 0; i < g.Length; i++) Assert.True(Math.Abs(g[i]) < 1e-6, $"component {i}: {g[i]}");
        // the minimal training energy is α E[ℓ] + E r(ŵ), the value of the free energy at the saddle point
        Assert.Equal(FreeEnergy.Terms(sp, fp).Total, fp.Energy, 1e-8);
    }

    [Fact]
    public void FiniteNSolverFindsTheMinimiserOfTheElasticNetObjective()
    {
        // proximal gradient with the default scalar prox: the gradient mapping vanishes, and every weight set to 0 has
        // |∂Σℓ/∂w_j| ≤ λa (the subgradient condition of the kink)
        var pen = new ElasticNet(0.4, 0.5);
        var s = MixtureSample.Sample(new MixtureModel(2, 1, 0.3).AtSize(60, seed: 3));
        var sol = Erm.Fit(s, SquareLoss.Instance, pen, new ErmOptions(Tolerance: 1e-9));
        Assert.True(sol.Converged);
        Assert.Equal("fista-elastic-net", sol.Method);
        Assert.Equal(0.4, sol.Lambda);
        var u = s.Margins(sol.Classifier.W, sol.Classifier.B);
        var gradLoss = new double[s.N];
        for (int mu = 0; mu < s.P; mu++) Kernels.Axpy((u[mu] - 1) * s.Y[mu] / Math.Sqrt(s.N), s.Row(mu), gradLoss);
        for (int j = 0; j < s.N; j++)
        {
            double wj = sol.Classifier.W[j];
            if (wj == 0) Assert.True(Math.Abs(gradLoss[j]) <= 0.2 + 1e-4, $"w_{j} = 0 with |gradient| {Math.Abs(gradLoss[j])}");
            else Assert.Equal(0, gradLoss[j] + pen.Derivative(wj), 1e-4); // the solver stops at a gradient mapping ≤ 1e−7·P
        }
        Assert.Contains(sol.Classifier.W, w => w == 0);
    }

    public static TheoryData<string, double, double, double> Cases => new()
    {
        // loss, ρ, λ, a
        { "square", 0.5, 0.3, 0.5 },
        { "square", 0.25, 0.5, 0.8 },
        { "logistic", 0.25, 0.2, 0.5 },
        { "exponential", 0.5, 0.3, 0.5 },
    };

    [Theory]
    [Trait("Speed", "Slow")]
    [MemberData(nameof(Cases))]
    public void SaddlePointAgreesWithFiniteNSimulation(string loss, double rho, double lambda, double share)
    {
        // every observable within 3 standard errors plus the allowance 2·max(1, |theory|)/N (TheoryCheck), N = 400,
        // 6 datasets; the exponential loss is the user loss of UserLossExampleTests, so a user loss and a user
        // penalty go through together
        IMarginLoss l = loss == "exponential" ? new FlatMinima.Tests.Losses.UserLossExampleTests.ExponentialLoss() : MarginLosses.Parse(loss);
        var r = TheoryCheck.Erm(new ErmProblem(l, new MixtureModel(2, 1, rho), new ElasticNet(lambda, share)), n: 400, seeds: 6, seed: 600);
        Assert.True(r.Agree, r.Describe());
    }

    [Fact]
    public void LearningCurveInLambdaUsesTheStrength()
    {
        // the sweep changes the strength and keeps the shape a; with a = 0 the curve is the ridge's, point by point
        double[] grid = [0.1, 1, 10];
        var model = new MixtureModel(2, 1, 0.25);
        var curve = LearningCurve.OverLambda(new ErmProblem(SquareLoss.Instance, model, new ElasticNet(1, 0.3)), grid);
        Assert.All(curve, fp => Assert.True(fp.Converged, $"{fp.Problem}: {fp.Reason}"));
        Assert.All(curve, fp => Assert.Equal(0.3, ((ElasticNet)fp.Problem.Penalty).L1Share));
        Assert.Equal(grid, curve.Select(fp => fp.Problem.Lambda));
        var asRidge = LearningCurve.OverLambda(new ErmProblem(SquareLoss.Instance, model, new ElasticNet(1, 0)), grid);
        var ridge = LearningCurve.OverLambda(new ErmProblem(SquareLoss.Instance, model, 1.0), grid);
        for (int i = 0; i < grid.Length; i++)
        {
            Assert.Equal(ridge[i].TestError, asRidge[i].TestError, 1e-9);
            Assert.Equal(ridge[i].Q, asRidge[i].Q, 1e-9);
            Assert.Equal(ridge[i].Bias, asRidge[i].Bias, 1e-9);
        }
    }
}
