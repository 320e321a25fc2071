using System.Text.Json.Serialization;
using FlatMinima.Estimators;
using FlatMinima.Numerics;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Optim;

/// <summary>How the SGLD noise of Entropy-SGD is scaled (docs/optim.md#entropy-sgd: paper and code differ by √2).</summary>
public enum NoiseConvention
{
    /// <summary>x' += ε·√(2η')·ζ: overdamped Langevin at temperature T = ε² (both public codes; default).</summary>
    [JsonStringEnumMemberName("langevin")] Langevin,
    /// <summary>x' += ε·√η'·ζ: Chaudhari et al. Alg. 1 as printed (temperature ε²/2).</summary>
    [JsonStringEnumMemberName("paper")] Paper,
}

/// <summary>
/// Options of <see cref="EntropySgd"/> (docs/optim.md#entropy-sgd, the Pittorino et al. variant): every constant of the
/// public codes is an option here. The defaults follow the published codes where they agree and say which one where
/// they do not: the outer step w ← w − η(w − μ) with η = 1 and Nesterov momentum 0.9, not scaled by γ (Chaudhari et al.'s
/// codes); weight decay in the inner SGLD steps only, one decay per gradient evaluation as SGD's (Chaudhari et al.'s
/// Lua code); γ scoped exponentially from Γ/100 to the cap Γ = 1/η' at the last outer step. One epoch is one pass over
/// the data: the gradient evaluations of SGD's epoch, ⌈batches/L⌉ outer steps. <see cref="ScopingSteps"/> and
/// <see cref="Seed"/> are facts of the run, set when it is built.
/// </summary>
public sealed record EntropySgdOptions : OptimizerConfig
{
    /// <summary>η = 1 (the outer learning rate of Chaudhari et al.'s codes) and Nesterov momentum (both codes).</summary>
    public EntropySgdOptions() { Lr = 1; Nesterov = true; }

    /// <summary>The γ-scaled outer step of the paper and the automatic γ0 of the earlier defaults want η ≈ η'; the
    /// settings of this bridge before the defaults above, for comparisons and for the records made with them.</summary>
    public static EntropySgdOptions EarlierDefaults(double weightDecay = 0) => new()
    {
        Lr = 0.05, GScale = true, OuterWeightDecay = weightDecay, WeightDecay = weightDecay, Gamma0Auto = true, Gmax = 1e4,
    };

