using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Tests.Estimators;

public class ErmOptimalityTests
{
    /// <summary>Gradient of Σ ℓ(u) + (λ/2)‖w‖² computed naively (independently of the solver's fused kernel).</summary>
    private static (double[] Gw, double Gb) NaiveGradient(MixtureSample s, IMarginLoss loss, double lambda, LinearClassifier c)
    {
        var gw = new double[s.N];
        double gb = 0, invSqrtN = 1 / Math.Sqrt(s.N);
        for (int mu = 0; mu < s.P; mu++)
        {
            double h = 0;
            for (int j = 0; j < s.N; j++) h += c.W[j] * s.X[mu * s.N + j];
            double u = s.Y[mu] * (h * invSqrtN + c.B);
            double d = loss.Derivative(u) * s.Y[mu];
            for (int j = 0; j < s.N; j++) gw[j] += d * s.X[mu * s.N + j] * invSqrtN;
            gb += d;
        }
        for (int j = 0; j < s.N; j++) gw[j] += lambda * c.W[j];
        return (gw, gb);
    }

    [Theory]
    [InlineData("square", 0.5, 0.1, 2.0, 120)]    // P > N: primal solve
    [InlineData("square", 0.25, 1.0, 0.5, 160)]   // P < N: dual solve
    [InlineData("square", 0.5, 0.0, 3.0, 60)]     // λ = 0 is well posed when P − 1 ≥ N
    [InlineData("logistic", 0.5, 0.1, 2.0, 120)]
    [InlineData("logistic", 0.25, 1e-3, 1.0, 150)]
    [InlineData("logistic", 0.5, 0.0, 6.0, 50)]   // non-separable (α > α_c(Δ=1) ≈ 3.7): a minimiser exists at λ = 0
    public void SmoothSolutionsHaveVanishingGradient(string lossName, double rho, double lambda, double alpha, int n)
    {
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(alpha, 1, rho), n, Seed: 21));
        var loss = MarginLosses.Parse(lossName);
        var sol = Erm.Fit(s, loss, lambda);
        Assert.True(sol.Converged);
        var (gw, gb) = NaiveGradient(s, loss, lambda, sol.Classifier);
        double gmax = Math.Max(gw.Max(Math.Abs), Math.Abs(gb)) / s.P;
        Assert.True(gmax < 1e-9, $"per-sample gradient {gmax:G3}");
        Assert.True(sol.Residual <= 1e-10 || lossName == "square");
    }

    [Theory]
    [InlineData(0.5, 0.1, 2.0)]
    [InlineData(0.25, 1.0, 1.5)]
    [InlineData(0.5, 1e-3, 1.0)]   // small λ below α_c: approaching the max-margin SVM
    public void HingeSolutionSatisfiesKkt(double rho, double lambda, double alpha)
    {
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(alpha, 1, rho), 100, Seed: 8));
        var sol = Erm.Fit(s, HingeLoss.Instance, lambda);
        Assert.True(sol.Converged);
        var beta = sol.DualCoefficients!;
        var (w, b) = (sol.Classifier.W, sol.Classifier.B);
        // Dual feasibility.
        Assert.All(beta, v => Assert.InRange(v, 0, 1));
        Assert.Equal(0, beta.Select((v, mu) => v * s.Y[mu]).Sum(), 1e-9);
        // Stationarity λw = Σ β y x/√N.
        var rhs = new double[s.N];
        for (int mu = 0; mu < s.P; mu++)
            for (int j = 0; j < s.N; j++) rhs[j] += beta[mu] * s.Y[mu] * s.X[mu * s.N + j] / Math.Sqrt(s.N);
        for (int j = 0; j < s.N; j++) Assert.Equal(rhs[j], lambda * w[j], 1e-9);
        // Complementary slackness: β = 1 inside the margin, β = 0 beyond it, free β only on the margin.
        var u = s.Margins(w, b);
        const double tol = 1e-6;
        for (int mu = 0; mu < s.P; mu++)
        {
            if (u[mu] < 1 - tol) Assert.Equal(1, beta[mu], 1e-8);
            else if (u[mu] > 1 + tol) Assert.Equal(0, beta[mu], 1e-8);
            if (beta[mu] > 1e-8 && beta[mu] < 1 - 1e-8) Assert.Equal(1, u[mu], 1e-6);
        }
    }

    [Fact]
    public void HingeAtSmallLambdaIsTheMaxMarginClassifier()
    {
        // Below the separability threshold, as λ → 0 the hinge minimiser is the hard-margin SVM: the direction and
        // the margins stop depending on λ (docs/theory.md#table-erm notes), and the training error is zero.
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(1, 1, 0.5), 120, Seed: 2));
        var a = Erm.Fit(s, HingeLoss.Instance, 1e-4).Classifier;
        var b = Erm.Fit(s, HingeLoss.Instance, 1e-5).Classifier;
        Assert.Equal(0, s.TrainError(a.W, a.B));
        Assert.Equal(s.OverlapsOf(a.W).Q, s.OverlapsOf(b.W).Q, 1e-6);
        Assert.Equal(1, s.Margins(a.W, a.B).Min(), 1e-6);
    }

    [Fact]
    public void LogisticAtLambdaZeroOnSeparableDataIsAClearError()
    {
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(0.5, 1, 0.5), 80, Seed: 1)); // P < N: always separable
        var e = Assert.Throws<NoMinimizerException>(() => Erm.Fit(s, LogisticLoss.Instance, 0));
        Assert.Equal("lambda", e.ParamName);
        Assert.Contains("separable", e.Message);
    }

    [Fact]
    public void IllPosedLambdaZeroIsRejectedForHingeAndUnderdeterminedSquare()
    {
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(0.5, 1, 0.5), 40, Seed: 1));
        Assert.Contains("lambda", Assert.Throws<ArgumentOutOfRangeException>(() => Erm.Fit(s, HingeLoss.Instance, 0)).Message);
        Assert.Contains("lambda", Assert.Throws<ArgumentOutOfRangeException>(() => Erm.Fit(s, SquareLoss.Instance, 0)).Message);
        Assert.Equal("lambda", Assert.Throws<ArgumentOutOfRangeException>(() => Erm.Fit(s, SquareLoss.Instance, -1)).ParamName);
    }

    [Fact]
    public void SquarePrimalAndDualSolvesAgree()
    {
        // Same data seen with P > N (primal) and, after dropping features, P < N (dual) cannot be compared directly;
        // instead compare the square solver against a smooth L-BFGS solve of the same objective.
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(0.8, 1, 0.3), 90, Seed: 5));
        var exact = Erm.Fit(s, SquareLoss.Instance, 0.3).Classifier;
        var viaLbfgs = Erm.Fit(s, new QuadraticLossWithoutClosedForm(), 0.3).Classifier;
        for (int j = 0; j < s.N; j++) Assert.Equal(exact.W[j], viaLbfgs.W[j], 1e-8);
        Assert.Equal(exact.B, viaLbfgs.B, 1e-8);
    }

    /// <summary>The square loss as a user-defined loss (no closed-form prox), so it goes through L-BFGS.</summary>
    private sealed class QuadraticLossWithoutClosedForm : IMarginLoss
    {
        public string Name => "quadratic";
        public double Value(double u) => 0.5 * (1 - u) * (1 - u);
        public double Derivative(double u) => u - 1;
        public double SecondDerivative(double u) => 1;
    }

    [Fact]
    public void ThreadCountDoesNotChangeTheLogisticSolution()
    {
        var s = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, 0.5), 200, Seed: 3));
        var one = Erm.Fit(s, LogisticLoss.Instance, 0.1, new ErmOptions(Threads: 1)).Classifier;
        var two = Erm.Fit(s, LogisticLoss.Instance, 0.1, new ErmOptions(Threads: 2)).Classifier;
        Assert.Equal(one.W, two.W);
        Assert.Equal(one.B, two.B);
    }
}

