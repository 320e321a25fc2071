using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using FlatMinima.Storage;

namespace FlatMinima.Torch.Experiments.Sweeps;

/// <summary>
/// Runs grid points of a sweep in a sweep directory: each trains (or resumes) its run in <c>runs/ID</c> through
/// <see cref="Experiment"/>, then probes the final model (<see cref="FlatnessProbing"/>: local energy at the grid's σ,
/// top Hessian eigenvalue, Hutchinson trace; adaptive sharpness and the SLQ spectral density when the grid asks for them)
/// and writes <c>runs/ID/result.json</c>. A grid point with a result is skipped, an interrupted one resumed from its
/// checkpoint, so the same call continues a sweep. A grid whose probes grow (adaptive sharpness or SLQ added to a
/// recorded sweep) is accepted in the sweep's directory: finished runs get only the probes their result lacks.
/// </summary>
/// <remarks>
/// Locks (<see cref="DirectoryLock"/>): a process that runs the whole grid holds the sweep directory exclusively
/// (<c>.sweep.lock</c>), so two sweeps of one directory cannot race; a process that runs a share of it (job-array tasks,
/// <c>--task</c>, <c>--shard</c>) holds it shared, so tasks do not block each other, and every grid point is worked
/// on under the lock of its own run directory, so no two processes ever train or probe the same run.
/// </remarks>
public sealed class SweepRunner(SweepGrid grid, string directory, IReadOnlyList<string>? commandLine = null, IRunReporter? reporter = null)
{
    private readonly IRunReporter _reporter = reporter ?? SilentReporter.Instance;
    private readonly IReadOnlyList<string> _commandLine = commandLine ?? [];

    public const string GridFile = "grid.json";
    public const string ResultFile = "result.json";
    /// <summary>The lock file of a sweep directory.</summary>
    public const string LockFile = ".sweep.lock";

    /// <summary>The sweep directory.</summary>
    public string Directory { get; } = directory;

    /// <summary>The run directory of a grid point.</summary>
    public string RunDirectory(SweepJob job) => Path.Combine(Directory, "runs", job.Id);

    /// <summary>Creates the sweep directory and stores the grid in it (<c>grid.json</c>); a directory of another grid is
    /// refused.</summary>
    public void Prepare()
    {
        System.IO.Directory.CreateDirectory(Directory);
        string copy = Path.Combine(Directory, GridFile);
        if (File.Exists(copy) && File.ReadAllText(copy) != grid.Text)
        {
            if (!SameRuns(File.ReadAllText(copy), grid.Text))
                throw new ConfigException($"{Directory} belongs to a different grid ({copy} differs from {grid.Path}); use another --out.");
            AtomicFile.WriteAllText(copy, grid.Text);   // only the probes changed: the runs stay valid
        }
        if (!File.Exists(copy)) AtomicFile.WriteAllText(copy, grid.Text);
    }

    // Two grid texts that define the same runs: equal JSON but for "probes".
    private static bool SameRuns(string a, string b)
    {
        static JsonNode? Runs(string t)
        {
            try
            {
                var n = JsonNode.Parse(t);
                if (n is JsonObject o) o.Remove("probes");
                return n;
            }
            catch (System.Text.Json.JsonException) { return null; }
        }
        var (x, y) = (Runs(a), Runs(b));
        return x is not null && y is not null && JsonNode.DeepEquals(x, y);
    }

    /// <summary>The probes of the grid that <paramref name="result"/> (a run's <c>result.json</c>) lacks: adaptive
    /// sharpness and SLQ added to a sweep after the run; null when it has them all.</summary>
    private FlatnessConfig? MissingProbes(JsonNode result)
    {
        var wanted = grid.Probes.SpectralProbes;
        if (wanted is null) return null;
        var missing = wanted.Probes.Where(p => p switch
        {
            "adaptive" => result["adaptive_sharpness"] is null,
            "slq" => result["slq_top"] is null,
            _ => false,
        }).ToArray();
        return missing.Length == 0 ? null : wanted with { Probes = missing };
    }

