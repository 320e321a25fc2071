using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Penalties;
using FlatMinima.Replica;

namespace FlatMinima.Tests.Penalties;

/// <summary>
/// Weight-side penalties (docs/norms.md): stationarity of each prior term, and the sphere against docs/theory.md#table-erm — at
/// Q equal to the ridge fixed point's q, the spherical saddle point is that ridge fixed point, with multiplier λ̃ = λ.
/// </summary>
public class PenaltyTests
{
    public static TheoryData<string> Names => new() { "ridge", "sphere", "l1" };

    [Theory]
    [MemberData(nameof(Names))]
    public void PriorDerivativesReproduceTheUpdate(string name)
    {
        var pen = WeightPenalties.Parse(name, lambda: 0.3, norm: 0.7);
        foreach (var (mh, qh, vh) in new[] { (0.4, 0.9, 1.3), (1.2, 0.2, 0.5), (0.05, 2.0, 3.0) })
        {
            var w = pen.Update(mh, qh, vh);
            double h = 1e-6;
            double dm = (pen.Prior(mh + h, qh, vh) - pen.Prior(mh - h, qh, vh)) / (2 * h);
            double dq = (pen.Prior(mh, qh + h, vh) - pen.Prior(mh, qh - h, vh)) / (2 * h);
            double dv = (pen.Prior(mh, qh, vh + h) - pen.Prior(mh, qh, vh - h)) / (2 * h);
            Assert.Equal(-w.M, dm, 1e-7);
            Assert.Equal(-w.V / 2, dq, 1e-7);
            Assert.Equal(w.Q / 2, dv, 1e-7);
        }
    }

    [Fact]
    public void L1UpdateMatchesMonteCarloOfSoftThresholding()
    {
        // ŵ = soft(m̂ v + √q̂ ζ, λ)/V̂ sampled directly: m, q, V within 4 standard errors of 4e5 draws
        var pen = new L1Penalty(0.8);
        double mh = 0.7, qh = 0.5, vh = 1.5;
        var w = pen.Update(mh, qh, vh);
        var rng = new Random(5);
        int n = 400_000;
        double sm = 0, sq = 0, sv = 0, sq2 = 0;
        for (int i = 0; i < n; i++)
        {
            double v = Normal(rng), z = Normal(rng), hh = mh * v + Math.Sqrt(qh) * z;
            double ww = Math.Sign(hh) * Math.Max(Math.Abs(hh) - 0.8, 0) / vh;
            sm += v * ww; sq += ww * ww; sq2 += ww * ww * ww * ww; sv += Math.Abs(hh) > 0.8 ? 1 / vh : 0;
        }
        double seQ = Math.Sqrt((sq2 / n - (sq / n) * (sq / n)) / n);
        Assert.InRange(w.Q, sq / n - 4 * seQ, sq / n + 4 * seQ);
        Assert.Equal(sv / n, w.V, 0.01);
        Assert.Equal(sm / n, w.M, 0.005);
    }

    private static double Normal(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());

    public static TheoryData<string, double, double, double, double, double, double> RidgeReferenceRows => new()
    {
        // loss, ρ, λ, q (docs/theory.md#table-erm), m, b, ε_g (docs/theory.md#table-erm)
        { "square", 0.5, 1, 0.24707, 0.36940, 0, 0.22869 },
        { "square", 0.25, 1, 0.18744, 0.30524, -0.34738, 0.18409 },
        { "square", 0.25, 0.1, 0.47557, 0.40712, -0.29644, 0.22442 },
        { "logistic", 0.5, 1, 0.37365, 0.49009, 0, 0.21135 },
        { "logistic", 0.25, 0.2, 1.69151, 0.94418, -1.15010, 0.18098 },
    };

    [Theory]
    [MemberData(nameof(RidgeReferenceRows))]
    public void SphereAtTheRidgeNormIsTheRidgeFixedPoint(string loss, double rho, double lambda, double q, double m, double b, double eg)
    {
        var fp = ErmSaddlePoint.Solve(new ErmProblem(MarginLosses.Parse(loss), new MixtureModel(2, 1, rho), new SpherePenalty(q)));
        Assert.Equal(q, fp.Q, 12);
        // q is tabulated to 5 digits, which moves m and b by a relative ~1e-5 and λ̃ by ~1e-4
        Assert.Equal(m, fp.M, 2e-4 * Math.Max(1, m));
        Assert.Equal(b, fp.Bias, 2e-4 * Math.Max(1, Math.Abs(b)));
        Assert.Equal(eg, fp.TestError, 2e-5);
        Assert.Equal(lambda, fp.Multiplier, 2e-3 * lambda);
    }

