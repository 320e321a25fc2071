using FlatMinima.Plots.Figures;

namespace FlatMinima.Plots.Tests;

public class DeepFigureTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fm-deep-" + Guid.NewGuid().ToString("N"));

    // Two recorded sweeps in the layout `sweep --collect` writes, listed as the figures command finds them.
    private const string Header = "id,optimizer,seed,epochs,train_loss,train_error,test_loss,test_error,epsilon_bo," +
                                  "le_delta_pct_sigma0.1,le_delta_pct_sigma0.2,le_delta_pct_sigma0.4,hessian_top,hessian_trace,hessian_trace_se,train_s,probe_s";
    private string Gm => Path.Combine(_dir, "gm");
    private string Fm => Path.Combine(_dir, "fm");
    private string List => Path.Combine(_dir, "sweeps.json");

    public DeepFigureTests()
    {
        Directory.CreateDirectory(Gm);
        Directory.CreateDirectory(Fm);
        File.WriteAllLines(Path.Combine(Gm, "sweep.csv"),
        [
            Header,
            "sgd_s0,sgd,0,2,,,,0.25,0.2071,1,3,9,0.1,,,,",
            "sgd_s1,sgd,1,2,,,,0.24,0.2071,1,2,8,0.1,,,,",
            "esgd_s0,esgd,0,2,,,,0.22,0.2071,0.5,1,4,0.1,,,,",
            "esgd_s1,esgd,1,2,,,,0.23,0.2071,0.6,1.5,5,0.1,,,,",
        ]);
        File.WriteAllLines(Path.Combine(Fm, "sweep.csv"), [Header, "sgd_s0,sgd,0,2,,,,0.10,,2,4,,0.1,,,,"]);
        File.WriteAllLines(Path.Combine(Gm, "curves.csv"),
        [
            "id,optimizer,seed,epoch,lr,train_loss,train_error,test_loss,test_error,live_test_error,n_averaged,restarted",
            "sgd_s0,sgd,0,1,0.1,1,,,0.40,,,", "sgd_s1,sgd,1,1,0.1,1,,,0.30,,,",
            "sgd_s0,sgd,0,2,0.1,1,,,0.30,,,", "sgd_s1,sgd,1,2,0.1,1,,,0.20,,,",
            "pswa_s0,pswa,0,1,0.1,1,,,0.35,0.40,1,0", "pswa_s1,pswa,1,1,0.1,1,,,0.25,0.30,1,0",
        ]);
        File.WriteAllText(List, """{"gm": "gm", "fashion-mnist": "fm"}""");
    }

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void OneFigurePerRecordedDataset()
    {
        var names = DeepNetworkFigures.For(List).Select(f => f.Name).ToList();
        Assert.Equal(["fig7a_deep_flatness_gm", "fig7a_deep_flatness_fashion_mnist", "fig7b_pswa_curves_gm"], names);
        Assert.Empty(DeepNetworkFigures.For(Path.Combine(_dir, "nothing-here.json")));
    }

    [Fact]
    public void FlatnessFigureUsesTheMedianCompleteSigmaAndCopiesTheRuns()
    {
        var r = new DeepFlatnessFigure("gm", Gm).Build(new FigureOptions());
        var rows = r.Data.Rows;
        // σ columns complete for gm: 0.1, 0.2, 0.4 → median 0.2.
        var runs = rows.Where(x => x.Series is "sgd" or "esgd").ToList();
        Assert.Equal(4, runs.Count);
        Assert.All(runs, x => Assert.Equal(0.2, x.Values[3]));
        Assert.Equal([3.0, 2, 1, 1.5], runs.Select(x => x.Values[0]));
        Assert.Equal([25.0, 24, 22, 23], runs.Select(x => x.Values[1]));
        // Spearman of x = (3, 2, 1, 1.5) and y = (25, 24, 22, 23): ranks identical → 1.
        Assert.Equal(1, rows.Single(x => x.Series == "spearman").Values[0], 1e-12);
        Assert.Equal(20.71, rows.Single(x => x.Series == "bayes-optimal").Values[1], 1e-9);
        // Fashion-MNIST has only σ = 0.1 and 0.2 complete → median (lower) 0.1.
        var fm = new DeepFlatnessFigure("fashion-mnist", Fm).Build(new FigureOptions());
        Assert.Equal(0.1, fm.Data.Rows.First().Values[3]);
    }

    [Fact]
    public void GapFigureAppearsWithTrainingErrorsAndPlotsTestMinusTrain()
    {
        File.WriteAllLines(Path.Combine(Fm, "sweep.csv"),
        [
            "id,optimizer,seed,epochs,train_loss,train_error,test_loss,test_error,epsilon_bo,le_delta_pct_sigma0.1,hessian_top,hessian_trace,hessian_trace_se,train_s,probe_s",
            "sgd_s0,sgd,0,2,,0.08,,0.10,,2,,,,,",
            "rsgd_s0,rsgd,0,2,,0.04,,0.095,,3,,,,,",
            "esgd_s0,esgd,0,2,,0.12,,0.125,,0.5,,,,,",
        ]);
        Assert.Contains("fig7c_deep_gap_fashion_mnist", DeepNetworkFigures.For(List).Select(f => f.Name));
        var r = new DeepFlatnessFigure("fashion-mnist", Fm, DeepFlatnessTarget.GeneralizationGap).Build(new FigureOptions());
        var runs = r.Data.Rows.Where(x => x.Series is "sgd" or "rsgd" or "esgd").ToList();
        Assert.Equal([2.0, 3, 0.5], runs.Select(x => x.Values[0]));
        Assert.Equal(new[] { 2.0, 5.5, 0.5 }, runs.Select(x => x.Values[1]).ToArray(), new DoubleTol(1e-9));
        // Gaps (2, 5.5, 0.5) rank like the local energies (2, 3, 0.5): ρ = 1; no Bayes line for a gap.
        Assert.Equal(1, r.Data.Rows.Single(x => x.Series == "spearman").Values[0], 1e-12);
        Assert.DoesNotContain(r.Data.Rows, x => x.Series == "bayes-optimal");
    }

    private sealed class DoubleTol(double tol) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tol;
        public int GetHashCode(double x) => 0;
    }

    [Fact]
    public void PswaCurvesAreMeansOverSeedsPerEpoch()
    {
        var r = new PswaCurvesFigure("gm", Gm).Build(new FigureOptions());
        var sgd = r.Data.Rows.Where(x => x.Series == "sgd").ToList();
        Assert.Equal(35, sgd[0].Values[1], 1e-12);          // mean of 40 % and 30 %
        Assert.Equal(5, sgd[0].Values[2], 1e-12);           // s.e. = s.d./√2 = 7.07/√2
        Assert.Equal(25, sgd[1].Values[1], 1e-12);
        Assert.Equal(30, r.Data.Rows.Single(x => x.Series == "pswa").Values[1], 1e-12);
    }

    [Fact]
    public void AMalformedFileIsAnErrorNamingFileAndLine()
    {
        File.AppendAllLines(Path.Combine(Gm, "sweep.csv"), ["gm,broken,row"]);
        var e = Assert.Throws<InvalidDataException>(() => new DeepFlatnessFigure("gm", Gm).Build(new FigureOptions()));
        Assert.Contains(Path.Combine(Gm, "sweep.csv"), e.Message);
        Assert.Contains("line 6", e.Message);
    }
}

/// <summary>The committed figure 7 CSVs are what the figures command draws from the recorded sweeps listed in
/// docs/optim/figure_sweeps.json: the sweep directories hold everything the figures need.</summary>
public class RecordedSweepFigureTests
{
    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "FlatMinima.Theory.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("the repository root (FlatMinima.Theory.sln) above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Figure7CsvsEqualTheCommittedOnes()
    {
        string root = RepoRoot();
        var figures = DeepNetworkFigures.For(Path.Combine(root, "docs", "optim", "figure_sweeps.json"));
        // Five recorded sweeps × figures 7a, 7c, 7b, and figure 8 from docs/optim/probes/: one density plot, two lines, two
        // surfaces.
        Assert.Equal(20, figures.Count);
        foreach (var f in figures)
        {
            string expected = File.ReadAllText(Path.Combine(root, "figures", f.Name + ".csv"));
            Assert.True(expected == f.Build(new FigureOptions()).Data.ToString(), $"{f.Name}.csv differs from the committed file");
        }
    }
}
