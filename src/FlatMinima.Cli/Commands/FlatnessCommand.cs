using FlatMinima.Storage;
using System.Globalization;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Torch.Flatness;
using FlatMinima.Torch.Runtime;
using FlatMinima.Torch.Training;
using TorchSharp;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima flatness</c>: flatness probes on a trained run.</summary>
public sealed class FlatnessCommand : ICommand
{
    public string Name => "flatness";
    public string Summary => "flatness probes of a trained run: local energy, Hessian top eigenvalues and trace, ε-sharpness";
    public string Usage =>
        "usage: flatminima flatness --run RUN_DIR [options]\n\n" +
        "  --probes LIST       comma list of le,hessian,trace,sharpness (default all)\n" +
        "  --sigma LIST        σ grid of the local energy (default 0,0.01,...,0.1: the linear grid to s_max = 0.1 of docs/theory.md#le)\n" +
        "  --draws M           noise draws per σ (default 100)\n" +
        "  --samples K         training samples used by every probe (default: all for le, 1000 for the Hessian probes)\n" +
        "  --top-k K (3)  --max-iter I (100)  --tol T (1e-4)   Hessian power iteration with deflation\n" +
        "  --trace-samples S (20)   Hutchinson probes (Rademacher)\n" +
        "  --epsilon E (1e-3)  --sharpness-steps S (20)   ε-sharpness (Keskar et al.)\n" +
        "  --params LIST       restrict to parameter groups (name prefixes, e.g. out,fc0)\n" +
        "  --seed S (0)        seed of all probe vectors   --device cpu|cuda|auto   --json\n" +
        "Writes flatness.json (atomically) into the run directory.\n";

    public int Run(Args args, CommandContext ctx)
    {
        string runDir = args.String("run");
        var probes = (args.OptionalString("probes") ?? "le,hessian,trace,sharpness").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        foreach (var p in probes) if (p is not ("le" or "hessian" or "trace" or "sharpness")) throw new UsageException($"--probes takes le,hessian,trace,sharpness (got '{p}').");
        double[] sigmas = args.DoubleList("sigma") ?? Enumerable.Range(0, 11).Select(i => i * 0.01).ToArray();
        int draws = args.Int("draws", 100), topK = args.Int("top-k", 3), maxIter = args.Int("max-iter", 100), traceSamples = args.Int("trace-samples", 20), sharpSteps = args.Int("sharpness-steps", 20);
        double tol = args.Double("tol", 1e-4), eps = args.Double("epsilon", 1e-3);
        int? samples = args.Has("samples") ? args.Int("samples") : null;
        long seed = args.Long("seed", 0);
        string? groups = args.OptionalString("params");
        bool json = args.Flag("json");
        var over = new Dictionary<string, string?>();
        if (args.Has("device")) over["device"] = args.String("device");
        args.EnsureAllUsed();

        var a = TorchCommon.Merge(TorchCommon.ManifestArgv(runDir), over, "out", "json", "resume", "epochs", "optimizer", "lr", "momentum", "weight-decay", "batch-size", "le-every", "le-sigma", "le-draws");
        long trainSeed = a.Long("seed", 0);
        var rt = TorchCommon.InitRuntime(a, ctx);
        using var data = TorchCommon.LoadData(a, trainSeed);
        var model = TorchCommon.BuildModel(a, data, trainSeed);
        string ckpt = Trainer.LatestCheckpoint(runDir) ?? throw new UsageException($"{runDir} has no checkpoint.");
        Trainer.LoadWeights(model, ckpt);
        model.to(TorchRuntime.Device);
        var pr = new Probes(model, TorchRuntime.Device) { Groups = groups?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) };
        var result = new Dictionary<string, object?>
        {
            ["run_dir"] = Path.GetFullPath(runDir), ["checkpoint"] = ckpt, ["seed"] = seed, ["params"] = pr.Selected().Select(p => p.Name).ToList(),
            ["torch"] = rt.ToDictionary(), ["versions"] = Versions.Describe(), ["argv"] = ctx.Argv.ToList(),
        };
        if (probes.Contains("le"))
        {
            using var set = samples is int k ? data.Train.Take(k) : data.Train.Take(data.Train.Count);
            var le = pr.LocalEnergy(set, sigmas, draws, seed);
            result["local_energy"] = le.Select(p => new Dictionary<string, object?> { ["sigma"] = p.Sigma, ["draws"] = p.Draws, ["mean_train_error_pct"] = p.MeanError, ["std_train_error_pct"] = p.StdError, ["sem_train_error_pct"] = p.SemError, ["delta_train_error_pct"] = p.DeltaError, ["mean_train_loss"] = p.MeanLoss, ["std_train_loss"] = p.StdLoss }).ToList();
            ctx.Err.Write(Output.Table(["σ", "E_train % (mean ± sd)", "δE %", "loss"], le.Select(p => (IReadOnlyList<string>)[Output.Num(p.Sigma), Output.Pm(p.MeanError, p.StdError), Output.Num(p.DeltaError), Output.Num(p.MeanLoss)])));
        }
        using var hset = data.Train.Take(samples ?? 1000);
        if (probes.Contains("hessian"))
        {
            var h = pr.HessianTop(hset, topK, seed, maxIter, tol);
            result["hessian_top"] = new Dictionary<string, object?> { ["values"] = h.Values, ["iterations"] = h.Iterations, ["converged"] = h.Converged, ["samples"] = hset.Count };
            ctx.Err.WriteLine($"Hessian top eigenvalues: {string.Join(", ", h.Values.Select(v => Output.Num(v)))}");
        }
        if (probes.Contains("trace"))
        {
            var t = pr.HessianTrace(hset, traceSamples, seed);
            result["hessian_trace"] = new Dictionary<string, object?> { ["trace"] = t.Trace, ["se"] = t.StandardError, ["probes"] = t.Samples, ["samples"] = hset.Count };
            ctx.Err.WriteLine($"Hessian trace (Hutchinson): {Output.Pm(t.Trace, t.StandardError)}");
        }
        if (probes.Contains("sharpness"))
        {
            var s = pr.EpsilonSharpness(hset, eps, sharpSteps);
            result["epsilon_sharpness"] = new Dictionary<string, object?> { ["epsilon"] = s.Epsilon, ["sharpness_pct"] = s.Value, ["loss"] = s.Loss, ["max_loss"] = s.MaxLoss, ["steps"] = s.Steps, ["samples"] = hset.Count };
            ctx.Err.WriteLine($"ε-sharpness (ε = {Output.Num(eps)}): {Output.Num(s.Value)} %");
        }
        AtomicFile.WriteAllText(Path.Combine(runDir, "flatness.json"), Output.Json(result));
        if (json) Output.WriteJson(ctx.Out, result);
        else ctx.Out.WriteLine($"wrote {Path.Combine(Path.GetFullPath(runDir), "flatness.json")}");
        return 0;
    }
}