    [Fact]
    public void SphereBeyondTheUnpenalisedNormHasANegativeMultiplier()
    {
        // square loss, α = 2, Δ = 1, ρ = ½: q(λ → 0) = 0.74776 + O(λ) (docs/theory.md#table-erm), so Q = 1 needs λ̃ < 0
        var fp = ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, new MixtureModel(2, 1), new SpherePenalty(1.0)));
        Assert.True(fp.Multiplier < 0, $"multiplier {fp.Multiplier}");
        Assert.Equal(1.0, fp.Q, 12);
    }

    [Theory]
    [InlineData("square", 0.25, 0.6)]
    [InlineData("logistic", 0.25, 2.0)]
    [InlineData("square", 0.5, 1.5)]
    public void SphereFixedPointIsAStationaryPointOfTheFreeEnergy(string loss, double rho, double norm)
    {
        var sp = new ErmSaddlePoint(new ErmProblem(MarginLosses.Parse(loss), new MixtureModel(2, 1, rho), new SpherePenalty(norm)));
        var fp = sp.TrySolve();
        Assert.True(fp.Converged);
        var g = FreeEnergy.Gradient(sp, fp);
        // ∂/∂q of the energy is not zero for a constraint (q is fixed; its multiplier absorbs it): skip index 1
        for (int i = 0; i < g.Length; i++)
            if (i != 1) Assert.True(Math.Abs(g[i]) < 1e-6, $"component {i}: {g[i]}");
    }

    [Fact]
    public void L1WithAVanishingThresholdIsUnpenalisedErm()
    {
        // square loss, α = 2 > 1, Δ = 1, ρ = ½: λ → 0 gives m = 1/(1 + Δ) = 0.5 and V = 1/(Δ(α − 1)) = 1 (docs/theory.md#erm-saddle-point)
        var fp = ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, new MixtureModel(2, 1), new L1Penalty(1e-7)));
        Assert.Equal(0.5, fp.M, 1e-5);
        Assert.Equal(1.0, fp.V, 1e-5);
    }

    [Fact]
    public void NormSweepTracesTheRidgePathAndFindsTheBestLambdaError()
    {
        // ρ = ¼: the best fixed-norm ERM over Q is the best ridge ERM over λ, 0.18270 (docs/theory.md#table-erm), near Q = q(λ* = 1.34)
        var grid = LearningCurve.Grid(0.12, 0.19, 15);
        var curve = LearningCurve.Sweep(new ErmProblem(SquareLoss.Instance, new MixtureModel(2, 1, 0.25), new SpherePenalty(0.1)), SweepVariable.Norm, grid);
        Assert.All(curve, fp => Assert.True(fp.Converged));
        Assert.Equal(0.18270, curve.Min(fp => fp.TestError), 2e-5);
        Assert.Throws<InvalidOperationException>(() => curve[0].Problem.WithLambda(1));
    }

    public static TheoryData<string, double?, double?, string> MisnamedParameters => new()
    {
        // penalty, lambda, norm, the parameter the error names
        { "sphere", 1, 0.5, "lambda" },
        { "sphere", null, null, "norm" },
        { "ridge", 1, 0.5, "norm" },
        { "l1", null, null, "lambda" },
        { "cube", 1, null, "penalty" },
        { "sphere", null, -1, "norm" },
        { "ridge", 0, null, "lambda" },
    };

    [Theory]
    [MemberData(nameof(MisnamedParameters))]
    public void PenaltyRulesNameTheParameterToGive(string name, double? lambda, double? norm, string parameter)
    {
        // one rule for every caller (command line, configurations): ridge and l1 take lambda > 0, sphere takes Q > 0
        var e = Assert.ThrowsAny<ArgumentException>(() => WeightPenalties.FromParameters(name, lambda, norm));
        Assert.Equal(parameter, e.ParamName);
        Assert.Contains(parameter == "penalty" ? "ridge, sphere, l1" : parameter, e.Message);
    }

    [Fact]
    public void PenaltyRulesBuildEachPenalty()
    {
        Assert.Equal(new RidgePenalty(0.3), WeightPenalties.FromParameters("ridge", 0.3, null));
        Assert.Equal(new L1Penalty(0.3), WeightPenalties.FromParameters("L1", 0.3, null));
        Assert.Equal(new SpherePenalty(0.7), WeightPenalties.FromParameters(" sphere", null, 0.7));
        // at finite N the ridge also allows lambda = 0 (unpenalised ERM)
        var unpenalised = FlatMinima.Experiments.EstimatorKind.Erm(SquareLoss.Instance, "ridge", 0, null);
        Assert.Null(unpenalised.Penalty);
        Assert.Equal(0, unpenalised.Lambda);
        Assert.Equal(new SpherePenalty(0.7), FlatMinima.Experiments.EstimatorKind.Erm(SquareLoss.Instance, "sphere", null, 0.7).Penalty);
        Assert.Equal("penalty", Assert.Throws<ArgumentException>(() => FlatMinima.Experiments.EstimatorKind.Erm(HingeLoss.Instance, "l1", 0.3, null)).ParamName);
    }

    [Fact]
    public void StrengthAndNormDescribeEachShippedPenalty()
    {
        Assert.Equal((0.3, (double?)null), (new RidgePenalty(0.3).Strength!.Value, ((IWeightPenalty)new RidgePenalty(0.3)).Norm));
        Assert.Equal(0.7, ((IWeightPenalty)new SpherePenalty(0.7)).Norm);
        Assert.Null(((IWeightPenalty)new SpherePenalty(0.7)).Strength);
        Assert.Equal(new L1Penalty(2), new L1Penalty(0.3).WithStrength(2));
        Assert.Throws<InvalidOperationException>(() => ((IWeightPenalty)new SpherePenalty(0.7)).WithStrength(1));
        Assert.Throws<NotSupportedException>(() => ((IWeightPenalty)new SpherePenalty(0.7)).Prox(1, 1));
        // the proximal maps: ridge shrinks, L1 soft-thresholds
        Assert.Equal(2.0 * 4 / (4 + 0.3), new RidgePenalty(0.3).Prox(2, 4), 15);
        Assert.Equal(2 - 0.3 / 4, new L1Penalty(0.3).Prox(2, 4), 15);
        Assert.Equal(0, new L1Penalty(0.3).Prox(0.05, 4));
    }
}
