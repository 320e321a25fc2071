using FlatMinima.Experiments;
using FlatMinima.Flatness;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Plots.Figures;
using FlatMinima.Replica;
using OxyPlot;
using OxyPlot.Series;

namespace FlatMinima.Plots.Tests;

/// <summary>The replicon column of figures 5 and 10 (docs/theory.md#rs-stability) and how an RS-unstable point is drawn.</summary>
public class RsStabilityFigureTests
{
    private static readonly MixtureModel Fp = new(2, 1, 0.5), Rep = new(2, 1, 0.25);

    [Fact]
    public void AnRsUnstableFranzParisiPointIsDrawnDottedWithAWarning()
    {
        // synthetic: the RS curve around BO at five overlaps, with the replicon of R = 0.5 set negative
        var pts = FranzParisiLocalEntropy.Curve(new FranzParisiProblem(Fp, 2, 1), [0.3, 0.4, 0.5, 0.6, 0.7]);
        Assert.All(pts, p => Assert.True(p.RsStable));
        pts[2] = pts[2] with { Replicon = -0.25 };
        var fig = LocalEntropyFigure.From(new FranzParisiCurves([new FranzParisiCurve(1, pts)], []));

        var lines = fig.Plot.Series.OfType<LineSeries>().ToList();
        var solid = lines.Single(l => l.Title == "cos ψ = 1 (BO)");
        Assert.Equal(LineStyle.Automatic, solid.LineStyle);
        Assert.Equal([true, true, false, true, true], solid.Points.Select(p => p.IsDefined()));
        var dotted = lines.Single(l => l.LineStyle == LineStyle.Dot && l.Title is null);
        Assert.Equal([false, true, true, true, false], dotted.Points.Select(p => p.IsDefined()));   // joined to its neighbours
        Assert.Equal(new DataPoint(pts[2].Distance, pts[2].Excess), dotted.Points[2]);
        Assert.Contains(lines, l => l.LineStyle == LineStyle.Dot && l.Title == "RS unstable (Λ ≤ 0)");

        Assert.Contains(fig.Warnings, w => w.Contains("1 of 5 points RS-unstable") && w.Contains("R = 0.5"));
        var row = fig.Data.Rows[2];
        Assert.Equal(-0.25, row.Values[5]);
        Assert.Equal("RS unstable (replicon <= 0)", row.Note);
        Assert.StartsWith("1 of the 5 replica-symmetric points are RS-unstable", fig.Findings);
    }

    [Fact]
    public void AnRsUnstableReplicatedPointIsDrawnDottedWithAWarning()
    {
        double[] gammas = [0.5, 1, 2, 4];
        var points = gammas.Select(g => ThermalReplicatedSaddlePoint.Solve(Rep, 3, 0.5, g)).ToArray();
        Assert.All(points, p => Assert.True(p.RsStable));
        points[3] = points[3] with { Replicon = -0.1 };
        var curve = new ThermalReplicatedCurve(3, gammas, points.Select(p => ThermalReplicatedSaddlePoint.Distance(p, Rep, 1)).ToArray(), points);
        var data = new ThermalReplicatedCurves([curve], 0.2, LearningCurve.Optimize(SquareLoss.Instance, Rep), 0.16);
        var fig = ThermalReplicatedFigure.From(data);

        var lines = fig.Plot.Series.OfType<LineSeries>().ToList();
        Assert.Equal([true, true, true, false], lines.Single(l => l.Title == "y = 3").Points.Select(p => p.IsDefined()));
        Assert.Equal([false, false, true, true], lines.Single(l => l.LineStyle == LineStyle.Dot && l.Title is null).Points.Select(p => p.IsDefined()));
        Assert.Contains(fig.Warnings, w => w.Contains("y=3: 1 of 4 points RS-unstable"));
        Assert.Equal("RS unstable (replicon <= 0)", fig.Data.Rows[3].Note);
        Assert.Equal(-0.1, fig.Data.Rows[3].Values[5]);
    }

