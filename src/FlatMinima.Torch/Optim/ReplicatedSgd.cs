using System.Text.Json.Serialization;
using FlatMinima.Estimators;
using FlatMinima.Numerics;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Optim;

/// <summary>What the replicas are coupled to.</summary>
public enum CentreKind
{
    /// <summary>The centre of mass w̄ = (1/y)Σ_a w^a, detached (default).</summary>
    [JsonStringEnumMemberName("mass")] CentreOfMass,
    /// <summary>An explicit centre c, itself moved by the coupling: c ← c − η·2g·Σ_a(c − w^a).</summary>
    [JsonStringEnumMemberName("explicit")] Explicit,
}

/// <summary>
/// Options of <see cref="ReplicatedSgd"/> (docs/optim.md#replicated-sgd, the robust-ensemble code of Pittorino et al.).
/// <see cref="OptimizerConfig.Lr"/> is the code's <c>--lr</c>: the code's objective carries a factor 1/y and its
/// optimiser uses lr·y, so each replica steps w^a ← w^a − η[∇L_a + 2g(w^a − c) + wd·w^a]: η is the per-replica
/// learning rate and η·wd the decay per replica step, as SGD's at the same settings. Nesterov defaults to true, as in
/// the code. The coupling grows per epoch from the automatic g0 to the cap 1/(2η), reached at the last epoch (the code
/// grows it geometrically per epoch; the cap is this bridge's). Budget: an epoch is one pass of every replica over the
/// data, y times SGD's gradient evaluations. <see cref="Epochs"/>, <see cref="BatchSize"/> and <see cref="Seed"/> are
/// facts of the run, set when it is built.
/// </summary>
public sealed record ReplicatedSgdOptions : OptimizerConfig
{
    public ReplicatedSgdOptions() => Nesterov = true;

    /// <summary>The settings of this bridge before the defaults above: g grows by 10⁴ over the run (reaching only
    /// 10^{4(E−1)/E} g0 at the last epoch) — for comparisons and for the records made with them.</summary>
    public static ReplicatedSgdOptions EarlierDefaults() => new() { Gmax = 1e4 };

    /// <summary>y, the number of replicas.</summary>
    [Option("replicas", "number of coupled replicas (each its own initialisation and minibatches: an epoch costs y × SGD's gradient evaluations)", Range = "[1, inf)", Symbol = "y")]
    public int Replicas { get; init; } = 3;
    /// <summary>g0 (null: automatic, g0 = mean training loss / mean squared distance to the centre, measured on the
    /// first step, which balances the two terms of ℒ; with the absolute schedule never above g_final). 0: uncoupled.</summary>
    [Option("coupling", "initial coupling g0 (0: uncoupled replicas)", Range = "[0, inf)", Symbol = "g0", DefaultText = "auto: mean loss / mean squared distance to the centre at the first step")]
    public double? G0 { get; init; }
    /// <summary>Fallback g0 when the replicas start at the centre (distance 0).</summary>
    [Option("coupling-fallback", "g0 when the replicas start at the centre (distance 0)", Range = "(0, inf)")]
    public double G0Fallback { get; init; } = 1e-3;
    /// <summary>Shape of the growth of g over the epochs (docs/optim.md#coupling-schedules).</summary>
    [Option("coupling-schedule", "shape of the growth of g over the epochs (exp: g0(g_final/g0)^(e/(E−1)))")]
    public CouplingShape Schedule { get; init; } = CouplingShape.Exponential;
    /// <summary>g at the last epoch (null: the cap), the end of the absolute schedule.</summary>
    [Option("coupling-final", "g at the last epoch (the schedule's end)", Range = "(0, inf)", Symbol = "g_final", DefaultText = "the cap")]
    public double? GFinal { get; init; }
    /// <summary>Instead of <see cref="GFinal"/>: the total growth factor of g over the run's epochs,
    /// g_e = g0·gmax^{e/E} (the earlier form: g reaches g0·gmax only after the last epoch).</summary>
    [Option("gmax", "instead of --coupling-final: total growth of g over the run, g_e = g0·gmax^(e/E)", Range = "[1, inf)", DefaultText = "none")]
    public double? Gmax { get; init; }
    /// <summary>Upper bound on g (null = 1/(2η)): the coupling step multiplies a replica's deviation from the
    /// centre by (1 − 2ηg), which overshoots for 2ηg &gt; 1 and diverges for 2ηg &gt; 2; not in the code.</summary>
    [Option("coupling-cap", "cap on g, so that the coupling step 1 − 2·lr·g does not overshoot (not in the code)", Range = "(0, inf)", DefaultText = "1/(2·lr)")]
    public double? GCap { get; init; }
    /// <summary>Add the coupling every this many steps (the code's gtime).</summary>
    [Option("coupling-every", "add the coupling every K steps (the code's gtime)", Range = "[1, inf)", Symbol = "gtime")]
    public int CouplingEvery { get; init; } = 1;
    [Option("centre", "mass: the replicas' centre of mass; explicit: a centre moved by the coupling")]
    public CentreKind Centre { get; init; } = CentreKind.CentreOfMass;
    /// <summary>Epochs over which g grows (the run's epochs).</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>Minibatch size of the replicas' own loaders (the trainer's batch size).</summary>
    public int BatchSize { get; init; } = 128;
    /// <summary>Seed of the replicas' data orders (replica a ≥ 1 uses stream (seed, a); replica 0 the trainer's).</summary>
    public long Seed { get; init; }

