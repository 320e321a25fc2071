using System.Globalization;
using System.Text.RegularExpressions;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;

namespace FlatMinima.Plots.Tests;

/// <summary>
/// Reads the extrapolated N → ∞ points of a figure's table (docs/replica.md#figure-extrapolations) and checks each against
/// the rows it was fitted to and against the replica value computed here.
/// </summary>
internal static class ExtrapolationRows
{
    /// <summary>One extrapolated point: its curve, x, the row's value, half-width and note, the fit redone from the table's
    /// own rows at the sizes the series names, and the theory of <c>theory(label, values)</c>.</summary>
    public sealed record Point(string Label, double X, int[] Sizes, double Value, double HalfWidth, string Note, FiniteSizeFit Refit, double Theory)
    {
        public string Verdict => Note.Split(';')[0];
    }

    private static readonly Regex Series = new(@"^extrapolation (.+) from n=([0-9/]+)$");

    public static List<Point> Of(IReadOnlyList<SeriesRow> rows, Func<string, double[], double> theory)
    {
        var points = new List<Point>();
        foreach (var (series, v, note) in rows.Where(r => r.Series.StartsWith("extrapolation ", StringComparison.Ordinal)))
        {
            var m = Series.Match(series);
            Assert.True(m.Success, series);
            string label = m.Groups[1].Value;
            var sizes = m.Groups[2].Value.Split('/').Select(int.Parse).ToArray();
            Assert.Equal(3, sizes.Length);
            Assert.Equal([sizes[2] / 4, sizes[2] / 2], sizes[..2]);
            double x = v[0];
            // the smaller sizes (not drawn) and the plotted point at the largest size, at the same x
            var used = sizes.Select((n, i) => rows.Single(r => r.Series.StartsWith(
                (i < sizes.Length - 1 ? $"finite-size {label} n={n} seeds=" : $"simulation {label} n={n} seeds="), StringComparison.Ordinal) && r.Values[0] == x)).ToList();
            Assert.All(used.Take(2), r => Assert.StartsWith("not drawn", r.Note));
            var seeds = used.Select(r => int.Parse(Regex.Match(r.Series, @"seeds=(\d+)$").Groups[1].Value)).ToArray();
            Assert.Equal([4 * seeds[2], 2 * seeds[2]], seeds[..2]);   // about equal standard errors at the three sizes
            // Student-t interval with the datasets of each size counted, as the figures make it
            var refit = FiniteSizeExtrapolation.Fit(sizes.Select(n => (double)n).ToArray(), used.Select(r => r.Values[1]).ToArray(),
                used.Select(r => r.Values[2]).ToArray(), FiniteSizeForm.InverseN, datasets: seeds);
            points.Add(new Point(label, x, sizes, v[1], v[2], note, refit, theory(label, v)));
        }
        return points;
    }

    /// <summary>The table's numbers are the fit of its own rows, its verdict is the fit's against the theory computed
    /// here, and the note's theory is that theory.</summary>
    public static void AreConsistent(IEnumerable<Point> points)
    {
        foreach (var p in points)
        {
            Assert.Equal(p.Refit.Intercept, p.Value, 12);
            Assert.Equal(0.5 * (p.Refit.IntervalHigh - p.Refit.IntervalLow), p.HalfWidth, 12);
            Assert.Equal(FiniteSizeExtrapolation.Judge(p.Refit, p.Theory), p.Verdict);
            double noted = double.Parse(Regex.Match(p.Note, @"theory ([-0-9.Ee+]+);").Groups[1].Value, CultureInfo.InvariantCulture);
            Assert.Equal(p.Theory, noted, 5e-6 * Math.Max(1, Math.Abs(p.Theory)));
            Assert.DoesNotContain(",", p.Note);
        }
    }

    /// <summary>Figure 2: the replica ε_g at (loss, α, λ, ρ) of the row.</summary>
    public static double Figure2(string label, double[] v) =>
        ErmSaddlePoint.Solve(new ErmProblem(MarginLosses.Parse(label.Split(' ')[0]), new MixtureModel(v[0], 1, v[4]), v[3])).TestError;

    /// <summary>Figure 3: the replica ε_g at (loss, λ, ρ) of the row, α = 2, Δ = 1.</summary>
    public static double Figure3(string label, double[] v) =>
        ErmSaddlePoint.Solve(new ErmProblem(MarginLosses.Parse(label), new MixtureModel(2, 1, v[4]), v[0])).TestError;

    /// <summary>Figure 4a: δE(σ) of the estimator from (LE2) or (LE3).</summary>
    public static double Figure4a(string label, double[] v)
    {
        var (_, e) = LocalEnergyComparison.Theory(LocalEnergyComparison.Estimators.Single(x => x.Name == label), [0, v[0]]);
        return e[1] - e[0];
    }

    /// <summary>The committed CSV of a figure (figures/NAME.csv), as rows.</summary>
    public static IReadOnlyList<SeriesRow> Committed(string name)
    {
        var rows = new List<SeriesRow>();
        foreach (var line in File.ReadAllLines(Path.Combine(RepoRoot(), "figures", name + ".csv")).Skip(1))
        {
            var parts = line.Split(',');
            rows.Add(new SeriesRow(parts[0], parts[1..^1].Select(s => s.Length == 0 ? double.NaN : double.Parse(s, CultureInfo.InvariantCulture)).ToArray(), parts[^1]));
        }
        return rows;
    }

