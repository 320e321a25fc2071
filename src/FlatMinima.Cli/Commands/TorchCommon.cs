using System.Text.Json;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Mixture;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Models;
using FlatMinima.Torch.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Cli.Commands;

/// <summary>Options shared by the TorchSharp commands: device, data set, model.</summary>
internal static class TorchCommon
{
    public static readonly string[] DataSets = ["gmm", "fashion-mnist", "mnist", "cifar10"];

    public const string DataUsage =
        "  --data gmm|fashion-mnist|mnist|cifar10   data set (default gmm: the Gaussian mixture, needs no files)\n" +
        "  --data-dir D        folder of the IDX / CIFAR-10 binary files (fashion-mnist defaults to the Debian\n" +
        "                      package dataset-fashion-mnist, /usr/share/datasets/fashion-mnist)\n" +
        "  --train-limit K, --test-limit K   use only the first K samples\n" +
        "  --alpha A --delta D --rho R --n N --test-size T   gmm: sample ratio (2), noise (1), balance (0.5),\n" +
        "                      dimension (100), fresh test samples (10000); drawn by Core's sampler with --seed\n" +
        "  --device cpu|cuda|auto   (default cpu; cuda loads PyTorch's libtorch: FLATMINIMA_LIBTORCH or python3)\n";

    public const string ModelUsage =
        "  --model mlp|lenet|resnet18   (default mlp)\n" +
        "  --width W --depth L  MLP hidden width (128) and number of hidden layers (2)\n";

    public static RuntimeInfo InitRuntime(Args a, CommandContext ctx) =>
        TorchRuntime.Initialize(a.Choice("device", ["cpu", "cuda", "auto"], "cpu"), m => ctx.Err.WriteLine(m));

    public static DataSplit LoadData(Args a, long seed)
    {
        string data = a.Choice("data", DataSets, "gmm");
        string? dir = a.OptionalString("data-dir");
        int? trainLimit = a.Has("train-limit") ? a.Int("train-limit") : null;
        int? testLimit = a.Has("test-limit") ? a.Int("test-limit") : null;
        switch (data)
        {
            case "gmm":
                var spec = new MixtureSpec(new MixtureModel(a.Double("alpha", 2), a.Double("delta", 1), a.Double("rho", 0.5)), a.Int("n", 100), seed);
                return GmmData.Create(spec, a.Int("test-size", 10_000));
            case "cifar10":
                return Cifar10Reader.Load(dir ?? throw new UsageException("--data cifar10 needs --data-dir (the folder of data_batch_*.bin)."), trainLimit, testLimit);
            case "mnist":
                return IdxReader.LoadMnistLike("mnist", dir ?? throw new UsageException("--data mnist needs --data-dir."), trainLimit, testLimit);
            default:
                return IdxReader.LoadMnistLike("fashion-mnist", dir, trainLimit, testLimit);
        }
    }

    public static nn.Module<Tensor, Tensor> BuildModel(Args a, DataSplit data, long seed)
    {
        torch.manual_seed(seed);
        return ModelZoo.Create(a.Choice("model", ModelZoo.Names, "mlp"), data.Train.InputShape, data.Train.Classes, a.Int("width", 128), a.Int("depth", 2));
    }

    /// <summary>Re-reads the options a run was started with (from its manifest), for --resume and flatness.</summary>
    public static List<string> ManifestArgv(string runDir)
    {
        string path = Path.Combine(runDir, "manifest.json");
        if (!File.Exists(path)) throw new UsageException($"{runDir} has no manifest.json (not a run directory).");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("argv").EnumerateArray().Select(e => e.GetString()!).ToList();
    }

    /// <summary>Options of a stored argv with some removed and others overriding.</summary>
    public static Args Merge(List<string> stored, IReadOnlyDictionary<string, string?> overrides, params string[] drop)
    {
        var old = new Args(stored.Skip(1));
        var merged = new Dictionary<string, string?>(old.Raw);
        foreach (var d in drop) merged.Remove(d);
        foreach (var (k, v) in overrides) merged[k] = v;
        var list = new List<string>();
        foreach (var (k, v) in merged) { list.Add("--" + k); if (v is not null) list.Add(v); }
        return new Args(list);
    }
}
