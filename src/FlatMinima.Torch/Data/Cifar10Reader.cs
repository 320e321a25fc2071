using static TorchSharp.torch;

namespace FlatMinima.Torch.Data;

/// <summary>
/// Reader of the CIFAR-10 binary batches (<c>data_batch_1.bin</c> … <c>data_batch_5.bin</c>, <c>test_batch.bin</c>):
/// records of 1 label byte and 3072 pixel bytes (3 × 32 × 32, channel-major). A file whose length is not a whole number
/// of records, or a label outside 0..9, is an error naming the file and the offset.
/// </summary>
public static class Cifar10Reader
{
    public const int RecordSize = 1 + 3 * 32 * 32;
    private static readonly float[] Mean = [0.4914f, 0.4822f, 0.4465f];
    private static readonly float[] Std = [0.2470f, 0.2435f, 0.2616f];

    /// <summary>Reads one batch file into images (N×3×32×32 bytes) and labels.</summary>
    public static (byte[] Pixels, long[] Labels) ReadBatch(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        if (b.Length == 0 || b.Length % RecordSize != 0)
        {
            long whole = b.Length / RecordSize * RecordSize;
            throw new InvalidDataException($"{path}: truncated or corrupt at offset {whole}: {b.Length} bytes is not a whole number of {RecordSize}-byte records.");
        }
        int n = b.Length / RecordSize;
        var pixels = new byte[n * (RecordSize - 1)];
        var labels = new long[n];
        for (int i = 0; i < n; i++)
        {
            byte l = b[i * RecordSize];
            if (l > 9) throw new InvalidDataException($"{path}: label {l} out of range 0..9 at offset {(long)i * RecordSize}.");
            labels[i] = l;
            Buffer.BlockCopy(b, i * RecordSize + 1, pixels, i * (RecordSize - 1), RecordSize - 1);
        }
        return (pixels, labels);
    }

    /// <summary>Loads the training batches and the test batch from <paramref name="dir"/> (also its
    /// <c>cifar-10-batches-bin</c> subfolder), normalised per channel with the usual CIFAR-10 statistics.</summary>
    public static DataSplit Load(string dir, int? trainLimit = null, int? testLimit = null)
    {
        string d = Directory.Exists(Path.Combine(dir, "cifar-10-batches-bin")) ? Path.Combine(dir, "cifar-10-batches-bin") : dir;
        var trainFiles = Enumerable.Range(1, 5).Select(i => Path.Combine(d, $"data_batch_{i}.bin")).Where(File.Exists).ToList();
        string testFile = Path.Combine(d, "test_batch.bin");
        if (trainFiles.Count == 0 || !File.Exists(testFile))
            throw new FileNotFoundException($"cifar10: expected data_batch_1.bin … data_batch_5.bin and test_batch.bin in {d} (or {Path.Combine(dir, "cifar-10-batches-bin")}).");
        var train = Build(trainFiles, trainLimit);
        var test = Build([testFile], testLimit);
        var info = new Dictionary<string, object?> { ["name"] = "cifar10", ["dir"] = Path.GetFullPath(d), ["train"] = train.Count, ["test"] = test.Count, ["train_files"] = trainFiles.Count };
        return new DataSplit(train, test, info);
    }

    private static TensorDataSet Build(List<string> files, int? limit)
    {
        var px = new List<byte>();
        var lab = new List<long>();
        foreach (var f in files)
        {
            var (p, l) = ReadBatch(f);
            px.AddRange(p); lab.AddRange(l);
        }
        int n = Math.Min(lab.Count, limit ?? int.MaxValue);
        using var u8 = tensor(px.GetRange(0, n * (RecordSize - 1)).ToArray(), [n, 3, 32, 32], ScalarType.Byte);
        var x = u8.to_type(ScalarType.Float32).div_(255f);
        using (var m = tensor(Mean).view(1, 3, 1, 1)) x.sub_(m);
        using (var s = tensor(Std).view(1, 3, 1, 1)) x.div_(s);
        return new TensorDataSet("cifar10", x, tensor(lab.GetRange(0, n).ToArray(), [n], ScalarType.Int64), 10);
    }
}
