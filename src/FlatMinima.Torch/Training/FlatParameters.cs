using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Training;

/// <summary>
/// A list of parameters re-homed into one contiguous tensor: each parameter becomes a view of <see cref="Data"/> and
/// its gradient a view of <see cref="Grad"/>. An optimiser then updates all parameters with a handful of kernels on
/// the flat tensors instead of several per parameter tensor, which is what makes the flatness-seeking optimisers cost
/// no more than their gradient evaluations on a GPU. Backward accumulates into the gradient views in place, so
/// <see cref="ZeroGrad"/> must be used instead of <c>module.zero_grad()</c> (which may drop the views). The parameters
/// must not be replaced or moved to another device afterwards; loading weights with <c>copy_</c> is fine.
/// </summary>
public sealed class FlatParameters : IDisposable
{
    /// <summary>All parameters, concatenated (a parameter's elements in its own memory order).</summary>
    public Tensor Data { get; }
    /// <summary>All gradients, in the same layout as <see cref="Data"/>.</summary>
    public Tensor Grad { get; }
    /// <summary>The parameters, now views of <see cref="Data"/>.</summary>
    public IReadOnlyList<Tensor> Parameters { get; }
    /// <summary>Total number of scalar parameters.</summary>
    public long Count { get; }

    public FlatParameters(IEnumerable<Tensor> parameters)
    {
        var ps = parameters.ToList();
        if (ps.Count == 0) throw new ArgumentException("no parameters to flatten.", nameof(parameters));
        if (ps.Any(p => p.dtype != ps[0].dtype || p.device_type != ps[0].device_type || p.device_index != ps[0].device_index))
            throw new ArgumentException("all parameters must share one dtype and one device to be flattened.", nameof(parameters));
        Count = ps.Sum(p => p.numel());
        Data = empty(Count, dtype: ps[0].dtype, device: ps[0].device);
        Grad = zeros(Count, dtype: ps[0].dtype, device: ps[0].device);
        using var _ = no_grad();
        long off = 0;
        foreach (var p in ps)
        {
            long n = p.numel();
            // Keep each parameter's strides (e.g. channels-last convolution weights): any dense layout fits in n slots.
            long[] shape = p.shape, strides = p.stride();
            long span = 1 + shape.Zip(strides).Sum(t => (t.First - 1) * t.Second);
            if (span != n) throw new ArgumentException($"parameter of shape [{string.Join(", ", shape)}] is not dense; only dense parameters can be flattened.");
            var view = Data.as_strided(shape, strides, off);
            view.copy_(p);
            p.set_(view);
            off += n;
        }
        Parameters = ps;
        AttachGradViews();
    }

    /// <summary>Views of a tensor laid out like <see cref="Data"/>, one per parameter, with the parameters' shapes and
    /// strides (e.g. a flat perturbation seen parameter by parameter).</summary>
    public IReadOnlyList<Tensor> Split(Tensor flat)
    {
        if (flat.numel() != Count) throw new ArgumentException($"tensor has {flat.numel()} elements, the parameters {Count}.", nameof(flat));
        var views = new List<Tensor>(Parameters.Count);
        long off = 0;
        foreach (var p in Parameters) { views.Add(flat.as_strided(p.shape, p.stride(), off)); off += p.numel(); }
        return views;
    }

    /// <summary>Zeroes every gradient (one kernel). If something has dropped the gradient views in between (e.g.
    /// <c>module.zero_grad()</c> with set-to-none semantics), they are re-attached first, so backward writes into
    /// <see cref="Grad"/> again instead of into fresh tensors the optimiser never sees.</summary>
    public void ZeroGrad()
    {
        using (var g0 = Parameters[0].grad)
            if (g0 is null) AttachGradViews();
        Grad.zero_();
    }

    private void AttachGradViews()
    {
        long off = 0;
        foreach (var p in Parameters)
        {
            p.grad = Grad.as_strided(p.shape, p.stride(), off);
            off += p.numel();
        }
    }

    /// <summary>Forward, loss and backward on one batch with the gradients zeroed first; gradients land in <see cref="Grad"/>.</summary>
    public (Tensor Loss, Tensor Logits) ForwardBackward(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y, Func<Tensor, Tensor, Tensor> lossFn)
    {
        ZeroGrad();
        var logits = model.forward(x);
        var loss = lossFn(logits, y);
        loss.backward();
        return (loss, logits);
    }

    // The parameters' views keep the storage alive; only our handles are released.
    public void Dispose() { Data.Dispose(); Grad.Dispose(); }
}
