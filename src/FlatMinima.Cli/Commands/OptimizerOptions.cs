using FlatMinima.Storage;
using System.Globalization;
using System.Text;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Cli.Commands;

/// <summary>
/// The <c>--optimizer</c> option of <c>flatminima train</c> and every optimiser's own options (not a command: shared by
/// train, sweep and optim-bench). Options of an optimiser other than the chosen one are left unread, so giving them is
/// an "unknown option" error.
/// </summary>
internal sealed class OptimizerOptions
{
    public static readonly string[] Names = ["sgd", "sgd-flat", "adam", "esgd", "rsgd", "sam", "swa", "pswa"];

    public const string Usage =
        "  --optimizer sgd|sgd-flat|adam|esgd|rsgd|sam|swa|pswa   (default sgd; sgd-flat: SGD on one flat buffer)\n" +
        "  common: --lr LR (0.05)  --momentum M (0.9)  --weight-decay W (0)  --nesterov true|false (esgd, rsgd: true; else false)\n" +
        "  esgd:  --inner-steps L (5)  --sgld-lr η' (0.1)  --noise ε (1e-4)  --noise-convention langevin|paper (langevin: ε√(2η')ζ)\n" +
        "         --ema-weight α (0.25, weight of the new sample)  --inner-momentum (0)  --inner-weight-decay (= weight decay)\n" +
        "         --gamma0 γ0 (auto)  --gamma1 γ1 (from --gmax)  --gmax G (1e4, total growth of γ over the run)  --gscale true|false (true)\n" +
        "         --gamma-max Γ (1/η': caps γ so that the explicit inner and outer steps stay stable)\n" +
        "         note: the outer step scales --weight-decay by lr·γ (as the public codes do); with γ at Γ use a smaller one\n" +
        "  rsgd:  --replicas y (3)  --coupling g0 (auto)  --coupling-schedule exp|lin|cosine (exp)  --gmax G (1e4)\n" +
        "         --coupling-every K (1)  --centre mass|explicit (mass); lr is per replica (= the code's lr before ×y)\n" +
        "         --coupling-max G (1/(2·lr): caps g so that the coupling step 1 − 2·lr·g does not overshoot)\n" +
        "  sam:   --sam-rho ρ (0.05)  --adaptive (ASAM)  --asam-eta η (0.01)  --sam-bn first|both (first: 2nd pass leaves BN buffers alone)\n" +
        "  swa:   --swa-start E (⌈0.75·epochs⌉)  --swa-lr (0.01)  --swa-schedule true|false (true)  --swa-cycle C (1)\n" +
        "         --swa-buffers recompute|average|copy (recompute: BN update on the training data)  --bn-batch-size B (256)\n" +
        "  pswa:  the swa options (--swa-start defaults to epochs) and --pswa-start E (⌈epochs/4⌉)  --pswa-period P (⌈epochs/8⌉)\n";

    public string Name { get; private init; } = "sgd";
    private Func<nn.Module<Tensor, Tensor>, Context, ITrainingAlgorithm> _create = null!;

    /// <summary>What an algorithm needs beyond the model.</summary>
    public sealed record Context(ModelFactory NewModel, DataSplit Data, Device Device, string? RunDir);

    private static bool? OptBool(Args a, string name)
    {
        string? s = a.OptionalString(name);
        if (s is null) return null;
        return s.ToLowerInvariant() switch
        {
            "true" or "1" or "yes" => true,
            "false" or "0" or "no" => false,
            _ => throw new UsageException($"--{name} takes true|false (got '{s}')."),
        };
    }