    /// <summary>Runs <paramref name="jobs"/> in order; returns how many failed (each failure is reported and the
    /// others still run). The sweep directory is locked exclusively when <paramref name="jobs"/> is the whole grid,
    /// shared otherwise.</summary>
    public int Run(IEnumerable<SweepJob> jobs)
    {
        var list = jobs.ToList();
        bool whole = list.Select(j => j.Index).Distinct().Count() == grid.Jobs.Count;
        System.IO.Directory.CreateDirectory(Directory);
        using var sweepLock = DirectoryLock.Acquire(Directory, LockFile, whole ? "flatminima sweep" : $"flatminima sweep, {list.Count} of {grid.Jobs.Count} grid points", shared: !whole);
        if (sweepLock.StaleHolder is not null) _reporter.Message($"sweep: took over the lock of {sweepLock.StaleHolder}");
        if (whole) AtomicFile.CleanOrphans(Directory);
        Prepare();
        int failed = 0;
        foreach (var j in list)
        {
            try
            {
                if (!RunJob(j)) failed++;
            }
            catch (Exception e) when (e is not (OutOfMemoryException or ConfigException))
            {
                _reporter.Message($"sweep: [{j.Index}] {j.Id}: failed: {e.Message}");
                failed++;
            }
        }
        return failed;
    }

    /// <summary>Trains (or resumes) one grid point and probes its final model, under the lock of its run directory;
    /// false when training diverged.</summary>
    public bool RunJob(SweepJob j)
    {
        string runDir = RunDirectory(j);
        string resultPath = Path.Combine(runDir, ResultFile);
        if (File.Exists(resultPath) && MissingProbes(JsonText.Read(resultPath) ?? new JsonObject()) is null)
        { _reporter.Message($"sweep: [{j.Index}] {j.Id}: done, skipped"); return true; }
        using var runLock = TrainingRun.Lock(runDir, $"flatminima sweep, grid point {j.Index} ({j.Id})");
        if (File.Exists(resultPath))
        {
            var existing = JsonText.Read(resultPath) ?? throw new InvalidDataException($"{resultPath}: empty result.");
            if (MissingProbes(existing) is not { } add) { _reporter.Message($"sweep: [{j.Index}] {j.Id}: done, skipped"); return true; }
            AddProbes(j, runDir, resultPath, existing, add);
            return true;
        }
        var clock = Stopwatch.StartNew();
        string manifest = Path.Combine(runDir, TrainingRun.ManifestFile);
        double? epsilonBo;
        string? device;
        if (Manifest.StatusOf(manifest) != "completed")
        {
            bool resume = TrainingRun.Exists(runDir);
            if (resume && TrainingRun.Open(runDir).Identity.Sha256 != j.Config.Identity().Sha256)
                throw new InvalidDataException($"{Path.Combine(runDir, TrainingRun.ConfigFile)} is not the configuration of grid point {j.Index} ({j.Id}); move the folder away to train it again.");
            _reporter.Message($"sweep: [{j.Index}] {j.Id}: {(resume ? "resuming" : "training")}");
            // The sweep owns runs/ID: what a killed process left there without a configuration is replaced.
            var outcome = resume
                ? Experiment.Resume(runDir, commandLine: _commandLine, reporter: _reporter)
                : Experiment.Train(runDir, j.Config, _commandLine, _reporter, overwrite: true);
            if (!outcome.Completed) { _reporter.Message($"sweep: [{j.Index}] {j.Id}: {outcome.Error}"); return false; }
            epsilonBo = outcome.Gm?.EpsilonBo;
            device = outcome.Runtime.Device;
        }
        else
        {
            var result = JsonText.Read(manifest)?["result"];
            epsilonBo = result?["epsilon_bo"]?.GetValue<double>();
            device = result?["device"]?.GetValue<string>();
        }
        double trainSecs = clock.Elapsed.TotalSeconds;
        clock.Restart();
        var run = TrainingRun.Open(runDir);
        FlatnessReport report;
        using (var trained = TrainedModel.Load(run))
        {
            report = FlatnessProbing.Run(trained, grid.Probes.LocalEnergy);
            if (grid.Probes.Hessian) report = report.Merge(FlatnessProbing.Run(trained, grid.Probes.HessianProbes));
            if (grid.Probes.SpectralProbes is { } spectral) report = report.Merge(FlatnessProbing.Run(trained, spectral));
            report.Write(trained, _commandLine);
        }
        var metrics = run.Metrics.Read();
        var last = metrics[^1];
        var le = report.LocalEnergy!;
        var resultJson = new Dictionary<string, object?>
        {
            ["index"] = j.Index, ["id"] = j.Id, ["optimizer"] = j.Optimizer, ["seed"] = j.Seed,
            ["grid"] = grid.Axes.Select((a, i) => (a.Key, Value: j.GridValues[i])).ToDictionary(p => p.Key, p => (object?)p.Value),
            ["epochs"] = last.Epoch, ["train_loss"] = last.TrainLoss, ["train_error"] = last.TrainError, ["test_loss"] = last.TestLoss, ["test_error"] = last.TestError,
            ["epsilon_bo"] = epsilonBo,
            ["local_energy"] = le.Select(p => new Dictionary<string, object?>
            {
                ["sigma"] = p.Sigma, ["delta_train_error_pct"] = p.DeltaError, ["mean_train_error_pct"] = p.MeanError, ["sem_train_error_pct"] = p.SemError,
            }).ToList(),
            ["hessian_top"] = report.HessianTop?.Eigen.Values[0],
            ["hessian_trace"] = report.HessianTrace?.Trace.Trace,
            ["hessian_trace_se"] = report.HessianTrace?.Trace.StandardError,
            ["train_seconds"] = metrics.Sum(m => m.Seconds), ["probe_seconds"] = clock.Elapsed.TotalSeconds, ["wall_seconds"] = trainSecs + clock.Elapsed.TotalSeconds,
            ["device"] = device,
        };
        foreach (var (k, v) in SpectralEntries(report)) resultJson[k] = v;
        JsonText.Write(resultPath, resultJson);
        _reporter.Message($"sweep: [{j.Index}] {j.Id}: test error {last.TestError.ToString("G5", CultureInfo.InvariantCulture)}, " +
                          $"δE(σ={grid.Probes.Sigmas[0].ToString("G5", CultureInfo.InvariantCulture)}) = {le[0].DeltaError.ToString("G5", CultureInfo.InvariantCulture)} %");
        return true;
    }