    /// <summary>The cap actually used.</summary>
    public double EffectiveGCap => GCap ?? 0.5 / Lr;
    /// <summary>The end of the absolute schedule.</summary>
    public double EffectiveGFinal => GFinal ?? EffectiveGCap;

    /// <summary>The coupling schedule over the epochs (Core's one representation): by a factor (<see cref="Gmax"/>)
    /// or from g0 to g_final; capped. A given g0 of 0 never reaches it (the replicas stay uncoupled).</summary>
    public CouplingSchedule Coupling() => Gmax is { } gmax
        ? CouplingSchedule.ByFactor(Schedule, gmax, G0 is > 0 ? G0 : null, cap: EffectiveGCap, autoFallback: G0Fallback)
        : new CouplingSchedule(Schedule, G0 is > 0 ? G0 : null, EffectiveGFinal) { Cap = EffectiveGCap, AutoFallback = G0Fallback };

    public new ReplicatedSgdOptions Validate()
    {
        base.Validate();
        Guard.AtLeast(Epochs, 1, "epochs");
        Guard.AtLeast(BatchSize, 1, "batch_size");
        return this;
    }

    protected override void ValidateMore()
    {
        if (GFinal is not null && Gmax is not null)
            throw new ConfigException("--coupling-final and --gmax are two ways to end the growth of g: give one.");
    }

    /// <summary>y: every replica takes a minibatch per step.</summary>
    public override int GradientsPerBatch => Replicas;

    public override OptimizerConfig ForRun(int epochs, long seed) => (this with { Epochs = epochs, Seed = seed }).Validate();

    public override ITrainingAlgorithm Create(nn.Module<Tensor, Tensor> model, AlgorithmContext context) =>
        new ReplicatedSgd(model, context.NewModel, context.Train, this with { Epochs = context.Epochs, BatchSize = context.BatchSize, Seed = context.Seed });
}

/// <summary>
/// Replicated SGD (robust ensemble; Baldassi et al. PNAS 2016, Pittorino et al. 2021; docs/optim.md#replicated-sgd). y replicas, each
/// with its own initialisation and its own minibatches (replica 0 takes the trainer's batch, replica a ≥ 1 walks its
/// own permutation of the training set, so every replica sees the whole data set each epoch: y gradient evaluations
/// per step). Each replica does w^a ← w^a − η[∇L_a(w^a) + 2g(w^a − c)] with momentum and weight decay, where c is the
/// detached centre of mass or an explicit centre. <b>lr × y convention:</b> the code minimises
/// ℒ = (1/y)Σ_a L_a + (g/y)Σ_a‖w^a − c‖² with learning rate y·η, which is exactly this per-replica update, so η here
/// is the per-replica learning rate and γ = 2g in the (γ/2)‖·‖² convention of the paper. The trainer's model is the
/// centre — the final estimator — with its BatchNorm float buffers set to the replicas' mean (integer counters to
/// the ceiling of the mean) at the end of every epoch. The centre's and every replica's parameters are re-homed into
/// flat tensors (<see cref="FlatParameters"/>), so the coupling, the momentum step and the centre of mass are a few
/// kernels per replica, and the losses and error counts of all replicas are read back in one transfer per step.
/// </summary>
public sealed class ReplicatedSgd : ITrainingAlgorithm, IObservedAlgorithm
{
    private readonly ReplicatedSgdOptions _o;
    private readonly nn.Module<Tensor, Tensor> _centreModel;
    private readonly FlatParameters _centreFlat;
    private readonly Tensor _c;                       // the centre's parameters, flat
    private readonly List<nn.Module<Tensor, Tensor>> _replicas = [];
    private readonly List<FlatParameters> _rp = [];   // the replicas' parameters, flat, same layout
    private readonly List<MomentumSgd> _opts = [];
    private readonly TensorDataSet? _data;
    private readonly Device _device;
    private readonly CouplingSchedule _coupling;
    private double _g0 = double.NaN;
    private int _epoch;            // completed epochs
    private int _batch;            // batches taken in the current epoch
    private long _step;
    private readonly Tensor?[] _perm;
    private readonly double[] _lossSum; private readonly long[] _errSum; private readonly long[] _seen;
    public List<IOptimObserver> Observers { get; } = [];

