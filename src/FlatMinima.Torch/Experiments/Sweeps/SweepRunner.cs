using System.Diagnostics;
using System.Globalization;
using FlatMinima.Storage;

namespace FlatMinima.Torch.Experiments.Sweeps;

/// <summary>
/// Runs grid points of a sweep in a sweep directory: each trains (or resumes) its run in <c>runs/ID</c> through
/// <see cref="Experiment"/>, then probes the final model (<see cref="FlatnessProbing"/>: local energy at the grid's σ,
/// top Hessian eigenvalue, Hutchinson trace) and writes <c>runs/ID/result.json</c>. A grid point with a result is
/// skipped, an interrupted one resumed from its checkpoint, so the same call continues a sweep.
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
            throw new ConfigException($"{Directory} belongs to a different grid ({copy} differs from {grid.Path}); use another --out.");
        if (!File.Exists(copy)) AtomicFile.WriteAllText(copy, grid.Text);
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
        if (File.Exists(resultPath)) { _reporter.Message($"sweep: [{j.Index}] {j.Id}: done, skipped"); return true; }
        using var runLock = TrainingRun.Lock(runDir, $"flatminima sweep, grid point {j.Index} ({j.Id})");
        if (File.Exists(resultPath)) { _reporter.Message($"sweep: [{j.Index}] {j.Id}: done, skipped"); return true; }
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
        JsonText.Write(resultPath, resultJson);
        _reporter.Message($"sweep: [{j.Index}] {j.Id}: test error {last.TestError.ToString("G5", CultureInfo.InvariantCulture)}, " +
                          $"δE(σ={grid.Probes.Sigmas[0].ToString("G5", CultureInfo.InvariantCulture)}) = {le[0].DeltaError.ToString("G5", CultureInfo.InvariantCulture)} %");
        return true;
    }
}
