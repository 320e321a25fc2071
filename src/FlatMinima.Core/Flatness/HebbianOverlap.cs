using FlatMinima.Replica;

namespace FlatMinima.Flatness;

/// <summary>
/// The cosine between an ERM minimiser and the BO (Hebbian) direction ŝ = Σ_μ y^μ x^μ/√N, N → ∞, from its replica
/// fixed point. Exact identity: w·ŝ/N = (1/N) Σ_μ (u^μ − y^μ b) = α(E[u*] − (2ρ−1) b), and ‖ŝ‖²/N → α(α+Δ), so
/// cos(w, ŝ) = α(E[u*] − (2ρ−1)b)/√(q α(α+Δ)). For w = v̂ (training margins of mean 1 + yb) it is 1.
/// </summary>
public static class HebbianOverlap
{
    /// <summary>cos(w, Σ y x) of the ERM minimiser at <paramref name="fixedPoint"/>.</summary>
    public static double ErmCosine(ErmFixedPoint fixedPoint)
    {
        ArgumentNullException.ThrowIfNull(fixedPoint);
        var p = fixedPoint.Problem;
        double meanU = fixedPoint.MarginLaw.Mean;
        return p.Alpha * (meanU - (2 * p.Rho - 1) * fixedPoint.Bias) / Math.Sqrt(fixedPoint.Q * p.Alpha * (p.Alpha + p.Delta));
    }
}
