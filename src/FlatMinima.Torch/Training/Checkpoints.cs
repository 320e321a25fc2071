using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FlatMinima.Storage;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Training;

/// <summary>
/// What a checkpoint must belong to: the hash of the run's configuration without the fields a resume may change
/// (<c>config_identity_sha256</c>), and that configuration as JSON, so that a mismatch can be named field by field.
/// </summary>
/// <param name="Sha256">SHA-256 (hex) of <paramref name="Config"/>'s compact JSON.</param>
/// <param name="Config">The configuration the hash covers.</param>
public sealed record RunIdentity(string Sha256, JsonObject Config)
{
    /// <summary>The fields in which <paramref name="other"/> differs from this configuration, as
    /// <c>section.key = value (other: value)</c>, in document order; empty when none does.</summary>
    public IReadOnlyList<string> Differences(JsonNode? other, string otherName)
    {
        var list = new List<string>();
        Diff(Config, other, "", otherName, list);
        return list;
    }

    private static void Diff(JsonNode? a, JsonNode? b, string path, string otherName, List<string> list)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var key in oa.Select(kv => kv.Key).Concat(ob.Select(kv => kv.Key)).Distinct())
                Diff(oa[key], ob[key], path.Length == 0 ? key : $"{path}.{key}", otherName, list);
            return;
        }
        string sa = a?.ToJsonString() ?? "(none)", sb = b?.ToJsonString() ?? "(none)";
        if (sa != sb) list.Add($"{path} = {sa} ({otherName}: {sb})");
    }
}

/// <summary>A checkpoint that fails verification: a fault of the run directory (exit code 1 in the CLI), whose message
/// names the file and what is wrong with it.</summary>
public sealed class CheckpointException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>What a verified checkpoint's <c>state.json</c> says.</summary>
/// <param name="Path">The checkpoint folder.</param>
/// <param name="Epoch">The epoch it ends.</param>
/// <param name="Algorithm">The algorithm that wrote it.</param>
/// <param name="Checksummed">False for a checkpoint written before checkpoints recorded checksums (not verifiable).</param>
public sealed record CheckpointInfo(string Path, int Epoch, string Algorithm, bool Checksummed);

/// <summary>
/// The checkpoints of a run: <c>checkpoints/epoch-NNNN/{model.bin, optimizer.bin, state.json}</c> (at least four
/// digits; epochs are ordered as numbers, so <c>epoch-10000</c> follows <c>epoch-9999</c>). A checkpoint is written
/// into a temporary folder and renamed into place, so a folder under its final name is complete; the <see cref="Keep"/>
/// newest are kept. <c>state.json</c>, written last, vouches for the checkpoint: its epoch, the algorithm, the size and
/// SHA-256 of <c>model.bin</c> and <c>optimizer.bin</c>, and the <see cref="RunIdentity"/> of the configuration.
/// <see cref="Verify"/> checks all of it and <see cref="Load"/> refuses weights that are not finite, so a truncated,
/// corrupted, edited or diverged checkpoint is an error naming the file instead of other numbers; weights that are
/// not finite are never saved.
/// </summary>
public sealed class CheckpointStore(string directory)
{
    /// <summary>The folder name inside a run directory.</summary>
    public const string FolderName = "checkpoints";
    /// <summary>Checkpoints kept (the newest ones).</summary>
    public const int Keep = 2;
    public const string ModelFile = "model.bin";
    public const string OptimizerFile = "optimizer.bin";
    public const string StateFile = "state.json";

    public string Directory { get; } = directory;

    /// <summary>The folder name of the checkpoint of <paramref name="epoch"/>.</summary>
    public static string FolderOf(int epoch) => $"epoch-{epoch.ToString("D4", CultureInfo.InvariantCulture)}";

    /// <summary>The epoch in a checkpoint folder's name (<c>epoch-NNNN</c>), or null for another name.</summary>
    public static int? EpochOf(string folder)
    {
        string name = System.IO.Path.GetFileName(folder.TrimEnd('/'));
        return name.StartsWith("epoch-", StringComparison.Ordinal) && name.Length > 6 && name[6..].All(char.IsAsciiDigit)
               && int.TryParse(name[6..], NumberStyles.None, CultureInfo.InvariantCulture, out int e) ? e : null;
    }

