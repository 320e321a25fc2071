using FlatMinima.Numerics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Optim;

/// <summary>
/// Stochastic gradient descent with momentum, Nesterov and weight decay (PyTorch's convention:
/// d = g + wd·w; b ← μb + (1 − dampening)d, b = d at the first step; d ← d + μb (Nesterov) or b; w ← w − lr·d),
/// over an explicit list of parameters. Each parameter has a state object that owns its momentum buffer; the update
/// runs inside <c>no_grad</c> and a dispose scope. <see cref="Reset"/> drops every buffer (a restart of the optimiser).
/// </summary>
public sealed class MomentumSgd : IDisposable
{
    private sealed class State : IDisposable
    {
        public Tensor? Buffer;
        public void Dispose() { Buffer?.Dispose(); Buffer = null; }
    }

    private readonly List<Tensor> _params;
    private readonly State[] _state;
    public double Momentum { get; }
    public double Dampening { get; }
    public double WeightDecay { get; }
    public bool Nesterov { get; }

    public MomentumSgd(IEnumerable<Tensor> parameters, double momentum = 0, double weightDecay = 0, bool nesterov = false, double dampening = 0)
    {
        Momentum = Guard.Interval(momentum, 0, true, 1, false, "momentum");
        WeightDecay = Guard.NonNegative(weightDecay, "weight_decay");
        Dampening = Guard.ClosedInterval(dampening, 0, 1, "dampening");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException("nesterov needs momentum > 0 and dampening = 0.", nameof(nesterov));
        Nesterov = nesterov;
        _params = parameters.ToList();
        _state = _params.Select(_ => new State()).ToArray();
    }

    public IReadOnlyList<Tensor> Parameters => _params;

    /// <summary>One step w ← w − lr·d(g) with the given gradients (one per parameter; null = skip). With
    /// <paramref name="overwriteGrads"/> the gradients are scratch that the step may modify in place: weight decay is
    /// added into them and Nesterov's g + μb is applied as two in-place updates, so the step allocates nothing. That
    /// matters for flat parameters on a CPU, where every temporary the size of the network is a fresh mapping that
    /// the kernel must page in.</summary>
    public void Step(IReadOnlyList<Tensor?> grads, double lr, bool overwriteGrads = false)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        for (int i = 0; i < _params.Count; i++)
        {
            var g = grads[i];
            if (g is null) continue;
            var d = WeightDecay == 0 ? g : overwriteGrads ? g.add_(_params[i], alpha: WeightDecay) : g.add(_params[i], alpha: WeightDecay);
            if (Momentum == 0) { _params[i].add_(d, alpha: -lr); continue; }
            var st = _state[i];
            if (st.Buffer is null) st.Buffer = d.detach().clone().DetachFromDisposeScope();
            else st.Buffer.mul_(Momentum).add_(d, alpha: 1 - Dampening);
            if (!Nesterov) _params[i].add_(st.Buffer, alpha: -lr);
            else if (overwriteGrads) _params[i].add_(d, alpha: -lr).add_(st.Buffer, alpha: -lr * Momentum);
            else _params[i].add_(d.add(st.Buffer, alpha: Momentum), alpha: -lr);
        }
    }

    /// <summary>One step with the parameters' own <c>.grad</c>.</summary>
    public void StepWithGrad(double lr) => Step(_params.Select(p => p.grad).ToList(), lr);

    /// <summary>The momentum buffer of parameter <paramref name="i"/> (null before the first step or after a reset).</summary>
    public Tensor? Buffer(int i) => _state[i].Buffer;

    /// <summary>Drops every momentum buffer.</summary>
    public void Reset() { foreach (var s in _state) s.Dispose(); }

    public void Save(BinaryWriter w)
    {
        w.Write(_state.Length);
        foreach (var s in _state)
        {
            w.Write(s.Buffer is not null);
            s.Buffer?.cpu().Save(w);
        }
    }

    public void Load(BinaryReader r)
    {
        int n = r.ReadInt32();
        if (n != _state.Length) throw new InvalidDataException($"optimizer state has {n} parameters, the model {_state.Length}.");
        for (int i = 0; i < n; i++)
        {
            _state[i].Dispose();
            if (!r.ReadBoolean()) continue;
            var t = TensorExtensionMethods.Load(r);
            _state[i].Buffer = t.to(_params[i].device);
            if (!ReferenceEquals(_state[i].Buffer, t)) t.Dispose();
        }
    }

    public void Dispose() => Reset();
}

