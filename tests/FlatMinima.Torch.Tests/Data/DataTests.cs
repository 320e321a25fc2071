using System.Buffers.Binary;
using System.IO.Compression;
using FlatMinima.Mixture;
using FlatMinima.Torch.Data;

namespace FlatMinima.Torch.Tests.Data;

public class DataTests
{
    public DataTests() => TestRuntime.Init();

    internal static byte[] Idx(byte[] data, params int[] dims)
    {
        var b = new byte[4 + 4 * dims.Length + data.Length];
        b[2] = 0x08; b[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(b, 4 + 4 * dims.Length);
        return b;
    }

    internal static byte[] Gzip(byte[] b)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(b);
        return ms.ToArray();
    }

    /// <summary>Writes a tiny MNIST-layout data set (n images of 4×5 pixels) into dir; returns the pixels and labels.</summary>
    internal static (byte[] Px, byte[] Lab) WriteMnist(string dir, int n, bool gzip, string prefix = "train")
    {
        var rng = new Random(n);
        var px = new byte[n * 20]; rng.NextBytes(px);
        var lab = Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray();
        byte[] img = Idx(px, n, 4, 5), l = Idx(lab, n);
        string ext = gzip ? ".gz" : "";
        File.WriteAllBytes(Path.Combine(dir, $"{prefix}-images-idx3-ubyte{ext}"), gzip ? Gzip(img) : img);
        File.WriteAllBytes(Path.Combine(dir, $"{prefix}-labels-idx1-ubyte{ext}"), gzip ? Gzip(l) : l);
        return (px, lab);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IdxRoundTripPlainAndGzip(bool gzip)
    {
        using var d = new TempDir();
        var (px, lab) = WriteMnist(d.Path, 12, gzip);
        WriteMnist(d.Path, 7, gzip, "t10k");
        using var split = IdxReader.LoadMnistLike("mnist", d.Path);
        Assert.Equal(12, split.Train.Count);
        Assert.Equal(7, split.Test.Count);
        Assert.Equal([1L, 4, 5], split.Train.InputShape);
        Assert.Equal(lab.Select(v => (long)v).ToArray(), split.Train.Y.data<long>().ToArray());
        // Undo the normalisation and compare pixels.
        float mean = Convert.ToSingle(split.Info["normalise_mean"]), std = Convert.ToSingle(split.Info["normalise_std"]);
        var x = split.Train.X.data<float>().ToArray();
        for (int i = 0; i < px.Length; i++) Assert.Equal(px[i] / 255f, x[i] * std + mean, 4);
    }

    [Fact]
    public void TruncatedIdxNamesFileAndOffset()
    {
        using var d = new TempDir();
        var full = Idx(new byte[60], 3, 4, 5);
        File.WriteAllBytes(d["short"], full[..50]);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(d["short"]));
        Assert.Contains(d["short"], e.Message);
        Assert.Contains("offset 50", e.Message);
        File.WriteAllBytes(d["hdr"], full[..9]);
        e = Assert.Throws<InvalidDataException>(() => IdxReader.Read(d["hdr"]));
        Assert.Contains("offset 9", e.Message);
    }

    [Fact]
    public void CorruptIdxIsRejected()
    {
        using var d = new TempDir();
        var bad = Idx(new byte[60], 3, 4, 5); bad[2] = 0x0D; // float elements: unsupported
        File.WriteAllBytes(d["type"], bad);
        Assert.Contains("offset 2", Assert.Throws<InvalidDataException>(() => IdxReader.Read(d["type"])).Message);
        var magic = Idx(new byte[60], 3, 4, 5); magic[0] = 7;
        File.WriteAllBytes(d["magic"], magic);
        Assert.Contains("offset 0", Assert.Throws<InvalidDataException>(() => IdxReader.Read(d["magic"])).Message);
        var gz = Gzip(Idx(new byte[600], 30, 4, 5));
        File.WriteAllBytes(d["cut.gz"], gz[..(gz.Length / 2)]);
        Assert.Contains(d["cut.gz"], Assert.Throws<InvalidDataException>(() => IdxReader.Read(d["cut.gz"])).Message);
        // A label outside 0..9 is an error naming the label file and the byte.
        WriteMnist(d.Path, 5, false); WriteMnist(d.Path, 5, false, "t10k");
        var l = Idx([1, 2, 42, 3, 4], 5);
        File.WriteAllBytes(d["train-labels-idx1-ubyte"], l);
        var e = Assert.Throws<InvalidDataException>(() => IdxReader.LoadMnistLike("mnist", d.Path));
        Assert.Contains("train-labels-idx1-ubyte", e.Message);
        Assert.Contains("offset 10", e.Message);
    }

