using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Flatness;

/// <summary>
/// Options of <see cref="LocalEntropy.Estimate"/>. Defaults in brackets.
/// </summary>
/// <param name="Beta">Inverse temperature β &gt; 0 multiplying the extensive training energy L(w) [1].</param>
/// <param name="Gammas">Coupling grid, increasing, all &gt; 0 [13 points log-spaced over 1 … 1000]. The result is the local
/// free entropy at the smallest γ; the profile gives every γ.</param>
/// <param name="Chains">Independent chains per γ, ≥ 2; the standard error comes from their spread [4].</param>
/// <param name="Sweeps">Measured sweeps per chain (a sweep is N single-coordinate moves, or N/10 MALA steps) [200].</param>
/// <param name="BurnIn">Discarded sweeps per chain [100].</param>
/// <param name="Seed">Seed [0].</param>
public sealed record LocalEntropyOptions(double Beta = 1, IReadOnlyList<double>? Gammas = null, int Chains = 4, int Sweeps = 200, int BurnIn = 100, long Seed = 0)
{
    public double Beta { get; init; } = Guard.Positive(Beta, "beta");
    public IReadOnlyList<double> Gammas { get; init; } = ValidGammas(Gammas ?? Enumerable.Range(0, 13).Select(k => Math.Pow(10, k / 4.0)).ToArray());
    public int Chains { get; init; } = Guard.AtLeast(Chains, 2, "chains");
    public int Sweeps { get; init; } = Guard.AtLeast(Sweeps, 1, "sweeps");
    public int BurnIn { get; init; } = Guard.AtLeast(BurnIn, 0, "burn-in");

    private static IReadOnlyList<double> ValidGammas(IReadOnlyList<double> g)
    {
        if (g.Count < 2) throw new ArgumentOutOfRangeException("gamma", g.Count, "gamma needs at least 2 grid points.");
        for (int i = 0; i < g.Count; i++)
        {
            Guard.Positive(g[i], "gamma");
            if (i > 0 && !(g[i] > g[i - 1])) throw new ArgumentOutOfRangeException("gamma", g[i], "gamma grid must be strictly increasing.");
        }
        return g.ToArray();
    }
}

/// <summary>
/// Local free entropy per weight, relative to the pure Gaussian, with its standard error and profile over γ.
/// </summary>
/// <param name="Value">ψ(γ_min) = [F(w̃; β, γ_min) − (N/2) ln(2π/(βγ_min))]/N = (1/N) ln E_{w~N(w̃, I/(βγ))} e^{−βL(w)}.</param>
/// <param name="StdError">Standard error of <paramref name="Value"/> (chains independent, γ points independent).</param>
/// <param name="Gammas">The γ grid.</param>
/// <param name="Profile">ψ(γ_k) for every grid point.</param>
/// <param name="ProfileStdError">Standard errors of the profile.</param>
/// <param name="MeanDistance2">⟨‖w − w̃‖²⟩/N at each γ.</param>
/// <param name="MeanDistance2StdError">Its standard error.</param>
/// <param name="ReferenceEnergy">−βL(w̃)/N, the γ → ∞ limit of ψ.</param>
/// <param name="Tail">Estimate of ∫_{γmax}^∞ (∂ψ/∂γ) dγ included in the values (power law γ^{-3/2} for the 0-1 loss, γ^{-2} for smooth losses).</param>
/// <param name="Acceptance">Mean Metropolis/MALA acceptance rate.</param>
public sealed record LocalEntropyResult(double Value, double StdError, IReadOnlyList<double> Gammas, IReadOnlyList<double> Profile,
    IReadOnlyList<double> ProfileStdError, IReadOnlyList<double> MeanDistance2, IReadOnlyList<double> MeanDistance2StdError,
    double ReferenceEnergy, double Tail, double Acceptance);

