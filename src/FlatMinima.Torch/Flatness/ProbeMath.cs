using FlatMinima.Torch.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Flatness;

/// <summary>
/// What the probes of this folder share: the mean loss, error, gradient and Hessian-vector product of a model over a
/// data set, computed chunk by chunk (each chunk in its own dispose scope, so device memory does not grow with the
/// set), and the flattening of a parameter list into one vector. The loss is any per-batch <b>mean</b> loss
/// ℓ(logits, y) (cross-entropy by default in every probe); chunk values are weighted by their share of the set, so the
/// result is the mean over the whole set whatever the chunk size. The caller sets the model's mode (the probes use
/// eval mode, i.e. BatchNorm running statistics).
/// </summary>
internal static class ProbeMath
{
    /// <summary>Mean loss and error (fraction, argmax ≠ label) over <paramref name="set"/>, without gradients.</summary>
    public static (double Loss, double Error) Evaluate(nn.Module<Tensor, Tensor> model, TensorDataSet set, Device device, int batchSize, Func<Tensor, Tensor, Tensor> loss)
    {
        double l = 0; long errors = 0; long n = set.Count;
        using var _ = no_grad();
        for (long lo = 0; lo < n; lo += batchSize)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(batchSize, n - lo);
            var x = set.X.narrow(0, lo, len).to(device);
            var y = set.Y.narrow(0, lo, len).to(device);
            var logits = model.forward(x);
            l += loss(logits, y).to_type(ScalarType.Float64).item<double>() * len;
            errors += logits.argmax(1).ne(y).sum().item<long>();
        }
        return (l / n, (double)errors / n);
    }

    /// <summary>Mean loss, error and the gradient of the mean loss with respect to <paramref name="ps"/> (detached
    /// tensors shaped like the parameters, owned by the caller).</summary>
    public static (double Loss, double Error, List<Tensor> Grad) LossAndGradient(nn.Module<Tensor, Tensor> model, IList<Tensor> ps, TensorDataSet set, Device device, int batchSize, Func<Tensor, Tensor, Tensor> loss)
    {
        var acc = ps.Select(p => zeros_like(p).DetachFromDisposeScope()).ToList();
        double l = 0; long errors = 0; long n = set.Count;
        for (long lo = 0; lo < n; lo += batchSize)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(batchSize, n - lo);
            var x = set.X.narrow(0, lo, len).to(device);
            var y = set.Y.narrow(0, lo, len).to(device);
            var logits = model.forward(x);
            var li = loss(logits, y);
            double w = (double)len / n;
            var g = autograd.grad([li], ps);
            using (no_grad())
            {
                for (int i = 0; i < acc.Count; i++) acc[i].add_(g[i], alpha: w);
                errors += logits.argmax(1).ne(y).sum().item<long>();
            }
            l += li.detach().to_type(ScalarType.Float64).item<double>() * w;
        }
        return (l, (double)errors / n, acc);
    }

    /// <summary>H·v of the mean loss over <paramref name="set"/> with respect to <paramref name="ps"/>, accumulated over
    /// chunks by double back-propagation (<see cref="Probes.Hvp"/>).</summary>
    public static List<Tensor> Hvp(nn.Module<Tensor, Tensor> model, IList<Tensor> ps, TensorDataSet set, Device device, int batchSize, Func<Tensor, Tensor, Tensor> loss, IList<Tensor> v)
    {
        var acc = ps.Select(p => zeros_like(p).DetachFromDisposeScope()).ToList();
        long n = set.Count;
        for (long lo = 0; lo < n; lo += batchSize)
        {
            using var scope = NewDisposeScope();
            long len = Math.Min(batchSize, n - lo);
            var x = set.X.narrow(0, lo, len).to(device);
            var y = set.Y.narrow(0, lo, len).to(device);
            double w = (double)len / n;
            var hv = Probes.Hvp(() => loss(model.forward(x), y).mul(w), ps, v);
            using (no_grad())
                for (int i = 0; i < acc.Count; i++) acc[i].add_(hv[i]);
        }
        return acc;
    }

    /// <summary>The tensors of <paramref name="ts"/> concatenated into one vector (a copy).</summary>
    public static Tensor Flatten(IEnumerable<Tensor> ts)
    {
        using var scope = NewDisposeScope();
        return cat(ts.Select(t => t.detach().reshape(-1)).ToList()).MoveToOuterDisposeScope();
    }

    /// <summary>Views of <paramref name="flat"/> shaped like <paramref name="like"/> (no copy).</summary>
    public static List<Tensor> Split(Tensor flat, IList<Tensor> like)
    {
        var parts = new List<Tensor>(like.Count);
        long off = 0;
        foreach (var p in like)
        {
            long n = p.numel();
            parts.Add(flat.narrow(0, off, n).view(p.shape));
            off += n;
        }
        return parts;
    }

    /// <summary>Detached clones of the parameters (to restore them exactly later).</summary>
    public static List<Tensor> Snapshot(IEnumerable<Tensor> ps)
    {
        using var _ = no_grad();
        return ps.Select(p => p.detach().clone()).ToList();
    }

    /// <summary>p_i ← saved_i for every parameter (bit for bit).</summary>
    public static void Restore(IList<Tensor> ps, IList<Tensor> saved)
    {
        using var _ = no_grad();
        for (int i = 0; i < ps.Count; i++) ps[i].copy_(saved[i]);
    }

    /// <summary>Sample standard deviation (n − 1), 0 for fewer than two values.</summary>
    public static double Std(IReadOnlyList<double> x)
    {
        if (x.Count < 2) return 0;
        double m = x.Average();
        return Math.Sqrt(x.Sum(v => (v - m) * (v - m)) / (x.Count - 1));
    }
}