    /// <summary>L, the number of inner SGLD steps per outer step. Each costs one gradient evaluation.</summary>
    [Option("inner-steps", "inner SGLD steps per outer step (each one gradient evaluation; an epoch is one pass over the data = SGD's gradient evaluations = ⌈batches/L⌉ outer steps)", Range = "[1, inf)", Symbol = "L")]
    public int InnerSteps { get; init; } = 5;
    /// <summary>η', the SGLD learning rate (hard-coded 0.1 in the public codes).</summary>
    [Option("sgld-lr", "learning rate of the inner SGLD steps (0.1, hard-coded in both public codes)", Range = "(0, inf)", Symbol = "η'")]
    public double SgldLr { get; init; } = 0.1;
    /// <summary>ε, the SGLD noise; its scale is fixed by <see cref="Convention"/>.</summary>
    [Option("noise", "SGLD noise (see --noise-convention; 1e-4 in both public codes)", Range = "[0, inf)", Symbol = "ε")]
    public double Noise { get; init; } = 1e-4;
    /// <summary>Noise convention (default <see cref="NoiseConvention.Langevin"/>: ε√(2η')ζ, temperature ε²).</summary>
    [Option("noise-convention", "langevin: ε√(2η')ζ per inner step (both public codes); paper: ε√η'ζ (Chaudhari et al. Alg. 1)")]
    public NoiseConvention Convention { get; init; } = NoiseConvention.Langevin;
    /// <summary>α, the weight of the NEW sample in the running mean μ ← (1 − α)μ + αw' (the codes' β1 = 0.75 is 1 − α).</summary>
    [Option("ema-weight", "weight of the new sample in the running mean μ of the walker (the codes' β1 = 0.75 = 1 − α)", Range = "(0, 1]", Symbol = "α")]
    public double EmaWeight { get; init; } = 0.25;
    /// <summary>Momentum of the inner SGLD steps.</summary>
    [Option("inner-momentum", "momentum of the inner SGLD steps (0 in the codes)", Range = "[0, 1)")]
    public double InnerMomentum { get; init; }
    /// <summary>Weight decay added to w − μ before the outer step (0: the Lua code, which decays in the inner steps
    /// only; Chaudhari et al.'s PyTorch code adds --weight-decay here as well). Scaled by η (and by γ with
    /// <see cref="GScale"/>).</summary>
    [Option("outer-weight-decay", "weight decay added to w − μ in the outer step (0: Chaudhari et al.'s Lua code; their PyTorch code uses --weight-decay here too)", Range = "[0, inf)")]
    public double OuterWeightDecay { get; init; }
    /// <summary>γ0, the initial coupling (null: Γ_final/100, or calibrated with <see cref="Gamma0Auto"/>).</summary>
    [Option("gamma0", "initial coupling γ0", Range = "(0, inf)", Symbol = "γ0", DefaultText = "γ_final/100 (γ_final = --gamma-final, or the cap Γ)")]
    public double? Gamma0 { get; init; }
    /// <summary>Calibrate γ0 at the second inner step of the first outer step as γ0 = f(w')/(½‖w − w'‖²), balancing
    /// loss and coupling (the earlier default; with the absolute schedule never above γ_final).</summary>
    [Option("gamma0-auto", "calibrate γ0 = f(w')/(½‖w − w'‖²) at the second inner step instead of --gamma0")]
    public bool Gamma0Auto { get; init; }
    /// <summary>Fallback γ0 when the automatic calibration finds w' = w (the MNIST README value).</summary>
    [Option("gamma0-fallback", "γ0 when the automatic calibration finds w' = w", Range = "(0, inf)")]
    public double Gamma0Fallback { get; init; } = 1e-4;
    /// <summary>Shape of the scoping γ_t (docs/optim.md#coupling-schedules).</summary>
    [Option("gamma-schedule", "shape of the scoping of γ over the outer steps (exp: γ0(γ_final/γ0)^(t/(T−1)))")]
    public CouplingShape GammaSchedule { get; init; } = CouplingShape.Exponential;
    /// <summary>γ at the last outer step of the run (null: the cap Γ), the end of the absolute schedule.</summary>
    [Option("gamma-final", "γ at the last outer step (the schedule's end)", Range = "(0, inf)", Symbol = "γ_final", DefaultText = "the cap Γ")]
    public double? GammaFinal { get; init; }
    /// <summary>Instead of <see cref="GammaFinal"/>: total growth factor of γ over the T outer steps of the run,
    /// γ_t = γ0·gmax^{t/T} (the earlier form; γ reaches γ0·gmax only after the last step).</summary>
    [Option("gmax", "instead of --gamma-final: total growth of γ over the run, γ_t = γ0·gmax^(t/T) (T outer steps)", Range = "[1, inf)", DefaultText = "none")]
    public double? Gmax { get; init; }
    /// <summary>Instead of <see cref="GammaFinal"/>: γ1, the per-step rate γ_t = γ0(1 + γ1)^t of the codes.</summary>
    [Option("gamma1", "instead of --gamma-final: per-outer-step rate, γ_t = γ0(1 + γ1)^t (the codes' g1)", Range = "[0, inf)", Symbol = "γ1", DefaultText = "none")]
    public double? Gamma1 { get; init; }
    /// <summary>Γ, the upper bound on γ (null = 1/η'): the inner step is explicit in the coupling and its contraction
    /// 1 − η'γ overshoots beyond η'γ = 1 (diverges for η'γ &gt; 2); not in the papers' codes.</summary>
    [Option("gamma-cap", "cap Γ on γ, so that the explicit inner step 1 − η'γ does not overshoot (not in the codes)", Range = "(0, inf)", Symbol = "Γ", DefaultText = "1/η'")]
    public double? GammaCap { get; init; }
    /// <summary>Multiply the outer step by γ (the paper's η γ (x − μ); the codes do not).</summary>
    [Option("gscale", "multiply the outer step by γ (the paper's ηγ(w − μ); the public codes do not)")]
    public bool GScale { get; init; }
    /// <summary>T, the outer steps of the run (0 = not known: the absolute schedule is then at γ_final, a growth
    /// factor constant); a run sets T = epochs × ⌈batches/L⌉.</summary>
    public long ScopingSteps { get; init; }
    /// <summary>Seed of the SGLD noise stream (a run sets its seed).</summary>
    public long Seed { get; init; }

