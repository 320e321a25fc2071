using FlatMinima.Numerics;

namespace FlatMinima.Replica;

/// <summary>RS saddle point of the spherical perceptron's storage problem and its replicon.</summary>
/// <param name="Alpha">α = P/N.</param>
/// <param name="Kappa">Margin κ.</param>
/// <param name="Beta">Inverse temperature (∞: the Gardner volume of zero-error solutions).</param>
/// <param name="Q">Overlap q between two solutions.</param>
/// <param name="Replicon">Λ = 1 − α(1−q)² E_ξ[(∂²_ω ln Z)²]; RS locally stable iff Λ &gt; 0.</param>
public sealed record SphericalPerceptronPoint(double Alpha, double Kappa, double Beta, double Q, double Replicon)
{
    /// <summary>Λ &gt; 0.</summary>
    public bool RsStable => Replicon > 0;
}

/// <summary>
/// The storage problem of the spherical perceptron (Gardner 1988, docs/theory.md#rs-stability): w on the sphere ‖w‖² = N,
/// P = αN random patterns ξ^μ with random labels, energy = the number of patterns with stability
/// w·ξ^μ/√N below the margin κ, at inverse temperature β (β = ∞: the volume of solutions). It is the pure-noise limit of
/// the Franz–Parisi problem (Δ → ∞ with a reference independent of the data, b = 0, κ = 0, overlap R → 0), and the
/// textbook case of the de Almeida–Thouless condition, coded here from its own equations as an independent reference:
/// <code>
/// f(q) = ½ ln(1−q) + q/(2(1−q)) + α E_ξ ln Z(√q ξ),   Z(ω) = e^{−β} + (1 − e^{−β}) H((κ − ω)/√(1−q)),
/// saddle point  q/(1−q)² = α E_ξ[(∂_ω ln Z)²],   replicon  Λ = 1 − α(1−q)² E_ξ[(∂²_ω ln Z)²].
/// </code>
/// </summary>
public static class SphericalPerceptron
{
    /// <summary>Gardner's capacity at margin κ (β = ∞, RS): α_c(κ) = 1/∫_{−κ}^∞ Dt (t + κ)² = 1/G(−κ),
    /// G(a) = (1 + a²)H(a) − aφ(a).</summary>
    public static double Capacity(double kappa)
    {
        Guard.Finite(kappa, "kappa");
        double a = -kappa;
        return 1 / ((1 + a * a) * Gaussian.H(a) - a * Gaussian.Pdf(a));
    }

    /// <summary>The replicon at the RS capacity (β = ∞, α → α_c(κ), q → 1) in closed form: (∂²_ω ln H)²(1−q)² → 1 on the
    /// patterns whose cavity field lies below κ, a fraction H(−κ), so Λ → 1 − α_c(κ) H(−κ). It vanishes at κ = 0
    /// (marginal at α_c = 2), is positive for κ &gt; 0 and negative for κ &lt; 0 (RS breaks before its capacity).</summary>
    public static double RepliconAtCapacity(double kappa) => 1 - Capacity(kappa) * Gaussian.H(-kappa);

    /// <summary>Solves the RS saddle point by bisection in q ∈ (0, 1) and evaluates the replicon.</summary>
    /// <param name="alpha">α &gt; 0 (below <see cref="Capacity"/> when β = ∞).</param>
    /// <param name="kappa">Margin κ.</param>
    /// <param name="beta">β &gt; 0, ∞ allowed.</param>
    /// <exception cref="ArgumentOutOfRangeException">α ≥ α_c(κ) at β = ∞ (no RS solution with q &lt; 1).</exception>
    public static SphericalPerceptronPoint Solve(double alpha, double kappa = 0, double beta = double.PositiveInfinity)
    {
        Guard.Positive(alpha, "alpha");
        Guard.Finite(kappa, "kappa");
        if (!(beta > 0)) throw new ArgumentOutOfRangeException("beta", beta, $"beta must be > 0 (infinity allowed) (got {beta}).");
        if (double.IsPositiveInfinity(beta) && alpha >= Capacity(kappa))
            throw new ArgumentOutOfRangeException("alpha", alpha, $"alpha must be below the capacity {Capacity(kappa):G6} at beta = infinity (got {alpha}).");
        // F(q) = q/(1−q)² − α E[(∂ ln Z)²]: negative at q → 0, positive at q → 1 below capacity (or at finite β)
        double lo = 1e-12, hi = 1 - 1e-12;
        double F(double q) => q / ((1 - q) * (1 - q)) - alpha * Moments(q, kappa, beta).D1;
        double qs;
        if (F(lo) >= 0) qs = 0; // the energy is not felt (F(0) = 0 at κ = 0 only if β = 0)
        else
        {
            for (int it = 0; it < 200 && hi - lo > 1e-15; it++)
            {
                double mid = 0.5 * (lo + hi);
                if (F(mid) < 0) lo = mid; else hi = mid;
            }
            qs = 0.5 * (lo + hi);
        }
        double lam = 1 - alpha * (1 - qs) * (1 - qs) * Moments(qs, kappa, beta).D2;
        return new SphericalPerceptronPoint(alpha, kappa, beta, qs, lam);
    }

    // E_ξ[(Z'/Z)²] and E_ξ[(Z''/Z − (Z'/Z)²)²] at ω = √q ξ, V = 1 − q, with u = (κ − ω)/√V:
    // Z = e^{−β} + γH(u), Z' = γφ(u)/√V, Z'' = γuφ(u)/V; at β = ∞ the ratio φ/H is taken from ln H (no underflow).
    private static (double D1, double D2) Moments(double q, double kappa, double beta)
    {
        double v = 1 - q, sv = Math.Sqrt(v), sq = Math.Sqrt(q);
        double eb = double.IsPositiveInfinity(beta) ? 0 : Math.Exp(-beta), gam = 1 - eb;
        var rule = sq > 0 ? GaussianMeasure.Graded([kappa / sq], 14, Math.Min(0.05, 0.05 * sv / sq)) : GaussianMeasure.GaussHermite(40);
        double d1 = 0, d2 = 0;
        var (xs, ws) = rule;
        for (int i = 0; i < xs.Length; i++)
        {
            double u = (kappa - sq * xs[i]) / sv;
            double ratio = eb == 0
                ? Math.Exp(-0.5 * u * u - 0.5 * Math.Log(2 * Math.PI) - Gaussian.LogH(u))
                : gam * Gaussian.Pdf(u) / (eb + gam * Gaussian.H(u));
            double first = ratio / sv, second = u * ratio / v - first * first;
            d1 += ws[i] * first * first;
            d2 += ws[i] * second * second;
        }
        return (d1, d2);
    }
}
