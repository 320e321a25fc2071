using System.Globalization;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Flatness;
using FlatMinima.Torch.Runtime;
using FlatMinima.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima train</c>: trains a network with TorchSharp into a run directory.</summary>
public sealed class Train : ICommand
{
    public string Name => "train";
    public string Summary => "train a network (MLP, LeNet, ResNet-18) on GM / Fashion-MNIST / CIFAR-10 with TorchSharp";
    public string Usage =>
        "usage: flatminima train --out RUN_DIR [options]\n" +
        "       flatminima train --resume RUN_DIR [--epochs E]\n\n" +
        TorchCommon.ModelUsage + TorchCommon.DataUsage +
        OptimizerOptions.Usage +
        "  --epochs E (10)   --batch-size B (128)   --seed S (0)\n" +
        "  --lr-schedule constant|cosine (constant)   --lr-min LR (0): cosine annealing of --lr per epoch down towards\n" +
        "                      --lr-min (PyTorch CosineAnnealingLR, T_max = epochs); all optimizers but swa/pswa (own schedule)\n" +
        "  --precision fp32|bf16   (default fp32; bf16 = bf16 compute with fp32 master weights and BatchNorm)\n" +
        "  --le-every K        local energy (σ = --le-sigma, default 0.05; --le-draws 10) every K epochs during training\n" +
        "  --out RUN_DIR       run directory: manifest.json, metrics.csv, checkpoints/ (atomic)\n" +
        "  --resume RUN_DIR    continue the run from its last checkpoint (bit for bit on CPU)\n" +
        "  --json              print one JSON object with the final metrics\n";

