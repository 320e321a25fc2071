using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Penalties;
using FlatMinima.Replica;

namespace FlatMinima.Plots.Tests;

/// <summary>The CSVs of figures 7 and 8 against the library and docs/theory.md#table-erm.</summary>
/// <remarks>Slow: the shared fixture builds every figure (quick mode) once for the whole collection.</remarks>
[Trait("Speed", "Slow")]
[Collection(QuickFigures.Collection)]
public class NormFigureTests(QuickFigures figs)
{
    [Fact]
    public void NormFigureTheoryRowsAreTheLibraryAndItsMinimumIsBestLambdaErm()
    {
        var rows = figs.Results["fig9b_norm_unbalanced"].Data.Rows.Where(r => r.Series == "theory fixed-norm erm").ToList();
        Assert.NotEmpty(rows);
        foreach (var (_, v, _) in rows.Take(5))
            Assert.Equal(ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, new MixtureModel(2, 1, 0.25), new SpherePenalty(v[0]))).TestError, v[1], 1e-12);
        // docs/theory.md#table-erm: the best square-loss ERM at ρ = ¼ is 0.18270; a 25-point grid in Q comes within 2e-3 and never below
        double min = rows.Min(r => r.Values[1]);
        Assert.InRange(min, 0.18270 - 1e-5, 0.18270 + 2e-3);
    }

    [Fact]
    public void DistanceFigureSimulationsDoNotDependOnY()
    {
        var rows = figs.Results["fig8_replicated_distance"].Data.Rows.Where(r => r.Series.StartsWith("simulation", StringComparison.Ordinal)).ToList();
        var y1 = rows.Where(r => r.Values[4] == 1).Select(r => r.Values[1]).ToArray();
        var y3 = rows.Where(r => r.Values[4] == 3).Select(r => r.Values[1]).ToArray();
        Assert.Equal(y1.Length, y3.Length);
        for (int i = 0; i < y1.Length; i++) Assert.Equal(y1[i], y3[i], 1e-6);
    }

    [Fact]
    public void TemperatureFigureRowsAreTheLibraryAndStayAboveBestErm()
    {
        var rows = figs.Results["fig10_replicated_temperature"].Data.Rows.Where(r => r.Series.StartsWith("theory", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, rows.Select(r => r.Values[3]).Distinct().Count());
        foreach (var (_, v, _) in rows.Where((_, i) => i % 7 == 0))
        {
            var t = ThermalReplicatedSaddlePoint.Solve(new MixtureModel(2, 1, 0.25), v[4] * v[3], 0.5, v[2]);
            Assert.Equal(t.MeanTestError, v[1], 1e-12);
            Assert.Equal(ThermalReplicatedSaddlePoint.Distance(t, new MixtureModel(2, 1, 0.25), v[4]), v[0], 1e-12);
        }
        Assert.True(rows.Min(r => r.Values[1]) >= 0.18270 - 1e-5); // docs/theory.md#table-erm: ERM's best λ
    }
}
