using FlatMinima.Storage;
using FlatMinima.Torch.Training;

namespace FlatMinima.Torch.Experiments;

/// <summary>
/// A run directory: <c>config.json</c> (the run's <see cref="RunConfig"/>, what resume and the flatness probes read),
/// <c>manifest.json</c> (provenance and status, <see cref="Manifest"/>), <c>metrics.csv</c>, the optimiser's
/// <c>optim_log.csv</c>, <c>local_energy.csv</c> (local energy during training), <c>flatness.json</c> and
/// <c>checkpoints/</c>. Every file is written atomically. Creating and opening a run are the places to refuse a folder
/// that holds another run and to verify that checkpoints belong to the configuration.
/// </summary>
public sealed class TrainingRun
{
    public const string ConfigFile = "config.json";
    public const string ManifestFile = "manifest.json";
    public const string OptimLogFile = "optim_log.csv";
    public const string LocalEnergyFile = "local_energy.csv";
    public const string FlatnessFile = "flatness.json";

    private TrainingRun(string path, RunConfig config)
    {
        Path = System.IO.Path.GetFullPath(path);
        Config = config;
    }

    /// <summary>The folder (absolute).</summary>
    public string Path { get; }
    /// <summary>The run's configuration, as stored in <c>config.json</c>.</summary>
    public RunConfig Config { get; }
    public CheckpointStore Checkpoints => new(File(CheckpointStore.FolderName));
    public MetricsLog Metrics => new(File(MetricsLog.FileName));

    /// <summary>The path of a file of the run.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Writes a file of the run atomically.</summary>
    public void WriteFile(string name, string contents) => AtomicFile.WriteAllText(File(name), contents);

    /// <summary>Starts a run in <paramref name="path"/> (created if needed) and stores its validated configuration.</summary>
    public static TrainingRun Create(string path, RunConfig config)
    {
        var run = new TrainingRun(path, config.Validate());
        Directory.CreateDirectory(run.Path);
        run.WriteFile(ConfigFile, config.ToJson());
        return run;
    }

    /// <summary>Opens the run in <paramref name="path"/> from its <c>config.json</c>. A folder without one is a
    /// <see cref="ConfigException"/> (bad input); an unreadable one an <see cref="InvalidDataException"/> naming it.</summary>
    public static TrainingRun Open(string path)
    {
        string config = System.IO.Path.Combine(path, ConfigFile);
        if (!Directory.Exists(path)) throw new ConfigException($"{path} does not exist (not a run directory).");
        if (!System.IO.File.Exists(config))
            throw new ConfigException($"{path} has no {ConfigFile} (not a run directory, or one written before runs stored their configuration).");
        return new TrainingRun(path, RunConfig.Read(config));
    }

    /// <summary>Starts the manifest of a command on this run: the command line, the configuration and its hash.</summary>
    public Manifest StartManifest(string command, IReadOnlyList<string> commandLine) =>
        new(File(ManifestFile), command, commandLine,
            [new("config", System.Text.Json.Nodes.JsonNode.Parse(Config.ToJson())), new("config_sha256", Config.Hash())]);

    /// <summary>Whether <paramref name="path"/> holds a run (a <c>config.json</c>).</summary>
    public static bool Exists(string path) => System.IO.File.Exists(System.IO.Path.Combine(path, ConfigFile));
}
