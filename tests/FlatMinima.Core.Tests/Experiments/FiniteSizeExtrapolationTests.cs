using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;

namespace FlatMinima.Tests.Experiments;

/// <summary>
/// The finite-size extrapolation (docs/replica.md): synthetic laws with Gaussian noise of known standard error, data that do
/// not follow the form, and the square loss's ε_g extrapolated to N → ∞ against its replica value.
/// </summary>
public class FiniteSizeExtrapolationTests
{
    private static readonly double[] Ladder = [100, 200, 400, 800, 1600];

    // y_i = law(N_i) + se_i ζ_i, ζ ~ N(0, 1) from a fixed stream
    private static (double[] Y, double[] Se) Synthetic(Func<double, double> law, Func<double, double> se, long seed, double[]? sizes = null)
    {
        var ns = sizes ?? Ladder;
        var rng = Rng.ForStream(seed, 5);
        var s = ns.Select(se).ToArray();
        return (ns.Select((n, i) => law(n) + s[i] * rng.NextGaussian()).ToArray(), s);
    }

    [Fact]
    public void ExactLineIsRecoveredExactly()
    {
        var y = Ladder.Select(n => 0.23 + 0.5 / n).ToArray();
        var fit = FiniteSizeExtrapolation.Fit(Ladder, y, Ladder.Select(_ => 1e-3).ToArray(), FiniteSizeForm.InverseN);
        Assert.Equal(0.23, fit.Intercept, 12);
        Assert.Equal(0.5, fit.Slope, 9);
        Assert.Equal(0, fit.ChiSquare, 12);
        Assert.Equal(3, fit.DegreesOfFreedom);
        Assert.Equal(1, fit.Inflation);
        // unweighted least squares with se = 1e-3: var(a) = se² Σx²/(kΣx² − (Σx)²)
        double sx = Ladder.Sum(n => 1 / n), sxx = Ladder.Sum(n => 1 / (n * n));
        Assert.Equal(1e-3 * Math.Sqrt(sxx / (5 * sxx - sx * sx)), fit.InterceptStdError, 12);
    }

    [Fact]
    public void RecoversAKnownInverseNLawWithinItsInterval()
    {
        // a = 0.23, b = 0.5, se ∝ 1/√N (as Monte Carlo at fixed seeds per size): one fixed-seed data set
        var (y, se) = Synthetic(n => 0.23 + 0.5 / n, n => 0.01 / Math.Sqrt(n), 11);
        var fit = FiniteSizeExtrapolation.Fit(Ladder, y, se, FiniteSizeForm.InverseN);
        Assert.True(fit.Contains(0.23), $"{fit.IntervalLow} .. {fit.IntervalHigh}");
        Assert.True(fit.PValue > 0.01);
        Assert.Equal(FiniteSizeVerdict.Agree, FiniteSizeExtrapolation.Judge(fit, 0.23));
        Assert.Equal(0.5, fit.Slope, 4 * fit.SlopeStdError);
        // a theory off by 10 interval half-widths is rejected
        Assert.Equal(FiniteSizeVerdict.Disagree, FiniteSizeExtrapolation.Judge(fit, 0.23 + 10 * (fit.IntervalHigh - fit.Intercept)));
    }

    [Fact]
    public void CoverageOfTheIntervalIsItsConfidence()
    {
        // 1000 synthetic data sets: the 95 % interval contains a in 95 % of them (binomial s.e. 0.7 %; allow 4 s.e.), and
        // the goodness-of-fit test rejects the true form at the 1 % level in about 1 % of them
        const int reps = 1000;
        int covered = 0, rejected = 0;
        for (int r = 0; r < reps; r++)
        {
            var (y, se) = Synthetic(n => 0.23 + 0.5 / n, n => 0.01 / Math.Sqrt(n), 1000 + r);
            var fit = FiniteSizeExtrapolation.Fit(Ladder, y, se, FiniteSizeForm.InverseN, 0.95);
            if (fit.Contains(0.23)) covered++;
            if (fit.PValue < 0.01) rejected++;
        }
        // the Birge inflation only widens the interval, so coverage may exceed 95 % slightly, never fall below it
        Assert.InRange(covered / (double)reps, 0.95 - 4 * 0.0069, 0.95 + 4 * 0.0069 + 0.02);
        Assert.InRange(rejected / (double)reps, 0, 0.01 + 4 * 0.0031);
    }

