using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Penalties;
using FlatMinima.Replica;

namespace FlatMinima.Tests.Replica;

/// <summary>
/// The replicated square-loss ERM with a centre on the sphere (docs/norms.md §3): zero-temperature saddle point
/// against coupled gradient descent on y replicas at N = 300 (6 datasets; agreement within 3 s.e. + 2·max(1,|th|)/N),
/// and its limits.
/// </summary>
public class ReplicatedTests
{
    public static TheoryData<double, int, double, double> Cases => new()
    {
        // ρ, y, Q, γ
        { 0.25, 3, 0.5, 1.0 },
        { 0.25, 2, 0.05, 2.0 },
        { 0.5, 3, 0.3, 0.5 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void SaddlePointAgreesWithCoupledGradientDescent(double rho, int y, double norm, double gamma)
    {
        var th = ReplicatedSaddlePoint.Solve(new ReplicatedProblem(SquareLoss.Instance, new MixtureModel(2, 1, rho), y, norm, gamma, double.NaN));
        Assert.True(th.Converged);
        const int n = 300, seeds = 6;
        var eg = new double[seeds]; var m = new double[seeds]; var b = new double[seeds]; var d = new double[seeds]; var ov = new double[seeds];
        Parallel.For(0, seeds, k =>
        {
            var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, rho), n, 900 + k));
            var r = ReplicatedSphereDescent.Fit(s, y, norm, gamma, seed: k);
            Assert.True(r.Converged, $"gradient {r.GradientNorm:G3} after {r.Steps} steps");
            var o = s.OverlapsOf(r.Center.W);
            Assert.Equal(norm, o.Q, 1e-9);
            eg[k] = GeneralizationError.Of(o.M, o.Q, r.Center.B, 1, rho); m[k] = o.M; b[k] = r.Center.B; d[k] = r.Distance; ov[k] = r.ReplicaOverlap;
        });
        void Agree(string name, double[] sim, double theory)
        {
            var st = Statistic.Of(sim);
            double tol = 3 * st.StdError + 2 * Math.Max(1, Math.Abs(theory)) / n;
            Assert.True(Math.Abs(st.Mean - theory) <= tol, $"{name}: theory {theory:G5}, simulation {st.Mean:G5} ± {st.StdError:G2}");
        }
        Agree("test_error", eg, th.TestError);
        Agree("m", m, th.CenterM);
        Agree("bias", b, th.CenterBias);
        Agree("distance", d, th.Distance);
        Agree("replica_overlap", ov, th.ReplicaReplicaOverlap);
    }

    [Fact]
    public void ReplicasCoincideAndTheCentreDoesNotDependOnY()
    {
        // zero temperature: the minimiser is unique, so y = 1 and y = 4 give the same centre from different starts
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, 0.25), 200, 11));
        var one = ReplicatedSphereDescent.Fit(s, 1, 0.4, 1.5, seed: 1);
        var four = ReplicatedSphereDescent.Fit(s, 4, 0.4, 1.5, seed: 2);
        for (int j = 0; j < s.N; j++) Assert.Equal(one.Center.W[j], four.Center.W[j], 1e-6);
        Assert.Equal(one.Center.B, four.Center.B, 1e-7);
        foreach (var r in four.Replicas) for (int j = 0; j < s.N; j++) Assert.Equal(four.Replicas[0].W[j], r.W[j], 1e-6);
    }

    [Fact]
    public void StrongCouplingIsErmAtTheSameNorm()
    {
        // γ → ∞ forces w^a = w̃: the centre is fixed-norm ERM at Q (the replicas' q_r → Q, d → 0)
        var erm = ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, new MixtureModel(2, 1, 0.25), new SpherePenalty(0.5)));
        var rep = ReplicatedSaddlePoint.Solve(new ReplicatedProblem(SquareLoss.Instance, new MixtureModel(2, 1, 0.25), 3, 0.5, 1e5, double.NaN));
        Assert.Equal(erm.TestError, rep.TestError, 1e-6);
        Assert.Equal(erm.M, rep.CenterM, 1e-5);
        Assert.Equal(erm.Bias, rep.CenterBias, 1e-5);
        Assert.True(rep.Distance < 1e-9);
    }

    [Fact]
    public void WeakCouplingProjectsTheUnpenalisedMinimiserOntoTheSphere()
    {
        // γ → 0: the replicas are unpenalised ERM (ρ = ½, α = 2, Δ = 1: m = 0.5, q = 0.75, docs/theory.md#erm-saddle-point) and the centre is
        // their projection, m̃ = √(Q/q) m
        var rep = ReplicatedSaddlePoint.Solve(new ReplicatedProblem(SquareLoss.Instance, new MixtureModel(2, 1, 0.5), 3, 0.2, 1e-6, double.NaN));
        Assert.Equal(0.5, rep.Replica.M, 1e-5);
        Assert.Equal(0.75, rep.Replica.Q, 1e-5);
        Assert.Equal(Math.Sqrt(0.2 / 0.75) * 0.5, rep.CenterM, 1e-5);
    }

    [Fact]
    public void FixedDistanceAndCouplingAreTheSameFamily()
    {
        var byD = ReplicatedSaddlePoint.Solve(new ReplicatedProblem(SquareLoss.Instance, new MixtureModel(2, 1, 0.25), 3, 0.1, double.NaN, 0.01));
        Assert.Equal(0.01, byD.Distance, 1e-12);
        var byG = ReplicatedSaddlePoint.Solve(new ReplicatedProblem(SquareLoss.Instance, new MixtureModel(2, 1, 0.25), 3, 0.1, byD.Gamma, double.NaN));
        Assert.Equal(0.01, byG.Distance, 1e-7);
        Assert.Equal(byD.TestError, byG.TestError, 1e-8);
    }

    [Fact]
    public void AttractiveCouplingCannotBeatErmAtItsBestNormWhenUnbalanced()
    {
        // docs/norms.md §4: ρ = ¼, α = 2, Δ = 1. ERM's best over λ (docs/theory.md#table-erm) is 0.18270; the centre with γ > 0 over
        // a grid of (Q, γ) never goes below it (up to the 1e-5 accuracy of the docs/theory.md#table-erm value)
        double best = 1;
        foreach (var q in new[] { 0.1, 0.13, 0.154, 0.18, 0.25 })
            foreach (var g in new[] { 0.3, 1.0, 3.0, 10.0, 100.0 })
                best = Math.Min(best, ReplicatedSaddlePoint.Solve(new ReplicatedProblem(SquareLoss.Instance, new MixtureModel(2, 1, 0.25), 3, q, g, double.NaN)).TestError);
        Assert.True(best >= 0.18270 - 1e-5, $"best {best}");
        Assert.True(best <= 0.18270 + 5e-4, $"best {best}");
    }
}
