using System.Globalization;
using FlatMinima.Plots.Figures;

namespace FlatMinima.Plots.Tests;

public class ProbeFigureTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fm-probe-figs-" + Guid.NewGuid().ToString("N"));
    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    public ProbeFigureTests()
    {
        Directory.CreateDirectory(_dir);
        // Two densities: Gaussians of width 0.1 around 1 and 3 (masses ½, ½) and around 2; the second has tails
        // below the drawing floor.
        var x = Enumerable.Range(0, 201).Select(i => -1 + 0.03 * i).ToArray();
        double Phi(double v, double m) => Math.Exp(-0.5 * Math.Pow((v - m) / 0.1, 2)) / (0.1 * Math.Sqrt(2 * Math.PI));
        File.WriteAllLines(Path.Combine(_dir, "hessian_density_sgd.csv"),
            ["eigenvalue,density,density_se,width", .. x.Select(v => $"{F(v)},{F(0.5 * Phi(v, 1) + 0.5 * Phi(v, 3))},0.01,0.1")]);
        File.WriteAllLines(Path.Combine(_dir, "hessian_density_esgd.csv"),
            ["eigenvalue,density,density_se,width", .. x.Select(v => $"{F(v)},{F(Phi(v, 2))},,0.1")]);
        // A line: loss (t − ½)² + 0.1 on train, + 0.3 on test; errors 10 % / 20 %, test columns complete.
        var t = Enumerable.Range(0, 9).Select(i => -0.5 + 0.25 * i).ToArray();
        File.WriteAllLines(Path.Combine(_dir, "landscape_line_sgd-esgd.csv"),
            ["t,train_loss,train_error,test_loss,test_error", .. t.Select(v => $"{F(v)},{F((v - 0.5) * (v - 0.5) + 0.1)},0.1,{F((v - 0.5) * (v - 0.5) + 0.3)},0.2")]);
        // A 5 × 5 surface of α² + 2β², written in scrambled order.
        var g = new[] { -1.0, -0.5, 0, 0.5, 1 };
        var pts = (from a in g from b in g select (a, b)).OrderBy(p => (p.a * 7 + p.b * 3) % 1.3).ToList();
        File.WriteAllLines(Path.Combine(_dir, "landscape_surface_sgd.csv"),
            ["alpha,beta,loss,error", .. pts.Select(p => $"{F(p.a)},{F(p.b)},{F(p.a * p.a + 2 * p.b * p.b)},0")]);
    }

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void TheDataFolderYieldsOneDensityFigureAndOneFigurePerLandscapeFile()
    {
        var names = ProbeFigures.For(_dir).Select(f => f.Name).ToList();
        Assert.Equal(["fig8a_hessian_density", "fig8b_landscape_line_sgd_esgd", "fig8c_landscape_surface_sgd"], names);
        // The figures command finds them in probes/ beside the list of recorded sweeps.
        string list = Path.Combine(_dir, "recorded", "figure_sweeps.json");
        Directory.CreateDirectory(DeepNetworkFigures.ProbeDirectory(list));
        foreach (var file in Directory.GetFiles(_dir, "*.csv")) File.Copy(file, Path.Combine(DeepNetworkFigures.ProbeDirectory(list), Path.GetFileName(file)));
        Assert.Equal(names, DeepNetworkFigures.For(list).Select(f => f.Name));
        Assert.Empty(ProbeFigures.For(Path.Combine(_dir, "nothing-here")));
    }

    [Fact]
    public void EveryProbeFigureExportsToValidFiles()
    {
        foreach (var f in ProbeFigures.For(_dir))
        {
            var r = f.Build(new FigureOptions());
            var files = FigureExporter.Export(r.Plot, Path.Combine(_dir, "out", f.Name));
            Assert.Equal(3, files.Count);
            var png = File.ReadAllBytes(files.Single(p => p.EndsWith(".png")));
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, png[..4]);
            Assert.InRange(png.Length, 20_000, 2_000_000);
            Assert.Contains("<svg", File.ReadAllText(files.Single(p => p.EndsWith(".svg"))));
            Assert.Equal("%PDF", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(files.Single(p => p.EndsWith(".pdf"))), 0, 4));
            Assert.Empty(r.Warnings);
            Assert.NotEmpty(f.Caption);
        }
    }

    [Fact]
    public void DensityFigureKeepsEveryPointAndMarksThoseBelowTheFloor()
    {
        var r = new SpectralDensityFigure([("sgd", Path.Combine(_dir, "hessian_density_sgd.csv")), ("esgd", Path.Combine(_dir, "hessian_density_esgd.csv"))])
            .Build(new FigureOptions());
        Assert.Equal(402, r.Data.Rows.Count);
        var esgd = r.Data.Rows.Where(x => x.Series == "esgd").ToList();
        // φ(2; 2, 0.1) = 3.989 at the peak; the points 1.5 or more away (e^{−112} × peak) are below 1e-6 × peak.
        Assert.Equal(1 / (0.1 * Math.Sqrt(2 * Math.PI)), esgd.Max(x => x.Values[1]), 1e-9);
        Assert.All(esgd.Where(x => Math.Abs(x.Values[0] - 2) > 1.5), x => Assert.Equal("below the drawing floor", x.Note));
        Assert.All(esgd.Where(x => Math.Abs(x.Values[0] - 2) < 0.3), x => Assert.Equal("", x.Note));
        Assert.Equal(2, r.Plot.Series.Count);
        Assert.Empty(r.Warnings);
        Assert.All(r.Data.Rows, x => Assert.Equal(0.1, x.Values[2]));
        // Densities broadened with different widths are drawn, with a warning.
        File.WriteAllLines(Path.Combine(_dir, "hessian_density_wide.csv"), ["eigenvalue,density,width", "0,1,0.5", "1,1,0.5"]);
        var w = ProbeFigures.For(_dir).OfType<SpectralDensityFigure>().Single().Build(new FigureOptions());
        Assert.Contains(w.Warnings, m => m.Contains("different widths"));
    }

    [Fact]
    public void LineFigurePlotsLossesAndErrorsInPercent()
    {
        var r = new LandscapeLineFigure("sgd-esgd", Path.Combine(_dir, "landscape_line_sgd-esgd.csv")).Build(new FigureOptions());
        var trainLoss = r.Data.Rows.Where(x => x.Series == "train loss").ToList();
        Assert.Equal(9, trainLoss.Count);
        Assert.Equal(0.1, trainLoss.Single(x => x.Values[0] == 0.5).Values[1], 12);
        Assert.All(r.Data.Rows.Where(x => x.Series == "test error"), x => Assert.Equal(20, x.Values[2], 12));
        Assert.Equal(4, r.Plot.Series.Count);
    }

    [Fact]
    public void SurfaceFigureReassemblesTheGridAndRejectsAnIncompleteOne()
    {
        var r = new LandscapeSurfaceFigure("sgd", Path.Combine(_dir, "landscape_surface_sgd.csv")).Build(new FigureOptions());
        Assert.Equal(25, r.Data.Rows.Count);
        Assert.All(r.Data.Rows, x => Assert.Equal(x.Values[0] * x.Values[0] + 2 * x.Values[1] * x.Values[1], x.Values[2], 12));
        // Rows in grid order (α slowest), whatever the file's order.
        Assert.Equal([-1.0, -0.5, 0, 0.5, 1], r.Data.Rows.Take(5).Select(x => x.Values[1]));
        var broken = Path.Combine(_dir, "landscape_surface_broken.csv");
        File.WriteAllLines(broken, File.ReadAllLines(Path.Combine(_dir, "landscape_surface_sgd.csv")).SkipLast(1));
        var e = Assert.Throws<InvalidDataException>(() => new LandscapeSurfaceFigure("broken", broken).Build(new FigureOptions()));
        Assert.Contains("grid", e.Message);
        var noColumn = Path.Combine(_dir, "landscape_line_bad.csv");
        File.WriteAllLines(noColumn, ["t,train_loss", "0,1"]);
        e = Assert.Throws<InvalidDataException>(() => new LandscapeLineFigure("bad", noColumn).Build(new FigureOptions()));
        Assert.Contains("landscape_line_bad.csv", e.Message);
        Assert.Contains("train_error", e.Message);
    }
}