    public int Run(Args args, CommandContext ctx)
    {
        string? resumeDir = args.OptionalString("resume");
        Args a = args;
        string outDir;
        if (resumeDir is not null)
        {
            var over = new Dictionary<string, string?>();
            if (args.Has("epochs")) over["epochs"] = args.String("epochs");
            if (args.Has("device")) over["device"] = args.String("device");
            bool json0 = args.Flag("json");
            args.EnsureAllUsed();
            a = TorchCommon.Merge(TorchCommon.ManifestArgv(resumeDir), over, "out", "json");
            if (json0) a = TorchCommon.Merge(["train", .. Flatten(a.Raw)], new Dictionary<string, string?> { ["json"] = null });
            outDir = resumeDir;
        }
        else outDir = a.String("out");
        bool json = a.Flag("json");
        long seed = a.Long("seed", 0);
        var opts = new TrainOptions { Epochs = a.Int("epochs", 10), BatchSize = a.Int("batch-size", 128), Seed = seed, LrSchedule = ParseSchedule(a) };
        string precision = a.Choice("precision", ["fp32", "bf16"], "fp32");
        int leEvery = a.Int("le-every", 0);
        double leSigma = a.Double("le-sigma", 0.05);
        int leDraws = a.Int("le-draws", 10);
        string dataName = a.Choice("data", TorchCommon.DataSets, "gmm");
        string modelName = a.Choice("model", Torch.Models.ModelZoo.Names, "mlp");
        var rt = TorchCommon.InitRuntime(a, ctx);
        using var data = TorchCommon.LoadData(a, seed);
        var model = TorchCommon.BuildModel(a, data, seed);
        var optim = OptimizerOptions.Parse(a, opts.Epochs, opts.BatchSize, (data.Train.Count + opts.BatchSize - 1) / opts.BatchSize, seed);
        a.EnsureAllUsed();
        var device = TorchRuntime.Device;
        model.to(device);
        var optimCtx = new OptimizerOptions.Context(
            i => { var m = TorchCommon.BuildModel(a, data, FlatMinima.Numerics.Seeds.Mix(seed, 0x4E91, i)); m.to(device); return m; }, data, device, outDir);
        string optimizer = optim.Name;
        AlgorithmFactory factory = m => optim.Create(m, optimCtx);
        if (precision == "bf16")
        {
            if (optimizer is not ("sgd" or "sgd-flat" or "adam")) throw new UsageException($"--precision bf16 supports --optimizer sgd, sgd-flat and adam (got '{optimizer}').");
            factory = m =>
            {
                var work = TorchCommon.BuildModel(a, data, seed);
                work.to(device);
                return new MixedPrecisionAlgorithm(m, work, optim.Create(m, optimCtx) as OptimizerAlgorithm
                    ?? throw new UsageException("--precision bf16 does not support --nesterov true."));
            };
        }
        using var trainer = new Trainer(model, factory, data, device, opts, outDir);

        var manifestArgv = resumeDir is null ? ctx.Argv.ToList() : ["train", .. Flatten(a.Raw).Where(s => s != "--json"), "--out", outDir];
        var run = new RunDirectory(outDir, "train", new CommandContext(ctx.Out, ctx.Err, manifestArgv), a.Raw.ToDictionary(k => k.Key, k => (object?)k.Value));
        run.Set("torch", rt.ToDictionary());
        run.Set("data", data.Info);
        run.Set("model", new Dictionary<string, object?> { ["name"] = modelName, ["parameters"] = model.parameters().Sum(p => p.numel()) });
        run.Set("algorithm", new Dictionary<string, object?> { ["name"] = optimizer, ["lr"] = a.Raw.GetValueOrDefault("lr") ?? "0.05", ["momentum"] = a.Raw.GetValueOrDefault("momentum") ?? "0.9", ["weight_decay"] = a.Raw.GetValueOrDefault("weight-decay") ?? "0", ["precision"] = precision == "bf16" ? "bf16 compute, fp32 master weights, fp32 BatchNorm, no loss scaling" : "fp32" });
        run.Set("seed", seed);
        if (resumeDir is not null) run.Set("resumed", true);

        int batches = (int)((data.Train.Count + opts.BatchSize - 1) / opts.BatchSize);
        var hook = new CliHook(ctx, batches, opts.Epochs);
        trainer.Hooks.Add(hook);
        if (leEvery > 0) trainer.Hooks.Add(new LocalEnergyHook(run, data.Train, device, leEvery, leSigma, leDraws, seed));
        TrainResult result;
        try { result = trainer.Run(resume: resumeDir is not null); run.Set("algorithm", new Dictionary<string, object?>(trainer.Algorithm.Describe()) { ["name"] = trainer.Algorithm.Name }); }
        catch (TrainingDivergedException e)
        {
            hook.Dispose();
            run.Set("error", e.Message);
            run.Finish("diverged");
            ctx.Err.WriteLine($"flatminima train: {e.Message}");
            return 1;
        }
        hook.Dispose();
        var last = result.Epochs.Count > 0 ? result.Epochs[^1] : null;
        var summary = new Dictionary<string, object?>
        {
            ["run_dir"] = run.Path, ["epochs"] = last?.Epoch, ["train_loss"] = last?.TrainLoss, ["train_error"] = last?.TrainError,
            ["test_loss"] = last?.TestLoss, ["test_error"] = last?.TestError, ["checkpoint"] = result.LastCheckpoint,
            ["device"] = rt.Device, ["torchsharp"] = rt.TorchSharpVersion, ["libtorch"] = rt.LibtorchVersion,
        };
        if (dataName == "gmm" && last is not null)
        {
            var gm = GmReference.Compare(data, last.TestError);
            foreach (var (k, v) in gm) summary[k] = v;
            run.Set("gm_reference", gm);
        }
        run.Set("result", summary);
        run.Finish();
        if (json) Output.WriteJson(ctx.Out, summary);
        else
        {
            ctx.Out.Write(Output.Table(["epoch", "train loss", "train err", "test loss", "test err", "lr", "s"],
                result.Epochs.Select(r => (IReadOnlyList<string>)[r.Epoch.ToString(CultureInfo.InvariantCulture), Output.Num(r.TrainLoss), Output.Num(r.TrainError), Output.Num(r.TestLoss), Output.Num(r.TestError), Output.Num(r.Lr), Output.Num(r.Seconds, "F1")])));
            if (summary.TryGetValue("epsilon_bo", out var bo))
                ctx.Out.WriteLine($"GM: test error {Output.Pm(last!.TestError, (double)summary["test_error_se"]!)}  vs  ε_BO = {Output.Num((double)bo!)} (Bayes floor)  vs  replica logistic ERM (λ = {GmReference.ErmLambda}): {(summary["epsilon_erm_replica"] is double er ? Output.Num(er) : "n/a (" + summary["epsilon_erm_note"] + ")")}");
            ctx.Out.WriteLine($"run directory: {run.Path}");
        }
        return 0;
    }

    private static IEnumerable<string> Flatten(IReadOnlyDictionary<string, string?> raw)
    {
        foreach (var (k, v) in raw) { yield return "--" + k; if (v is not null) yield return v; }
    }

    private static LrSchedule ParseSchedule(Args a)
    {
        string kind = a.Choice("lr-schedule", ["constant", "cosine"], "constant");
        double lr = a.Double("lr", 0.05), lrMin = a.Double("lr-min", 0);
        if (kind == "constant")
        {
            if (a.Has("lr-min")) throw new UsageException("--lr-min needs --lr-schedule cosine.");
            return LrSchedule.Constant;
        }
        string optimizer = a.String("optimizer", "sgd");
        if (optimizer is "swa" or "pswa") throw new UsageException($"--lr-schedule cosine does not apply to --optimizer {optimizer}: it has its own schedule (--swa-lr, --swa-schedule).");
        if (!(lrMin >= 0 && lrMin < lr)) throw new UsageException($"--lr-min must lie in [0, --lr) = [0, {Output.Num(lr)}) (got {Output.Num(lrMin)}).");
        return new LrSchedule(LrScheduleKind.Cosine, lrMin / lr);
    }

