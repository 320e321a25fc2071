using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;

namespace FlatMinima.Flatness;

/// <summary>
/// Local energy of a linear classifier under multiplicative weight noise (docs/theory.md#le): the training error
/// E_σ(w, b) = E_ζ[E_train(w ⊙ (1 + σζ), b)], ζ ~ N(0, I). The local energy proper is δE(σ) = E_σ − E_0.
/// Errors are fractions (not %).
/// <list type="bullet">
/// <item>Exact: (LE1), exact at every N, no Monte Carlo.</item>
/// <item>MonteCarlo: brute force over noise draws (the deep-network protocol of docs/theory.md#le).</item>
/// <item>BayesOptimalTheory: (LE2), N → ∞, for the BO estimator w = v̂.</item>
/// <item>ErmTheory: (LE3), N → ∞, from the law of training margins of a replica fixed point.</item>
/// </list>
/// </summary>
public static class LocalEnergy
{
    /// <summary>
    /// (LE1): E_σ = (1/P) Σ_μ H(u^μ/(σ s_μ)), s_μ² = (1/N) Σ_j w_j² (x_j^μ)². With <paramref name="perturbBias"/>
    /// the bias is also perturbed, b → b(1 + σζ_b) with one ζ_b shared by all samples, and the ζ_b integral is done by
    /// graded Gauss–Legendre quadrature. σ = 0 gives the training error (a zero margin counts one half).
    /// </summary>
    public static double Exact(MixtureSample sample, ReadOnlySpan<double> w, double b, double sigma, bool perturbBias = false)
        => Exact(sample, w, b, [sigma], perturbBias)[0];

