using System.CommandLine;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Storage;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Runtime;
using FlatMinima.Torch.Training;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima bench</c>: training throughput of a network on random CIFAR-sized batches.</summary>
public sealed class Bench : CliCommand
{
    private readonly Option<string> _model = Opt.Choice("--model", "network", ExperimentOptions.Model.Variants.Select(v => v.Name).ToList(), "resnet18");
    private readonly Option<int> _batch = Opt.Int("--batch-size", "B", "minibatch size", 256, "[1, inf)");
    private readonly Option<int> _steps = Opt.Int("--steps", "S", "timed steps", 50, "[1, inf)");
    private readonly Option<int> _warmup = Opt.Int("--warmup", "W", "untimed steps first", 10, "[0, inf)");
    private readonly Option<string> _precision = Opt.Choice("--precision", "fp32, bf16 (bf16 compute with fp32 master weights) or both", ["fp32", "bf16", "both"], "fp32");
    private readonly Option<bool> _channelsLast = Opt.Flag("--channels-last", "NHWC layout of inputs and convolution weights");
    private readonly Option<string> _optimizer = Opt.Choice("--optimizer", "sgd-flat: torch.optim.SGD's update on one flat buffer; sgd: torch.optim.SGD", ["sgd", "sgd-flat"], "sgd-flat");
    private readonly Option<bool> _sync = Opt.Flag("--sync-each-step", "read the loss back after every step (as the trainer does)");
    private readonly Option<string> _device = Opt.Choice("--device", "where to run", ["cpu", "cuda", "auto"], "auto");
    private readonly Option<long> _seed = CommonOptions.Seed("seed of the weights and batches");
    private readonly Option<string?> _out = Opt.Text("--out", "FILE", "write the JSON result (atomically)", defaultText: "none");
    private readonly Option<bool> _json = CommonOptions.Json();

    public Bench() : base("bench", "training throughput (images/s) of MLP / LeNet / ResNet-18 on CIFAR-sized batches")
    {
        Add(_model, _batch, _steps, _warmup, _precision, _channelsLast, _optimizer, _sync, _device, _seed, _out, _json);
    }

    public override IReadOnlyList<string> Usage => ["[--model mlp|lenet|resnet18] [--batch-size B] [--steps S] [--precision fp32|bf16|both] [--device cpu|cuda|auto] [--json]"];

    public override string Notes => "Compare with tests/FlatMinima.Benchmarks/python/torch_resnet18.py (PyTorch eager, same model, batch and loop).";

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        string model = p.Value(_model), precision = p.Value(_precision), optimizer = p.Value(_optimizer), device = p.Value(_device);
        int batch = p.Value(_batch), steps = p.Value(_steps), warmup = p.Value(_warmup);
        bool cl = p.Value(_channelsLast), sync = p.Value(_sync), json = p.Value(_json);
        long seed = p.Value(_seed);
        string? outFile = p.GetValue(_out);
        return () =>
        {
            var rt = TorchRuntime.Initialize(device, m => ctx.Err.WriteLine(m));
            var results = new List<Dictionary<string, object?>>();
            foreach (var pr in precision == "both" ? new[] { "fp32", "bf16" } : [precision])
            {
                var r = ctx.WithStatus($"{model} {optimizer} {pr}", () => Benchmark.TrainThroughput(model, TorchRuntime.Device, batch, steps, warmup, pr, cl, seed, sync, optimizer));
                ctx.Err.WriteLine($"{model} {optimizer} {pr}{(cl ? " channels-last" : "")} batch {batch}: {r.ImagesPerSecond:F0} images/s ({r.Steps} steps in {r.Seconds:F2}s)");
                results.Add(new() { ["model"] = model, ["optimizer"] = optimizer, ["precision"] = pr, ["channels_last"] = cl, ["batch_size"] = batch, ["steps"] = steps, ["warmup"] = warmup, ["sync_each_step"] = sync, ["seconds"] = r.Seconds, ["images_per_s"] = r.ImagesPerSecond });
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
        };
    }
}