    /// <summary>The cap actually used.</summary>
    public double EffectiveGammaCap => GammaCap ?? 1 / SgldLr;
    /// <summary>The end of the absolute schedule.</summary>
    public double EffectiveGammaFinal => GammaFinal ?? EffectiveGammaCap;
    /// <summary>γ0 unless calibrated.</summary>
    public double? EffectiveGamma0 => Gamma0Auto ? null : Gamma0 ?? EffectiveGammaFinal / 100;

    /// <summary>The scoping schedule (Core's one representation): by a rate (<see cref="Gamma1"/>), by a factor
    /// (<see cref="Gmax"/>) or from γ0 to γ_final; capped at Γ.</summary>
    public CouplingSchedule Scoping() => Gamma1 is { } g1 ? CouplingSchedule.ByRate(g1, EffectiveGamma0, cap: EffectiveGammaCap, autoFallback: Gamma0Fallback)
        : Gmax is { } gmax ? CouplingSchedule.ByFactor(GammaSchedule, gmax, EffectiveGamma0, cap: EffectiveGammaCap, autoFallback: Gamma0Fallback)
        : new CouplingSchedule(GammaSchedule, EffectiveGamma0, EffectiveGammaFinal) { Cap = EffectiveGammaCap, AutoFallback = Gamma0Fallback };

    /// <summary>Validates every option; throws <see cref="ArgumentException"/> naming the option and its range.</summary>
    public new EntropySgdOptions Validate()
    {
        base.Validate();
        Guard.Interval(ScopingSteps, 0, true, double.PositiveInfinity, false, "scoping_steps");
        return this;
    }

    protected override void ValidateMore()
    {
        if (new[] { GammaFinal is not null, Gmax is not null, Gamma1 is not null }.Count(b => b) > 1)
            throw new ConfigException("--gamma-final, --gmax and --gamma1 are three ways to end the scoping of γ: give one.");
        if (Gamma0Auto && Gamma0 is not null)
            throw new ConfigException("--gamma0-auto calibrates γ0: do not give --gamma0 as well.");
    }

    public override OptimizerConfig ForRun(int epochs, long seed) => (this with { Seed = seed }).Validate();

    public override ITrainingAlgorithm Create(nn.Module<Tensor, Tensor> model, AlgorithmContext context) =>
        new EntropySgd(model, this with { ScopingSteps = context.Epochs * OuterStepsPerEpoch(context.BatchesPerEpoch), Seed = context.Seed });

    /// <summary>Outer steps of an epoch of <paramref name="batches"/> minibatches: ⌈batches/L⌉.</summary>
    public long OuterStepsPerEpoch(long batches) => (batches + InnerSteps - 1) / InnerSteps;

    public override IReadOnlyDictionary<string, object?> Budget(long batchesPerEpoch, int epochs) => new Dictionary<string, object?>
    {
        ["convention"] = "an epoch is one pass over the training data: one gradient evaluation per minibatch, as SGD; L inner steps per outer step",
        ["gradient_evaluations_per_epoch"] = batchesPerEpoch, ["gradient_evaluations"] = batchesPerEpoch * epochs,
        ["outer_steps_per_epoch"] = OuterStepsPerEpoch(batchesPerEpoch), ["outer_steps"] = OuterStepsPerEpoch(batchesPerEpoch) * epochs,
        ["sgd_epochs_equivalent"] = (double)epochs,
    };

