using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;

namespace FlatMinima.Tests.Replica;

/// <summary>
/// The ERM saddle point at small λ just below the separability threshold α_c (docs/theory.md#separability-threshold),
/// where the norms grow like 1/λ or faster and the accelerated fixed-point iteration alone stalls
/// (docs/theory.md#erm-numerics). Every point must converge with the default options, within the evaluation cap, and
/// pass checks that do not use the solver: the fixed-point map evaluated at the result with the bias condition solved
/// exactly, the max-margin equations of the hinge loss written out in closed form, and for hinge (cheap) the plain
/// continuation in λ with a large cap. Two sets: the points the solver was tuned on (Δ = 1, ρ = 0.25) and a held-out
/// set of other (Δ, ρ, λ, α/α_c) that were run only after the solver was final.
/// </summary>
public class NearThresholdTests
{
    // loss, Δ, ρ, λ, α/α_c
    public static TheoryData<string, double, double, double, double> Tuned => new()
    {
        { "logistic", 1, 0.25, 1e-4, 0.8 }, { "logistic", 1, 0.25, 1e-4, 0.9 }, { "logistic", 1, 0.25, 1e-4, 0.99 },
        { "logistic", 1, 0.25, 1e-5, 0.85 }, { "logistic", 1, 0.25, 1e-5, 0.95 },
        { "hinge", 1, 0.25, 1e-4, 0.85 }, { "hinge", 1, 0.25, 1e-4, 0.9 }, { "hinge", 1, 0.25, 1e-4, 0.99 },
        { "hinge", 1, 0.25, 1e-5, 0.9 }, { "hinge", 1, 0.25, 1e-5, 0.95 },
    };

    public static TheoryData<string, double, double, double, double> HeldOut => new()
    {
        { "logistic", 0.7, 0.35, 1e-6, 0.82 }, { "logistic", 1.5, 0.5, 1e-5, 0.91 }, { "logistic", 0.7, 0.15, 1e-4, 0.97 },
        { "logistic", 1.5, 0.35, 1e-6, 0.995 }, { "logistic", 3, 0.2, 1e-5, 0.88 },
        { "hinge", 0.7, 0.35, 1e-6, 0.82 }, { "hinge", 1.5, 0.5, 1e-5, 0.91 }, { "hinge", 0.7, 0.15, 1e-4, 0.97 },
        { "hinge", 1.5, 0.35, 1e-6, 0.995 }, { "hinge", 3, 0.2, 1e-5, 0.88 },
    };

    private static ErmProblem Problem(string loss, double delta, double rho, double lambda, double fraction) =>
        new(MarginLosses.Parse(loss), new MixtureModel(fraction * SeparabilityThreshold.Of(delta, rho), delta, rho), lambda);

    [Theory]
    [MemberData(nameof(Tuned))]
    [MemberData(nameof(HeldOut))]
    public void ConvergesByDefaultAndSatisfiesTheEquations(string loss, double delta, double rho, double lambda, double fraction)
    {
        var problem = Problem(loss, delta, rho, lambda, fraction);
        var fp = new ErmSaddlePoint(problem).TrySolve();
        Assert.True(fp.Converged, $"{problem}: {fp.Reason}");
        Assert.InRange(fp.Iterations, 1, SaddlePointOptions.Default.MaxIterations);
        Assert.True(fp.ResidualHistory[^1] < SaddlePointOptions.Default.Tolerance);

        // the map F at the result, with the bias condition solved to 1e−14 rather than by the iteration's one Newton step
        var exact = new ErmSaddlePoint(problem, new ErmSaddlePointOptions(ExactBias: true)).Step(fp.State);
        RelativelyNear(fp.M, exact.M, 1e-9, "F(x)_m");
        RelativelyNear(fp.Q, exact.Q, 1e-9, "F(x)_q");
        RelativelyNear(fp.V, exact.V, 1e-9, "F(x)_V");
        RelativelyNear(fp.Bias, exact.Bias, 1e-9, "F(x)_b");

        if (loss == "hinge")
        {
            MaxMarginEquationsHold(fp);
            // the plain accelerated iteration (no Newton) continued from λ = 1 in steps of √10, with a large cap
            var plain = PlainContinuation(problem);
            Assert.True(plain.Converged, plain.Reason);
            RelativelyNear(plain.M, fp.M, 1e-9, "m");
            RelativelyNear(plain.Q, fp.Q, 1e-9, "q");
            RelativelyNear(plain.V, fp.V, 1e-9, "V");
            RelativelyNear(plain.Bias, fp.Bias, 1e-9, "b");
        }
    }

    [Trait("Speed", "Slow")]
    [Theory]
    [InlineData(1, 0.25, 1e-4, 0.8)]   // tuned: the plain route takes ~20 000 evaluations (~20 s)
    [InlineData(0.7, 0.35, 1e-4, 0.97)] // held out
    public void LogisticAgreesWithThePlainContinuation(double delta, double rho, double lambda, double fraction)
    {
        var problem = Problem("logistic", delta, rho, lambda, fraction);
        var fp = ErmSaddlePoint.Solve(problem);
        var plain = PlainContinuation(problem);
        Assert.True(plain.Converged, plain.Reason);
        RelativelyNear(plain.M, fp.M, 1e-9, "m");
        RelativelyNear(plain.Q, fp.Q, 1e-9, "q");
        RelativelyNear(plain.V, fp.V, 1e-9, "V");
        RelativelyNear(plain.Bias, fp.Bias, 1e-9, "b");
    }