    /// <summary>Every checkpoint folder (<c>epoch-N</c>), oldest first by epoch number.</summary>
    public IReadOnlyList<(int Epoch, string Path)> List()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        return System.IO.Directory.GetDirectories(Directory, "epoch-*")
            .Select(d => (Epoch: EpochOf(d), Path: d)).Where(x => x.Epoch is not null)
            .Select(x => (x.Epoch!.Value, x.Path)).OrderBy(x => x.Item1).ToList();
    }

    /// <summary>The newest checkpoint folder by epoch number, or null. It is not verified here.</summary>
    public string? Latest() => List() is { Count: > 0 } l ? l[^1].Path : null;

    /// <summary>
    /// Writes the checkpoint of <paramref name="epoch"/>; returns its folder. Weights or buffers that are not finite are
    /// refused (a <see cref="CheckpointException"/>; the trainer reports them as a divergence before it gets here). A
    /// write that fails leaves no temporary folder behind.
    /// </summary>
    public string Save(int epoch, nn.Module<Tensor, Tensor> model, ITrainingAlgorithm algorithm, RunIdentity? identity = null)
    {
        if (NonFinite(model) is string bad)
            throw new CheckpointException($"refusing to checkpoint epoch {epoch}: {bad} is not finite (NaN or infinite).");
        System.IO.Directory.CreateDirectory(Directory);
        string final = System.IO.Path.Combine(Directory, FolderOf(epoch));
        string tmp = System.IO.Path.Combine(Directory, $".{FolderOf(epoch)}.{Environment.ProcessId}.tmp");
        try
        {
            if (System.IO.Directory.Exists(tmp)) System.IO.Directory.Delete(tmp, true);
            System.IO.Directory.CreateDirectory(tmp);
            string model_ = System.IO.Path.Combine(tmp, ModelFile), opt = System.IO.Path.Combine(tmp, OptimizerFile);
            model.save(model_);
            algorithm.Save(opt);
            var state = new JsonObject
            {
                ["epoch"] = epoch,
                ["algorithm"] = algorithm.Name,
                ["files"] = new JsonObject { [ModelFile] = Describe(model_), [OptimizerFile] = Describe(opt) },
            };
            if (identity is not null)
            {
                state["config_identity_sha256"] = identity.Sha256;
                state["config"] = identity.Config.DeepClone();
            }
            using (var fs = new FileStream(System.IO.Path.Combine(tmp, StateFile), FileMode.CreateNew, FileAccess.Write))
            {
                fs.Write(System.Text.Encoding.UTF8.GetBytes(state.ToJsonString(Indented)));
                fs.Flush(flushToDisk: true);
            }
            if (System.IO.Directory.Exists(final)) System.IO.Directory.Delete(final, true);
            System.IO.Directory.Move(tmp, final);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ExternalException)
        {
            try { if (System.IO.Directory.Exists(tmp)) System.IO.Directory.Delete(tmp, true); }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException) { }
            throw new IOException($"cannot write the checkpoint {final}: {AtomicFile.Reason(e)}", e);
        }
        foreach (var (_, old) in List().Where(c => c.Epoch < epoch).SkipLast(Keep - 1)) System.IO.Directory.Delete(old, true);
        return final;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static JsonObject Describe(string file) => new() { ["bytes"] = new FileInfo(file).Length, ["sha256"] = Sha256(file) };

    /// <summary>SHA-256 (hex) of a file.</summary>
    public static string Sha256(string file)
    {
        using var fs = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(fs));
    }

    /// <summary>
    /// Verifies <paramref name="checkpoint"/>: <c>state.json</c> is readable, its epoch is the folder's, both files exist
    /// with the recorded size and SHA-256, and (when <paramref name="identity"/> is given and the checkpoint records
    /// one) it was written for the same configuration. Every failure is a <see cref="CheckpointException"/> naming the
    /// file and what differs. A checkpoint without checksums (written by an earlier version) passes with
    /// <see cref="CheckpointInfo.Checksummed"/> false.
    /// </summary>
    public static CheckpointInfo Verify(string checkpoint, RunIdentity? identity = null, string configName = "the configuration")
    {
        string statePath = System.IO.Path.Combine(checkpoint, StateFile);
        if (!File.Exists(statePath))
            throw new CheckpointException($"{statePath} is missing: {checkpoint} is not a complete checkpoint. Delete that folder to resume from an earlier checkpoint.");
        JsonNode? state;
        try { state = JsonText.Read(statePath); }
        catch (InvalidDataException e) { throw new CheckpointException(e.Message, e); }
        int epoch;
        string algorithm;
        try
        {
            epoch = state!["epoch"]!.GetValue<int>();
            algorithm = state["algorithm"]!.GetValue<string>();
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new CheckpointException($"{statePath}: not a checkpoint state (needs an integer \"epoch\" and an \"algorithm\").", e);
        }
        if (EpochOf(checkpoint) is int folderEpoch && folderEpoch != epoch)
            throw new CheckpointException($"{statePath} says epoch {epoch}, but its folder is {FolderOf(folderEpoch)}: the checkpoint was edited or moved; it is not used.");
        if (state["files"] is not JsonObject files) return new CheckpointInfo(checkpoint, epoch, algorithm, Checksummed: false);
        foreach (var name in new[] { ModelFile, OptimizerFile })
        {
            string file = System.IO.Path.Combine(checkpoint, name);
            if (!File.Exists(file)) throw new CheckpointException($"{file} is missing (recorded in {statePath}).");
            long bytes = new FileInfo(file).Length;
            long? recorded = files[name]?["bytes"]?.GetValue<long>();
            if (recorded is long r && r != bytes)
                throw new CheckpointException($"{file} has {bytes} bytes, {statePath} records {r}: the file is truncated or was replaced.");
            string? sha = files[name]?["sha256"]?.GetValue<string>();
            if (sha is null) throw new CheckpointException($"{statePath} records no checksum of {name}.");
            if (Sha256(file) != sha)
                throw new CheckpointException($"{file}: SHA-256 differs from the one recorded in {statePath}: the file is corrupt or was modified.");
        }
        if (identity is not null && state["config_identity_sha256"]?.GetValue<string>() is string hash && hash != identity.Sha256)
        {
            var diff = identity.Differences(state["config"], "checkpoint");
            throw new CheckpointException($"{checkpoint} was written for another configuration than {configName}" +
                (diff.Count > 0 ? ": " + string.Join("; ", diff) : $" (config_identity_sha256 {hash} vs {identity.Sha256})") +
                ". Restore the configuration, or train the run again (--overwrite).");
        }
        return new CheckpointInfo(checkpoint, epoch, algorithm, Checksummed: true);
    }

    /// <summary>Verifies <paramref name="checkpoint"/> (<see cref="Verify"/>), restores <paramref name="model"/> from it,
    /// then builds the algorithm with <paramref name="createAlgorithm"/> (after the weights are in place) and restores
    /// its state; returns what the checkpoint says.</summary>
    public static CheckpointInfo Load(string checkpoint, nn.Module<Tensor, Tensor> model, Func<ITrainingAlgorithm> createAlgorithm, RunIdentity? identity = null, string configName = "the configuration")
    {
        var info = Verify(checkpoint, identity, configName);
        LoadVerifiedWeights(model, checkpoint);
        string opt = System.IO.Path.Combine(checkpoint, OptimizerFile);
        var algorithm = createAlgorithm();
        if (algorithm.Name != info.Algorithm)
            throw new CheckpointException($"{System.IO.Path.Combine(checkpoint, StateFile)}: written by {info.Algorithm}, but the run trains with {algorithm.Name}.");
        try { algorithm.Load(opt); }
        catch (Exception e) when (e is IOException or InvalidDataException or ExternalException or ArgumentException)
        {
            throw new CheckpointException($"{opt} cannot be read as the state of {algorithm.Name}: {e.Message}", e);
        }
        return info;
    }

    /// <summary>Verifies <paramref name="checkpoint"/> and loads its weights into <paramref name="model"/>; weights that
    /// are not finite are refused.</summary>
    public static CheckpointInfo LoadWeights(nn.Module<Tensor, Tensor> model, string checkpoint, RunIdentity? identity = null, string configName = "the configuration")
    {
        var info = Verify(checkpoint, identity, configName);
        LoadVerifiedWeights(model, checkpoint);
        return info;
    }

    private static void LoadVerifiedWeights(nn.Module<Tensor, Tensor> model, string checkpoint)
    {
        string file = System.IO.Path.Combine(checkpoint, ModelFile);
        try { model.load(file); }
        catch (Exception e) when (e is IOException or InvalidDataException or ExternalException or ArgumentException or InvalidOperationException or EndOfStreamException)
        {
            throw new CheckpointException($"{file} cannot be read as the model's weights: {e.Message}", e);
        }
        if (NonFinite(model) is string bad)
            throw new CheckpointException($"{file}: {bad} is not finite (NaN or infinite): a diverged model is not a usable checkpoint.");
    }

    /// <summary>The name of the first parameter or floating-point buffer of <paramref name="model"/> with a NaN or
    /// infinite entry, or null when all are finite.</summary>
    public static string? NonFinite(nn.Module<Tensor, Tensor> model)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (name, t) in model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(model.named_buffers()))
        {
            if (!t.is_floating_point()) continue;
            if (!isfinite(t).all().item<bool>()) return name;
        }
        return null;
    }
}

