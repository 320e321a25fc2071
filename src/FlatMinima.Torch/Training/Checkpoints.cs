using System.Globalization;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Training;

/// <summary>
/// The checkpoints of a run: <c>checkpoints/epoch-NNNN/{model.bin, optimizer.bin, state.json}</c>. A checkpoint is
/// written into a temporary folder and renamed into place, so a folder under its final name is complete; the
/// <see cref="Keep"/> newest are kept. <c>state.json</c> holds the epoch and the algorithm's name; it is the place for
/// whatever a checkpoint must vouch for about itself (checksums of the two binary files, the hash of the run's
/// configuration), and <see cref="Load"/> the place to verify it.
/// </summary>
public sealed class CheckpointStore(string directory)
{
    /// <summary>The folder name inside a run directory.</summary>
    public const string FolderName = "checkpoints";
    /// <summary>Checkpoints kept (the newest ones).</summary>
    public const int Keep = 2;

    public string Directory { get; } = directory;

    /// <summary>The newest complete checkpoint folder, or null.</summary>
    public string? Latest()
    {
        if (!System.IO.Directory.Exists(Directory)) return null;
        return System.IO.Directory.GetDirectories(Directory, "epoch-*").Where(d => File.Exists(Path.Combine(d, "state.json"))).OrderDescending().FirstOrDefault();
    }

    /// <summary>Writes the checkpoint of <paramref name="epoch"/>; returns its folder.</summary>
    public string Save(int epoch, nn.Module<Tensor, Tensor> model, ITrainingAlgorithm algorithm)
    {
        System.IO.Directory.CreateDirectory(Directory);
        string final = Path.Combine(Directory, $"epoch-{epoch:D4}");
        string tmp = Path.Combine(Directory, $".epoch-{epoch:D4}.{Environment.ProcessId}.tmp");
        if (System.IO.Directory.Exists(tmp)) System.IO.Directory.Delete(tmp, true);
        System.IO.Directory.CreateDirectory(tmp);
        model.save(Path.Combine(tmp, "model.bin"));
        algorithm.Save(Path.Combine(tmp, "optimizer.bin"));
        File.WriteAllText(Path.Combine(tmp, "state.json"), JsonSerializer.Serialize(new Dictionary<string, object> { ["epoch"] = epoch, ["algorithm"] = algorithm.Name }));
        if (System.IO.Directory.Exists(final)) System.IO.Directory.Delete(final, true);
        System.IO.Directory.Move(tmp, final);
        foreach (var old in System.IO.Directory.GetDirectories(Directory, "epoch-*").OrderDescending().Skip(Keep)) System.IO.Directory.Delete(old, true);
        return final;
    }

    /// <summary>Restores <paramref name="model"/> from <paramref name="checkpoint"/>, then builds the algorithm with
    /// <paramref name="createAlgorithm"/> (after the weights are in place) and restores its state; returns the epoch.</summary>
    public int Load(string checkpoint, nn.Module<Tensor, Tensor> model, Func<ITrainingAlgorithm> createAlgorithm)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(checkpoint, "state.json")));
        int epoch = doc.RootElement.GetProperty("epoch").GetInt32();
        LoadWeights(model, checkpoint);
        createAlgorithm().Load(Path.Combine(checkpoint, "optimizer.bin"));
        return epoch;
    }

    /// <summary>Loads a model's weights from a checkpoint folder.</summary>
    public static void LoadWeights(nn.Module<Tensor, Tensor> model, string checkpoint) => model.load(Path.Combine(checkpoint, "model.bin"));
}

/// <summary>
/// <c>metrics.csv</c>, one row per epoch (<see cref="EpochMetrics"/>): <c>epoch, train_loss, train_error, test_loss,
/// test_error, lr, time_s, images_per_s</c>. <see cref="Write"/> replaces the file atomically with the rows given.
/// </summary>
public sealed class MetricsLog(string path)
{
    public const string FileName = "metrics.csv";
    private const string Header = "epoch,train_loss,train_error,test_loss,test_error,lr,time_s,images_per_s";

    public string Path { get; } = path;

    public void Write(IReadOnlyList<EpochMetrics> rows)
    {
        var sb = new System.Text.StringBuilder(Header).Append('\n');
        foreach (var r in rows)
            sb.Append(string.Join(',', new object[] { r.Epoch, r.TrainLoss, r.TrainError, r.TestLoss, r.TestError, r.Lr, r.Seconds, r.ImagesPerSecond }
                .Select(v => Convert.ToString(v, CultureInfo.InvariantCulture)))).Append('\n');
        FlatMinima.Storage.AtomicFile.WriteAllText(Path, sb.ToString());
    }

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