    [Fact]
    public void IterationsNeverExceedTheCap()
    {
        // a cap too small for the hard point: the solve stops within it (it used to add up the continuation stages)
        var problem = Problem("logistic", 1, 0.25, 1e-5, 0.9);
        foreach (int cap in new[] { 50, 120, 300 })
        {
            var fp = new ErmSaddlePoint(problem, new ErmSaddlePointOptions(SaddlePointOptions.Default with { MaxIterations = cap })).TrySolve();
            Assert.InRange(fp.Iterations, 1, cap);
        }
        var none = new ErmSaddlePoint(problem, new ErmSaddlePointOptions(SaddlePointOptions.Default with { MaxIterations = 3000 }, Newton: false)).TrySolve();
        Assert.InRange(none.Iterations, 1, 3000);
    }

    // The plain accelerated fixed-point iteration, warm-started along λ = 1, 10^(−1/2), …, λ, each stage capped at 10⁶
    // evaluations (the hinge point Δ = 1.5, ρ = 0.35, λ = 1e−6, α = 0.995 α_c needs more than 10⁵ at its last stage). The
    // last stage, at λ itself, runs to a residual of 1e−14 rather than 1e−11: near α_c the map contracts by only ~1 − 1e−4
    // per step, so a residual r leaves an error of order r/1e−4 (at 1e−11 that reference was off by 2e−9 relative in m).
    private static ErmFixedPoint PlainContinuation(ErmProblem problem)
    {
        var solver = SaddlePointOptions.Default with { MaxIterations = 1_000_000 };
        var options = new ErmSaddlePointOptions(solver, Continuation: false, Newton: false);
        var state = ErmState.Default;
        for (double l = 1; l > problem.Lambda * 1.0001; l /= Math.Sqrt(10))
        {
            var stage = new ErmSaddlePoint(problem.WithLambda(l), options).TrySolve(state);
            if (!stage.Converged) return stage;
            state = stage.State;
        }
        return new ErmSaddlePoint(problem, options with { Solver = solver with { Tolerance = 1e-14 } }).TrySolve(state);
    }

    // Hinge loss as λ → 0 below α_c: with c = ΔV → ∞ the proximal margin is max(ω, 1), g = (1 − ω)₊/c, and the ridge weight
    // side gives, with ω_± = m ± b + √(Δq) ξ and ⟨·⟩ = ρ E₊ + (1 − ρ) E₋ (docs/theory.md#erm-saddle-point):
    //   m = (α/Δ) ⟨(1 − ω)₊⟩,  q = m² + (α/Δ) ⟨(1 − ω)₊²⟩,  ρ E₊(1 − ω)₊ = (1 − ρ) E₋(1 − ω)₊,  λV = 1 − α ⟨P(ω < 1)⟩,
    // the max-margin (hard-margin SVM) equations. They are exact in double precision once the region ω < 1 − c that the
    // finite λ adds has Gaussian weight below 1e−300, i.e. when c − 1 + m ± b exceeds 38 √(Δq) for both clusters.
    private static void MaxMarginEquationsHold(ErmFixedPoint fp)
    {
        var p = fp.Problem;
        double a = p.Alpha, d = p.Delta, rho = p.Rho, s = Math.Sqrt(d * fp.Q), c = d * fp.V;
        if (c - 1 + fp.M - Math.Abs(fp.Bias) <= 38 * s) return; // not yet in the max-margin regime at this λ
        (double E1, double E2, double P) Moments(double mu)
        {
            double t = (1 - mu) / s, phi = Gaussian.Cdf(t), pdf = Gaussian.Pdf(t);
            return (s * (t * phi + pdf), s * s * ((t * t + 1) * phi + t * pdf), phi);
        }
        var plus = Moments(fp.M + fp.Bias);
        var minus = Moments(fp.M - fp.Bias);
        double e1 = rho * plus.E1 + (1 - rho) * minus.E1, e2 = rho * plus.E2 + (1 - rho) * minus.E2, pr = rho * plus.P + (1 - rho) * minus.P;
        double m = a / d * e1;
        RelativelyNear(m, fp.M, 1e-9, "max-margin m");
        RelativelyNear(m * m + a / d * e2, fp.Q, 1e-9, "max-margin q");
        RelativelyNear(1 - a * pr, p.Lambda * fp.V, 1e-9, "max-margin λV");
        Assert.True(Math.Abs(rho * plus.E1 - (1 - rho) * minus.E1) <= 1e-9 * e1, "max-margin bias condition");
    }

    private static void RelativelyNear(double expected, double actual, double tol, string what) =>
        Assert.True(Math.Abs(actual - expected) <= tol * Math.Max(1, Math.Abs(expected)), $"{what}: expected {expected:R}, got {actual:R}");
}
