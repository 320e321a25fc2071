using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Replica;

/// <summary>
/// Stability of the replica-symmetric solution of the finite-temperature replicated square-loss system
/// (<see cref="ThermalReplicatedSaddlePoint"/>, docs/theory.md#rs-stability). The replicas integrate out exactly, leaving
/// the centre on its sphere with the quadratic energy βy·½ w̃ᵀK w̃ − (field)·w̃, K = γH(H + γ)⁻¹ (H the centred Gram
/// matrix). For copies of such a centre the replicon of the overlap matrix, normalised by its bare-sphere value, is
/// <code>
/// Λ = 1 − g² R'_K(−g) = g²/g₂,   g = (1/N)Tr(K + μ)⁻¹,  g₂ = (1/N)Tr(K + μ)⁻²,
/// </code>
/// μ the sphere's multiplier (R_K the R-transform of K). With (K + μ)⁻¹ = [1 + (γ − λ)(H + λ)⁻¹]/(γ + μ),
/// λ = μγ/(γ + μ) the effective ridge of the replicas:
/// <code>
/// Λ = (1 + εV)² / (1 + 2εV + ε²V₂),   ε = γ − λ,  V = (1/N)Tr(H + λ)⁻¹,  V₂ = (1/N)Tr(H + λ)⁻² = V²/(1 − αΔ²V²/(1 + ΔV)²)
/// </code>
/// (V₂ = −dV/dλ from the Marchenko–Pastur equation V = 1/(λ + αΔ/(1 + ΔV)) of the square-loss fixed point).
/// Λ = (1 − q̃)²/χ_SG with χ_SG the centre's spin-glass susceptibility: it lies in (0, 1] (Cauchy–Schwarz) as long as λ is
/// above the lower edge of the spectrum of H, which the norm budget always keeps it (the replicas' norm diverges at
/// the edge). So RS is stable at every point of this system.
/// </summary>
public static class ThermalReplicatedStability
{
    /// <summary>V₂ = (1/N)Tr(H + λ)⁻² from V = (1/N)Tr(H + λ)⁻¹ of the square-loss fixed point at ridge λ:
    /// V₂ = V²/(1 − αΔ²V²/(1 + ΔV)²) (independent of ρ).</summary>
    public static double ResolventSecondMoment(double v, MixtureModel model)
    {
        Guard.Positive(v, "V");
        ArgumentNullException.ThrowIfNull(model);
        double s = model.Delta * v / (1 + model.Delta * v);
        return v * v / (1 - model.Alpha * s * s);
    }

    /// <summary>Λ = (1 + εV)²/(1 + 2εV + ε²V₂).</summary>
    /// <param name="epsilon">ε = γ − λ ≥ 0.</param>
    /// <param name="v">V(λ) &gt; 0.</param>
    /// <param name="v2">V₂(λ) ≥ V².</param>
    public static double Replicon(double epsilon, double v, double v2)
    {
        double f = 1 + epsilon * v;
        return f * f / (1 + 2 * epsilon * v + epsilon * epsilon * v2);
    }

    /// <summary>Λ of a solved centre.</summary>
    public static double Replicon(ThermalReplicatedSaddlePoint.Result result, MixtureModel model)
    {
        ArgumentNullException.ThrowIfNull(result);
        double v = result.Replica.V;
        return Replicon(result.Gamma - result.Replica.Multiplier, v, ResolventSecondMoment(v, model));
    }

    /// <summary>The βy → 0 limit: ε ≈ βyγ²Q, so 1 − Λ ≈ (βyγ²Q)²(V₂(γ) − V(γ)²); returns the coefficient
    /// γ⁴Q²(V₂(γ) − V(γ)²) of (βy)², with V(γ) the square-loss ERM fixed point's V at ridge γ.</summary>
    public static double SmallBetaYCoefficient(MixtureModel model, double norm, double gamma)
    {
        ArgumentNullException.ThrowIfNull(model);
        Guard.Positive(norm, "norm"); Guard.Positive(gamma, "gamma");
        double v = ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, model, gamma)).V;
        return Math.Pow(gamma, 4) * norm * norm * (ResolventSecondMoment(v, model) - v * v);
    }
}
