using System.Text.Json.Nodes;
using FlatMinima.Storage;
using FlatMinima.Torch.Training;

namespace FlatMinima.Torch.Experiments;

/// <summary>
/// A run directory: <c>config.json</c> (the run's <see cref="RunConfig"/>, what resume and the flatness probes read),
/// <c>manifest.json</c> (provenance and status, <see cref="Manifest"/>), <c>metrics.csv</c>, the optimiser's
/// <c>optim_log.csv</c>, <c>local_energy.csv</c> (local energy during training), <c>flatness.json</c> and
/// <c>checkpoints/</c>. Files are written atomically, histories appended. <see cref="Create"/> refuses a folder that holds
/// a run or anything else unless asked to replace a run; <see cref="Open"/> checks <c>config.json</c> against the
/// identity recorded in the manifest; a process that trains holds the folder's lock (<see cref="Lock"/>).
/// </summary>
public sealed class TrainingRun
{
    public const string ConfigFile = "config.json";
    public const string ManifestFile = "manifest.json";
    public const string OptimLogFile = "optim_log.csv";
    public const string LocalEnergyFile = "local_energy.csv";
    public const string FlatnessFile = "flatness.json";
    /// <summary>The lock file of a run directory (<see cref="DirectoryLock"/>).</summary>
    public const string LockFile = ".run.lock";

    /// <summary>What a run (or a sweep's grid point, with its <c>result.json</c>) writes into its folder: what
    /// <c>--overwrite</c> removes.</summary>
    public static readonly IReadOnlyList<string> RunEntries =
        [ConfigFile, ManifestFile, MetricsLog.FileName, OptimLogFile, LocalEnergyFile, FlatnessFile, "result.json", CheckpointStore.FolderName];

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

    /// <summary>Takes the lock of the run directory <paramref name="path"/> (created if needed) for
    /// <paramref name="purpose"/>; a <see cref="DirectoryLockedException"/> names the process that holds it.</summary>
    public static DirectoryLock Lock(string path, string purpose) => DirectoryLock.Acquire(path, LockFile, purpose);

    /// <summary>
    /// Checks that a new run may start in <paramref name="path"/>: the folder does not exist, is empty (lock files and
    /// temporary files of dead processes aside), or — with <paramref name="overwrite"/> — holds a run. Otherwise a
    /// <see cref="ConfigException"/> (bad input) names the folder and the option that replaces a run.
    /// </summary>
    public static void CheckNewTarget(string path, bool overwrite)
    {
        var entries = Entries(path);
        if (entries.Count == 0) return;
        bool isRun = entries.Contains(ConfigFile);
        bool onlyRunFiles = entries.All(RunEntries.Contains);
        if (isRun && !overwrite)
            throw new ConfigException($"{path} already holds a run ({ConfigFile}); continue it with --resume {path}, or replace it with --overwrite.");
        if (!isRun && !onlyRunFiles)
            throw new ConfigException($"{path} is not empty and holds no run ({string.Join(", ", entries.Take(5))}{(entries.Count > 5 ? ", ..." : "")}); " +
                                      "choose another --out (--overwrite replaces only a run directory).");
        if (!isRun && !overwrite)
            throw new ConfigException($"{path} holds the files of an unfinished run without its {ConfigFile} ({string.Join(", ", entries)}); replace them with --overwrite, or choose another --out.");
    }