/// <summary>
/// Finite-N ERM against the replica fixed points: the theory column of the independent implementation's N = 600 check
/// (docs/theory.md#table-erm), 4 digits. Tolerance: 3 standard errors over 8 datasets, plus a finite-size allowance of
/// max(abs, rel·|theory|) that covers O(1/N) corrections at N = 600 (1/N ≈ 0.0017): ε_g, ε_t: 0.003; m, q: 3 %
/// relative (at least 0.005); b: 0.02.
/// </summary>
public class ErmVersusReplicaTheoryTests
{
    [Theory]
    // loss, ρ, λ, theory ε_g, m, q, b, ε_t: the independent implementation's theory column (docs/theory.md#table-erm). It equals
    // the theory part of the engine's erm-simulation table except logistic ρ = ½ λ = 1 ε_t, hinge λ = 0.1 m and q, hinge
    // λ = 1 q, which are printed in the list of independent values under the tables.
    [Trait("Speed", "Slow")]
    [InlineData("square", 0.5, 0.1, 0.2669, 0.4780, 0.5899, 0.0, 0.0426)]
    [InlineData("square", 0.5, 1.0, 0.2287, 0.3694, 0.2471, 0.0, 0.0575)]
    [InlineData("square", 0.25, 0.1, 0.2244, 0.4071, 0.4756, -0.2964, 0.0301)]
    [InlineData("square", 0.25, 1.0, 0.1841, 0.3052, 0.1874, -0.3474, 0.0539)]
    [InlineData("logistic", 0.5, 0.1, 0.2322, 1.3756, 3.5354, 0.0, 0.0349)]
    [InlineData("logistic", 0.5, 1.0, 0.2113, 0.4901, 0.3737, 0.0, 0.0804)]
    [InlineData("logistic", 0.25, 0.1, 0.1850, 1.2449, 3.1503, -1.2797, 0.0277)]
    [InlineData("logistic", 0.25, 1.0, 0.2191, 0.4206, 0.3031, -1.0238, 0.1635)]
    [InlineData("hinge", 0.5, 0.1, 0.2640, 1.1767, 3.4758, 0.0, 0.0272)]
    [InlineData("hinge", 0.5, 1.0, 0.2281, 0.5863, 0.6191, 0.0, 0.0826)]
    public void AgreesWithinErrorBarsAtN600(string loss, double rho, double lambda,
        double eg, double m, double q, double b, double et)
    {
        var r = MonteCarlo.Run(new MixtureSpec(new MixtureModel(2, 1, rho), 600, Seed: 1000), 8, EstimatorKind.Parse(loss, lambda));
        Within(r.TestError, eg, 0.003, 0, "test error");
        Within(r.TrainError, et, 0.003, 0, "train error");
        Within(r.M, m, 0.005, 0.03, "m");
        Within(r.Q, q, 0.005, 0.03, "q");
        Within(r.Bias, b, 0.02, 0, "bias");
    }

    private static void Within(Statistic s, double theory, double abs, double rel, string what)
    {
        double allowance = Math.Max(abs, rel * Math.Abs(theory));
        double bound = 3 * s.StdError + allowance;
        Assert.True(Math.Abs(s.Mean - theory) <= bound,
            $"{what}: simulation {s.Mean:F4} ± {s.StdError:F4} vs theory {theory:F4} (bound {bound:F4})");
    }
}