    /// <param name="centre">The trainer's model: becomes the centre.</param>
    /// <param name="factory">Creates replica a (independent initialisation) on the training device.</param>
    /// <param name="train">Training set for the replicas' own minibatches (null: every replica uses the trainer's batch).</param>
    /// <param name="options">Hyperparameters (validated here).</param>
    public ReplicatedSgd(nn.Module<Tensor, Tensor> centre, ModelFactory factory, TensorDataSet? train, ReplicatedSgdOptions options)
    {
        _o = options.Validate();
        _centreModel = centre;
        var centreParams = ModuleOps.Params(centre);
        _centreFlat = new FlatParameters(centreParams);
        _c = _centreFlat.Data;
        _device = _c.device;
        _data = train;
        _coupling = _o.Coupling();
        if (_o.G0 is double g) _g0 = g;
        for (int a = 0; a < _o.Replicas; a++)
        {
            var m = factory(a);
            var ps = ModuleOps.Params(m);
            if (ps.Count != centreParams.Count || ps.Zip(centreParams).Any(t => !t.First.shape.SequenceEqual(t.Second.shape)))
                throw new ArgumentException("replica factory built a model with a different parameter list.");
            var flat = new FlatParameters(ps);
            _replicas.Add(m);
            _rp.Add(flat);
            // Weight decay is folded into the coupling term of Step (one pass over the parameters fewer).
            _opts.Add(new MomentumSgd([flat.Data], _o.Momentum, 0, _o.Nesterov));
        }
        _perm = new Tensor?[_o.Replicas];
        _lossSum = new double[_o.Replicas]; _errSum = new long[_o.Replicas]; _seen = new long[_o.Replicas];
        if (_o.Centre == CentreKind.CentreOfMass) UpdateCentreOfMass(force: true);
    }

    public string Name => "rsgd";
    private double _lrFactor = 1;   // the trainer's learning-rate schedule
    public double LearningRate => _o.Lr * _lrFactor;
    public void ScaleLearningRate(double factor) => _lrFactor = factor;
    public ReplicatedSgdOptions Options => _o;
    public IReadOnlyList<nn.Module<Tensor, Tensor>> Replicas => _replicas;
    /// <summary>The coupling g of the current epoch (NaN before the automatic calibration).</summary>
    public double G => _g0 == 0 || double.IsNaN(_g0) ? _g0 : _coupling.At(_epoch, _o.Epochs, _g0);

    public IReadOnlyDictionary<string, object?> Describe() => new Dictionary<string, object?>
    {
        ["replicas"] = _o.Replicas, ["lr"] = _o.Lr, ["lr_convention"] = "per-replica lr; equals the code's lr*y on (1/y)-normalised objective",
        ["momentum"] = _o.Momentum, ["nesterov"] = _o.Nesterov, ["weight_decay"] = _o.WeightDecay, ["g0"] = _o.G0, ["g0_auto"] = _o.G0 is null,
        ["schedule"] = _o.Gmax is not null ? $"{EnumNames.Name(_o.Schedule)} by factor" : EnumNames.Name(_o.Schedule), ["gmax"] = _o.Gmax,
        ["coupling_final"] = _o.Gmax is null ? _o.EffectiveGFinal : null, ["coupling_cap"] = _o.EffectiveGCap, ["epochs"] = _o.Epochs, ["coupling_every"] = _o.CouplingEvery,
        ["budget"] = $"an epoch is one pass of each of the {_o.Replicas} replicas: {_o.Replicas} gradient evaluations per minibatch",
        ["centre"] = _o.Centre == CentreKind.CentreOfMass ? "mass" : "explicit", ["own_minibatches"] = _data is not null,
    };