    /// <summary>Standard deviation of the noise added per inner step.</summary>
    public double NoiseStd => Convention == NoiseConvention.Langevin ? Noise * Math.Sqrt(2 * SgldLr) : Noise * Math.Sqrt(SgldLr);
}

/// <summary>
/// Entropy-SGD (Chaudhari et al. 2017; the variant of Pittorino et al. 2021, docs/optim.md#entropy-sgd). The trainer's minibatches
/// drive the inner loop: each <see cref="Step"/> is one SGLD step of the walker w' (the model's parameters during
/// the inner loop),
/// <code>w' ← w' − η'[∇L_batch(w') + γ(w' − w) + wd·w'] + σ_noise·ζ,   μ ← (1 − α)μ + α w'</code>
/// and every L-th step ends with the outer step on the anchor w,
/// <code>d = (w − μ) + wd_outer·w,  momentum/Nesterov on d,  w ← w − η·d (η·γ·d with gscale),  γ_t from the scoping schedule</code>
/// after which the model holds w again. One epoch is therefore one pass over the data = ⌈batches/L⌉ outer steps: the
/// number of gradient evaluations equals SGD's (the budget-matched convention). An outer step still open at the end
/// of an epoch is completed with the samples it has, so the model holds the anchor whenever it is evaluated or saved.
/// The model's parameters are re-homed into one flat tensor (<see cref="FlatParameters"/>) and w, μ are flat tensors
/// of the same layout, so an inner step is a fixed handful of kernels whatever the number of parameter tensors.
/// </summary>
public sealed class EntropySgd : ITrainingAlgorithm, IObservedAlgorithm
{
    private readonly EntropySgdOptions _o;
    private readonly FlatParameters _flat;  // the model's parameters, flat: the walker w' inside the inner loop
    private readonly Tensor _w;              // = _flat.Data
    private readonly Tensor _anchor;         // w (flat)
    private readonly Tensor _mu;             // μ (flat)
    private readonly Tensor _scratch;        // SGLD noise of an inner step, w − μ of an outer step (no temporaries)
    private readonly MomentumSgd _outer, _inner;
    private readonly CouplingSchedule _scoping;
    private Generator? _gen;
    private readonly Device _device;
    private int _ell;
    private long _t;
    private double _gamma0 = double.NaN;
    private Tensor? _lastDist2;
    private int _epoch;
    public List<IOptimObserver> Observers { get; } = [];

    public EntropySgd(nn.Module<Tensor, Tensor> model, EntropySgdOptions options)
    {
        _o = options.Validate();
        _flat = new FlatParameters(ModuleOps.Params(model));
        _w = _flat.Data;
        _device = _w.device;
        using (no_grad())
        {
            _anchor = _w.detach().clone();
            _mu = _w.detach().clone();
            _scratch = zeros_like(_w);
        }
        _outer = new MomentumSgd([_anchor], _o.Momentum, _o.OuterWeightDecay, _o.Nesterov);
        _inner = new MomentumSgd([_w], _o.InnerMomentum, _o.WeightDecay, false); // used when inner momentum > 0
        _scoping = _o.Scoping();
        if (_scoping.Initial is double g0) _gamma0 = g0;
        _gen = NewGenerator(0);
    }

    // TorchSharp 0.107 builds CPU generators only; on CUDA the noise comes from the device's default generator, seeded
    // here (deterministic for a given seed as long as nothing else draws from it, which holds for the bridge's models).
    // A checkpoint stores the CPU generator's state, so a resumed run draws the noise a straight run draws; the state
    // of the CUDA default generator cannot be read, so on CUDA the stream is reseeded at every epoch from (seed,
    // epoch), which a resume (always at the end of an epoch) repeats.
    private Generator? NewGenerator(long stream)
    {
        ulong s = (ulong)Seeds.Mix(_o.Seed, 0x5EED, stream);
        if (_device.type == DeviceType.CUDA) { cuda.manual_seed((long)(s & 0x7FFFFFFFFFFFFFFF)); return null; }
        return new Generator(s);
    }