    [Fact]
    public void CommittedFigure5HasEveryRepliconPositiveAsTabulated()
    {
        // docs/theory.md#rs-stability: 60/60 stable per cosine, smallest Λ 0.786, 0.794, 0.802, 0.812 for cos ψ = 1 … 0.7
        var rows = ExtrapolationRows.Committed("fig5_local_entropy");
        var theory = rows.Where(r => r.Series.StartsWith("theory", StringComparison.Ordinal)).ToList();
        Assert.Equal(240, theory.Count);
        Assert.All(theory, r => Assert.True(r.Values[5] > 0));
        double[] smallest = [0.786, 0.794, 0.802, 0.812];
        for (int c = 0; c < 4; c++)
            Assert.Equal(smallest[c], theory.Where(r => r.Values[3] == FranzParisiCurves.Cosines[c]).Min(r => r.Values[5]), 5e-4);
        Assert.All(rows.Where(r => r.Series.StartsWith("sampling", StringComparison.Ordinal)), r => Assert.True(double.IsNaN(r.Values[5])));
    }

    [Fact]
    public void CommittedFigure10HasEveryRepliconPositiveAsTabulated()
    {
        // docs/theory.md#rs-stability: 41/41 stable per y, smallest Λ (at γ = 200) 0.8685, 0.7222, 0.6211 for y = 1, 3, 10
        var theory = ExtrapolationRows.Committed("fig10_replicated_temperature").Where(r => r.Series.StartsWith("theory", StringComparison.Ordinal)).ToList();
        Assert.Equal(123, theory.Count);
        Assert.All(theory, r => Assert.True(r.Values[5] > 0 && r.Values[5] <= 1));
        var smallest = new Dictionary<double, double> { [1] = 0.8685, [3] = 0.7222, [10] = 0.6211 };
        foreach (var (y, lam) in smallest) Assert.Equal(lam, theory.Where(r => r.Values[3] == y).Min(r => r.Values[5]), 5e-5);
    }
}

/// <summary>The replicon columns of the quick-mode figures 5 and 10 are the library's, every one positive.</summary>
/// <remarks>Slow: the shared fixture builds every figure (quick mode) once for the whole collection.</remarks>
[Trait("Speed", "Slow")]
[Collection(QuickFigures.Collection)]
public class QuickRsStabilityFigureTests(QuickFigures figs)
{
    [Fact]
    public void Figure5RepliconsAreTheLibrarysAndPositive()
    {
        var r = figs.Results["fig5_local_entropy"];
        Assert.Equal("replicon", r.Data.Columns[^2]);
        var rows = r.Data.Rows.Where(x => x.Series == "theory cos=0.8").ToList();
        var pts = FranzParisiLocalEntropy.Curve(new FranzParisiProblem(new MixtureModel(2, 1, 0.5), 2, 0.8), rows.Select(x => x.Values[4]).ToArray());
        for (int k = 0; k < rows.Count; k++) Assert.Equal(pts[k].Replicon, rows[k].Values[5]);
        Assert.All(r.Data.Rows.Where(x => x.Series.StartsWith("theory", StringComparison.Ordinal)), x => Assert.True(x.Values[5] > 0));
        Assert.DoesNotContain(r.Warnings, w => w.Contains("RS-unstable"));
        Assert.StartsWith("Every one of the 240 replica-symmetric points is RS-stable (replicon Lambda >= 0.78", r.Findings);
    }

    [Fact]
    public void Figure10RepliconsAreTheLibrarysAndPositive()
    {
        var r = figs.Results["fig10_replicated_temperature"];
        Assert.Equal("replicon", r.Data.Columns[^2]);
        var rows = r.Data.Rows.Where(x => x.Series.StartsWith("theory", StringComparison.Ordinal)).ToList();
        foreach (var (_, v, _) in rows.Where((_, i) => i % 5 == 0))
            Assert.Equal(ThermalReplicatedSaddlePoint.Solve(Rep, v[4] * v[3], 0.5, v[2]).Replicon, v[5], 12);
        Assert.All(rows, x => Assert.True(x.Values[5] > 0));
        Assert.Empty(r.Warnings);
        Assert.StartsWith($"Every one of the {rows.Count} replica-symmetric points is RS-stable", r.Findings);
    }

    private static readonly MixtureModel Rep = new(2, 1, 0.25);
}