    // The result.json entries of the adaptive-sharpness and SLQ probes (none when they did not run).
    private static IEnumerable<(string Key, object? Value)> SpectralEntries(FlatnessReport report)
    {
        if (report.Adaptive is { } a) { yield return ("adaptive_sharpness", a.Sharpness); yield return ("adaptive_rho", a.Rho); }
        if (report.Spectrum is { } s)
        {
            yield return ("slq_top", s.TopRitz);
            yield return ("slq_trace", s.Trace);
            yield return ("slq_trace_se", double.IsFinite(s.TraceStdError) ? s.TraceStdError : null);
        }
    }

    // Runs the probes a finished run lacks and adds them to its result.json and flatness.json (the other entries kept).
    private void AddProbes(SweepJob j, string runDir, string resultPath, JsonNode result, FlatnessConfig add)
    {
        _reporter.Message($"sweep: [{j.Index}] {j.Id}: done; probing {string.Join(",", add.Probes)}");
        var clock = Stopwatch.StartNew();
        var run = TrainingRun.Open(runDir);
        using var trained = TrainedModel.Load(run);
        var report = FlatnessProbing.Run(trained, add);
        if (report.Spectrum is { } sp) run.WriteFile(FlatnessReport.DensityFile, sp.DensityCsv());
        string flatPath = run.File(TrainingRun.FlatnessFile);
        var flat = (File.Exists(flatPath) ? JsonText.Read(flatPath) as JsonObject : null) ?? new JsonObject();
        foreach (var (k, v) in report.ToDictionary(trained, _commandLine).Where(kv => kv.Key is "adaptive_sharpness" or "hessian_density"))
            flat[k] = JsonText.ToNode(v);
        JsonText.Write(flatPath, flat);
        var obj = (JsonObject)result;
        foreach (var (k, v) in SpectralEntries(report)) obj[k] = JsonText.ToNode(v);
        obj["probe_seconds"] = (obj["probe_seconds"]?.GetValue<double>() ?? 0) + clock.Elapsed.TotalSeconds;
        JsonText.Write(resultPath, obj);
    }
}
