using FlatMinima.Numerics;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Runtime;
using FlatMinima.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Experiments;

/// <summary>How a training run ended.</summary>
/// <param name="Run">The run directory.</param>
/// <param name="Runtime">The TorchSharp runtime it ran on.</param>
/// <param name="Epochs">Every epoch's metrics, including those before a resume.</param>
/// <param name="Checkpoint">The last checkpoint written.</param>
/// <param name="Gm">The theory reference (Gaussian-mixture data only).</param>
/// <param name="Error">Null when the run completed; the divergence message otherwise.</param>
public sealed record TrainingOutcome(TrainingRun Run, RuntimeInfo Runtime, IReadOnlyList<EpochMetrics> Epochs, string? Checkpoint, GmComparison? Gm, string? Error)
{
    public EpochMetrics? Last => Epochs.Count > 0 ? Epochs[^1] : null;
    public bool Completed => Error is null;

    /// <summary>The run's result as <c>train --json</c> prints it and the manifest records it.</summary>
    public Dictionary<string, object?> Summary()
    {
        var s = new Dictionary<string, object?>
        {
            ["run_dir"] = Run.Path, ["epochs"] = Last?.Epoch, ["train_loss"] = Last?.TrainLoss, ["train_error"] = Last?.TrainError,
            ["test_loss"] = Last?.TestLoss, ["test_error"] = Last?.TestError, ["checkpoint"] = Checkpoint,
            ["device"] = Runtime.Device, ["torchsharp"] = Runtime.TorchSharpVersion, ["libtorch"] = Runtime.LibtorchVersion,
        };
        if (Gm is not null) foreach (var (k, v) in Gm.ToDictionary()) s[k] = v;
        return s;
    }
}

/// <summary>
/// Training runs from their configuration: <see cref="Train"/> starts one in a run directory, <see cref="Resume"/>
/// continues one from its last checkpoint with the configuration stored in the directory.
/// </summary>
public static class Experiment
{
    /// <summary>Seed stream of the extra models of a run (replicas, the live model of SWA): model i has initial weights
    /// from seed Mix(seed, ModelStream, i).</summary>
    public const long ModelStream = 0x4E91;

    /// <summary>Trains <paramref name="config"/> into <paramref name="directory"/>.</summary>
    /// <param name="directory">The run directory (created). It must not exist or be empty, unless
    /// <paramref name="overwrite"/> asks to replace the run in it (<see cref="TrainingRun.Create"/>).</param>
    /// <param name="config">The configuration (validated here).</param>
    /// <param name="commandLine">The command line that asked for it, recorded in the manifest.</param>
    /// <param name="reporter">Progress and messages.</param>
    /// <param name="overwrite">Replace a run that is already in <paramref name="directory"/>.</param>
    public static TrainingOutcome Train(string directory, RunConfig config, IReadOnlyList<string>? commandLine = null, IRunReporter? reporter = null, bool overwrite = false)
    {
        reporter ??= SilentReporter.Instance;
        config.Validate();
        TrainingRun.CheckNewTarget(directory, overwrite);   // before anything is written into the folder
        using var l = TrainingRun.Lock(directory, "flatminima train");
        ReportStale(l, reporter);
        return Run(TrainingRun.Create(directory, config, overwrite), resume: false, commandLine ?? [], reporter);
    }

    /// <summary>Continues the run in <paramref name="directory"/> from its last checkpoint (from the start when it has
    /// none yet), with its stored configuration; <paramref name="epochs"/> and <paramref name="device"/>, when given,
    /// replace the stored ones (and are stored). The configuration, the checkpoint and the histories are verified
    /// first (<see cref="TrainingRun.Open"/>, <see cref="CheckpointStore.Verify"/>).</summary>
    public static TrainingOutcome Resume(string directory, int? epochs = null, DeviceChoice? device = null, IReadOnlyList<string>? commandLine = null, IRunReporter? reporter = null)
    {
        reporter ??= SilentReporter.Instance;
        TrainingRun.Open(directory);   // a folder that is not a run is refused before anything is written into it
        using var l = TrainingRun.Lock(directory, "flatminima train --resume");
        ReportStale(l, reporter);
        FlatMinima.Storage.AtomicFile.CleanOrphans(directory);
        var run = TrainingRun.Open(directory).Continue(epochs, device);
        return Run(run, resume: true, commandLine ?? [], reporter);
    }

