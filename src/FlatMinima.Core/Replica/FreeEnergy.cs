namespace FlatMinima.Replica;

/// <summary>The three terms of the zero-temperature RS energy and their sum (per N).</summary>
/// <param name="Interaction">m m̂ − ½ q V̂ + ½ q̂ V.</param>
/// <param name="Prior">Entropic (weight) term of the penalty, <see cref="Penalties.IWeightPenalty.Prior"/>; for the ridge
/// −(m̂² + q̂)/(2(λ + V̂)) = min_w [(λ + V̂) w²/2 − (m̂ v + √q̂ ζ) w] averaged.</param>
/// <param name="Channel">Energetic (sample) term α E_{y,ξ}[min_u (u − yω)²/(2ΔV) + ℓ(u)].</param>
public readonly record struct FreeEnergyTerms(double Interaction, double Prior, double Channel)
{
    /// <summary>Interaction + prior + channel.</summary>
    public double Total => Interaction + Prior + Channel;
}

/// <summary>
/// The zero-temperature replica-symmetric energy of ERM (docs/theory.md#erm-free-energy), written so that its stationary point in all
/// seven variables (m, q, V, b, m̂, q̂, V̂) is exactly the fixed point of docs/theory.md#erm-saddle-point and its value there is the
/// minimal training energy per N, α E[ℓ(u*)] + λq/2:
/// <code>
/// e = m m̂ − ½ q V̂ + ½ q̂ V − (m̂² + q̂)/(2(λ + V̂)) + α E_{y,ξ}[ M_ℓ(yω; ΔV) ],   ω = y m + b + √(Δq) ξ.
/// </code>
/// The same three pieces are often quoted with other signs ("−m m̂ + ½(q̂V − V̂q)", "+½(m̂² + q̂)/(λ + V̂)"); those are
/// not stationary at the ERM fixed point (∂/∂q̂ would give V = −1/(λ + V̂)), so the toolkit uses the form above, with
/// the signs corrected as derived in docs/theory.md#erm-free-energy and checked numerically by the tests.
/// </summary>
public static class FreeEnergy
{
    /// <summary>The three terms at an arbitrary point (not necessarily stationary).</summary>
    public static FreeEnergyTerms Terms(ErmSaddlePoint sp, double m, double q, double v, double bias, double mHat, double qHat, double vHat)
    {
        var p = sp.Problem;
        double interaction = m * mHat - 0.5 * q * vHat + 0.5 * qHat * v;
        double prior = p.Penalty.Prior(mHat, qHat, vHat);
        double s = Math.Sqrt(p.Delta * q), c = p.Delta * v;
        double channel = p.Alpha * (p.Rho * sp.Channel.Moreau(m + bias, s, c) + (1 - p.Rho) * sp.Channel.Moreau(m - bias, s, c));
        return new FreeEnergyTerms(interaction, prior, channel);
    }

    /// <summary>The terms at a fixed point.</summary>
    public static FreeEnergyTerms Terms(ErmSaddlePoint sp, ErmFixedPoint fp) =>
        Terms(sp, fp.M, fp.Q, fp.V, fp.Bias, fp.MHat, fp.QHat, fp.VHat);

    /// <summary>The energy as a function of the seven variables in the order (m, q, V, b, m̂, q̂, V̂).</summary>
    public static double Of(ErmSaddlePoint sp, ReadOnlySpan<double> x) => Terms(sp, x[0], x[1], x[2], x[3], x[4], x[5], x[6]).Total;

    /// <summary>Central-difference gradient of the energy in (m, q, V, b, m̂, q̂, V̂) at the fixed point, with
    /// relative step <paramref name="h"/> (default 1e−5). All components vanish at a saddle point.</summary>
    public static double[] Gradient(ErmSaddlePoint sp, ErmFixedPoint fp, double h = 1e-5)
    {
        double[] x = [fp.M, fp.Q, fp.V, fp.Bias, fp.MHat, fp.QHat, fp.VHat];
        var g = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double step = h * Math.Max(1e-3, Math.Abs(x[i]));
            var xp = (double[])x.Clone(); xp[i] += step;
            var xm = (double[])x.Clone(); xm[i] -= step;
            g[i] = (Of(sp, xp) - Of(sp, xm)) / (2 * step);
        }
        return g;
    }
}
