using System.Text.Json.Serialization;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Optim;

/// <summary>What happens to BatchNorm running statistics in SAM's second (perturbed) forward pass.</summary>
public enum SamBatchNormPolicy
{
    /// <summary>Only the first pass (at w) updates the running statistics; the second pass uses batch statistics
    /// but its effect on the buffers is undone exactly (default; the common SAM implementations).</summary>
    [JsonStringEnumMemberName("first")] FirstPass,
    /// <summary>Both passes update the running statistics (naive: two momentum updates per step, the second at w + e).</summary>
    [JsonStringEnumMemberName("both")] BothPasses,
}

/// <summary>Options of <see cref="Sam"/> (docs/optim.md#sam).</summary>
public sealed record SamOptions : OptimizerConfig
{
    /// <summary>ρ, the radius of the perturbation (adaptive SAM typically uses 0.5–2).</summary>
    [Option("sam-rho", "radius of the perturbation (ASAM: typically 0.5–2)", Range = "(0, inf)", Symbol = "ρ")]
    public double Rho { get; init; } = 0.05;
    /// <summary>Adaptive SAM (Kwon et al. 2021): e = ρ T²g/‖Tg‖ with T = |w| + η_asam, so ‖T⁻¹e‖ = ρ.</summary>
    [Option("adaptive", "adaptive SAM (ASAM, Kwon et al.): perturbation scaled elementwise by |w| + --asam-eta")]
    public bool Adaptive { get; init; }
    /// <summary>η_asam, the offset of the adaptive scale T = |w| + η.</summary>
    [Option("asam-eta", "offset of the adaptive scale |w| + η", Range = "[0, inf)")]
    public double AdaptiveEta { get; init; } = 0.01;
    [Option("sam-bn", "BatchNorm statistics: first (the second, perturbed pass leaves them alone) or both")]
    public SamBatchNormPolicy BatchNorm { get; init; } = SamBatchNormPolicy.FirstPass;
    /// <summary>Added to the gradient norm in the denominator.</summary>
    [Option("sam-epsilon", "added to the gradient norm in the denominator of the perturbation", Range = "[0, inf)")]
    public double Epsilon { get; init; } = 1e-12;

    public new SamOptions Validate() { base.Validate(); return this; }

    /// <summary>Two: the gradient at w and the gradient at w + e.</summary>
    public override int GradientsPerBatch => 2;

    public override ITrainingAlgorithm Create(nn.Module<Tensor, Tensor> model, AlgorithmContext context) => new Sam(model, this);
}

/// <summary>
/// Sharpness-aware minimisation (Foret et al. 2021) and adaptive SAM (Kwon et al. 2021). Per batch: g = ∇L(w);
/// e = ρ g/‖g‖ (SAM) or ρ T²g/‖Tg‖ with T = |w| + η (ASAM), the norm over all parameters; g_SAM = ∇L(w + e); w is
/// restored and the base SGD (momentum, weight decay) steps with g_SAM. Two gradient evaluations per step. The BatchNorm
/// buffers of the second pass follow <see cref="SamOptions.BatchNorm"/>. The parameters live in one flat tensor
/// (<see cref="FlatParameters"/>) and the perturbation's scale stays on the device, so a step needs no extra
/// synchronisation beyond reading the loss.
/// </summary>
public sealed class Sam : ITrainingAlgorithm
{
    private readonly SamOptions _o;
    private readonly FlatParameters _flat;
    private readonly Tensor _w;   // = _flat.Data
    private readonly Tensor _e;   // the perturbation, flat (kept: no temporaries the size of the network)
    private readonly MomentumSgd _base;
    private readonly nn.Module<Tensor, Tensor> _model;
    /// <summary>Called with the perturbation e (one tensor per parameter) of every step, for tests and hooks.</summary>
    public Action<IReadOnlyList<Tensor>>? OnPerturbation { get; set; }

    public Sam(nn.Module<Tensor, Tensor> model, SamOptions options)
    {
        _o = options.Validate();
        _model = model;
        _flat = new FlatParameters(ModuleOps.Params(model));
        _w = _flat.Data;
        _e = zeros_like(_w);
        _base = new MomentumSgd([_w], _o.Momentum, _o.WeightDecay, _o.Nesterov);
    }

    public string Name => _o.Adaptive ? "asam" : "sam";
    private double _lrFactor = 1;   // the trainer's learning-rate schedule
    public double LearningRate => _o.Lr * _lrFactor;
    public void ScaleLearningRate(double factor) => _lrFactor = factor;
    public SamOptions Options => _o;

    public IReadOnlyDictionary<string, object?> Describe() => new Dictionary<string, object?>
    {
        ["rho"] = _o.Rho, ["adaptive"] = _o.Adaptive, ["asam_eta"] = _o.AdaptiveEta, ["lr"] = _o.Lr, ["momentum"] = _o.Momentum,
        ["nesterov"] = _o.Nesterov, ["weight_decay"] = _o.WeightDecay, ["bn_policy"] = _o.BatchNorm == SamBatchNormPolicy.FirstPass ? "first" : "both",
    };

    public StepResult Step(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Func<Tensor, Tensor, Tensor> lossFn)
    {
        var (loss, logits) = _flat.ForwardBackward(model, x, y, lossFn);
        var (lossValue, errors) = BatchReadback.LossAndErrors(loss, logits, y);
        var e = _e;
        using (no_grad())
        {
            // The gradient buffer is scratch here: the second backward zeroes it. The scale stays on the device.
            var g = _flat.Grad;
            if (_o.Adaptive)
            {
                var T = e.copy_(_w).abs_().add_(_o.AdaptiveEta);      // e holds T
                g.mul_(T);                                             // g holds T·g
                e.mul_(g).mul_(g.norm().add_(_o.Epsilon).reciprocal_().mul_(_o.Rho)); // ρ T²g/‖Tg‖
            }
            else e.copy_(g).mul_(g.norm().add_(_o.Epsilon).reciprocal_().mul_(_o.Rho));
            _w.add_(e);
        }
        OnPerturbation?.Invoke(_flat.Split(e));
        var snapshot = _o.BatchNorm == SamBatchNormPolicy.FirstPass ? ModuleOps.SnapshotBuffers(model) : null;
        _flat.ForwardBackward(model, x, y, lossFn);
        if (snapshot is not null) { ModuleOps.RestoreBuffers(model, snapshot); foreach (var s in snapshot) s.Dispose(); }
        using (no_grad()) _w.sub_(e);
        _base.Step([_flat.Grad], LearningRate, overwriteGrads: true);
        return new StepResult(lossValue, errors, y.shape[0]);
    }

    public void Save(string path)
    {
        using var f = File.Create(path);
        using var w = new BinaryWriter(f);
        w.Write("sam-v2");
        _base.Save(w);
    }

    public void Load(string path)
    {
        using var f = File.OpenRead(path);
        using var r = new BinaryReader(f);
        if (r.ReadString() is var v && v != "sam-v2") throw new InvalidDataException($"{path}: not a SAM state of this version (sam-v2, found '{v}').");
        _base.Load(r);
    }

    public void Dispose() { _base.Dispose(); _e.Dispose(); _flat.Dispose(); }
}
