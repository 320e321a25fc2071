using FlatMinima.Numerics;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Flatness;

/// <summary>Local energy at one σ: training error (%) and loss under multiplicative noise, over M draws.</summary>
public sealed record LocalEnergyPoint(double Sigma, int Draws, double MeanError, double StdError, double SemError, double DeltaError, double MeanLoss, double StdLoss);

/// <summary>Top Hessian eigenvalues (power iteration with deflation) and the iterations each took.</summary>
public sealed record HessianEigen(double[] Values, int[] Iterations, bool[] Converged);

/// <summary>Hutchinson's trace estimate with its standard error.</summary>
public sealed record HessianTrace(double Trace, double StandardError, int Samples);

/// <summary>ε-sharpness of Keskar et al. (2017), in percent, with the losses it was computed from.</summary>
public sealed record Sharpness(double Epsilon, double Value, double Loss, double MaxLoss, int Steps);

/// <summary>
/// Flatness probes for a trained network, usable on a finished run and from a training hook. All randomness comes
/// from <c>torch.Generator</c>s seeded from the probe's seed (noise is drawn on the CPU and moved to the device, so
/// the same seed gives the same probe vectors on CPU and GPU). BatchNorm is in eval mode throughout; the model's
/// parameters are restored exactly after every perturbation.
/// </summary>
public sealed class Probes(nn.Module<Tensor, Tensor> model, Device device)
{
    /// <summary>Restricts every probe to the parameters whose name starts with one of these prefixes (null = all
    /// trainable parameters).</summary>
    public IReadOnlyList<string>? Groups { get; init; }

    /// <summary>The selected (name, parameter) pairs.</summary>
    public List<(string Name, Parameter P)> Selected()
    {
        var all = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();
        if (Groups is null || Groups.Count == 0) return all;
        var sel = all.Where(p => Groups.Any(g => p.name == g || p.name.StartsWith(g + ".", StringComparison.Ordinal) || p.name.StartsWith(g, StringComparison.Ordinal))).ToList();
        if (sel.Count == 0)
            throw new ArgumentException($"no parameter matches the groups {string.Join(",", Groups)}; parameters are: {string.Join(", ", all.Select(a => a.name))}.");
        return sel;
    }

    private static Tensor Gaussian(long[] shape, Generator g) => randn(shape, dtype: ScalarType.Float32, generator: g);

    // --------------------------------------------------------------- local energy (docs/theory.md#le)

    /// <summary>
    /// Local energy δE_train(w, σ) = E_ζ[E_train(w ⊙ (1 + σζ))] − E_train(w) with ζ ~ N(0, I) on the selected
    /// parameters (all trainable ones by default: weights, biases, BatchNorm affine; not buffers), in eval mode, for
    /// each σ of <paramref name="sigmas"/>, with <paramref name="draws"/> fresh ζ per σ, on <paramref name="set"/>.
    /// Errors are in percent. Draw m of σ index s uses generator seed (seed, s, m).
    /// </summary>
    public List<LocalEnergyPoint> LocalEnergy(TensorDataSet set, IReadOnlyList<double> sigmas, int draws = 100, long seed = 0, int batchSize = 1024)
    {
        Guard.AtLeast(draws, 1, "draws");
        foreach (var s in sigmas) Guard.NonNegative(s, "sigma");
        var ps = Selected();
        var saved = ps.Select(p => p.P.detach().clone()).ToList();
        bool wasTraining = model.training;
        model.eval();
        try
        {
            var (l0, e0) = Trainer.Evaluate(model, set, device, batchSize);
            var result = new List<LocalEnergyPoint>();
            for (int si = 0; si < sigmas.Count; si++)
            {
                double sigma = sigmas[si];
                int m = sigma == 0 ? 1 : draws;
                var errs = new double[m];
                var losses = new double[m];
                for (int d = 0; d < m; d++)
                {
                    if (sigma == 0) { errs[d] = 100 * e0; losses[d] = l0; continue; }
                    using (no_grad())
                    using (var g = new Generator((ulong)Seeds.Mix(seed, si, d)))
                    {
                        for (int i = 0; i < ps.Count; i++)
                        {
                            using var scope = NewDisposeScope();
                            var z = Gaussian(ps[i].P.shape, g).to(device);
                            ps[i].P.copy_(saved[i] * (z.mul_(sigma).add_(1)));
                        }
                    }
                    var (l, e) = Trainer.Evaluate(model, set, device, batchSize);
                    errs[d] = 100 * e; losses[d] = l;
                    Restore(ps, saved);
                }
                double me = errs.Average(), ml = losses.Average();
                double se = Std(errs, me), sl = Std(losses, ml);
                result.Add(new LocalEnergyPoint(sigma, m, me, se, se / Math.Sqrt(m), me - 100 * e0, ml, sl));
            }
            return result;
        }
        finally
        {
            Restore(ps, saved);
            foreach (var s in saved) s.Dispose();
            if (wasTraining) model.train();
        }
    }