    [Fact]
    public void MissingDataNamesWhereItLooked()
    {
        using var d = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => IdxReader.LoadMnistLike("fashion-mnist", d.Path));
        Assert.Contains(d.Path, e.Message);
    }

    [Fact]
    public void Cifar10BatchesAndBadFiles()
    {
        using var d = new TempDir();
        byte[] Batch(int n, int seed)
        {
            var b = new byte[n * Cifar10Reader.RecordSize];
            new Random(seed).NextBytes(b);
            for (int i = 0; i < n; i++) b[i * Cifar10Reader.RecordSize] = (byte)((i + seed) % 10);
            return b;
        }
        File.WriteAllBytes(d["data_batch_1.bin"], Batch(3, 1));
        File.WriteAllBytes(d["data_batch_2.bin"], Batch(2, 2));
        File.WriteAllBytes(d["test_batch.bin"], Batch(4, 3));
        using (var s = Cifar10Reader.Load(d.Path))
        {
            Assert.Equal(5, s.Train.Count);
            Assert.Equal(4, s.Test.Count);
            Assert.Equal([3L, 32, 32], s.Train.InputShape);
            Assert.Equal([1L, 2, 3, 2, 3], s.Train.Y.data<long>().ToArray());
            // First pixel of the first record, red channel, normalised.
            byte p0 = Batch(3, 1)[1];
            Assert.Equal((p0 / 255f - 0.4914f) / 0.2470f, s.Train.X[0, 0, 0, 0].item<float>(), 4);
        }
        File.WriteAllBytes(d["data_batch_2.bin"], Batch(2, 2)[..(Cifar10Reader.RecordSize + 100)]);
        var e = Assert.Throws<InvalidDataException>(() => Cifar10Reader.Load(d.Path));
        Assert.Contains("data_batch_2.bin", e.Message);
        Assert.Contains($"offset {Cifar10Reader.RecordSize}", e.Message);
        var badLabel = Batch(2, 2); badLabel[Cifar10Reader.RecordSize] = 200;
        File.WriteAllBytes(d["data_batch_2.bin"], badLabel);
        e = Assert.Throws<InvalidDataException>(() => Cifar10Reader.Load(d.Path));
        Assert.Contains($"offset {Cifar10Reader.RecordSize}", e.Message);
    }

    [Fact]
    public void GmmTrainingSetIsCoreSampleWithSameSeed()
    {
        var spec = new MixtureSpec(new MixtureModel(2, 1, 0.5), N: 20, Seed: 5);
        var core = MixtureSample.Sample(spec);
        using var s = GmmData.Create(spec, testSize: 30);
        Assert.Equal(core.P, s.Train.Count);
        Assert.Equal(30, s.Test.Count);
        var x = s.Train.X.data<float>().ToArray();
        for (int i = 0; i < x.Length; i++) Assert.Equal((float)core.X[i], x[i]);
        Assert.Equal(core.Y.Select(v => v > 0 ? 1L : 0L).ToArray(), s.Train.Y.data<long>().ToArray());
        using var again = GmmData.Create(spec, testSize: 30);
        Assert.True(again.Test.X.equal(s.Test.X).all().item<bool>());
    }

    [Fact]
    public void GmmTestSetSharesTheCentroid()
    {
        // The class means of the test set must point along Core's v (same centroid as training).
        var spec = new MixtureSpec(new MixtureModel(1, 0.5, 0.5), N: 50, Seed: 3);
        var v = MixtureSample.Sample(spec).V;
        using var s = GmmData.Create(spec, testSize: 4000);
        var x = s.Test.X.data<float>().ToArray();
        var y = s.Test.Y.data<long>().ToArray();
        var m = new double[50];
        for (int mu = 0; mu < y.Length; mu++) for (int j = 0; j < 50; j++) m[j] += (y[mu] == 1 ? 1 : -1) * x[mu * 50 + j] / y.Length;
        double cos = m.Zip(v).Sum(t => t.First * t.Second) / Math.Sqrt(m.Sum(t => t * t) * v.Sum(t => t * t));
        Assert.True(cos > 0.9, $"cosine between test class-mean difference and v = {cos}");
    }

    [Fact]
    public void BayesOptimalErrorMatchesBalancedClosedForm()
    {
        // docs/theory.md#e3-balanced: ε_BO = ½ erfc(√(α / (2Δ(α+Δ)))).
        double a = 2, d = 1;
        double expected = 0.5 * MathNet.Numerics.SpecialFunctions.Erfc(Math.Sqrt(a / (2 * d * (a + d))));
        Assert.Equal(expected, GmmData.BayesOptimalError(new MixtureModel(a, d, 0.5)), 12);
    }
}
