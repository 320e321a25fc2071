using System.CommandLine;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Storage;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Runtime;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima optim-bench</c>: cost of eSGD, rSGD, SAM and SWA per gradient evaluation against plain SGD.</summary>
public sealed class OptimBench : CliCommand
{
    private readonly Option<string> _model = Opt.Choice("--model", "network", ExperimentOptions.Model.Variants.Select(v => v.Name).ToList(), "lenet");
    private readonly Option<double[]?> _input = Opt.Reals("--input", "C,H,W", "input shape", "1,28,28; resnet18: 3,32,32", "[1, inf)");
    private readonly Option<int> _classes = Opt.Int("--classes", "K", "classes", 10, "[2, inf)");
    private readonly Option<int> _batch = Opt.Int("--batch-size", "B", "minibatch size", 128, "[1, inf)");
    private readonly Option<int> _steps = Opt.Int("--steps", "S", "timed steps per round", 50, "[1, inf)");
    private readonly Option<int> _warmup = Opt.Int("--warmup", "W", "untimed steps first", 10, "[0, inf)");
    private readonly Option<int> _rounds = Opt.Int("--rounds", "R", "rounds (algorithms interleaved)", 5, "[1, inf)");
    private readonly Option<int> _innerSteps = Opt.Int("--inner-steps", "L", "eSGD inner steps", 5, "[1, inf)");
    private readonly Option<int> _replicas = Opt.Int("--replicas", "y", "rSGD replicas", 3, "[1, inf)");
    private readonly Option<string> _device = Opt.Choice("--device", "where to run", ["cpu", "cuda", "auto"], "auto");
    private readonly Option<long> _seed = CommonOptions.Seed("seed of the weights and batches");
    private readonly Option<string?> _out = Opt.Text("--out", "FILE", "write the JSON result (atomically)", defaultText: "none");
    private readonly Option<bool> _json = CommonOptions.Json();

    public OptimBench() : base("optim-bench", "overhead of esgd/rsgd/sam/swa over their gradient evaluations, against plain SGD in the same run")
    {
        Add(_model, _input, _classes, _batch, _steps, _warmup, _rounds, _innerSteps, _replicas, _device, _seed, _out, _json);
    }

    public override IReadOnlyList<string> Usage => ["[--model mlp|lenet|resnet18] [--batch-size B] [--steps S] [--rounds R] [--device cpu|cuda|auto] [--json]"];

    public override string Notes =>
        "Prints, per algorithm, seconds per step and ratio = step time / (k · SGD step time), k = gradients per step\n" +
        "(eSGD inner step 1 — an outer step is L of them —, rSGD y, SAM 2, SWA 1). A ratio ≤ 1.10 meets the 10 % target.\n" +
        "The baseline is TorchSharp's torch.optim.SGD (first row); sgd-flat, the same update on one flat buffer, shows how\n" +
        "much of that baseline is optimiser bookkeeping rather than gradient evaluation; eSGD with noise 0 separates the\n" +
        "cost of drawing the SGLD noise (one normal variate per parameter and step, noticeable on a CPU).";

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        string model = p.Value(_model), device = p.Value(_device);
        long[] shape = (p.ListOrNull(_input) ?? (model == "resnet18" ? [3, 32, 32] : [1, 28, 28])).Select(v => (long)v).ToArray();
        int classes = p.Value(_classes), batch = p.Value(_batch), steps = p.Value(_steps), warmup = p.Value(_warmup), rounds = p.Value(_rounds);
        int L = p.Value(_innerSteps), y = p.Value(_replicas);
        long seed = p.Value(_seed);
        bool json = p.Value(_json);
        string? outFile = p.GetValue(_out);
        return () =>
        {
            var rt = TorchRuntime.Initialize(device, m => ctx.Err.WriteLine(m));
            var res = ctx.WithStatus($"optim-bench {model}", () => OptimBenchmark.Standard(model, shape, classes, TorchRuntime.Device, batch, steps, warmup, rounds, L, y, seed));
            ctx.Err.Write(Output.Table(["algorithm", "gradients/step", "ms/step", "ratio vs k·SGD"],
                res.Select(r => (IReadOnlyList<string>)[r.Name, Output.Num(r.GradientsPerStep), Output.Num(1000 * r.SecondsPerStep, "F3"), Output.Num(r.Ratio, "F3")])));
            var summary = new Dictionary<string, object?>
            {
                ["benchmark"] = "optimizer_overhead", ["model"] = model, ["input"] = shape, ["batch_size"] = batch, ["steps"] = steps, ["rounds"] = rounds, ["warmup"] = warmup,
                ["results"] = res.Select(r => new Dictionary<string, object?> { ["algorithm"] = r.Name, ["gradients_per_step"] = r.GradientsPerStep, ["seconds_per_step"] = r.SecondsPerStep, ["round_seconds"] = r.RoundSeconds, ["ratio"] = r.Ratio }).ToList(),
                ["torch"] = rt.ToDictionary(), ["versions"] = Versions.Describe(), ["argv"] = ctx.Argv.ToList(), ["utc"] = DateTime.UtcNow.ToString("O"),
            };
            if (outFile is not null) AtomicFile.WriteAllText(outFile, Output.Json(summary));
            if (json) Output.WriteJson(ctx.Out, summary);
            else foreach (var r in res) ctx.Out.WriteLine($"{r.Name}: {Output.Num(r.Ratio, "F3")}");
            return 0;
        };
    }
}