/// <summary>
/// The local free entropy of docs/theory.md#f1, F(w̃; β, γ) = ln ∫ dw exp(−βL(w) − (βγ/2)‖w − w̃‖²), around any reference (w̃, b)
/// (the bias is held at the reference's value), estimated by Monte Carlo sampling and thermodynamic integration in γ:
/// ∂F/∂γ = −(β/2)⟨‖w − w̃‖²⟩_γ. Reported per weight and relative to the Gaussian, ψ(γ) = F/N − ½ ln(2π/(βγ)), which obeys
/// ∂ψ/∂γ = 1/(2γ) − (β/2)⟨‖w − w̃‖²⟩/N and ψ(∞) = −βL(w̃)/N, so ψ(γ) = −βL(w̃)/N − ∫_γ^∞ ∂ψ/∂γ' dγ' (trapezoid in ln γ).
/// <list type="bullet">
/// <item>Error-counting loss L(w) = Σ_μ Θ(−u^μ): Metropolis with single-coordinate proposals drawn from the Gaussian
/// coupling itself, w_j' ~ N(w̃_j, 1/(βγ)), accepted with min(1, e^{−βΔL}); O(P) per move.</item>
/// <item>Differentiable losses L(w) = Σ_μ ℓ(u^μ) + (λ/2)‖w‖²: Metropolis-adjusted Langevin (MALA), exact for the
/// target, with the step adapted to ≈ 60 % acceptance during burn-in.</item>
/// </list>
/// </summary>
public static class LocalEntropy
{
    /// <summary>Estimates ψ for the error-counting loss (<paramref name="loss"/> null) or a differentiable loss.</summary>
    public static LocalEntropyResult Estimate(MixtureSample sample, ReadOnlySpan<double> reference, double bias, IMarginLoss? loss = null,
        double lambda = 0, LocalEntropyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (reference.Length != sample.N) throw new ArgumentException($"reference has {reference.Length} components but N = {sample.N}.", nameof(reference));
        Guard.Finite(bias, "b"); Guard.NonNegative(lambda, "lambda");
        var o = options ?? new LocalEntropyOptions();
        int n = sample.N, k = o.Gammas.Count;
        var wt = reference.ToArray();
        double refEnergy;
        SmoothedLossObjective? obj = null;
        if (loss is null) refEnergy = sample.P * sample.TrainError(wt, bias);
        else
        {
            obj = new SmoothedLossObjective(sample, loss, 0, lambda);
            refEnergy = sample.P * obj.Evaluate(wt, bias, new double[n], out _);
        }
        var d2 = new double[k]; var d2se = new double[k];
        double accSum = 0;
        var xt = loss is null ? Kernels.Transpose(sample.X, sample.P, n) : null;
        var perChain = new double[k, o.Chains];
        var acc = new double[k, o.Chains];
        Parallel.For(0, k * o.Chains, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, job =>
        {
            int gi = job / o.Chains, c = job % o.Chains;
            var rng = Rng.ForStream(o.Seed, job);
            (perChain[gi, c], acc[gi, c]) = loss is null
                ? RunErrorCounting(sample, xt!, wt, bias, o.Beta, o.Gammas[gi], o.BurnIn, o.Sweeps, rng)
                : RunMala(sample, obj!, wt, bias, o.Beta, o.Gammas[gi], o.BurnIn, o.Sweeps, rng);
        });
        for (int gi = 0; gi < k; gi++)
        {
            var vals = new double[o.Chains];
            for (int c = 0; c < o.Chains; c++) { vals[c] = perChain[gi, c]; accSum += acc[gi, c]; }
            var st = Statistic.Of(vals);
            d2[gi] = st.Mean; d2se[gi] = st.StdError;
        }
        // ∂ψ/∂γ on the grid, integrated in ln γ from each point to γmax, plus a power-law tail.
        double beta = o.Beta;
        var g = o.Gammas;
        var slope = new double[k];
        for (int i = 0; i < k; i++) slope[i] = 1 / (2 * g[i]) - 0.5 * beta * d2[i];
        double p = loss is null ? 1.5 : 2.0;
        double tail = slope[k - 1] * g[k - 1] / (p - 1);
        var profile = new double[k]; var profSe = new double[k];
        double reference0 = -beta * refEnergy / n;
        double acc2 = 0, var2 = 0;
        profile[k - 1] = reference0 - tail; profSe[k - 1] = 0.5 * beta * d2se[k - 1] * g[k - 1] / (p - 1);
        double tailVar = profSe[k - 1] * profSe[k - 1];
        for (int i = k - 2; i >= 0; i--)
        {
            double h = Math.Log(g[i + 1] / g[i]);
            acc2 += 0.5 * h * (slope[i] * g[i] + slope[i + 1] * g[i + 1]);
            // variance: each d2 enters with weight ½h·g·β/2 from each adjacent interval
            var2 = 0;
            for (int j = i; j < k; j++)
            {
                double wgt = 0;
                if (j > i) wgt += 0.5 * Math.Log(g[j] / g[j - 1]);
                if (j < k - 1) wgt += 0.5 * Math.Log(g[j + 1] / g[j]);
                wgt *= g[j] * 0.5 * beta;
                var2 += wgt * wgt * d2se[j] * d2se[j];
            }
            profile[i] = reference0 - tail - acc2;
            profSe[i] = Math.Sqrt(var2 + tailVar);
        }
        return new LocalEntropyResult(profile[0], profSe[0], g, profile, profSe, d2, d2se, reference0, tail, accSum / (k * o.Chains));
    }