    /// <summary>Reads the optimiser options of <paramref name="a"/> for a run of <paramref name="epochs"/> epochs of
    /// <paramref name="batches"/> minibatches of <paramref name="batchSize"/>.</summary>
    public static OptimizerOptions Parse(Args a, int epochs, int batchSize, long batches, long seed)
    {
        string name = a.Choice("optimizer", Names, "sgd");
        double lr = a.Double("lr", 0.05), momentum = a.Double("momentum", 0.9), wd = a.Double("weight-decay", 0);
        var o = new OptimizerOptions { Name = name };
        switch (name)
        {
            case "sgd":
            case "sgd-flat":
            case "adam":
            {
                bool nesterov = OptBool(a, "nesterov") ?? false;
                if (name != "sgd" && nesterov) throw new UsageException($"--nesterov applies to sgd, not {name}.");
                if (nesterov)
                {
                    if (!(momentum > 0)) throw new UsageException("--nesterov true needs --momentum > 0.");
                    o._create = (m, c) => new PlainSgd(m, lr, momentum, wd, true);
                }
                else
                {
                    var f = OptimizerAlgorithm.Factory(name, lr, momentum, wd);
                    o._create = (m, c) => f(m);
                }
                break;
            }
            case "esgd":
            {
                int L = a.Int("inner-steps", 5);
                var eo = new EntropySgdOptions
                {
                    Lr = lr, Momentum = momentum, WeightDecay = wd, Nesterov = OptBool(a, "nesterov") ?? true, InnerSteps = L,
                    SgldLr = a.Double("sgld-lr", 0.1), Noise = a.Double("noise", 1e-4),
                    Convention = a.Choice("noise-convention", ["langevin", "paper"], "langevin") == "paper" ? NoiseConvention.Paper : NoiseConvention.Langevin,
                    EmaWeight = a.Double("ema-weight", 0.25), InnerMomentum = a.Double("inner-momentum", 0), InnerWeightDecay = a.OptionalDouble("inner-weight-decay"),
                    Gamma0 = a.OptionalDouble("gamma0"), Gamma1 = a.OptionalDouble("gamma1"), Gmax = a.Double("gmax", 1e4),
                    GScale = OptBool(a, "gscale") ?? true, GammaMax = a.OptionalDouble("gamma-max"), ScopingSteps = epochs * ((batches + Math.Max(L, 1) - 1) / Math.Max(L, 1)), Seed = seed,
                }.Validate();
                o._create = (m, c) => Observe(new EntropySgd(m, eo), c, m);
                break;
            }
            case "rsgd":
            {
                string sched = a.Choice("coupling-schedule", ["exp", "lin", "cosine"], "exp");
                var ro = new ReplicatedSgdOptions
                {
                    Replicas = a.Int("replicas", 3), Lr = lr, Momentum = momentum, WeightDecay = wd, Nesterov = OptBool(a, "nesterov") ?? true,
                    G0 = a.OptionalDouble("coupling"), GCap = a.OptionalDouble("coupling-max"), Gmax = a.Double("gmax", 1e4), Epochs = epochs, CouplingEvery = a.Int("coupling-every", 1),
                    Schedule = sched == "exp" ? CouplingSchedule.Exponential : sched == "lin" ? CouplingSchedule.Linear : CouplingSchedule.Cosine,
                    Centre = a.Choice("centre", ["mass", "explicit"], "mass") == "mass" ? CentreKind.CentreOfMass : CentreKind.Explicit,
                    BatchSize = batchSize, Seed = seed,
                }.Validate();
                o._create = (m, c) => Observe(new ReplicatedSgd(m, c.NewModel, c.Data.Train, ro), c, m);
                break;
            }
            case "sam":
            {
                var so = new SamOptions
                {
                    Rho = a.Double("sam-rho", 0.05), Adaptive = a.Flag("adaptive"), AdaptiveEta = a.Double("asam-eta", 0.01), Lr = lr, Momentum = momentum,
                    WeightDecay = wd, Nesterov = OptBool(a, "nesterov") ?? false,
                    BatchNorm = a.Choice("sam-bn", ["first", "both"], "first") == "first" ? SamBatchNormPolicy.FirstPass : SamBatchNormPolicy.BothPasses,
                }.Validate();
                o._create = (m, c) => new Sam(m, so);
                break;
            }
            default: // swa, pswa
            {
                bool periodic = name == "pswa";
                int swaStart = a.Int("swa-start", periodic ? epochs : (int)Math.Ceiling(0.75 * epochs));
                string buf = a.Choice("swa-buffers", ["recompute", "average", "copy"], "recompute");
                var wo = new SwaOptions
                {
                    Lr = lr, Momentum = momentum, WeightDecay = wd, Nesterov = OptBool(a, "nesterov") ?? false, SwaStart = swaStart,
                    SwaLr = a.Double("swa-lr", 0.01), UseSchedule = OptBool(a, "swa-schedule") ?? true, Cycle = a.Int("swa-cycle", 1),
                    Buffers = buf == "recompute" ? SwaBufferPolicy.Recompute : buf == "average" ? SwaBufferPolicy.Average : SwaBufferPolicy.CopyLive,
                    BnBatchSize = a.Int("bn-batch-size", 256),
                    PswaStart = periodic ? a.Int("pswa-start", (int)Math.Ceiling(epochs / 4.0)) : null,
                    Period = periodic ? a.Int("pswa-period", Math.Max(1, (int)Math.Ceiling(epochs / 8.0))) : 20,
                }.Validate();
                o._create = (m, c) => Observe(new Swa(m, c.NewModel(0), c.Data.Train, wo), c, m);
                break;
            }
        }
        return o;
    }

