using System.Globalization;
using System.Text.Json.Nodes;
using FlatMinima.Experiments;
using FlatMinima.Storage;
using FlatMinima.Torch.Training;

namespace FlatMinima.Torch.Experiments.Sweeps;

/// <summary>What <see cref="SweepCollector.Collect"/> found and wrote.</summary>
/// <param name="Directory">The sweep directory.</param>
/// <param name="Table">Every run with a result.</param>
/// <param name="Runs">Grid points (the table's runs when the sweep has no grid).</param>
/// <param name="Missing">Grid points without a result yet.</param>
/// <param name="Excluded">Optimisers left out of the correlations.</param>
/// <param name="MaxTrainError">Runs with a larger final training error (fraction) are left out of the correlations
/// (null: none).</param>
/// <param name="InCorrelation">Runs in the correlations.</param>
/// <param name="Correlation">Flatness against the test error.</param>
/// <param name="CorrelationGap">Flatness against the generalisation gap.</param>
/// <param name="Summary">Per optimiser and grid point.</param>
/// <param name="Recorded">True when the sweep has no grid and runs: the tables were derived from the recorded
/// <c>sweep.csv</c>.</param>
/// <param name="CorrelationStem">File stem of the correlation files written (<c>correlation</c> or
/// <c>correlation.without-…</c>).</param>
public sealed record SweepCollection(string Directory, SweepTable Table, int Runs, IReadOnlyList<string> Missing, IReadOnlyList<string> Excluded,
    int InCorrelation, IReadOnlyList<SweepCorrelation> Correlation, IReadOnlyList<SweepCorrelation> CorrelationGap,
    IReadOnlyList<SweepSummaryRow> Summary, bool Recorded, string CorrelationStem, double? MaxTrainError = null)
{
    /// <summary>The contents of <c>correlation*.json</c> (and of <c>sweep --collect --json</c>).</summary>
    public Dictionary<string, object?> ToDictionary()
    {
        static List<Dictionary<string, object?>> List(IEnumerable<SweepCorrelation> cs) => cs.Select(c => new Dictionary<string, object?>
            { ["measure"] = c.Measure, ["method"] = c.Method, ["value"] = c.Value, ["lower"] = c.Lower, ["upper"] = c.Upper, ["n"] = c.N, ["level"] = c.Level }).ToList();
        return new Dictionary<string, object?>
        {
            ["out"] = Path.GetFullPath(Directory), ["runs"] = Runs, ["completed"] = Table.Runs.Count, ["missing"] = Missing.ToList(),
            ["table"] = Path.GetFullPath(Path.Combine(Directory, SweepTable.FileName)), ["excluded"] = Excluded.ToList(), ["max_train_error"] = MaxTrainError,
            ["runs_in_correlation"] = InCorrelation, ["correlation"] = List(Correlation), ["correlation_gap"] = List(CorrelationGap),
            ["versions"] = Versions.Describe(), ["collected_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        };
    }

    /// <summary>The per-optimiser summary and the correlations, as Markdown for the docs.</summary>
    public string Markdown() => SweepAnalysis.SummaryMarkdown(Table, Summary) + "\n" + SweepAnalysis.CorrelationMarkdown(Correlation, CorrelationGap);
}

/// <summary>
/// <c>sweep --collect</c>: merges every <c>runs/ID/result.json</c> of a sweep directory into <c>sweep.csv</c>, the
/// per-epoch histories into <c>curves.csv</c>, and derives from <c>sweep.csv</c> the rank correlations of every flatness
/// measure with the test error (<c>correlation.csv</c>, <c>.json</c>) and with the generalisation gap
/// (<c>correlation_gap.csv</c>), and <c>summary.csv</c> (per optimiser and tag: runs, test and training error mean and sd,
/// the mean of each flatness measure). A recorded sweep whose run directories are gone (no <c>grid.json</c>, only
/// <c>sweep.csv</c>) keeps its table and histories; the derived tables are recomputed from them.
/// </summary>
public static class SweepCollector
{
    public const string SummaryFile = "summary.csv";

    /// <param name="directory">The sweep directory.</param>
    /// <param name="exclude">Optimiser names (with @tags) whose runs stay out of the correlations (not of the tables);
    /// the correlation files are then <c>correlation[_gap].without-A+B.csv</c>.</param>
    /// <param name="maxTrainError">Runs whose final training error (fraction) exceeds it, or is unknown, stay out of the
    /// correlations (not of the tables): the comparison at (nearly) equal training error, where test error and gap
    /// coincide; the files then carry <c>.max-train-errorE</c> in their names.</param>
    /// <param name="where">Only the runs with this value of one of the grid's listed options (<c>batch-size=10</c>) enter
    /// the correlations; the files then carry <c>.batch-size10</c> in their names.</param>
    public static SweepCollection Collect(string directory, IReadOnlyList<string>? exclude = null, double? maxTrainError = null, string? where = null)
    {
        exclude ??= [];
        if (maxTrainError is double m && !(m >= 0 && m <= 1)) throw new ConfigException($"--max-train-error must lie in [0, 1] (got {m.ToString(CultureInfo.InvariantCulture)}).");
        string gridCopy = Path.Combine(directory, SweepRunner.GridFile);
        string tablePath = Path.Combine(directory, SweepTable.FileName);
        SweepTable table;
        IReadOnlyList<string> names;
        var missing = new List<string>();
        int runs;
        bool recorded = !File.Exists(gridCopy);
        if (!recorded)
        {
            var grid = SweepGrid.Read(gridCopy);
            names = grid.Optimizers.Select(o => o.Name).ToList();
            CheckExclude(exclude, names);
            var found = new List<(SweepJob Job, JsonNode Result)>();
            foreach (var j in grid.Jobs)
            {
                string path = Path.Combine(directory, "runs", j.Id, SweepRunner.ResultFile);
                if (File.Exists(path)) found.Add((j, JsonText.Read(path)!)); else missing.Add(j.Id);
            }
            table = new SweepTable(grid.Axes.Select(a => a.Key).ToList(), grid.Probes.Sigmas, found.Select(f => Row(f.Result, grid, path: Path.Combine(directory, "runs", f.Job.Id, SweepRunner.ResultFile))).ToList());
            table.Write(tablePath);
            EpochCurves.Write(Path.Combine(directory, EpochCurves.FileName), found.SelectMany(f => Curves(Path.Combine(directory, "runs", f.Job.Id), f.Job)));
            runs = grid.Jobs.Count;
        }
        else
        {
            if (!File.Exists(tablePath)) throw new ConfigException($"{directory} is not a sweep directory (no {SweepRunner.GridFile}, no {SweepTable.FileName}).");
            table = SweepTable.Read(tablePath);
            names = table.Runs.Select(r => r.Optimizer).Distinct().ToList();
            CheckExclude(exclude, names);
            runs = table.Runs.Count;
        }
        int axis = -1;
        string? value = null;
        if (where is not null)
        {
            var kv = where.Split('=', 2);
            axis = kv.Length == 2 ? table.Axes.ToList().IndexOf(kv[0]) : -1;
            if (axis < 0) throw new ConfigException($"--where must be OPTION=VALUE with OPTION one of the grid's listed options ({string.Join(", ", table.Axes)}) (got '{where}').");
            value = kv[1];
        }
        bool Included(SweepRun r) => !exclude.Contains(r.Optimizer) && (maxTrainError is not double max || r.TrainError is double tr && tr <= max)
            && (axis < 0 || r.GridValues[axis] == value);
        var corr = SweepAnalysis.Correlate(table, SweepTarget.TestError, Included);
        var corrGap = SweepAnalysis.Correlate(table, SweepTarget.Gap, Included);
        string stem = (exclude.Count == 0 ? "correlation" : $"correlation.without-{string.Join('+', exclude)}")
            + (maxTrainError is double mx ? ".max-train-error" + mx.ToString("R", CultureInfo.InvariantCulture) : "")
            + (axis >= 0 ? $".{table.Axes[axis]}{value}" : "");
        AtomicFile.WriteAllText(Path.Combine(directory, stem + ".csv"), SweepCorrelations.ToCsv(corr));
        AtomicFile.WriteAllText(Path.Combine(directory, stem.Replace("correlation", "correlation_gap") + ".csv"), SweepCorrelations.ToCsv(corrGap));
        var summary = SweepAnalysis.Summarise(table);
        AtomicFile.WriteAllText(Path.Combine(directory, SummaryFile), SweepAnalysis.SummaryCsv(table, summary));
        var collection = new SweepCollection(directory, table, runs, missing, exclude, table.Runs.Count(Included), corr, corrGap, summary, recorded, stem, maxTrainError);
        JsonText.Write(Path.Combine(directory, stem + ".json"), collection.ToDictionary());
        return collection;
    }

    private static void CheckExclude(IReadOnlyList<string> exclude, IReadOnlyList<string> names)
    {
        foreach (var e in exclude)
            if (!names.Contains(e)) throw new ConfigException($"--exclude: '{e}' is not an optimizer of this grid (one of {string.Join(", ", names)}).");
        if (exclude.Count > 0 && exclude.Distinct().Count() >= names.Count) throw new ConfigException("--exclude: leaves no optimizer to correlate.");
    }

    private static SweepRun Row(JsonNode r, SweepGrid grid, string path)
    {
        static double? D(JsonNode? n) => n?.GetValue<double>();
        var le = r["local_energy"] as JsonArray ?? throw new InvalidDataException($"{path}: no local_energy.");
        return new SweepRun
        {
            Id = r["id"]!.GetValue<string>(), Optimizer = r["optimizer"]!.GetValue<string>(), Seed = r["seed"]!.GetValue<long>(),
            GridValues = grid.Axes.Select(a => r["grid"]?[a.Key]?.GetValue<string>() ?? "").ToList(),
            Epochs = r["epochs"]!.GetValue<int>(), TrainLoss = D(r["train_loss"]), TrainError = D(r["train_error"]), TestLoss = D(r["test_loss"]),
            TestError = D(r["test_error"]), EpsilonBo = D(r["epsilon_bo"]),
            LocalEnergy = grid.Probes.Sigmas.Select(s => D(le.FirstOrDefault(p => Math.Abs(p!["sigma"]!.GetValue<double>() - s) < 1e-15)?["delta_train_error_pct"])).ToList(),
            HessianTop = D(r["hessian_top"]), HessianTrace = D(r["hessian_trace"]), HessianTraceSe = D(r["hessian_trace_se"]),
            AdaptiveSharpness = D(r["adaptive_sharpness"]), SlqTop = D(r["slq_top"]), SlqTrace = D(r["slq_trace"]),
            TrainSeconds = D(r["train_seconds"]), ProbeSeconds = D(r["probe_seconds"]),
        };
    }

    // Every epoch of a run: its metrics.csv, with the averaging bookkeeping of SWA/PSWA from optim_log.csv.
    private static IEnumerable<EpochCurvePoint> Curves(string runDir, SweepJob job)
    {
        string log = Path.Combine(runDir, TrainingRun.OptimLogFile);
        var live = OptimLog.Read(log, "live_test_error");
        var averaged = OptimLog.Read(log, "n_averaged");
        var restarted = OptimLog.Read(log, "restarted");
        foreach (var m in MetricsLog.Read(Path.Combine(runDir, MetricsLog.FileName)))
            yield return new EpochCurvePoint
            {
                Id = job.Id, Optimizer = job.Optimizer, Seed = job.Seed, Epoch = m.Epoch, Lr = m.Lr, TrainLoss = m.TrainLoss, TrainError = m.TrainError,
                TestLoss = m.TestLoss, TestError = m.TestError,
                LiveTestError = live.TryGetValue(m.Epoch, out var l) ? l : null,
                Averaged = averaged.TryGetValue(m.Epoch, out var a) ? a : null,
                Restarted = restarted.TryGetValue(m.Epoch, out var r) ? r : null,
            };
    }
}