/// <summary>Helpers over a module's trainable parameters and buffers.</summary>
public static class ModuleOps
{
    public static List<Tensor> Params(nn.Module m) => m.parameters().Where(p => p.requires_grad).Select(p => (Tensor)p).ToList();

    /// <summary>Floating-point and integer buffers (BatchNorm running statistics and counters), in a stable order.</summary>
    public static List<Tensor> Buffers(nn.Module m) => m.named_buffers().Select(b => b.Item2).ToList();

    public static List<NormBase> BatchNorms(nn.Module m) => m.modules().OfType<NormBase>().ToList();


    /// <summary>dst ← src, parameter by parameter (and buffers when <paramref name="buffers"/>).</summary>
    public static void Copy(nn.Module src, nn.Module dst, bool buffers = true)
    {
        using var _ = no_grad();
        foreach (var (a, b) in Params(src).Zip(Params(dst))) b.copy_(a);
        if (buffers) foreach (var (a, b) in Buffers(src).Zip(Buffers(dst))) b.copy_(a);
    }

    /// <summary>Σ_i ‖a_i − b_i‖² in double precision.</summary>
    public static double SquaredDistance(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Tensor? acc = null;
        for (int i = 0; i < a.Count; i++)
        {
            var d = (a[i] - b[i]).pow(2).sum();
            acc = acc is null ? d : acc + d;
        }
        return acc is null ? 0 : acc.to_type(ScalarType.Float64).item<double>();
    }

    /// <summary>Σ_i ‖a_i‖² in double precision.</summary>
    public static double SquaredNorm(IReadOnlyList<Tensor> a)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Tensor? acc = null;
        foreach (var t in a) { var d = t.pow(2).sum(); acc = acc is null ? d : acc + d; }
        return acc is null ? 0 : acc.to_type(ScalarType.Float64).item<double>();
    }

    /// <summary>Snapshot of the BatchNorm running statistics of a module (clones), to restore them later.</summary>
    public static List<Tensor> SnapshotBuffers(nn.Module m)
    {
        using var _ = no_grad();
        return Buffers(m).Select(b => b.detach().clone()).ToList();
    }

    public static void RestoreBuffers(nn.Module m, List<Tensor> snapshot)
    {
        using var _ = no_grad();
        foreach (var (b, s) in Buffers(m).Zip(snapshot)) b.copy_(s);
    }

    /// <summary>Saves a module's parameters and buffers to a stream.</summary>
    public static void SaveModule(nn.Module m, BinaryWriter w)
    {
        var ts = Params(m).Concat(Buffers(m)).ToList();
        w.Write(ts.Count);
        foreach (var t in ts) t.detach().cpu().Save(w);
    }

    public static void LoadModule(nn.Module m, BinaryReader r)
    {
        var ts = Params(m).Concat(Buffers(m)).ToList();
        int n = r.ReadInt32();
        if (n != ts.Count) throw new InvalidDataException($"saved module has {n} tensors, the model {ts.Count}.");
        using var _ = no_grad();
        foreach (var t in ts)
        {
            using var x = TensorExtensionMethods.Load(r);
            t.copy_(x);
        }
    }

    /// <summary>Forward, loss, backward on one batch; returns (loss tensor, logits). Gradients are left in <c>.grad</c>.</summary>
    public static (Tensor Loss, Tensor Logits) ForwardBackward(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Func<Tensor, Tensor, Tensor> lossFn)
    {
        model.zero_grad();
        var logits = model.forward(x);
        var loss = lossFn(logits, y);
        loss.backward();
        return (loss, logits);
    }
}

/// <summary>Creates a fresh model of the same architecture on the training device. <paramref name="index"/> selects
/// an independent initialisation (seeded from the run's seed and the index).</summary>
public delegate nn.Module<Tensor, Tensor> ModelFactory(int index);

/// <summary>An observation an optimiser reports through its hooks (name → value), e.g. distance and coupling.</summary>
public sealed record OptimObservation(string Algorithm, int Epoch, long Step, string Entity, IReadOnlyDictionary<string, double> Values);

/// <summary>Receives observations from the flatness-seeking optimisers (instead of printing inside the algorithm).</summary>
public interface IOptimObserver
{
    void Observe(OptimObservation o);
}

/// <summary>An algorithm that reports observations (distances, couplings, averaging) at the end of every epoch.</summary>
public interface IObservedAlgorithm
{
    List<IOptimObserver> Observers { get; }
}