    public ITrainingAlgorithm Create(nn.Module<Tensor, Tensor> model, Context c) => _create(model, c);

    private static ITrainingAlgorithm Observe(ITrainingAlgorithm algo, Context c, nn.Module<Tensor, Tensor> model)
    {
        if (c.RunDir is null) return algo;
        var log = new CsvObserver(Path.Combine(c.RunDir, "optim_log.csv"), algo, c, model);
        switch (algo)
        {
            case EntropySgd e: e.Observers.Add(log); break;
            case ReplicatedSgd r: r.Observers.Add(log); break;
            case Swa s: s.Observers.Add(log); break;
        }
        return algo;
    }

    /// <summary>Writes the optimisers' observations to <c>optim_log.csv</c> (long format: epoch, entity, key, value),
    /// adding the test loss and error of every replica (rSGD) and of the live model (SWA/PSWA).</summary>
    private sealed class CsvObserver(string path, ITrainingAlgorithm algo, Context c, nn.Module<Tensor, Tensor> model) : IOptimObserver
    {
        private readonly StringBuilder _sb = new("epoch,step,entity,key,value\n");
        private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

        public void Observe(OptimObservation o)
        {
            var values = new Dictionary<string, double>(o.Values);
            if (algo is ReplicatedSgd r && o.Entity.StartsWith("replica", StringComparison.Ordinal))
            {
                var (l, e) = Trainer.Evaluate(r.Replicas[int.Parse(o.Entity[7..], CultureInfo.InvariantCulture)], c.Data.Test, c.Device);
                values["test_loss"] = l; values["test_error"] = e;
            }
            else if (algo is ReplicatedSgd && o.Entity == "centre")
            {
                var (l, e) = Trainer.Evaluate(model, c.Data.Test, c.Device);
                values["test_loss"] = l; values["test_error"] = e;
            }
            else if (algo is Swa s)
            {
                var (l, e) = Trainer.Evaluate(s.Live, c.Data.Test, c.Device);
                values["live_test_loss"] = l; values["live_test_error"] = e;
            }
            foreach (var (k, v) in values) _sb.Append(o.Epoch).Append(',').Append(o.Step).Append(',').Append(o.Entity).Append(',').Append(k).Append(',').Append(F(v)).Append('\n');
            AtomicFile.WriteAllText(path, _sb.ToString());
        }
    }
}

/// <summary>SGD with Nesterov momentum through <see cref="MomentumSgd"/> (TorchSharp's SGD factory of the trainer has no
/// Nesterov switch).</summary>
internal sealed class PlainSgd(nn.Module<Tensor, Tensor> model, double lr, double momentum, double wd, bool nesterov) : ITrainingAlgorithm
{
    private readonly MomentumSgd _opt = new(ModuleOps.Params(model), momentum, wd, nesterov);
    public string Name => "sgd";
    private double _factor = 1;
    public double LearningRate => lr * _factor;
    public void ScaleLearningRate(double factor) => _factor = factor;
    public IReadOnlyDictionary<string, object?> Describe() => new Dictionary<string, object?> { ["lr"] = lr, ["momentum"] = momentum, ["weight_decay"] = wd, ["nesterov"] = nesterov };
    public StepResult Step(nn.Module<Tensor, Tensor> m, Tensor x, Tensor y, Func<Tensor, Tensor, Tensor> lossFn)
    {
        var (loss, logits) = ModuleOps.ForwardBackward(m, x, y, lossFn);
        _opt.StepWithGrad(LearningRate);
        var (lossValue, errors) = BatchReadback.LossAndErrors(loss, logits, y);
        return new StepResult(lossValue, errors, y.shape[0]);
    }
    public void Save(string path) { using var f = File.Create(path); using var w = new BinaryWriter(f); _opt.Save(w); }
    public void Load(string path) { using var f = File.OpenRead(path); using var r = new BinaryReader(f); _opt.Load(r); }
    public void Dispose() => _opt.Dispose();
}