/// <summary>
/// <c>metrics.csv</c>, one row per epoch (<see cref="EpochMetrics"/>): <c>epoch, train_loss, train_error, test_loss,
/// test_error, lr, time_s, images_per_s</c>. Rows are appended as epochs end (<see cref="EpochLog"/>); a resume cuts the
/// rows after its checkpoint and checks that every earlier epoch is there.
/// </summary>
public sealed class MetricsLog(string path)
{
    public const string FileName = "metrics.csv";
    public const string Header = "epoch,train_loss,train_error,test_loss,test_error,lr,time_s,images_per_s";

    public string Path { get; } = path;

    /// <summary>The file as an append-only history.</summary>
    public EpochLog Log => new(Path, Header);

    /// <summary>Appends the row of one epoch.</summary>
    public void Append(EpochMetrics r) => Log.Append(Row(r));

    /// <summary>A row as written.</summary>
    public static string Row(EpochMetrics r) =>
        string.Join(',', new object[] { r.Epoch, r.TrainLoss, r.TrainError, r.TestLoss, r.TestError, r.Lr, r.Seconds, r.ImagesPerSecond }
            .Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)));

    /// <summary>The rows of the file (none when it does not exist).</summary>
    public List<EpochMetrics> Read() => Read(Path);

    /// <summary>Reads a <c>metrics.csv</c>; a malformed line is an error naming the file and the line.</summary>
    public static List<EpochMetrics> Read(string path)
    {
        var rows = new List<EpochMetrics>();
        if (!File.Exists(path)) return rows;
        int line = 1;
        foreach (var text in File.ReadLines(path).Skip(1))
        {
            line++;
            if (text.Length == 0) continue;
            var cells = text.Split(',');
            var f = new double[cells.Length];
            for (int i = 0; i < cells.Length; i++)
                if (!double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out f[i]))
                    throw new InvalidDataException($"{path}: line {line}: '{cells[i]}' is not a number.");
            if (f.Length < 7) throw new InvalidDataException($"{path}: line {line} has {f.Length} fields, expected 8.");
            rows.Add(new EpochMetrics((int)f[0], f[1], f[2], f[3], f[4], f[5], f[6], f.Length > 7 ? f[7] : double.NaN));
        }
        return rows;
    }
}