    // Metropolis for the 0-1 loss; returns (mean ‖w − w̃‖²/N over measured sweeps, acceptance).
    private static (double, double) RunErrorCounting(MixtureSample s, double[] xt, double[] wt, double b, double beta, double gamma,
        int burn, int sweeps, Rng rng)
    {
        int n = s.N, p = s.P;
        double sd = 1 / Math.Sqrt(beta * gamma), invSqrtN = 1 / Math.Sqrt(n);
        var w = (double[])wt.Clone();
        for (int j = 0; j < n; j++) w[j] = wt[j] + sd * rng.NextGaussian();
        var u = s.Margins(w, b);
        var ypx = new double[p];
        long accepted = 0, moves = 0;
        double sum = 0;
        for (int sw = 0; sw < burn + sweeps; sw++)
        {
            for (int mv = 0; mv < n; mv++)
            {
                int j = (int)(rng.NextDouble() * n);
                double wj = wt[j] + sd * rng.NextGaussian();
                double delta = (wj - w[j]) * invSqrtN;
                var col = xt.AsSpan(j * p, p);
                int dE = 0;
                for (int mu = 0; mu < p; mu++)
                {
                    double un = u[mu] + s.Y[mu] * col[mu] * delta;
                    dE += (un < 0 ? 1 : 0) - (u[mu] < 0 ? 1 : 0);
                }
                moves++;
                if (dE <= 0 || rng.NextDouble() < Math.Exp(-beta * dE))
                {
                    for (int mu = 0; mu < p; mu++) u[mu] += s.Y[mu] * col[mu] * delta;
                    w[j] = wj; accepted++;
                }
            }
            if (sw >= burn)
            {
                double d = 0;
                for (int j = 0; j < n; j++) d += (w[j] - wt[j]) * (w[j] - wt[j]);
                sum += d / n;
            }
        }
        return (sum / sweeps, (double)accepted / moves);
    }

    // MALA for a differentiable loss; U(w) = β P L_obj(w) + (βγ/2)‖w − w̃‖².
    private static (double, double) RunMala(MixtureSample s, SmoothedLossObjective obj, double[] wt, double b, double beta, double gamma,
        int burn, int sweeps, Rng rng)
    {
        int n = s.N, p = s.P;
        int stepsPerSweep = Math.Max(1, n / 10);
        var w = (double[])wt.Clone();
        double sd0 = 1 / Math.Sqrt(beta * gamma);
        for (int j = 0; j < n; j++) w[j] = wt[j] + sd0 * rng.NextGaussian();
        var g = new double[n]; var gp = new double[n]; var wp = new double[n];
        double U(double[] x, double[] grad)
        {
            double f = obj.Evaluate(x, b, grad, out _);
            double c = 0;
            for (int j = 0; j < n; j++)
            {
                double d = x[j] - wt[j];
                c += d * d;
                grad[j] = beta * p * grad[j] + beta * gamma * d;
            }
            return beta * p * f + 0.5 * beta * gamma * c;
        }
        double curv = beta * gamma + beta * obj.Curvature * p / n;
        double h = 0.5 / curv;
        double uCur = U(w, g);
        long accepted = 0, proposals = 0, accWindow = 0, window = 0;
        double sum = 0; int measured = 0;
        int total = (burn + sweeps) * stepsPerSweep;
        for (int it = 0; it < total; it++)
        {
            double sq = Math.Sqrt(2 * h);
            for (int j = 0; j < n; j++) wp[j] = w[j] - h * g[j] + sq * rng.NextGaussian();
            double uNew = U(wp, gp);
            // log q(w | w') − log q(w' | w)
            double fwd = 0, bwd = 0;
            for (int j = 0; j < n; j++)
            {
                double a1 = wp[j] - w[j] + h * g[j]; fwd += a1 * a1;
                double a2 = w[j] - wp[j] + h * gp[j]; bwd += a2 * a2;
            }
            double logA = -(uNew - uCur) - (bwd - fwd) / (4 * h);
            bool ok = logA >= 0 || rng.NextDouble() < Math.Exp(logA);
            if (ok)
            {
                Array.Copy(wp, w, n); Array.Copy(gp, g, n); uCur = uNew;
            }
            bool burning = it < burn * stepsPerSweep;
            if (burning)
            {
                window++; if (ok) accWindow++;
                if (window == 20) { h *= accWindow > 12 ? 1.2 : 0.8; window = 0; accWindow = 0; }
            }
            else
            {
                proposals++; if (ok) accepted++;
                double d = 0;
                for (int j = 0; j < n; j++) d += (w[j] - wt[j]) * (w[j] - wt[j]);
                sum += d / n; measured++;
            }
        }
        return (sum / Math.Max(1, measured), proposals > 0 ? (double)accepted / proposals : 0);
    }
}