    private static void Restore(List<(string Name, Parameter P)> ps, List<Tensor> saved)
    {
        using var _ = no_grad();
        for (int i = 0; i < ps.Count; i++) ps[i].P.copy_(saved[i]);
    }

    private static double Std(double[] x, double mean) =>
        x.Length < 2 ? 0 : Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / (x.Length - 1));

    // --------------------------------------------------------------- Hessian

    /// <summary>
    /// Hessian-vector product H·v of the scalar <paramref name="loss"/> (a closure building the loss afresh) with
    /// respect to <paramref name="ps"/>, by double back-propagation. Returns detached tensors shaped like the parameters.
    /// </summary>
    public static List<Tensor> Hvp(Func<Tensor> loss, IList<Tensor> ps, IList<Tensor> v)
    {
        using var scope = NewDisposeScope();
        var l = loss();
        var grads = autograd.grad([l], ps, retain_graph: true, create_graph: true);
        Tensor dot = zeros(1, device: l.device);
        for (int i = 0; i < ps.Count; i++) dot = dot + (grads[i] * v[i]).sum();
        var hv = autograd.grad([dot], ps, retain_graph: false);
        return hv.Select(h => h.detach().MoveToOuterDisposeScope()).ToList();
    }

    /// <summary>H·v of the mean cross-entropy on <paramref name="set"/> (eval mode), accumulated over chunks.</summary>
    public List<Tensor> DataHvp(TensorDataSet set, IList<Tensor> v, int batchSize = 1024)
    {
        var ps = Selected().Select(p => (Tensor)p.P).ToList();
        var acc = ps.Select(p => zeros_like(p)).ToList();
        for (long lo = 0; lo < set.Count; lo += batchSize)
        {
            long len = Math.Min(batchSize, set.Count - lo);
            using var scope = NewDisposeScope();
            var x = set.X.narrow(0, lo, len).to(device);
            var y = set.Y.narrow(0, lo, len).to(device);
            double w = (double)len / set.Count;
            var hv = Hvp(() => nn.functional.cross_entropy(model.forward(x), y).mul(w), ps, v);
            for (int i = 0; i < acc.Count; i++) acc[i].add_(hv[i]);
        }
        return acc;
    }

    private static double Dot(IList<Tensor> a, IList<Tensor> b)
    {
        double s = 0;
        for (int i = 0; i < a.Count; i++) s += (a[i] * b[i]).sum().to_type(ScalarType.Float64).item<double>();
        return s;
    }

    /// <summary>
    /// The <paramref name="k"/> eigenvalues of largest magnitude of <paramref name="hvp"/>, by power iteration with
    /// deflation against the eigenvectors already found. Stops each when the relative change of the Rayleigh quotient
    /// is below <paramref name="tol"/> (default 1e-4) or after <paramref name="maxIter"/> (default 100) iterations.
    /// </summary>
    public static HessianEigen TopEigenvalues(Func<IList<Tensor>, List<Tensor>> hvp, IList<Tensor> like, int k, long seed, int maxIter = 100, double tol = 1e-4)
    {
        Guard.AtLeast(k, 1, "k");
        var values = new double[k]; var iters = new int[k]; var conv = new bool[k];
        var vecs = new List<List<Tensor>>();
        for (int j = 0; j < k; j++)
        {
            List<Tensor> v;
            using (var g = new Generator((ulong)Seeds.Mix(seed, 7, j)))
                v = like.Select(p => Gaussian(p.shape, g).to(p.device)).ToList();
            Normalise(v);
            double lambda = 0;
            for (int it = 1; it <= maxIter; it++)
            {
                var w = hvp(v);
                foreach (var (u, lu) in vecs.Zip(values))
                {
                    double c = Dot(u, v) * lu;
                    for (int i = 0; i < w.Count; i++) w[i].sub_(u[i] * c);
                }
                double next = Dot(v, w);
                foreach (var t in v) t.Dispose();
                v = w;
                double norm = Normalise(v);
                iters[j] = it;
                if (norm == 0) { lambda = 0; conv[j] = true; break; }
                bool done = it > 1 && Math.Abs(next - lambda) <= tol * Math.Max(Math.Abs(next), 1e-12);
                lambda = next;
                if (done) { conv[j] = true; break; }
            }
            values[j] = lambda;
            vecs.Add(v);
        }
        foreach (var vv in vecs) foreach (var t in vv) t.Dispose();
        return new HessianEigen(values, iters, conv);
    }

    private static double Normalise(List<Tensor> v)
    {
        double n = Math.Sqrt(Dot(v, v));
        if (n > 0) foreach (var t in v) t.div_(n);
        return n;
    }

    /// <summary>Hutchinson's estimator tr H ≈ mean of vᵀHv over <paramref name="samples"/> Rademacher vectors.</summary>
    public static HessianTrace Trace(Func<IList<Tensor>, List<Tensor>> hvp, IList<Tensor> like, int samples, long seed)
    {
        Guard.AtLeast(samples, 1, "samples");
        var est = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            List<Tensor> v;
            using (var g = new Generator((ulong)Seeds.Mix(seed, 11, s)))
                v = like.Select(p => randint(0, 2, p.shape, dtype: ScalarType.Float32, generator: g).mul_(2).sub_(1).to(p.device)).ToList();
            var hv = hvp(v);
            est[s] = Dot(v, hv);
            foreach (var t in v.Concat(hv)) t.Dispose();
        }
        double mean = est.Average();
        return new HessianTrace(mean, samples > 1 ? Std(est, mean) / Math.Sqrt(samples) : double.NaN, samples);
    }

    /// <summary>Top eigenvalues of the training-loss Hessian on <paramref name="set"/> (selected parameters).</summary>
    public HessianEigen HessianTop(TensorDataSet set, int k, long seed, int maxIter = 100, double tol = 1e-4)
    {
        bool wasTraining = model.training; model.eval();
        try { return TopEigenvalues(v => DataHvp(set, v), Selected().Select(p => (Tensor)p.P).ToList(), k, seed, maxIter, tol); }
        finally { if (wasTraining) model.train(); }
    }

    /// <summary>Hutchinson trace of the training-loss Hessian on <paramref name="set"/> (selected parameters).</summary>
    public HessianTrace HessianTrace(TensorDataSet set, int samples, long seed)
    {
        bool wasTraining = model.training; model.eval();
        try { return Trace(v => DataHvp(set, v), Selected().Select(p => (Tensor)p.P).ToList(), samples, seed); }
        finally { if (wasTraining) model.train(); }
    }

    // --------------------------------------------------------------- ε-sharpness

    /// <summary>
    /// ε-sharpness of Keskar et al. (ICLR 2017), full-space version: 100 · (max_{ζ ∈ C_ε} L(w + ζ) − L(w)) / (1 + L(w)),
    /// with the box C_ε = {|ζ_i| ≤ ε(|w_i| + 1)} on the selected parameters and L the mean training loss on
    /// <paramref name="set"/> (eval mode). The maximum is approximated by <paramref name="steps"/> steps of projected
    /// sign-gradient ascent from ζ = 0 with step ε(|w|+1)/4 (Keskar et al. used L-BFGS-B; this is a lower bound).
    /// </summary>
    public Sharpness EpsilonSharpness(TensorDataSet set, double epsilon = 1e-3, int steps = 20, int batchSize = 1024)
    {
        Guard.Positive(epsilon, "epsilon");
        var ps = Selected();
        var saved = ps.Select(p => p.P.detach().clone()).ToList();
        var box = saved.Select(w => w.abs().add_(1).mul_(epsilon)).ToList();
        bool wasTraining = model.training; model.eval();
        try
        {
            double l0 = Trainer.Evaluate(model, set, device, batchSize).Loss, best = l0;
            for (int s = 0; s < steps; s++)
            {
                var grads = ps.Select(p => zeros_like(p.P)).ToList();
                for (long lo = 0; lo < set.Count; lo += batchSize)
                {
                    using var scope = NewDisposeScope();
                    long len = Math.Min(batchSize, set.Count - lo);
                    var x = set.X.narrow(0, lo, len).to(device);
                    var y = set.Y.narrow(0, lo, len).to(device);
                    var loss = nn.functional.cross_entropy(model.forward(x), y).mul((double)len / set.Count);
                    var g = autograd.grad([loss], ps.Select(p => (Tensor)p.P).ToList());
                    for (int i = 0; i < g.Count; i++) grads[i].add_(g[i]);
                }
                using (no_grad())
                    for (int i = 0; i < ps.Count; i++)
                    {
                        using var scope = NewDisposeScope();
                        var zeta = (ps[i].P - saved[i]) + grads[i].sign() * box[i] * 0.25;
                        var clipped = minimum(maximum(zeta, -box[i]), box[i]);
                        ps[i].P.copy_(saved[i] + clipped);
                    }
                foreach (var g in grads) g.Dispose();
                best = Math.Max(best, Trainer.Evaluate(model, set, device, batchSize).Loss);
            }
            return new Sharpness(epsilon, 100 * (best - l0) / (1 + l0), l0, best, steps);
        }
        finally
        {
            Restore(ps, saved);
            foreach (var t in saved.Concat(box)) t.Dispose();
            if (wasTraining) model.train();
        }
    }
}