    /// <summary>(LE1) on a grid of σ; the margins and s_μ are computed once (O(P·N)), then O(P) per σ.</summary>
    public static double[] Exact(MixtureSample sample, ReadOnlySpan<double> w, double b, IReadOnlyList<double> sigmas, bool perturbBias = false)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (w.Length != sample.N) throw new ArgumentException($"w has {w.Length} components but N = {sample.N}.", nameof(w));
        Guard.Finite(b, "b");
        foreach (var s in sigmas) Guard.NonNegative(s, "sigma");
        var u = sample.Margins(w, b);
        var sd = NoiseScales(sample, w);
        var result = new double[sigmas.Count];
        int p = sample.P;
        for (int k = 0; k < sigmas.Count; k++)
        {
            double sigma = sigmas[k];
            if (sigma == 0) { result[k] = MixtureSample.TrainErrorOfMargins(u); continue; }
            if (!perturbBias || b == 0)
            {
                double e = 0;
                for (int mu = 0; mu < p; mu++) e += HOf(u[mu], sigma * sd[mu]);
                result[k] = e / p;
            }
            else
            {
                // Breakpoints: ζ_b where some margin would cross zero is everywhere in general; the integrand is
                // smooth in ζ_b for σ s_μ > 0, so a Gauss–Legendre rule on [−12, 12] with unit panels suffices.
                var (zx, zw) = GaussianMeasure.Graded([], 12, 1, 16);
                double e = 0;
                for (int i = 0; i < zx.Length; i++)
                {
                    double shift = sigma * b * zx[i], acc = 0;
                    for (int mu = 0; mu < p; mu++) acc += HOf(u[mu] + sample.Y[mu] * shift, sigma * sd[mu]);
                    e += zw[i] * acc;
                }
                result[k] = e / p;
            }
        }
        return result;
    }

    private static double HOf(double u, double scale) => scale > 0 ? Gaussian.H(u / scale) : (u < 0 ? 1 : (u == 0 ? 0.5 : 0));

    /// <summary>s_μ = √((1/N) Σ_j w_j² (x_j^μ)²), the standard deviation of the margin change per unit σ.</summary>
    public static double[] NoiseScales(MixtureSample sample, ReadOnlySpan<double> w)
    {
        int n = sample.N, p = sample.P;
        var w2 = new double[n];
        for (int j = 0; j < n; j++) w2[j] = w[j] * w[j];
        var s = new double[p];
        var row2 = new double[n];
        for (int mu = 0; mu < p; mu++)
        {
            var row = sample.Row(mu);
            for (int j = 0; j < n; j++) row2[j] = row[j] * row[j];
            s[mu] = Math.Sqrt(Kernels.Dot(row2, w2) / n);
        }
        return s;
    }

    /// <summary>
    /// Brute-force (LE): for each of <paramref name="draws"/> noise draws ζ (stream d of <paramref name="seed"/>),
    /// the training error of (w ⊙ (1 + σζ), b) — or of b(1 + σζ_b) too when <paramref name="perturbBias"/>.
    /// Returns the mean and spread over draws (<see cref="Statistic.StdError"/> is the standard error).
    /// </summary>
    public static Statistic MonteCarlo(MixtureSample sample, ReadOnlySpan<double> w, double b, double sigma, int draws = 100, long seed = 0, bool perturbBias = false)
    {
        ArgumentNullException.ThrowIfNull(sample);
        Guard.NonNegative(sigma, "sigma");
        Guard.AtLeast(draws, 2, "draws");
        int n = sample.N;
        var wp = new double[n];
        var errors = new double[draws];
        for (int d = 0; d < draws; d++)
        {
            var rng = Rng.ForStream(seed, d);
            for (int j = 0; j < n; j++) wp[j] = w[j] * (1 + sigma * rng.NextGaussian());
            double bp = perturbBias ? b * (1 + sigma * rng.NextGaussian()) : b;
            errors[d] = sample.TrainError(wp, bp);
        }
        return Statistic.Of(errors);
    }

    /// <summary>
    /// (LE2): training error of the BO estimator w = v̂ (bias b, not perturbed) under multiplicative noise, N → ∞:
    /// ρ H((1+b)/√(Δq_B(1+σ²))) + (1−ρ) H((1−b)/√(Δq_B(1+σ²))), q_B = α/(α+Δ). With <paramref name="bias"/> null
    /// the BO bias b_BO = (Δ/2) ln(ρ/(1−ρ)) of (E2) is used.
    /// </summary>
    public static double BayesOptimalTheory(MixtureModel model, double sigma, double? bias = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        double alpha = model.Alpha, delta = model.Delta, rho = model.Rho;
        Guard.NonNegative(sigma, "sigma");
        double b = bias ?? 0.5 * delta * Math.Log(rho / (1 - rho));
        double qb = alpha / (alpha + delta);
        double s = Math.Sqrt(delta * qb * (1 + sigma * sigma));
        return rho * Gaussian.H((1 + b) / s) + (1 - rho) * Gaussian.H((1 - b) / s);
    }

    /// <summary>(LE2) on a grid of σ.</summary>
    public static double[] BayesOptimalTheory(MixtureModel model, IReadOnlyList<double> sigmas, double? bias = null)
        => sigmas.Select(s => BayesOptimalTheory(model, s, bias)).ToArray();

    /// <summary>(LE3) for the ERM minimiser at the replica fixed point <paramref name="fixedPoint"/> (docs/theory.md#erm-saddle-point):
    /// the training-margin law u* = prox_ℓ(yω, ΔV) with the fixed point's (m, q, V, b).</summary>
    public static double[] ErmTheory(ErmFixedPoint fixedPoint, IReadOnlyList<double> sigmas)
    {
        ArgumentNullException.ThrowIfNull(fixedPoint);
        return ErmTheory(fixedPoint.MarginLaw, sigmas);
    }

    /// <summary>(LE3) at one σ.</summary>
    public static double ErmTheory(TrainingMarginLaw law, double sigma) => ErmTheory(law, [sigma])[0];

    /// <summary>
    /// (LE3): E_σ = E_{y,ξ}[H(u*(y,ω)/(σ√(Δq)))] with ω = y m + b + √(Δq) ξ, the asymptotic local energy of the
    /// classifier whose training margins follow <paramref name="law"/>. σ = 0 gives the training error P(u* &lt; 0).
    /// Quadrature: the zero of u* (found by bisection, u* is monotone) and the kinks are breakpoints of a graded
    /// composite Gauss–Legendre rule; u* is evaluated once per node and reused for every σ.
    /// </summary>
    public static double[] ErmTheory(TrainingMarginLaw law, IReadOnlyList<double> sigmas)
    {
        ArgumentNullException.ThrowIfNull(law);
        foreach (var s in sigmas) Guard.NonNegative(s, "sigma");
        double sq = Math.Sqrt(law.Delta * law.Q);
        var result = new double[sigmas.Count];
        foreach (double y in new[] { 1.0, -1.0 })
        {
            double py = y > 0 ? law.Rho : 1 - law.Rho;
            double a0 = law.M + y * law.Bias;               // a = a0 + sq ξ
            double Xi(double a) => (a - a0) / sq;
            // zero of u*(a): bracket in a
            double lo = a0 - 20 * sq - 10, hi = a0 + 20 * sq + 10;
            double xi0;
            if (law.Margin(lo) >= 0) xi0 = double.NegativeInfinity;
            else if (law.Margin(hi) < 0) xi0 = double.PositiveInfinity;
            else
            {
                for (int it = 0; it < 200 && hi - lo > 1e-14 * Math.Max(1, Math.Abs(lo)); it++)
                {
                    double mid = 0.5 * (lo + hi);
                    if (law.Margin(mid) < 0) lo = mid; else hi = mid;
                }
                xi0 = Xi(0.5 * (lo + hi));
            }
            var breaks = new List<double>();
            if (double.IsFinite(xi0)) breaks.Add(xi0);
            foreach (var k in law.Kinks) breaks.Add(Xi(k));
            var (xs, ws) = GaussianMeasure.Graded(breaks, 12, 1e-5);
            var us = new double[xs.Length];
            for (int i = 0; i < xs.Length; i++) us[i] = law.Margin(a0 + sq * xs[i]);
            for (int k = 0; k < sigmas.Count; k++)
            {
                double sigma = sigmas[k], e;
                if (sigma == 0) e = double.IsNegativeInfinity(xi0) ? 0 : (double.IsPositiveInfinity(xi0) ? 1 : Gaussian.H(-xi0));
                else
                {
                    double scale = sigma * sq;
                    e = 0;
                    for (int i = 0; i < xs.Length; i++) e += ws[i] * Gaussian.H(us[i] / scale);
                }
                result[k] += py * e;
            }
        }
        return result;
    }
}