    public string Name => "esgd";
    public EntropySgdOptions Options => _o;
    private double _lrFactor = 1;   // the trainer's learning-rate schedule
    public double LearningRate => _o.Lr * _lrFactor;
    public void ScaleLearningRate(double factor) => _lrFactor = factor;
    /// <summary>The coupling γ of the current outer step (NaN before the automatic calibration).</summary>
    public double Gamma => double.IsNaN(_gamma0) ? double.NaN : _scoping.At(_t, _o.ScopingSteps, _gamma0);
    /// <summary>Outer steps taken.</summary>
    public long OuterSteps => _t;
    /// <summary>Inner steps taken in the current outer step.</summary>
    public int InnerStep => _ell;
    /// <summary>The anchor w, flat in the layout of the model's <see cref="FlatParameters"/> (read-only, for tests and hooks).</summary>
    public Tensor Anchor => _anchor;
    /// <summary>The running mean μ, flat.</summary>
    public Tensor Mean => _mu;
    /// <summary>Called just before every outer step (anchor w and mean μ still those of the finished inner loop) — for tests and hooks.</summary>
    public Action<EntropySgd>? BeforeOuterStep { get; set; }

    public IReadOnlyDictionary<string, object?> Describe() => new Dictionary<string, object?>
    {
        ["lr"] = _o.Lr, ["momentum"] = _o.Momentum, ["nesterov"] = _o.Nesterov, ["weight_decay"] = _o.WeightDecay,
        ["inner_steps"] = _o.InnerSteps, ["sgld_lr"] = _o.SgldLr, ["noise"] = _o.Noise, ["noise_convention"] = _o.Convention.ToString().ToLowerInvariant(),
        ["noise_std_per_step"] = _o.NoiseStd, ["ema_weight"] = _o.EmaWeight, ["inner_momentum"] = _o.InnerMomentum,
        ["outer_weight_decay"] = _o.OuterWeightDecay, ["gamma0"] = _o.EffectiveGamma0, ["gamma0_auto"] = _o.Gamma0Auto,
        ["gamma_schedule"] = _o.Gamma1 is not null ? "rate" : _o.Gmax is not null ? $"{EnumNames.Name(_o.GammaSchedule)} by factor" : EnumNames.Name(_o.GammaSchedule),
        ["gamma_final"] = _o.Gamma1 is null && _o.Gmax is null ? _o.EffectiveGammaFinal : null, ["gamma1"] = _o.Gamma1, ["gmax"] = _o.Gmax,
        ["gamma_cap"] = _o.EffectiveGammaCap, ["scoping_steps"] = _o.ScopingSteps, ["gscale"] = _o.GScale, ["seed"] = _o.Seed,
    };

    public StepResult Step(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Func<Tensor, Tensor, Tensor> lossFn)
    {
        var (loss, logits) = _flat.ForwardBackward(model, x, y, lossFn);
        // One device synchronisation per step (loss and error count read back together), as for plain SGD.
        var (lossValue, errors) = BatchReadback.LossAndErrors(loss, logits, y);
        using (no_grad())
        {
            if (double.IsNaN(_gamma0) && _ell >= 1)
            {
                // f(w')/(½‖w − w'‖²): the loss (kept away from 0) per unit of the coupling term.
                _gamma0 = _scoping.Calibrate(Math.Max(lossValue, 1e-12), 0.5 * ModuleOps.SquaredDistance([_w], [_anchor]));
            }
            double gamma = double.IsNaN(_gamma0) ? 0 : Gamma;
            double wdi = _o.WeightDecay, std = _o.NoiseStd, eta = _o.SgldLr;
            using var scope = NewDisposeScope();
            if (_o.InnerMomentum == 0)
            {
                // Fused form of w' ← w' − η'[g + γ(w' − w) + wd'·w']: w'·(1 − η'(γ + wd')) − η'g + η'γ·w (no temporaries).
                if (gamma + wdi != 0) _w.mul_(1 - eta * (gamma + wdi));
                _w.add_(_flat.Grad, alpha: -eta);
                if (gamma != 0) _w.add_(_anchor, alpha: eta * gamma);
            }
            else
            {
                // g + γ(w' − w), accumulated into the gradient buffer (scratch: zeroed before the next backward).
                if (gamma != 0) _flat.Grad.add_(_w, alpha: gamma).add_(_anchor, alpha: -gamma);
                _inner.Step([_flat.Grad], eta, overwriteGrads: true);
            }
            if (std > 0) _w.add_(_scratch.normal_(0, 1, generator: _gen), alpha: std);
            _mu.lerp_(_w, _o.EmaWeight);
        }
        _ell++;
        if (_ell == _o.InnerSteps) OuterStep();
        return new StepResult(lossValue, errors, y.shape[0]);
    }

