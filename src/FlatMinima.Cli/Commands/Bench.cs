using FlatMinima.Storage;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Torch.Runtime;
using FlatMinima.Torch.Training;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima bench</c>: training throughput of a network on random CIFAR-sized batches.</summary>
public sealed class Bench : ICommand
{
    public string Name => "bench";
    public string Summary => "training throughput (images/s) of MLP / LeNet / ResNet-18 on CIFAR-sized batches";
    public string Usage =>
        "usage: flatminima bench [options]\n\n" +
        "  --model mlp|lenet|resnet18 (default resnet18)   --batch-size B (256)   --steps S (50)   --warmup W (10)\n" +
        "  --precision fp32|bf16|both (default fp32; bf16 = bf16 compute with fp32 master weights)\n" +
        "  --channels-last     NHWC layout of inputs and convolution weights\n" +
        "  --optimizer sgd-flat|sgd (default sgd-flat: torch.optim.SGD's update on one flat buffer; sgd: torch.optim.SGD)\n" +
        "  --sync-each-step    read the loss back after every step (as the trainer does)\n" +
        "  --device cpu|cuda|auto (default auto)   --seed S   --out FILE (JSON, atomic)   --json\n" +
        "Compare with tests/FlatMinima.Benchmarks/torch_resnet18.py (PyTorch eager, same model, batch and loop).\n";

    public int Run(Args a, CommandContext ctx)
    {
        string model = a.Choice("model", Torch.Experiments.ExperimentOptions.Model.Variants.Select(v => v.Name).ToList(), "resnet18");
        int batch = a.Int("batch-size", 256), steps = a.Int("steps", 50), warmup = a.Int("warmup", 10);
        string precision = a.Choice("precision", ["fp32", "bf16", "both"], "fp32");
        bool cl = a.Flag("channels-last"), sync = a.Flag("sync-each-step"), json = a.Flag("json");
        long seed = a.Long("seed", 0);
        string optimizer = a.Choice("optimizer", ["sgd", "sgd-flat"], "sgd-flat");
        string? outFile = a.OptionalString("out");
        var rt = TorchRuntime.Initialize(a.Choice("device", ["cpu", "cuda", "auto"], "auto"), m => ctx.Err.WriteLine(m));
        a.EnsureAllUsed();
        if (batch < 1 || steps < 1 || warmup < 0) throw new UsageException("--batch-size and --steps must be >= 1, --warmup >= 0.");
        var results = new List<Dictionary<string, object?>>();
        foreach (var p in precision == "both" ? new[] { "fp32", "bf16" } : [precision])
        {
            var r = Benchmark.TrainThroughput(model, TorchRuntime.Device, batch, steps, warmup, p, cl, seed, sync, optimizer);
            ctx.Err.WriteLine($"{model} {optimizer} {p}{(cl ? " channels-last" : "")} batch {batch}: {r.ImagesPerSecond:F0} images/s ({r.Steps} steps in {r.Seconds:F2}s)");
            results.Add(new() { ["model"] = model, ["optimizer"] = optimizer, ["precision"] = p, ["channels_last"] = cl, ["batch_size"] = batch, ["steps"] = steps, ["warmup"] = warmup, ["sync_each_step"] = sync, ["seconds"] = r.Seconds, ["images_per_s"] = r.ImagesPerSecond });
        }
        var summary = new Dictionary<string, object?>
        {
            ["benchmark"] = "train_throughput", ["results"] = results, ["torch"] = rt.ToDictionary(), ["versions"] = Versions.Describe(),
            ["argv"] = ctx.Argv.ToList(), ["utc"] = DateTime.UtcNow.ToString("O"),
        };
        if (outFile is not null) AtomicFile.WriteAllText(outFile, Output.Json(summary));
        if (json) Output.WriteJson(ctx.Out, summary);
        else foreach (var r in results) ctx.Out.WriteLine($"{r["model"]} {r["precision"]}: {Output.Num((double)r["images_per_s"]!, "F0")} images/s");
        return 0;
    }
}
