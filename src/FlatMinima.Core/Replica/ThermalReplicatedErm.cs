using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Penalties;

namespace FlatMinima.Replica;

/// <summary>
/// The replicated square-loss system of <see cref="ReplicatedProblem"/> at finite temperature (docs/norms.md §3):
/// Gibbs measure ∝ exp(−βE), y replicas, centre on the sphere ‖w̃‖² = NQ, coupling γ. For the square loss the replicas
/// integrate out exactly and the centre's law is ∝ exp(−βy M_γL(w̃)) on the sphere, so β and y enter only through
/// βy (the centre's inverse temperature). At large N the sphere is a multiplier; the centre's mean is κ times the ridge
/// solution at λ, with λ = γ(1 − κ), and the norm budget is
/// <code>
/// Q = κ² q_r(λ) + (γ − λ)(1 + (γ − λ)V(λ)) / (βy γ²),
/// </code>
/// q_r and V = (1/N)Tr(H + λ)⁻¹ being the square-loss ERM fixed point at ridge λ (λ may be negative, down to the
/// spectral edge; obtained from the fixed-norm fixed point). βy → ∞ gives <see cref="ReplicatedSaddlePoint"/>.
/// </summary>
public static class ThermalReplicatedSaddlePoint
{
    /// <summary>The finite-temperature centre.</summary>
    /// <param name="Replica">Square-loss ERM fixed point at the effective ridge λ = <see cref="ErmFixedPoint.Multiplier"/>:
    /// the replicas' mean.</param>
    /// <param name="Kappa">κ = 1 − λ/γ: the centre's mean is κ·w_ridge(λ) with bias b_ridge(λ).</param>
    /// <param name="MeanTestError">ε_g of the centre's thermal mean (m̃ = κm_r, q̃ = κ²q_r, b̃ = b_r).</param>
    /// <param name="SampleTestError">ε_g of a centre drawn from its law (m̃ = κm_r, q̃ = Q, b̃ = b_r).</param>
    /// <param name="MeanM">κ m_r.</param>
    /// <param name="MeanQ">κ² q_r (≤ Q).</param>
    /// <param name="Bias">b_r.</param>
    public sealed record Result(ErmFixedPoint Replica, double Kappa, double MeanTestError, double SampleTestError, double MeanM, double MeanQ, double Bias)
    {
        /// <summary>The coupling γ.</summary>
        public double Gamma { get; init; }
        /// <summary>β·y.</summary>
        public double BetaY { get; init; }
        /// <summary>Normalised replicon (de Almeida–Thouless) eigenvalue Λ of the RS solution
        /// (<see cref="ThermalReplicatedStability"/>, docs/theory.md#rs-stability).</summary>
        public double Replicon { get; init; } = double.NaN;
        /// <summary>Whether replica symmetry is locally stable (Λ &gt; 0).</summary>
        public bool RsStable => Replicon > 0;
    }

    /// <summary>
    /// The mean squared replica–centre distance d = E‖w^a − w̃‖²/N at inverse temperature <paramref name="beta"/> (so
    /// y = βy/β): d = (1 − κ)² q_r + [1 − γ²V(γ)/(γ − λ) + λ²V(λ)/(γ − λ)]/(βy (γ + μ)) + V(γ)/β, with
    /// γ + μ = γ²/(γ − λ), V(x) = (1/N)Tr(H + x)⁻¹ (the first term: the means; the second: the centre's fluctuations
    /// filtered by H(H + γ)⁻¹; the third: the replicas' own fluctuations).
    /// </summary>
    public static double Distance(Result r, MixtureModel model, double beta)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(beta > 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be > 0.");
        double g = r.Gamma, lam = r.Replica.Multiplier, k = r.Kappa;
        double vG = ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, model, g)).V;
        double d = (1 - k) * (1 - k) * r.Replica.Q;
        if (double.IsPositiveInfinity(beta)) return d;
        double centre = double.IsPositiveInfinity(r.BetaY) ? 0
            : (1 - g * g * vG / (g - lam) + lam * lam * r.Replica.V / (g - lam)) * (g - lam) / (g * g) / r.BetaY;
        return d + centre + vG / beta;
    }

    /// <param name="model">The data model (α, Δ, ρ).</param>
    /// <param name="betaY">β·y &gt; 0 (∞ allowed: zero temperature).</param>
    /// <param name="norm">Q &gt; 0.</param>
    /// <param name="gamma">γ &gt; 0.</param>
    public static Result Solve(MixtureModel model, double betaY, double norm, double gamma)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(betaY > 0)) throw new ArgumentOutOfRangeException("beta-y", betaY, $"beta*y must be > 0 (infinity allowed) (got {betaY}).");
        Guard.Positive(norm, "norm");
        Guard.Positive(gamma, "gamma");
        ErmFixedPoint Fp(double qr) => ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, model, new SpherePenalty(qr)));
        double Budget(ErmFixedPoint fp)
        {
            double lam = fp.Multiplier, k = 1 - lam / gamma;
            double fl = double.IsPositiveInfinity(betaY) ? 0 : (gamma - lam) * (1 + (gamma - lam) * fp.V) / (betaY * gamma * gamma);
            return k * k * fp.Q + fl - norm;
        }
        // the replica norm q_r: λ(q_r) decreases with q_r; λ < γ needs q_r above the norm where λ = γ
        double lo = Math.Log(norm), hi = Math.Log(norm);
        while (Fp(Math.Exp(lo)).Multiplier < gamma) lo -= 1;
        // at λ ≥ γ the mean centre has κ ≤ 0; move the lower end to λ just below γ by bisection on λ = γ
        double a = lo, b = lo + 1;
        while (Fp(Math.Exp(b)).Multiplier >= gamma) b += 1;
        for (int i = 0; i < 60; i++) { double mid = 0.5 * (a + b); if (Fp(Math.Exp(mid)).Multiplier >= gamma) a = mid; else b = mid; }
        lo = b;
        hi = Math.Max(hi, lo) + 1;
        while (Budget(Fp(Math.Exp(hi))) < 0) hi += 1;
        for (int i = 0; i < 70 && hi - lo > 1e-13; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (Budget(Fp(Math.Exp(mid))) < 0) lo = mid; else hi = mid;
        }
        var fp = Fp(Math.Exp(0.5 * (lo + hi)));
        double kappa = 1 - fp.Multiplier / gamma;
        double mm = kappa * fp.M, mq = kappa * kappa * fp.Q;
        var result = new Result(fp, kappa, GeneralizationError.Of(mm, mq, fp.Bias, model.Delta, model.Rho), GeneralizationError.Of(mm, norm, fp.Bias, model.Delta, model.Rho),
            mm, mq, fp.Bias) { Gamma = gamma, BetaY = betaY };
        return result with { Replicon = ThermalReplicatedStability.Replicon(result, model) };
    }
}