    private void UpdateCentreOfMass(bool force = false)
    {
        if (_o.Centre == CentreKind.Explicit && !force) return;
        using var _ = no_grad();
        _c.copy_(_rp[0].Data);
        for (int a = 1; a < _rp.Count; a++) _c.add_(_rp[a].Data);
        _c.div_(_rp.Count);
    }

    private (Tensor X, Tensor Y) OwnBatch(int a, Tensor x, Tensor y)
    {
        if (a == 0 || _data is null) return (x, y);
        long n = _data.Count;
        if (_perm[a] is null)
        {
            var p = Trainer.Permutation(n, Seeds.Mix(_o.Seed, 0xA11, a), _epoch + 1);
            _perm[a] = tensor(p).DetachFromDisposeScope();
        }
        long lo = (long)_batch * _o.BatchSize % n, len = Math.Min(_o.BatchSize, n - lo);
        var idx = _perm[a]!.narrow(0, lo, len);
        return (_data.X.index_select(0, idx).to(_device), _data.Y.index_select(0, idx).to(_device));
    }

    public StepResult Step(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Func<Tensor, Tensor, Tensor> lossFn)
    {
        long n0 = y.shape[0];
        var lossT = new Tensor[_o.Replicas];
        var errT = new Tensor[_o.Replicas];
        var count = new long[_o.Replicas];
        bool couple = _step % _o.CouplingEvery == 0;
        for (int a = 0; a < _o.Replicas; a++)
        {
            var (xa, ya) = OwnBatch(a, x, y);
            var m = _replicas[a];
            m.train();
            var (loss, logits) = _rp[a].ForwardBackward(m, xa, ya, lossFn);
            lossT[a] = loss.detach();
            using (no_grad()) errT[a] = logits.argmax(1).ne(ya).sum();
            count[a] = ya.shape[0];
        }
        if (double.IsNaN(_g0))
        {
            double meanLoss = lossT.Average(t => (double)t.item<float>());
            double d2 = _rp.Average(r => ModuleOps.SquaredDistance([r.Data], [_c]));
            _g0 = _coupling.Calibrate(meanLoss, d2);
        }
        double g = G;
        using (no_grad())
        {
            for (int a = 0; a < _o.Replicas; a++)
            {
                // ∇L_a + 2g(w^a − c) + wd·w^a = ∇L_a + (2g + wd)w^a − 2g·c, accumulated in place into the fresh
                // gradient (two kernels, no temporaries).
                var gr = _rp[a].Grad;
                double gc = couple ? 2 * g : 0;
                if (gc + _o.WeightDecay != 0) gr.add_(_rp[a].Data, alpha: gc + _o.WeightDecay);
                if (gc != 0) gr.add_(_c, alpha: -gc);
                _opts[a].Step([gr], LearningRate, overwriteGrads: true);
            }
            if (_o.Centre == CentreKind.Explicit && couple && g != 0)
            {
                // c ← c − η·2g·Σ_a (c − w^a)  (gradient of the unnormalised coupling (g)Σ_a‖w^a − c‖², per-replica lr η)
                using var scope = NewDisposeScope();
                var s = _c * _o.Replicas;
                for (int a = 0; a < _o.Replicas; a++) s.sub_(_rp[a].Data);
                _c.add_(s, alpha: -LearningRate * 2 * g);
            }
        }
        UpdateCentreOfMass();
        // One transfer for every replica's loss and error count (one device synchronisation per step).
        double[] back;
        using (no_grad())
            back = cat([stack(lossT).to_type(ScalarType.Float64), stack(errT).to_type(ScalarType.Float64)]).cpu().data<double>().ToArray();
        var lossVals = back.Take(_o.Replicas).ToArray();
        for (int a = 0; a < _o.Replicas; a++)
        {
            _lossSum[a] += lossVals[a] * count[a];
            _errSum[a] += (long)back[_o.Replicas + a];
            _seen[a] += count[a];
        }
        // metrics.csv reports replica 0 (the trainer's batch); a non-finite loss of any replica stops the run.
        double loss0 = lossVals.All(double.IsFinite) ? lossVals[0] : double.NaN;
        _batch++; _step++;
        return new StepResult(loss0, (long)back[_o.Replicas], n0);
    }