    // The entries of a folder that matter for a new run: not the lock files, not what dead processes left half written.
    private static List<string> Entries(string path)
    {
        if (!Directory.Exists(path)) return [];
        return Directory.EnumerateFileSystemEntries(path).Select(e => System.IO.Path.GetFileName(e))
            .Where(n => n != LockFile && n != LockFile + ".holder" && !(AtomicFile.TemporaryOwner(n) is int pid && !AtomicFile.IsRunning(pid)))
            .Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Starts a run in <paramref name="path"/> (created if needed) and stores its validated configuration. The folder
    /// must be new or empty; with <paramref name="overwrite"/> the files of a run in it are removed first
    /// (<see cref="RunEntries"/>; anything else in the folder is kept). Call it under the folder's <see cref="Lock"/>.
    /// </summary>
    public static TrainingRun Create(string path, RunConfig config, bool overwrite = false)
    {
        var run = new TrainingRun(path, config.Validate());
        CheckNewTarget(run.Path, overwrite);
        Directory.CreateDirectory(run.Path);
        AtomicFile.CleanOrphans(run.Path);
        // config.json first: a folder emptied half way is no longer taken for a run.
        foreach (var name in RunEntries)
        {
            string p = run.File(name);
            if (Directory.Exists(p)) Directory.Delete(p, recursive: true);
            else if (System.IO.File.Exists(p)) System.IO.File.Delete(p);
        }
        run.WriteFile(ConfigFile, config.ToJson());
        return run;
    }

    /// <summary>
    /// Opens the run in <paramref name="path"/> from its <c>config.json</c> and checks it against the identity the
    /// manifest recorded when the run started (<see cref="RunConfig.Identity"/>). A folder without a configuration is a
    /// <see cref="ConfigException"/> (bad input); an unreadable or edited one an <see cref="InvalidDataException"/>
    /// naming the file, the position or the field.
    /// </summary>
    public static TrainingRun Open(string path)
    {
        string config = System.IO.Path.Combine(path, ConfigFile);
        if (!Directory.Exists(path)) throw new ConfigException($"{path} does not exist (not a run directory).");
        if (!System.IO.File.Exists(config))
            throw new ConfigException($"{path} has no {ConfigFile} (not a run directory, or one written before runs stored their configuration).");
        var run = new TrainingRun(path, RunConfig.Read(config));
        run.CheckAgainstManifest();
        return run;
    }

    private void CheckAgainstManifest()
    {
        string manifest = File(ManifestFile);
        if (!System.IO.File.Exists(manifest)) return;
        var m = JsonText.Read(manifest);
        if (m?["config_identity_sha256"]?.GetValue<string>() is not string recorded) return;
        var identity = Identity;
        if (recorded == identity.Sha256) return;
        var diff = m["config"] is JsonObject c ? identity.Differences(RunConfig.IdentityOf(c).Config, "manifest") : [];
        throw new InvalidDataException($"{File(ConfigFile)} differs from the configuration recorded in {manifest} when the run started" +
            (diff.Count > 0 ? ": " + string.Join("; ", diff) : $" (config_identity_sha256 {identity.Sha256} vs {recorded})") +
            $". The file was edited after the run started; restore it (the manifest holds the original under \"config\"), or start a new run.");
    }

    /// <summary>The identity of the run (<see cref="RunConfig.Identity"/>).</summary>
    public RunIdentity Identity => Config.Identity();

    /// <summary>The run with <paramref name="epochs"/> and <paramref name="device"/> (when given) replacing the stored
    /// ones, which <c>config.json</c> then records: the fields a resume may change (<see cref="RunConfig.ResumableFields"/>).
    /// Call it under the folder's <see cref="Lock"/>.</summary>
    public TrainingRun Continue(int? epochs, DeviceChoice? device)
    {
        var training = Config.Training with { Epochs = epochs ?? Config.Training.Epochs, Device = device ?? Config.Training.Device };
        var config = (Config with { Training = training }).Validate();
        if (config != Config) WriteFile(ConfigFile, config.ToJson());
        return new TrainingRun(Path, config);
    }

    /// <summary>Starts the manifest of a command on this run: the command line, the configuration, its hash and its
    /// identity hash (<c>config_identity_sha256</c>, what a later resume checks <c>config.json</c> against).</summary>
    public Manifest StartManifest(string command, IReadOnlyList<string> commandLine) =>
        new(File(ManifestFile), command, commandLine,
            [new("config", JsonNode.Parse(Config.ToJson())), new("config_sha256", Config.Hash()), new("config_identity_sha256", Identity.Sha256)]);

    /// <summary>Whether <paramref name="path"/> holds a run (a <c>config.json</c>).</summary>
    public static bool Exists(string path) => System.IO.File.Exists(System.IO.Path.Combine(path, ConfigFile));
}