    [Fact]
    public void ReportsFailureOnAnInverseNSquaredLaw()
    {
        // a + c/N² with c large enough to dominate: a straight line in 1/N does not fit
        double[] ns = [20, 40, 80, 160, 320];
        var (y, se) = Synthetic(n => 0.23 + 40 / (n * n), _ => 1e-4, 12, ns);
        var fit = FiniteSizeExtrapolation.Fit(ns, y, se, FiniteSizeForm.InverseN);
        Assert.True(fit.PValue < 1e-6, $"p = {fit.PValue}");
        Assert.Equal(FiniteSizeVerdict.FormDoesNotFit, FiniteSizeExtrapolation.Judge(fit, 0.23));
    }

    [Fact]
    public void ReportsFailureOnAJump()
    {
        var (y, se) = Synthetic(n => n < 500 ? 0.23 : 0.25, _ => 1e-3, 13);
        Assert.Equal(FiniteSizeVerdict.FormDoesNotFit, FiniteSizeExtrapolation.Judge(FiniteSizeExtrapolation.Fit(Ladder, y, se, FiniteSizeForm.InverseN), 0.23));
    }

    [Fact]
    public void TellsInverseSqrtNFromInverseNWhenTheCorrectionIsResolved()
    {
        // a + b/√N data: the 1/√N form fits and recovers a, the 1/N form is rejected
        var (y, se) = Synthetic(n => 0.23 + 0.3 / Math.Sqrt(n), n => 2e-4 / Math.Sqrt(n / 100), 14);
        var right = FiniteSizeExtrapolation.Fit(Ladder, y, se, FiniteSizeForm.InverseSqrtN);
        var wrong = FiniteSizeExtrapolation.Fit(Ladder, y, se, FiniteSizeForm.InverseN);
        Assert.Equal(FiniteSizeVerdict.Agree, FiniteSizeExtrapolation.Judge(right, 0.23));
        Assert.Equal(FiniteSizeVerdict.FormDoesNotFit, FiniteSizeExtrapolation.Judge(wrong, 0.23));
    }

    [Fact]
    public void RowFitsAnyObservableGivenItsStatistics()
    {
        // e.g. a local energy computed by a figure at its own sizes and seeds: statistics in, fit and verdict out
        var (y, se) = Synthetic(n => 0.08 - 1.5 / n, n => 0.02 / Math.Sqrt(n), 21);
        var stats = y.Select((v, i) => new Statistic(v, se[i] * Math.Sqrt(16), 16)).ToArray(); // s.e. = sd/√16
        var row = FiniteSizeExtrapolation.Row("delta_e", Ladder.Select(n => (int)n).ToArray(), stats, 0.08, FiniteSizeForm.InverseN);
        Assert.Equal(FiniteSizeVerdict.Agree, row.Verdict);
        Assert.Equal(-1.5, row.Fit.Slope, 4 * row.Fit.SlopeStdError);
        Assert.Equal((row.Fit.Intercept - 0.08) / row.Fit.InterceptStdError, row.Z, 12);
        Assert.Equal("theory", Assert.Throws<ArgumentOutOfRangeException>(() =>
            FiniteSizeExtrapolation.Row("x", [100, 200, 400], stats.Take(3).ToArray(), double.NaN, FiniteSizeForm.InverseN)).ParamName);
    }

    [Fact]
    public void ConstantObservableIsAnExactFit()
    {
        // e.g. a training error that is 0 on every data set at every N
        var fit = FiniteSizeExtrapolation.Fit(Ladder, Ladder.Select(_ => 0.0).ToArray(), Ladder.Select(_ => 0.0).ToArray(), FiniteSizeForm.InverseN);
        Assert.Equal(0, fit.Intercept);
        Assert.Equal(0, fit.InterceptStdError);
        Assert.Equal(FiniteSizeVerdict.Agree, FiniteSizeExtrapolation.Judge(fit, 0));
        Assert.Equal(FiniteSizeVerdict.Disagree, FiniteSizeExtrapolation.Judge(fit, 1e-3));
    }

