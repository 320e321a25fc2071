using FlatMinima.Plots.Figures;

namespace FlatMinima.Plots.Tests;

public class DeepFigureTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fm-deep-" + Guid.NewGuid().ToString("N"));

    public DeepFigureTests()
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllLines(Path.Combine(_dir, "deep_sweep.csv"),
        [
            "dataset,id,optimizer,seed,test_error,epsilon_bo,le_delta_pct_sigma0.1,le_delta_pct_sigma0.2,le_delta_pct_sigma0.4,hessian_top",
            "gm,sgd_s0,sgd,0,0.25,0.2071,1,3,9,0.1",
            "gm,sgd_s1,sgd,1,0.24,0.2071,1,2,8,0.1",
            "gm,esgd_s0,esgd,0,0.22,0.2071,0.5,1,4,0.1",
            "gm,esgd_s1,esgd,1,0.23,0.2071,0.6,1.5,5,0.1",
            "fashion-mnist,sgd_s0,sgd,0,0.10,,2,4,,0.1",
        ]);
        File.WriteAllLines(Path.Combine(_dir, "pswa_curves.csv"),
        [
            "dataset,optimizer,seed,epoch,lr,train_loss,test_error,live_test_error,n_averaged,restarted",
            "gm,sgd,0,1,0.1,1,0.40,0.40,,", "gm,sgd,1,1,0.1,1,0.30,0.30,,",
            "gm,sgd,0,2,0.1,1,0.30,0.30,,", "gm,sgd,1,2,0.1,1,0.20,0.20,,",
            "gm,pswa,0,1,0.1,1,0.35,0.40,1,0", "gm,pswa,1,1,0.1,1,0.25,0.30,1,0",
        ]);
    }

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void OneFigurePerRecordedDataset()
    {
        var names = DeepNetworkFigures.For(_dir).Select(f => f.Name).ToList();
        Assert.Equal(["fig7a_deep_flatness_gm", "fig7a_deep_flatness_fashion_mnist", "fig7b_pswa_curves_gm"], names);
        Assert.Empty(DeepNetworkFigures.For(Path.Combine(_dir, "nothing-here")));
    }

    [Fact]
    public void FlatnessFigureUsesTheMedianCompleteSigmaAndCopiesTheRuns()
    {
        var r = new DeepFlatnessFigure("gm").Build(new FigureOptions(DataDirectory: _dir));
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
        var fm = new DeepFlatnessFigure("fashion-mnist").Build(new FigureOptions(DataDirectory: _dir));
        Assert.Equal(0.1, fm.Data.Rows.First().Values[3]);
    }

    [Fact]
    public void GapFigureAppearsWithTrainingErrorsAndPlotsTestMinusTrain()
    {
        File.WriteAllLines(Path.Combine(_dir, "deep_sweep.csv"),
        [
            "dataset,id,optimizer,seed,train_error,test_error,epsilon_bo,le_delta_pct_sigma0.1",
            "fashion-mnist,sgd_s0,sgd,0,0.08,0.10,,2",
            "fashion-mnist,rsgd_s0,rsgd,0,0.04,0.095,,3",
            "fashion-mnist,esgd_s0,esgd,0,0.12,0.125,,0.5",
        ]);
        Assert.Contains("fig7c_deep_gap_fashion_mnist", DeepNetworkFigures.For(_dir).Select(f => f.Name));
        var r = new DeepFlatnessFigure("fashion-mnist", DeepFlatnessTarget.GeneralizationGap).Build(new FigureOptions(DataDirectory: _dir));
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
        var r = new PswaCurvesFigure("gm").Build(new FigureOptions(DataDirectory: _dir));
        var sgd = r.Data.Rows.Where(x => x.Series == "sgd").ToList();
        Assert.Equal(35, sgd[0].Values[1], 1e-12);          // mean of 40 % and 30 %
        Assert.Equal(5, sgd[0].Values[2], 1e-12);           // s.e. = s.d./√2 = 7.07/√2
        Assert.Equal(25, sgd[1].Values[1], 1e-12);
        Assert.Equal(30, r.Data.Rows.Single(x => x.Series == "pswa").Values[1], 1e-12);
    }

    [Fact]
    public void AMalformedFileIsAnErrorNamingFileAndLine()
    {
        File.AppendAllLines(Path.Combine(_dir, "deep_sweep.csv"), ["gm,broken,row"]);
        var e = Assert.Throws<InvalidDataException>(() => new DeepFlatnessFigure("gm").Build(new FigureOptions(DataDirectory: _dir)));
        Assert.Contains("deep_sweep.csv", e.Message);
        Assert.Contains("line 7", e.Message);
    }
}
