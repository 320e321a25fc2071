using FlatMinima.Experiments;

namespace FlatMinima.Core.Tests.Experiments;

/// <summary>The sweep tables against the repository's recorded sweeps (docs/optim/*): their sweep.csv and correlation
/// files, written from every run's result.json when they were recorded, and the tables docs/optim.md shows of them.</summary>
public class SweepTablesTests
{
    private static string Optim(params string[] parts)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "FlatMinima.Theory.sln"))) return Path.Combine([d.FullName, "docs", "optim", .. parts]);
        throw new DirectoryNotFoundException("the repository root (FlatMinima.Theory.sln) above " + AppContext.BaseDirectory);
    }

    [Theory]
    [InlineData("cpu_fmnist")]
    [InlineData("cpu_fmnist5k_cosine")]
    [InlineData("cpu_gm")]
    [InlineData("gpu/gm")]
    [InlineData("gpu/fmnist_small")]
    public void RecordedTablesReadAndWriteBackByteForByte(string sweep)
    {
        string path = Optim(sweep, "sweep.csv");
        var table = SweepTable.Read(path);
        Assert.Equal(File.ReadAllText(path), table.ToCsv());
        Assert.NotEmpty(table.Runs);
    }

    // The correlations recomputed from sweep.csv alone are the recorded correlation.csv, written by the collector from
    // the runs' result.json: the table carries every number the correlations need, in full precision.
    [Theory]
    [InlineData("cpu_fmnist")]
    [InlineData("cpu_fmnist5k_cosine")]
    [InlineData("cpu_gm")]
    [InlineData("gpu/gm")]
    public void CorrelationsFromTheTableAreTheRecordedOnes(string sweep)
    {
        var table = SweepTable.Read(Optim(sweep, "sweep.csv"));
        Assert.Equal(File.ReadAllText(Optim(sweep, "correlation.csv")), SweepCorrelations.ToCsv(SweepAnalysis.Correlate(table, SweepTarget.TestError)));
        if (File.Exists(Optim(sweep, "correlation_gap.csv")) && sweep.StartsWith("cpu_fmnist", StringComparison.Ordinal))
            Assert.Equal(File.ReadAllText(Optim(sweep, "correlation_gap.csv")), SweepCorrelations.ToCsv(SweepAnalysis.Correlate(table, SweepTarget.Gap)));
        string[] excluded = sweep == "cpu_fmnist" ? ["esgd", "esgd@long", "esgd@wd0"] : ["esgd"];
        var without = SweepAnalysis.Correlate(table, SweepTarget.TestError, r => !excluded.Contains(r.Optimizer));
        string recorded = Optim(sweep, $"correlation.without-{string.Join('+', excluded)}.csv");
        if (File.Exists(recorded)) Assert.Equal(File.ReadAllText(recorded), SweepCorrelations.ToCsv(without));
    }

    // The per-optimiser table of docs/optim.md (full-scale Fashion-MNIST, from the same sweep.csv) is what the summary
    // prints, row for row.
    [Fact]
    public void SummaryMarkdownReproducesTheDocsTable()
    {
        var table = SweepTable.Read(Optim("cpu_fmnist", "sweep.csv"));
        string md = SweepAnalysis.SummaryMarkdown(table, SweepAnalysis.Summarise(table));
        string docs = File.ReadAllText(Path.Combine(Optim(), "..", "optim.md"));
        var rows = md.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal)).ToList();
        Assert.Equal(9, rows.Count);
        foreach (var row in rows) Assert.Contains(row, docs);
        // And the correlation table of the same section.
        string corr = SweepAnalysis.CorrelationMarkdown(SweepAnalysis.Correlate(table, SweepTarget.TestError), SweepAnalysis.Correlate(table, SweepTarget.Gap));
        foreach (var row in corr.Split('\n').Where(l => l.StartsWith("| δE", StringComparison.Ordinal) || l.StartsWith("| λ", StringComparison.Ordinal) || l.StartsWith("| tr", StringComparison.Ordinal)))
            Assert.Contains(row, docs);
    }

    // Summary statistics by hand: mean and sample standard deviation (n − 1) per optimiser and grid point, means of the
    // flatness measures over the runs that have them.
    [Fact]
    public void SummaryIsMeanAndSampleDeviationPerOptimiserAndGridPoint()
    {
        SweepRun Run(string opt, string wd, double te, double tr, double? le) => new()
        {
            Id = $"{opt}_{wd}_{te}", Optimizer = opt, Seed = 0, GridValues = [wd], Epochs = 3, TestError = te, TrainError = tr, LocalEnergy = [le],
            HessianTop = 2 * te,
        };
        var table = new SweepTable(["weight-decay"], [0.5],
        [
            Run("sgd", "0", 0.2, 0.1, 1), Run("sgd", "0", 0.3, 0.1, 3), Run("sgd", "0", 0.4, 0.2, null),
            Run("sgd", "0.001", 0.25, 0.05, 2), Run("esgd@long", "0", 0.1, 0.0, 4),
        ]);
        var s = SweepAnalysis.Summarise(table);
        Assert.Equal(["sgd", "sgd", "esgd@long"], s.Select(r => r.Optimizer));
        Assert.Equal(3, s[0].Runs);
        Assert.Equal(0.3, s[0].TestError.Mean, 15);
        Assert.Equal(0.1, s[0].TestError.StdDev, 15);                  // √(((−0.1)² + 0 + 0.1²)/2)
        Assert.Equal(0.4 / 3, s[0].TrainError.Mean, 15);
        Assert.Equal(2, s[0].MeasureMeans[0], 15);                      // the run without δE is left out: (1 + 3)/2
        Assert.Equal(0.6, s[0].MeasureMeans[1], 15);                    // λ_max = 2·test error
        Assert.True(double.IsNaN(s[0].MeasureMeans[2]));                // no trace recorded
        Assert.True(double.IsNaN(s[1].TestError.StdDev));               // one run
        string csv = SweepAnalysis.SummaryCsv(table, s);
        Assert.StartsWith("optimizer,weight-decay,runs,epochs,test_error_mean,test_error_sd,train_error_mean,train_error_sd,local_energy_sigma0.5_mean,hessian_top_mean,hessian_trace_mean,train_s_mean\n", csv);
        Assert.Contains("\nsgd,0.001,1,3,0.25,,0.05,,2,0.5,,\n", csv);
    }

    [Fact]
    public void AMalformedTableNamesTheFileAndTheLine()
    {
        string dir = Path.Combine(Path.GetTempPath(), "fm-sweep-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllLines(Path.Combine(dir, "sweep.csv"), [File.ReadLines(Optim("cpu_gm", "sweep.csv")).First(), "sgd_s0,sgd,zero,40,,,,,,,,,,,,,,"]);
            var e = Assert.Throws<InvalidDataException>(() => SweepResults.Read(dir));
            Assert.Contains("sweep.csv: line 2, column 'seed'", e.Message);
            Assert.Contains("not a sweep directory", Assert.Throws<FileNotFoundException>(() => SweepResults.Read(Path.Combine(dir, "none"))).Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