    private sealed class CliHook(CommandContext ctx, int batches, int epochs) : ITrainingHook, IDisposable
    {
        private Progress? _bar;
        private int _epoch = -1;
        public void OnBatchEnd(int epoch, int batch, int n, StepResult r)
        {
            if (epoch != _epoch) { _bar?.Dispose(); _bar = new Progress(ctx, $"epoch {epoch}/{epochs}", batches); _epoch = epoch; }
            _bar!.Tick();
        }
        public void OnEpochEnd(EpochMetrics m, nn.Module<Tensor, Tensor> model)
        {
            _bar?.Dispose(); _bar = null; _epoch = -1;
            ctx.Err.WriteLine($"epoch {m.Epoch}: train loss {Output.Num(m.TrainLoss)} err {Output.Num(m.TrainError)} | test loss {Output.Num(m.TestLoss)} err {Output.Num(m.TestError)} | {m.Seconds:F1}s");
        }
        public void Dispose() { _bar?.Dispose(); _bar = null; }
    }

    /// <summary>Local energy during training, written to <c>local_energy.csv</c>.</summary>
    private sealed class LocalEnergyHook(RunDirectory run, TensorDataSet train, Device device, int every, double sigma, int draws, long seed) : ITrainingHook
    {
        private readonly List<string> _rows = ["epoch,sigma,draws,mean_error_pct,std_error_pct,delta_error_pct,mean_loss"];
        public void OnEpochEnd(EpochMetrics m, nn.Module<Tensor, Tensor> model)
        {
            if (m.Epoch % every != 0) return;
            var p = new Probes(model, device).LocalEnergy(train, [sigma], draws, seed + m.Epoch)[0];
            _rows.Add(string.Join(',', new object[] { m.Epoch, p.Sigma, p.Draws, p.MeanError, p.StdError, p.DeltaError, p.MeanLoss }.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))));
            run.WriteFile("local_energy.csv", string.Join('\n', _rows) + "\n");
        }
    }
}

/// <summary>Places a GM test error next to the theory: ε_BO (docs/theory.md#e3) and the replica ERM error.</summary>
internal static class GmReference
{
    /// <summary>Ridge of the linear logistic ERM reference (normalisation of docs/theory.md#classifier: Σ ℓ + (λ/2)‖w‖²).</summary>
    public const double ErmLambda = 0.01;

    /// <summary>
    /// The replica (RS, N → ∞) test error of logistic ERM with ridge <see cref="ErmLambda"/> on the same (α, Δ, ρ): what a
    /// linear classifier trained by logistic regression reaches (FlatMinima.Replica.ErmSaddlePoint). Null when the
    /// saddle point does not converge.
    /// </summary>
    public static double? ReplicaErmError(double alpha, double delta, double rho)
    {
        try
        {
            var fp = FlatMinima.Replica.ErmSaddlePoint.Solve(new FlatMinima.Replica.ErmProblem(FlatMinima.Losses.LogisticLoss.Instance, new FlatMinima.Mixture.MixtureModel(alpha, delta, rho), ErmLambda));
            return fp.Converged ? fp.TestError : null;
        }
        catch (FlatMinima.Replica.NonConvergenceException) { return null; }
    }

    public static Dictionary<string, object?> Compare(DataSplit data, double testError)
    {
        double alpha = (double)data.Info["alpha"]!, delta = (double)data.Info["delta"]!, rho = (double)data.Info["rho"]!;
        long nTest = data.Test.Count;
        double se = Math.Sqrt(Math.Max(testError * (1 - testError), 1.0 / nTest) / nTest);
        double bo = GmmData.BayesOptimalError(alpha, delta, rho);
        double? erm = ReplicaErmError(alpha, delta, rho);
        return new Dictionary<string, object?>
        {
            ["test_error"] = testError, ["test_error_se"] = se, ["epsilon_bo"] = bo, ["gap_to_bo"] = testError - bo,
            ["z_vs_bo"] = (testError - bo) / se,
            ["epsilon_erm_replica"] = erm,
            ["epsilon_erm_note"] = erm is null ? "replica saddle point of logistic ERM did not converge" : $"linear classifier, logistic ERM with ridge λ = {ErmLambda} (replica, docs/theory.md#erm-saddle-point)",
        };
    }
}
