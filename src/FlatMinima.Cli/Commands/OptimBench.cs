using FlatMinima.Storage;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Runtime;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima optim-bench</c>: cost of eSGD, rSGD, SAM and SWA per gradient evaluation against plain SGD.</summary>
public sealed class OptimBench : ICommand
{
    public string Name => "optim-bench";
    public string Summary => "overhead of esgd/rsgd/sam/swa over their gradient evaluations, against plain SGD in the same run";
    public string Usage =>
        "usage: flatminima optim-bench [options]\n\n" +
        "  --model mlp|lenet|resnet18 (default lenet)   --input C,H,W (1,28,28; resnet18: 3,32,32)   --classes K (10)\n" +
        "  --batch-size B (128)   --steps S (50, per round)   --warmup W (10)   --rounds R (5)\n" +
        "  --inner-steps L (5, eSGD)   --replicas y (3, rSGD)   --device cpu|cuda|auto (auto)   --seed S   --out FILE   --json\n" +
        "Prints, per algorithm, seconds per step and ratio = step time / (k · SGD step time), k = gradients per step\n" +
        "(eSGD inner step 1 — an outer step is L of them —, rSGD y, SAM 2, SWA 1). A ratio ≤ 1.10 meets the 10 % target.\n" +
        "The baseline is TorchSharp's torch.optim.SGD (first row); sgd-flat, the same update on one flat buffer, shows how\n" +
        "much of that baseline is optimiser bookkeeping rather than gradient evaluation; eSGD with noise 0 separates the\n" +
        "cost of drawing the SGLD noise (one normal variate per parameter and step, noticeable on a CPU).\n";

    public int Run(Args a, CommandContext ctx)
    {
        string model = a.Choice("model", ExperimentOptions.Model.Variants.Select(v => v.Name).ToList(), "lenet");
        long[] shape = (a.DoubleList("input") ?? (model == "resnet18" ? [3, 32, 32] : [1, 28, 28])).Select(v => (long)v).ToArray();
        int classes = a.Int("classes", 10), batch = a.Int("batch-size", 128), steps = a.Int("steps", 50), warmup = a.Int("warmup", 10), rounds = a.Int("rounds", 5);
        int L = a.Int("inner-steps", 5), y = a.Int("replicas", 3);
        long seed = a.Long("seed", 0);
        bool json = a.Flag("json");
        string? outFile = a.OptionalString("out");
        var rt = TorchRuntime.Initialize(a.Choice("device", ["cpu", "cuda", "auto"], "auto"), m => ctx.Err.WriteLine(m));
        a.EnsureAllUsed();
        if (batch < 1 || steps < 1 || warmup < 0 || rounds < 1 || L < 1 || y < 1) throw new UsageException("--batch-size, --steps, --rounds, --inner-steps, --replicas must be >= 1, --warmup >= 0.");
        var res = OptimBenchmark.Standard(model, shape, classes, TorchRuntime.Device, batch, steps, warmup, rounds, L, y, seed);
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
    }
}