    [Fact]
    public void BadInputNamesTheParameter()
    {
        Assert.Equal("finite-size", Assert.Throws<ArgumentOutOfRangeException>(() =>
            FiniteSizeExtrapolation.Fit([100, 200], [0.2, 0.2], [0.01, 0.01], FiniteSizeForm.InverseN)).ParamName);
        Assert.Equal("confidence", Assert.Throws<ArgumentOutOfRangeException>(() =>
            FiniteSizeExtrapolation.Fit(Ladder, Ladder.Select(_ => 0.2).ToArray(), Ladder.Select(_ => 0.01).ToArray(), FiniteSizeForm.InverseN, 1.0)).ParamName);
        Assert.Equal("form", Assert.Throws<ArgumentException>(() => FiniteSizeForms.Parse("1/n^2")).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() =>
            FiniteSizeExtrapolation.Erm(new ErmProblem(SquareLoss.Instance, new MixtureModel(2, 1), 1.0), [5, 50, 100], 4)).ParamName);
    }

    [Fact]
    public void SimulationLadderIsDeterministicAndIndependentOfTheThreadCount()
    {
        var est = EstimatorKind.Erm(SquareLoss.Instance, 1.0);
        var a = FiniteSizeExtrapolation.Simulate(new MixtureSpec(new MixtureModel(2, 1, 0.5)), [20, 40], 3, 5, est.Measure, maxParallelism: 1);
        var b = FiniteSizeExtrapolation.Simulate(new MixtureSpec(new MixtureModel(2, 1, 0.5)), [20, 40], 3, 5, est.Measure, maxParallelism: 2);
        for (int i = 0; i < 2; i++)
            for (int k = 0; k < 3; k++)
                Assert.Equal(a[i].PerSeed[k].Values, b[i].PerSeed[k].Values);
        // every (N, k) gets its own seed
        Assert.Equal(6, a.SelectMany(r => r.Seeds).Distinct().Count());
    }

    [Fact]
    public void FigureLadderHasEqualStandardErrorsByConstructionAndItsOwnDatasets()
    {
        Assert.Equal([(100, 32), (200, 16)], FiniteSizeExtrapolation.LadderBelow(400, 8));
        Assert.Equal([(250, 16), (500, 8)], FiniteSizeExtrapolation.LadderBelow(1000, 4));
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => FiniteSizeExtrapolation.LadderBelow(39, 8)).ParamName);
        // one size: the datasets of DatasetSeed(seed, N, k), the same for any thread count
        var est = EstimatorKind.Erm(SquareLoss.Instance, 1.0);
        var mixture = new MixtureSpec(new MixtureModel(2, 1, 0.5), ExactLabelCounts: true);
        var a = FiniteSizeExtrapolation.SimulateAt(mixture, 30, 4, 5, est.Measure, maxParallelism: 1);
        var b = FiniteSizeExtrapolation.SimulateAt(mixture, 30, 4, 5, est.Measure, maxParallelism: 2);
        Assert.Equal(Enumerable.Range(0, 4).Select(k => FiniteSizeExtrapolation.DatasetSeed(5, 30, k)), a.Seeds);
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(a.PerSeed[k].Values, b.PerSeed[k].Values);
            var direct = est.Measure(MixtureSample.Sample(mixture with { N = 30, Seed = a.Seeds[k] }));
            Assert.Equal(direct.Values, a.PerSeed[k].Values);
        }
    }

    [Fact]
    public void WithFewDatasetsTheStudentTIntervalKeepsItsConfidenceAndTheNormalOneDoesNot()
    {
        // the ladder of figure 4a: N = 250, 500, 1000 on 16, 8, 4 datasets whose values scatter with sd 0.3/√N around
        // 0.08 + 2/N; the standard errors are estimated from the datasets, as in a figure. 4000 repetitions: the 99 %
        // Student-t interval (Welch–Satterthwaite dof, an approximation) covers a = 0.08 in 98.35 % (binomial s.e.
        // 0.16 %; required: at least 98 %), the normal one (se treated as known) in 95.15 % only
        int[] sizes = [250, 500, 1000], counts = [16, 8, 4];
        const int reps = 4000;
        int coveredT = 0, coveredNormal = 0;
        var rng = Rng.ForStream(31, 7);
        for (int r = 0; r < reps; r++)
        {
            var stats = sizes.Select((n, i) => Statistic.Of(Enumerable.Range(0, counts[i]).Select(_ => 0.08 + 2.0 / n + 0.3 / Math.Sqrt(n) * rng.NextGaussian()).ToArray())).ToArray();
            var ns = sizes.Select(n => (double)n).ToArray();
            var t = FiniteSizeExtrapolation.Fit(ns, stats.Select(x => x.Mean).ToArray(), stats.Select(x => x.StdError).ToArray(), FiniteSizeForm.InverseN, 0.99, counts);
            var z = FiniteSizeExtrapolation.Fit(ns, stats.Select(x => x.Mean).ToArray(), stats.Select(x => x.StdError).ToArray(), FiniteSizeForm.InverseN, 0.99);
            Assert.Equal(z.Intercept, t.Intercept, 15);
            Assert.InRange(t.ErrorDegreesOfFreedom, 3, 3 + 7 + 15);
            Assert.True(double.IsPositiveInfinity(z.ErrorDegreesOfFreedom));
            if (t.Contains(0.08)) coveredT++;
            if (z.Contains(0.08)) coveredNormal++;
        }
        double se = Math.Sqrt(0.99 * 0.01 / reps);
        Assert.InRange(coveredT / (double)reps, 0.98, 0.99 + 4 * se);
        Assert.InRange(coveredNormal / (double)reps, 0.90, 0.975);
        // one dataset count per size, each at least 2
        Assert.Throws<ArgumentException>(() => FiniteSizeExtrapolation.Fit([1, 2, 3], [1, 2, 3], [1, 1, 1], FiniteSizeForm.InverseN, 0.99, [4, 4]));
        Assert.Equal("datasets", Assert.Throws<ArgumentOutOfRangeException>(() =>
            FiniteSizeExtrapolation.Fit([1, 2, 3], [1, 2, 3], [1, 1, 1], FiniteSizeForm.InverseN, 0.99, [4, 1, 4])).ParamName);
    }

    [Fact]
    public void RowNoteCarriesTheVerdictWithoutCommas()
    {
        var (y, se) = Synthetic(n => 0.08 - 1.5 / n, n => 0.02 / Math.Sqrt(n), 21);
        var stats = y.Select((v, i) => new Statistic(v, se[i] * 4, 16)).ToArray();
        var row = FiniteSizeExtrapolation.Row("delta_e", Ladder.Select(n => (int)n).ToArray(), stats, 0.08, FiniteSizeForm.InverseN);
        Assert.StartsWith("agree; theory 0.08; z ", row.Note);
        Assert.Contains("form 1/n; error = 99% half-width", row.Note);
        Assert.DoesNotContain(",", row.Note);   // a CSV note column
        Assert.Equal(row.Fit.IntervalHigh - row.Fit.Intercept, row.HalfWidth, 15);
    }

    [Theory]
    [Trait("Speed", "Slow")]
    [InlineData(3.0, 0.5, 0.5, 0.5)]
    [InlineData(1.5, 1.0, 0.1, 0.25)]
    public void SquareLossTestErrorExtrapolatesToTheReplicaValue(double alpha, double delta, double lambda, double rho)
    {
        // Held-out points (not used to choose the form): N = 50, 100, 200, 400, 40 data sets each, 1/N form, 99 % interval
        var problem = new ErmProblem(SquareLoss.Instance, new MixtureModel(alpha, delta, rho), lambda);
        var r = FiniteSizeExtrapolation.Erm(problem, [50, 100, 200, 400], 40, seed: 31);
        var eg = r.Rows.Single(x => x.Observable == "test_error");
        Assert.Equal(ErmSaddlePoint.Solve(problem).TestError, eg.Theory, 12);
        Assert.True(eg.Verdict == FiniteSizeVerdict.Agree,
            $"theory {eg.Theory:G6}, extrapolated {eg.Fit.Intercept:G6} ± {eg.Fit.InterceptStdError:G2}, p = {eg.Fit.PValue:G2}: {eg.Verdict}");
        Assert.True(eg.Fit.Contains(eg.Theory));
    }
}