    private void OuterStep()
    {
        if (_ell == 0) return;
        BeforeOuterStep?.Invoke(this);
        double gamma = double.IsNaN(_gamma0) ? _o.Gamma0Fallback : Gamma;
        if (double.IsNaN(_gamma0)) _gamma0 = _o.Gamma0Fallback;
        using (no_grad())
        {
            using var scope = NewDisposeScope();
            var d = _scratch.copy_(_anchor).sub_(_mu);
            _lastDist2?.Dispose();
            _lastDist2 = d.dot(d).detach().DetachFromDisposeScope();
            _outer.Step([d], _o.GScale ? LearningRate * gamma : LearningRate, overwriteGrads: true);
            _w.copy_(_anchor);
            _mu.copy_(_anchor);
        }
        _inner.Reset();
        _t++;
        _ell = 0;
    }

    public void OnEpochEnd(int epoch)
    {
        OuterStep();
        _epoch = epoch;
        if (_gen is null) NewGenerator(EpochStream(epoch));
        if (Observers.Count == 0) return;
        long n = _flat.Count;
        double dist = _lastDist2 is null ? double.NaN : Math.Sqrt(_lastDist2.to_type(ScalarType.Float64).item<double>() / n);
        var obs = new OptimObservation(Name, epoch, _t, "anchor", new Dictionary<string, double>
        {
            ["distance"] = dist, ["gamma"] = Gamma, ["norm"] = Math.Sqrt(ModuleOps.SquaredNorm([_anchor]) / n), ["outer_steps"] = _t,
        });
        foreach (var ob in Observers) ob.Observe(obs);
    }

    // The CUDA noise stream of the epoch after epoch e (streams from 2^32 on, apart from the stream of the start, 0).
    private static long EpochStream(int epoch) => (1L << 32) + epoch;

    public void Save(string path)
    {
        using var f = File.Create(path);
        using var w = new BinaryWriter(f);
        w.Write("esgd-v3"); w.Write(_t); w.Write(_gamma0); w.Write(_epoch);
        _outer.Save(w);
        // v3: the state of the noise generator (CPU), so that a resume continues the same stream.
        w.Write(_gen is not null);
        if (_gen is not null) { using var state = _gen.get_state(); state.Save(w); }
    }

    public void Load(string path)
    {
        using var f = File.OpenRead(path);
        using var r = new BinaryReader(f);
        string v = r.ReadString();
        if (v is not ("esgd-v2" or "esgd-v3")) throw new InvalidDataException($"{path}: not an Entropy-SGD state of this version (esgd-v3, found '{v}').");
        _t = r.ReadInt64(); _gamma0 = r.ReadDouble(); _epoch = r.ReadInt32();
        _outer.Load(r);
        using (no_grad())
            { _anchor.copy_(_w); _mu.copy_(_w); }
        _ell = 0;
        _gen?.Dispose();
        if (v == "esgd-v2")
        {
            // Written before the generator's state was saved: the stream restarts from (seed, outer step), as it did then.
            _gen = NewGenerator(_t);
            return;
        }
        bool hasState = r.ReadBoolean();
        _gen = NewGenerator(EpochStream(_epoch));
        if (hasState && _gen is not null) { using var state = TensorExtensionMethods.Load(r); _gen.set_state(state); }
    }

    public void Dispose()
    {
        _outer.Dispose(); _inner.Dispose(); _gen?.Dispose(); _lastDist2?.Dispose();
        _anchor.Dispose(); _mu.Dispose(); _scratch.Dispose(); _flat.Dispose();
    }
}