    private static void ReportStale(FlatMinima.Storage.DirectoryLock l, IRunReporter reporter)
    {
        if (l.StaleHolder is not null) reporter.Message($"{System.IO.Path.GetDirectoryName(l.Path)}: took over the lock of {l.StaleHolder}.");
    }

    private static TrainingOutcome Run(TrainingRun run, bool resume, IReadOnlyList<string> commandLine, IRunReporter reporter)
    {
        var c = run.Config;
        var t = c.Training;
        var runtime = TorchRuntime.Initialize(EnumNames.Name(t.Device), reporter.Message);
        var device = TorchRuntime.Device;
        using var data = c.Data.Load(t.Seed);
        var shape = data.Train.InputShape;
        int classes = data.Train.Classes;
        nn.Module<Tensor, Tensor> NewModel(long seed)
        {
            var m = c.Model.Create(shape, classes, seed);
            m.to(device);
            return m;
        }
        var model = NewModel(t.Seed);
        long batches = (data.Train.Count + t.BatchSize - 1) / t.BatchSize;
        var context = new AlgorithmContext(i => NewModel(Seeds.Mix(t.Seed, ModelStream, i)), data.Train, device, t.Epochs, t.BatchSize, batches, t.Seed);
        AlgorithmFactory factory = t.Precision == Precision.Bf16
            ? m => new MixedPrecisionAlgorithm(m, NewModel(t.Seed), (OptimizerAlgorithm)c.Optimizer.Create(m, context))
            : m => OptimLog.Attach(c.Optimizer.Create(m, context), run.File(TrainingRun.OptimLogFile), m, data.Test, device);
        var identity = run.Identity;
        using var trainer = new Trainer(model, factory, data, device,
            new TrainOptions { Epochs = t.Epochs, BatchSize = t.BatchSize, Seed = t.Seed, LrSchedule = c.LrSchedule, Identity = identity, IdentityName = run.File(TrainingRun.ConfigFile) }, run.Path);

        // A resume keeps what the manifest said about the earlier invocations of the run.
        var previous = resume ? PreviousInvocations(run) : null;
        var manifest = run.StartManifest("train", commandLine);
        if (previous is not null) manifest.Set("previous", previous);
        manifest.Set("torch", runtime.ToDictionary());
        manifest.Set("data", data.Info);
        manifest.Set("model", new Dictionary<string, object?> { ["name"] = c.Model.Name, ["parameters"] = model.parameters().Sum(p => p.numel()) });
        manifest.Set("algorithm", new Dictionary<string, object?>
        {
            ["name"] = c.Optimizer.Name, ["lr"] = c.Optimizer.Lr, ["momentum"] = c.Optimizer.Momentum, ["weight_decay"] = c.Optimizer.WeightDecay,
            ["precision"] = t.Precision == Precision.Bf16 ? "bf16 compute, fp32 master weights, fp32 BatchNorm, no loss scaling" : "fp32",
        });
        manifest.Set("seed", t.Seed);
        manifest.Set("budget", c.Optimizer.Budget(batches, t.Epochs));
        if (resume) manifest.Set("resumed", true);

        trainer.Hooks.Add(new OptimLogHistory(run.File(TrainingRun.OptimLogFile), () => trainer.Algorithm is IObservedAlgorithm));
        if (t.LeEvery > 0) trainer.Hooks.Add(new LocalEnergyHook(run.File(TrainingRun.LocalEnergyFile), data.Train, device, t.LeEvery, t.LeSigma, t.LeDraws, t.Seed));
        trainer.Hooks.Add(new ReportingHook(reporter, t.Epochs));
        TrainResult result;
        try
        {
            result = trainer.Run(resume);
            manifest.Set("algorithm", new Dictionary<string, object?>(trainer.Algorithm.Describe()) { ["name"] = trainer.Algorithm.Name });
            // Completed means: the checkpoint of the last epoch exists and verifies.
            var final = run.Checkpoints.Latest();
            var info = final is null ? null : CheckpointStore.Verify(final, identity, run.File(TrainingRun.ConfigFile));
            if (info is null || info.Epoch != t.Epochs)
                throw new CheckpointException($"{run.Path}: the run ended without a checkpoint of its last epoch {t.Epochs} (latest: {final ?? "none"}).");
        }
        catch (TrainingDivergedException e)
        {
            manifest.Set("error", e.Message);
            manifest.Finish("diverged");
            return new TrainingOutcome(run, runtime, run.Metrics.Read(), run.Checkpoints.Latest(), null, e.Message);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            manifest.Set("error", e.Message);
            manifest.Finish("failed");
            throw;
        }
        var last = result.Epochs.Count > 0 ? result.Epochs[^1] : null;
        GmComparison? gm = c.Data is GmmDataConfig g && last is not null ? GmReference.Compare(g.Spec(t.Seed), last.TestError, data.Test.Count) : null;
        var outcome = new TrainingOutcome(run, runtime, result.Epochs, result.LastCheckpoint, gm, null);
        var summary = outcome.Summary();
        if (gm is not null) manifest.Set("gm_reference", gm.ToDictionary());
        manifest.Set("result", summary);
        manifest.Finish();
        return outcome;
    }

