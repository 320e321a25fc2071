using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Replica;

namespace FlatMinima.Plots.Tests;

/// <summary>The CSV of the ERM figures equals the library at the plotted points.</summary>
public class TheoryFigureCsvTests(QuickFigures figs) : IClassFixture<QuickFigures>
{
    private static string LossOf(string series) => MarginLosses.Names.First(n => series.Contains(n));

    [Theory]
    [InlineData("fig2_learning_curves")]
    [InlineData("fig3a_lambda_balanced")]
    [InlineData("fig3b_lambda_unbalanced")]
    public void TheoryRowsAreTheLibrarySweeps(string name)
    {
        var rows = figs.Results[name].Data.Rows.Where(r => r.Series.StartsWith("theory", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(rows);
        foreach (var curve in rows.GroupBy(r => r.Series))
        {
            var first = curve.First().Values;
            var loss = MarginLosses.Parse(LossOf(curve.Key));
            var xs = curve.Select(r => r.Values[0]).ToArray();
            var fps = name.StartsWith("fig2", StringComparison.Ordinal)
                ? LearningCurve.OverAlpha(loss, xs, 1, first[3], first[4])
                : LearningCurve.OverLambda(loss, 2, 1, xs, first[4]);
            Assert.Equal(xs.Length, fps.Count);
            int k = 0;
            foreach (var (_, v, note) in curve)
            {
                var fp = fps[k++];
                Assert.Equal(fp.TestError, v[1]);
                Assert.Equal(!fp.Converged, note.StartsWith("not converged", StringComparison.Ordinal));
            }
            // Spot check against a cold solve where it converges: the warm-started sweep found the same fixed point.
            var mid = fps[fps.Count / 2];
            var cold = new ErmSaddlePoint(mid.Problem).TrySolve();
            if (cold.Converged && mid.Converged) Assert.Equal(cold.TestError, mid.TestError, 1e-7);
        }
    }

    [Theory]
    [InlineData("fig2_learning_curves", false)]
    [InlineData("fig3a_lambda_balanced", true)]
    [InlineData("fig3b_lambda_unbalanced", true)]
    public void SimulationRowsAreReproducedBitForBit(string name, bool exactLabels)
    {
        var sims = figs.Results[name].Data.Rows.Where(r => r.Series.StartsWith("simulation", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(sims);
        foreach (var (series, v, _) in new[] { sims[0], sims[^1] })
        {
            double x = v[0], lambda = v[3], rho = v[4];
            double alpha = name.StartsWith("fig2", StringComparison.Ordinal) ? x : 2;
            var r = MonteCarlo.Run(new MixtureSpec(alpha, 1, rho, 100, figs.Options.Seed, ExactLabelCounts: exactLabels), 3,
                EstimatorKind.Erm(MarginLosses.Parse(LossOf(series)), lambda));
            Assert.Equal(r.TestError.Mean, v[1]);
            Assert.Equal(r.TestError.StdError, v[2]);
        }
    }

    [Fact]
    public void LearningCurveFigureMarksTheSeparabilityThreshold()
    {
        var row = figs.Results["fig2_learning_curves"].Data.Rows.Single(r => r.Series == "separability threshold");
        Assert.Equal(3.70003, row.Values[0], 1e-4);   // SPEC §6.5
    }
}