    public static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "FlatMinima.Theory.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("the repository root (FlatMinima.Theory.sln) above " + AppContext.BaseDirectory);
    }
}

/// <summary>The extrapolations of the quick-mode figures: where they are made, and that the tables are consistent.</summary>
/// <remarks>Slow: the shared fixture builds every figure (quick mode) once for the whole collection.</remarks>
[Trait("Speed", "Slow")]
[Collection(QuickFigures.Collection)]
public class QuickExtrapolationFigureTests(QuickFigures figs)
{
    [Fact]
    public void LearningCurvesExtrapolateEveryLambdaPointOneSimulationAndNoSmallLambdaOne()
    {
        var pts = ExtrapolationRows.Of(figs.Results["fig2_learning_curves"].Data.Rows, ExtrapolationRows.Figure2);
        Assert.Equal(18, pts.Count);   // 3 losses × 6 α at λ = 0.1
        Assert.All(pts, p => Assert.EndsWith("lambda=0.1", p.Label));
        Assert.Equal(ErmLearningCurves.SimulatedAlphas.Count, pts.Select(p => p.X).Distinct().Count());
        ExtrapolationRows.AreConsistent(pts);
        Assert.Contains("of 18 agree with the theory", figs.Results["fig2_learning_curves"].Findings);
    }

    [Theory]
    [InlineData("fig3a_lambda_balanced", 13)]     // 15 points but the hinge at λ = 10, 100 (degenerate bias)
    [InlineData("fig3b_lambda_unbalanced", 15)]
    public void LambdaCurvesExtrapolateEveryPointButTheDegenerateHinge(string name, int count)
    {
        var pts = ExtrapolationRows.Of(figs.Results[name].Data.Rows, ExtrapolationRows.Figure3);
        Assert.Equal(count, pts.Count);
        if (count == 13) Assert.DoesNotContain(pts, p => p.Label == "hinge" && p.X >= 10);
        ExtrapolationRows.AreConsistent(pts);
    }

    [Fact]
    public void LocalEnergyExtrapolatesEverySimulatedSigma()
    {
        var pts = ExtrapolationRows.Of(figs.Results["fig4a_local_energy"].Data.Rows, ExtrapolationRows.Figure4a);
        Assert.Equal(LocalEnergyCurves.Shown.Count * LocalEnergyCurves.SimulatedSigmas.Count, pts.Count);
        ExtrapolationRows.AreConsistent(pts);
        // figure 4b shows an ordering, not a comparison: no extrapolation there
        Assert.DoesNotContain(figs.Results["fig4b_flatness_vs_error"].Data.Rows, r => r.Series.StartsWith("extrapolation", StringComparison.Ordinal));
    }
}

/// <summary>
/// The committed figures (full mode, figures/*.csv): every extrapolated N → ∞ point contains the replica value computed
/// here within its 99 % interval, none disagrees, and the table's numbers are the fit of its own rows. The goodness-of-fit
/// test rejects a + b/N for six points of figure 4a (the interpolators logistic and hinge at λ = 10⁻³, σ = ¼, ½, 1:
/// χ² = 6.8 … 10.3 on 1 dof): their N = 500 datasets, shared by both estimators, sit 2–3 s.e. below the N = 250 and
/// N = 1000 points and the theory; the Birge-inflated intervals still contain the theory (|z| ≤ 0.3), but no verdict is
/// claimed there (docs/replica.md#figure-extrapolations).
/// </summary>
public class CommittedExtrapolationFigureTests
{
    public static TheoryData<string, int, int> Figures => new()
    {
        { "fig2_learning_curves", 18, 18 }, { "fig3a_lambda_balanced", 13, 13 }, { "fig3b_lambda_unbalanced", 15, 15 }, { "fig4a_local_energy", 20, 14 },
    };

    [Theory]
    [MemberData(nameof(Figures))]
    public void EveryExtrapolatedPointContainsTheTheory(string name, int count, int agree)
    {
        Func<string, double[], double> theory = name[..4] switch
        {
            "fig2" => ExtrapolationRows.Figure2,
            "fig3" => ExtrapolationRows.Figure3,
            _ => ExtrapolationRows.Figure4a,
        };
        var pts = ExtrapolationRows.Of(ExtrapolationRows.Committed(name), theory);
        Assert.Equal(count, pts.Count);
        ExtrapolationRows.AreConsistent(pts);
        foreach (var p in pts)
            Assert.True(p.Verdict != FiniteSizeVerdict.Disagree && Math.Abs(p.Value - p.Theory) <= p.HalfWidth,
                $"{name} {p.Label} x = {p.X}: {p.Value:G5} ± {p.HalfWidth:G3} against {p.Theory:G5} ({p.Note})");
        Assert.Equal(agree, pts.Count(p => p.Verdict == FiniteSizeVerdict.Agree));
        Assert.All(pts.Where(p => p.Verdict != FiniteSizeVerdict.Agree), p =>
            Assert.True(p.Label.EndsWith("λ=1e-3", StringComparison.Ordinal) && p.X <= 1, $"{p.Label} at {p.X}: {p.Note}"));
        // the full run's ladder
        int[] sizes = name == "fig4a_local_energy" ? [250, 500, 1000] : [100, 200, 400];
        Assert.All(pts, p => Assert.Equal(sizes, p.Sizes));
    }
}