    // The command, command line, times and status of every earlier invocation of a run, from its manifest.
    private static List<object?>? PreviousInvocations(TrainingRun run)
    {
        string path = run.File(TrainingRun.ManifestFile);
        if (!File.Exists(path)) return null;
        var old = FlatMinima.Storage.JsonText.Read(path) as System.Text.Json.Nodes.JsonObject;
        if (old is null) return null;
        var list = old["previous"] is System.Text.Json.Nodes.JsonArray a ? a.Select(n => (object?)n?.DeepClone()).ToList() : [];
        var entry = new System.Text.Json.Nodes.JsonObject();
        foreach (var key in new[] { "command", "argv", "started_utc", "finished_utc", "status", "signal", "error" })
            if (old[key] is not null) entry[key] = old[key]!.DeepClone();
        list.Add(entry);
        return list;
    }
}

/// <summary>A trained run loaded for probing: its data (drawn again from the stored configuration) and its network with
/// the weights of the last checkpoint, on the device.</summary>
public sealed class TrainedModel : IDisposable
{
    private TrainedModel(TrainingRun run, RuntimeInfo runtime, DataSplit data, nn.Module<Tensor, Tensor> model, string checkpoint)
    {
        Run = run; Runtime = runtime; Data = data; Model = model; Checkpoint = checkpoint;
    }

    public TrainingRun Run { get; }
    public RuntimeInfo Runtime { get; }
    public DataSplit Data { get; }
    public nn.Module<Tensor, Tensor> Model { get; }
    /// <summary>The checkpoint folder the weights come from.</summary>
    public string Checkpoint { get; }
    public Device Device => TorchRuntime.Device;

    /// <summary>Loads <paramref name="run"/>'s last checkpoint; <paramref name="device"/> replaces the stored device.</summary>
    public static TrainedModel Load(TrainingRun run, DeviceChoice? device = null, IRunReporter? reporter = null)
    {
        var c = run.Config;
        var runtime = TorchRuntime.Initialize(EnumNames.Name(device ?? c.Training.Device), (reporter ?? SilentReporter.Instance).Message);
        string checkpoint = run.Checkpoints.Latest() ?? throw new ConfigException($"{run.Path} has no checkpoint.");
        // The weights must verify before anything is computed on them (checksums, configuration, finite values).
        CheckpointStore.Verify(checkpoint, run.Identity, run.File(TrainingRun.ConfigFile));
        var data = c.Data.Load(c.Training.Seed);
        var model = c.Model.Create(data.Train.InputShape, data.Train.Classes, c.Training.Seed);
        try { CheckpointStore.LoadWeights(model, checkpoint, run.Identity, run.File(TrainingRun.ConfigFile)); }
        catch { model.Dispose(); data.Dispose(); throw; }
        model.to(TorchRuntime.Device);
        return new TrainedModel(run, runtime, data, model, checkpoint);
    }

    public void Dispose() { Model.Dispose(); Data.Dispose(); }
}
