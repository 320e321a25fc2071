using System.Buffers.Binary;
using System.IO.Compression;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Data;

/// <summary>
/// Reader of the IDX format of MNIST and Fashion-MNIST (gzip-compressed or plain): a magic number
/// <c>0x0000 TT DD</c> (TT = 0x08 unsigned bytes, DD = number of dimensions), DD big-endian 32-bit sizes, then the
/// data. A truncated or corrupt file is an <see cref="InvalidDataException"/> naming the file and the offset.
/// </summary>
public static class IdxReader
{
    /// <summary>Where the Debian package <c>dataset-fashion-mnist</c> installs its files.</summary>
    public const string DebianFashionMnistDir = "/usr/share/datasets/fashion-mnist";

    /// <summary>An IDX array: its dimensions and its bytes.</summary>
    public sealed record IdxArray(int[] Dims, byte[] Data);

    /// <summary>Reads a whole IDX file (decompressing when it starts with the gzip magic).</summary>
    public static IdxArray Read(string path)
    {
        byte[] raw = File.ReadAllBytes(path);
        byte[] bytes = raw;
        if (raw.Length >= 2 && raw[0] == 0x1f && raw[1] == 0x8b)
        {
            try
            {
                using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
                using var ms = new MemoryStream();
                gz.CopyTo(ms);
                bytes = ms.ToArray();
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
            {
                throw new InvalidDataException($"{path}: corrupt or truncated gzip stream (compressed size {raw.Length} bytes): {e.Message}");
            }
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses an uncompressed IDX image in memory; <paramref name="path"/> names it in errors.</summary>
    public static IdxArray Parse(byte[] b, string path)
    {
        if (b.Length < 4) throw new InvalidDataException($"{path}: truncated at offset {b.Length}: the 4-byte IDX magic number is incomplete.");
        if (b[0] != 0 || b[1] != 0) throw new InvalidDataException($"{path}: bad IDX magic at offset 0: expected two zero bytes, got 0x{b[0]:x2}{b[1]:x2}.");
        if (b[2] != 0x08) throw new InvalidDataException($"{path}: unsupported IDX element type 0x{b[2]:x2} at offset 2 (only 0x08, unsigned byte).");
        int nd = b[3];
        if (nd < 1 || nd > 4) throw new InvalidDataException($"{path}: bad IDX dimension count {nd} at offset 3.");
        int header = 4 + 4 * nd;
        if (b.Length < header) throw new InvalidDataException($"{path}: truncated at offset {b.Length}: the header needs {header} bytes.");
        var dims = new int[nd];
        long total = 1;
        for (int i = 0; i < nd; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(4 + 4 * i));
            if (d == 0 || d > int.MaxValue) throw new InvalidDataException($"{path}: bad size {d} of dimension {i} at offset {4 + 4 * i}.");
            dims[i] = (int)d; total *= d;
        }
        if (b.Length < header + total)
            throw new InvalidDataException($"{path}: truncated at offset {b.Length}: dimensions [{string.Join(", ", dims)}] need {header + total} bytes.");
        if (b.Length > header + total)
            throw new InvalidDataException($"{path}: {b.Length - header - total} unexpected trailing bytes from offset {header + total}.");
        return new IdxArray(dims, b[header..]);
    }

    /// <summary>
    /// Loads MNIST-layout files (<c>train-images-idx3-ubyte[.gz]</c>, ...) from <paramref name="dir"/>, or from the Debian
    /// Fashion-MNIST folder when <paramref name="dir"/> is null. Images become float32 N×1×28×28 in [0, 1], normalised
    /// by the training set's mean and standard deviation.
    /// </summary>
    public static DataSplit LoadMnistLike(string name, string? dir, int? trainLimit = null, int? testLimit = null)
    {
        var searched = new List<string>();
        string? found = null;
        foreach (var d in dir is not null ? [dir] : new[] { DebianFashionMnistDir })
        {
            searched.Add(d);
            if (FindFile(d, "train-images-idx3-ubyte") is not null) { found = d; break; }
        }
        if (found is null)
            throw new FileNotFoundException($"{name}: no train-images-idx3-ubyte[.gz] found; searched {string.Join(", ", searched)}. " +
                "Install the Debian package dataset-fashion-mnist or pass --data-dir.");
        var (trX, trY) = LoadPair(found, "train", trainLimit);
        var (teX, teY) = LoadPair(found, "t10k", testLimit);
        var (mean, std) = (trX.mean().item<float>(), trX.std().item<float>());
        trX.sub_(mean).div_(std); teX.sub_(mean).div_(std);
        var info = new Dictionary<string, object?> { ["name"] = name, ["dir"] = Path.GetFullPath(found), ["train"] = trY.shape[0], ["test"] = teY.shape[0], ["normalise_mean"] = mean, ["normalise_std"] = std };
        return new DataSplit(new TensorDataSet(name, trX, trY, 10), new TensorDataSet(name, teX, teY, 10), info);
    }

    private static string? FindFile(string dir, string stem)
    {
        foreach (var n in new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx") + ".gz", stem.Replace("-idx", ".idx") })
            if (File.Exists(Path.Combine(dir, n))) return Path.Combine(dir, n);
        return null;
    }

    private static (Tensor X, Tensor Y) LoadPair(string dir, string prefix, int? limit)
    {
        string img = FindFile(dir, $"{prefix}-images-idx3-ubyte") ?? throw new FileNotFoundException($"{dir}: missing {prefix}-images-idx3-ubyte[.gz].");
        string lab = FindFile(dir, $"{prefix}-labels-idx1-ubyte") ?? throw new FileNotFoundException($"{dir}: missing {prefix}-labels-idx1-ubyte[.gz].");
        var images = Read(img);
        var labels = Read(lab);
        if (images.Dims.Length != 3) throw new InvalidDataException($"{img}: expected 3 dimensions (N, rows, cols) at offset 3, got {images.Dims.Length}.");
        if (labels.Dims.Length != 1) throw new InvalidDataException($"{lab}: expected 1 dimension at offset 3, got {labels.Dims.Length}.");
        if (labels.Dims[0] != images.Dims[0]) throw new InvalidDataException($"{lab}: {labels.Dims[0]} labels (offset 4) but {img} has {images.Dims[0]} images.");
        for (int i = 0; i < labels.Data.Length; i++)
            if (labels.Data[i] > 9) throw new InvalidDataException($"{lab}: label {labels.Data[i]} out of range 0..9 at offset {8 + i}.");
        int n = Math.Min(images.Dims[0], limit ?? int.MaxValue), r = images.Dims[1], c = images.Dims[2];
        using var u8 = tensor(images.Data.AsSpan(0, n * r * c).ToArray(), [n, 1, r, c], ScalarType.Byte);
        var x = u8.to_type(ScalarType.Float32).div_(255f);
        var y = tensor(labels.Data.AsSpan(0, n).ToArray().Select(v => (long)v).ToArray(), [n], ScalarType.Int64);
        return (x, y);
    }
}
