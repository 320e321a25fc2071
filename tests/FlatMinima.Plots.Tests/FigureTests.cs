using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Mixture;
using FlatMinima.Plots;
using FlatMinima.Plots.Figures;

namespace FlatMinima.Plots.Tests;

/// <summary>Builds every figure once in quick mode into a temporary folder, shared by the tests of this class.</summary>
public sealed class QuickFigures : IDisposable
{
    public string Dir { get; } = Path.Combine(Path.GetTempPath(), "fm-figs-" + Guid.NewGuid().ToString("N"));
    public Dictionary<string, FigureResult> Results { get; } = [];
    public FigureOptions Options { get; } = new(Quick: true, Seed: 0);

    public QuickFigures()
    {
        foreach (var f in FigureCatalog.All)
        {
            var r = f.Build(Options);
            FigureExporter.Export(r.Plot, Path.Combine(Dir, f.Name));
            File.WriteAllText(Path.Combine(Dir, f.Name + ".csv"), r.Data.ToString());
            Results[f.Name] = r;
        }
    }

    public void Dispose() { if (Directory.Exists(Dir)) Directory.Delete(Dir, true); }

    /// <summary>The test collection that shares one build of the quick figures (building them takes minutes).</summary>
    public const string Collection = "quick figures";
}

/// <summary>Every test class of <see cref="QuickFigures.Collection"/> gets the same <see cref="QuickFigures"/>.</summary>
[CollectionDefinition(QuickFigures.Collection)]
public sealed class QuickFiguresCollection : ICollectionFixture<QuickFigures>;

/// <remarks>Slow: the shared fixture builds every figure (quick mode) once for the whole collection.</remarks>
[Trait("Speed", "Slow")]
[Collection(QuickFigures.Collection)]
public class FigureTests(QuickFigures figs)
{
    public static TheoryData<string> Names => new(FigureCatalog.All.Select(f => f.Name));

    [Theory]
    [MemberData(nameof(Names))]
    public void EveryFormatIsAValidFileOfSensibleSize(string name)
    {
        var png = File.ReadAllBytes(Path.Combine(figs.Dir, name + ".png"));
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        // IHDR: width and height at 300 dpi for 3.4 in × 2.6 in.
        int w = (png[16] << 24) | (png[17] << 16) | (png[18] << 8) | png[19];
        int h = (png[20] << 24) | (png[21] << 16) | (png[22] << 8) | png[23];
        Assert.Equal(1020, w);
        Assert.Equal(780, h);
        Assert.InRange(png.Length, 20_000, 2_000_000);   // an empty canvas compresses to a few kB

        string svg = File.ReadAllText(Path.Combine(figs.Dir, name + ".svg"));
        Assert.Contains("<svg", svg);
        Assert.EndsWith("</svg>", svg.TrimEnd());
        Assert.InRange(svg.Length, 5_000, 5_000_000);

        var pdf = File.ReadAllBytes(Path.Combine(figs.Dir, name + ".pdf"));
        Assert.Equal("%PDF", System.Text.Encoding.ASCII.GetString(pdf, 0, 4));
        Assert.Contains("%%EOF", System.Text.Encoding.ASCII.GetString(pdf, Math.Max(0, pdf.Length - 64), Math.Min(64, pdf.Length)));
        Assert.InRange(pdf.Length, 5_000, 5_000_000);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void CsvHasAHeaderAndRowsAndTheFigureHasSeries(string name)
    {
        var lines = File.ReadAllLines(Path.Combine(figs.Dir, name + ".csv"));
        Assert.StartsWith("series,", lines[0]);
        Assert.EndsWith(",note", lines[0]);
        Assert.True(lines.Length > 5, $"{lines.Length - 1} rows");
        int columns = lines[0].Split(',').Length;
        Assert.All(lines, l => Assert.Equal(columns, l.Split(',').Length));
        Assert.NotEmpty(figs.Results[name].Plot.Series);
    }

    [Fact]
    public void BayesFigureCsvEqualsTheLibraryAtEveryPoint()
    {
        var data = figs.Results["fig1_bayes_error"].Data;
        int theory = 0, oracle = 0, sims = 0;
        foreach (var (series, v, _) in data.Rows)
        {
            double alpha = v[0], err = v[1], se = v[2], delta = v[3], rho = v[4];
            if (series.StartsWith("theory", StringComparison.Ordinal))
            {
                Assert.Equal(BayesOptimal.Error(new MixtureModel(alpha, delta, rho)), err);
                theory++;
            }
            else if (series.StartsWith("oracle", StringComparison.Ordinal))
            {
                Assert.Equal(BayesOptimal.OracleError(delta, rho), err);
                oracle++;
            }
            else
            {
                // Re-run the simulation behind this point: same seeds, same numbers.
                var r = MonteCarlo.Run(new MixtureSpec(new MixtureModel(alpha, delta, rho), 200, figs.Options.Seed), 4, EstimatorKind.Bayes);
                Assert.Equal(r.TestError.Mean, err);
                Assert.Equal(r.TestError.StdError, se);
                Assert.True(se > 0);
                sims++;
            }
        }
        Assert.Equal(121 * 6, theory);
        Assert.Equal(6, oracle);
        Assert.Equal(10, sims);
    }
}

public class FigureDeterminismTests
{
    [Fact]
    public void SameSeedsGiveTheSameCsvAndAnotherSeedDoesNot()
    {
        var fig = new FlatMinima.Plots.Figures.BayesErrorFigure();
        string a = fig.Build(new FigureOptions(Quick: true, Seed: 3)).Data.ToString();
        string b = fig.Build(new FigureOptions(Quick: true, Seed: 3, Threads: 1)).Data.ToString();
        string c = fig.Build(new FigureOptions(Quick: true, Seed: 4)).Data.ToString();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }
}
