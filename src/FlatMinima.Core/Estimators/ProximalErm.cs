using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Penalties;

namespace FlatMinima.Estimators;

/// <summary>
/// Finite-N ERM with a separable penalty on the weights, bias unpenalised: minimise Σ_μ ℓ(u^μ) + Σ_j r(w_j) for a smooth
/// loss and any penalty with a proximal map (<see cref="IWeightPenalty.Prox"/>: soft thresholding for L1, the exact
/// scalar prox for a <see cref="SeparablePenalty"/>). FISTA (Beck and Teboulle 2009) with backtracking on the Lipschitz
/// constant and adaptive restart (O'Donoghue and Candès 2015); the proximal step applies the penalty's prox to w and
/// leaves b free. Stops when the gradient mapping ‖(θ − prox(θ − ∇f/L))·L‖_∞/P ≤ max(tolerance, 1e−7) (the analogue
/// of the smooth solvers’ gradient tolerance; first-order methods make 1e−10 too slow here).
/// </summary>
public static class ProximalErm
{
    /// <summary>Fits; <see cref="ErmSolution.Lambda"/> is the penalty's strength (NaN if it has none),
    /// <see cref="ErmSolution.Residual"/> the final gradient mapping, <see cref="ErmSolution.Method"/> "fista-" and the
    /// penalty's name.</summary>
    public static ErmSolution Fit(MixtureSample sample, IMarginLoss loss, IWeightPenalty penalty, ErmOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(penalty);
        if (!loss.IsSmooth) throw new ArgumentException($"loss '{loss.Name}' is not smooth; the proximal solver needs a smooth loss.", "loss");
        options ??= ErmOptions.Default;
        int n = sample.N, p = sample.P;
        var obj = new MarginObjective(sample.X, sample.Y, p, n, loss, 0, options.SolveThreads);
        double tol = Math.Max(options.Tolerance, 1e-7) * p;
        var x = new double[n + 1]; var z = new double[n + 1]; var xNew = new double[n + 1];
        var gz = new double[n + 1]; var gTmp = new double[n + 1];
        double lip = 1.0, t = 1.0;
        bool fitBias = options.FitBias;
        double F(double[] th) => obj.Evaluate(th, gTmp) + penalty.Value(th.AsSpan(0, n));
        int it = 0; double resid = double.PositiveInfinity;
        double fx = F(x);
        for (; it < options.MaxIterations * 10; it++)
        {
            double fz = obj.Evaluate(z, gz);
            if (!fitBias) gz[n] = 0;
            // backtracking: f(x+) ≤ f(z) + ∇f(z)·(x+ − z) + L/2 ‖x+ − z‖²
            while (true)
            {
                Prox(penalty, z, gz, lip, xNew, n);
                double lin = 0, sq = 0;
                for (int i = 0; i <= n; i++) { double d = xNew[i] - z[i]; lin += gz[i] * d; sq += d * d; }
                double fNew = obj.Evaluate(xNew, gTmp);
                if (fNew <= fz + lin + 0.5 * lip * sq + 1e-12 * Math.Abs(fz)) break;
                lip *= 2;
            }
            resid = 0;
            for (int i = 0; i <= n; i++) resid = Math.Max(resid, Math.Abs(xNew[i] - z[i]) * lip);
            double fNewTotal = F(xNew);
            double tNew = 0.5 * (1 + Math.Sqrt(1 + 4 * t * t));
            if (fNewTotal > fx) { tNew = 1; Array.Copy(x, z, n + 1); t = 1; lip *= 0.9; continue; } // restart
            for (int i = 0; i <= n; i++) z[i] = xNew[i] + (t - 1) / tNew * (xNew[i] - x[i]);
            Array.Copy(xNew, x, n + 1);
            fx = fNewTotal; t = tNew;
            lip *= 0.95; // let the step grow again
            if (resid <= tol) break;
        }
        var w = x.AsSpan(0, n).ToArray();
        return new ErmSolution(new LinearClassifier(w, x[n]), loss.Name, penalty.Strength ?? double.NaN, fx, resid / p, it, resid <= tol,
            "fista-" + penalty.Name);
    }

    /// <summary>Bytes a fit allocates besides X: O(N + P) vectors (FISTA works on X directly).</summary>
    public static long WorkspaceBytes(int p, int n) => Erm.WorkspaceBytes(p, n, LogisticLoss.Instance);

    // Gradient step of length 1/L on (w, b), then the penalty's proximal map on each weight (the bias is free).
    private static void Prox(IWeightPenalty penalty, double[] z, double[] g, double lip, double[] outp, int n)
    {
        for (int j = 0; j < n; j++) outp[j] = penalty.Prox(z[j] - g[j] / lip, lip);
        outp[n] = z[n] - g[n] / lip;
    }
}