    /// <summary>Sets the centre's BatchNorm buffers to the replicas' mean (floats) and ceiling of the mean (integers).</summary>
    public void AverageBuffers()
    {
        using var _ = no_grad();
        var cb = ModuleOps.Buffers(_centreModel);
        var rb = _replicas.Select(ModuleOps.Buffers).ToList();
        for (int i = 0; i < cb.Count; i++)
        {
            using var scope = NewDisposeScope();
            if (cb[i].is_floating_point())
            {
                var s = rb[0][i].to_type(ScalarType.Float64);
                for (int a = 1; a < rb.Count; a++) s = s + rb[a][i].to_type(ScalarType.Float64);
                cb[i].copy_(s / rb.Count);
            }
            else
            {
                var s = rb[0][i].to_type(ScalarType.Float64);
                for (int a = 1; a < rb.Count; a++) s = s + rb[a][i].to_type(ScalarType.Float64);
                cb[i].copy_((s / rb.Count).ceil().to_type(cb[i].dtype));
            }
        }
    }

    public void OnEpochEnd(int epoch)
    {
        AverageBuffers();
        long n = _centreFlat.Count;
        if (Observers.Count > 0)
        {
            double g = G;
            for (int a = 0; a < _o.Replicas; a++)
            {
                var obs = new OptimObservation(Name, epoch, _step, $"replica{a}", new Dictionary<string, double>
                {
                    ["train_loss"] = _seen[a] > 0 ? _lossSum[a] / _seen[a] : double.NaN,
                    ["train_error"] = _seen[a] > 0 ? (double)_errSum[a] / _seen[a] : double.NaN,
                    ["distance"] = Math.Sqrt(ModuleOps.SquaredDistance([_rp[a].Data], [_c]) / n),
                    ["norm"] = Math.Sqrt(ModuleOps.SquaredNorm([_rp[a].Data]) / n),
                    ["coupling"] = g,
                });
                foreach (var ob in Observers) ob.Observe(obs);
            }
            var c = new OptimObservation(Name, epoch, _step, "centre", new Dictionary<string, double>
            {
                ["distance"] = 0, ["norm"] = Math.Sqrt(ModuleOps.SquaredNorm([_c]) / n), ["coupling"] = g,
                ["mean_replica_distance"] = Enumerable.Range(0, _o.Replicas).Average(a => Math.Sqrt(ModuleOps.SquaredDistance([_rp[a].Data], [_c]) / n)),
            });
            foreach (var ob in Observers) ob.Observe(c);
        }
        Array.Clear(_lossSum); Array.Clear(_errSum); Array.Clear(_seen);
        _epoch = epoch;
        _batch = 0;
        for (int a = 0; a < _perm.Length; a++) { _perm[a]?.Dispose(); _perm[a] = null; }
    }

    public void Save(string path)
    {
        using var f = File.Create(path);
        using var w = new BinaryWriter(f);
        w.Write("rsgd-v2"); w.Write(_o.Replicas); w.Write(_g0); w.Write(_epoch); w.Write(_step);
        for (int a = 0; a < _o.Replicas; a++) { ModuleOps.SaveModule(_replicas[a], w); _opts[a].Save(w); }
    }

    public void Load(string path)
    {
        using var f = File.OpenRead(path);
        using var r = new BinaryReader(f);
        if (r.ReadString() is var v && v != "rsgd-v2") throw new InvalidDataException($"{path}: not a replicated-SGD state of this version (rsgd-v2, found '{v}').");
        int y = r.ReadInt32();
        if (y != _o.Replicas) throw new InvalidDataException($"{path}: saved with {y} replicas, the run has {_o.Replicas}.");
        _g0 = r.ReadDouble(); _epoch = r.ReadInt32(); _step = r.ReadInt64();
        for (int a = 0; a < _o.Replicas; a++) { ModuleOps.LoadModule(_replicas[a], r); _opts[a].Load(r); }
        _batch = 0;
        UpdateCentreOfMass();
    }

    public void Dispose()
    {
        foreach (var o in _opts) o.Dispose();
        foreach (var f in _rp) f.Dispose();
        _centreFlat.Dispose();
        foreach (var m in _replicas) m.Dispose();
        foreach (var p in _perm) p?.Dispose();
    }
}
