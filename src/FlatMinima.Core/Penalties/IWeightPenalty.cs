using FlatMinima.Numerics;

namespace FlatMinima.Penalties;

/// <summary>
/// The weight side of the zero-temperature RS saddle point (docs/theory.md#erm-saddle-point) for a separable penalty r(w) per component:
/// the order parameters (m, q, V) implied by the conjugates (m̂, q̂, V̂) through the scalar problem
/// ŵ(h) = argmin_w [ V̂ w²/2 − h w + r(w) ],  h = m̂ v + √q̂ ζ,  v, ζ ~ N(0, 1) independent,
/// m = E[v ŵ], q = E[ŵ²], V = E[∂ŵ/∂h]. A global constraint (the sphere ‖w‖² = N Q) enters through its Lagrange
/// multiplier, reported as <see cref="WeightSide.Multiplier"/>.
/// </summary>
/// <param name="M">m = w·v/N.</param>
/// <param name="Q">q = ‖w‖²/N.</param>
/// <param name="V">Susceptibility V.</param>
/// <param name="Multiplier">The effective ridge: λ for ridge, the Lagrange multiplier λ̃ = 1/V − V̂ of the sphere
/// (may be negative), and for L1 the soft threshold λ.</param>
public readonly record struct WeightSide(double M, double Q, double V, double Multiplier);

/// <summary>
/// A penalty (or constraint) on the weights: the toolkit's second extension point beside
/// <see cref="Losses.IMarginLoss"/>. The replica saddle point uses only <see cref="Update"/>; <see cref="Prior"/> is the
/// weight term of the RS energy, whose derivatives must reproduce <see cref="Update"/>:
/// ∂Prior/∂m̂ = −m, ∂Prior/∂q̂ = −V/2, ∂Prior/∂V̂ = q/2 (tests check this numerically for every shipped penalty).
/// </summary>
public interface IWeightPenalty
{
    /// <summary>Name used on the command line and in results ("ridge", "sphere", "l1").</summary>
    string Name { get; }

    /// <summary>(m, q, V) from (m̂, q̂, V̂), with m̂² + q̂ &gt; 0 and V̂ &gt; 0.</summary>
    WeightSide Update(double mHat, double qHat, double vHat);

    /// <summary>The weight (entropic) term of the RS energy, E min_w [V̂ w²/2 − h w + r(w)] (constrained to E w² = Q
    /// for the sphere).</summary>
    double Prior(double mHat, double qHat, double vHat);

    /// <summary>The penalty per component at the fixed point, (1/N) Σ_j r(w_j), from its order parameters (0 for the
    /// sphere). Enters the minimal training energy α E[ℓ] + penalty.</summary>
    double Value(WeightSide w);

    /// <summary>The penalty's part of the finite-N objective, Σ_j r(w_j) (0 for a constraint).</summary>
    double Value(ReadOnlySpan<double> w);
}

/// <summary>Ridge r(w) = λ w²/2, λ &gt; 0 (docs/theory.md#erm-saddle-point): V = 1/(λ + V̂), m = m̂V, q = (m̂² + q̂)V².</summary>
public sealed record RidgePenalty : IWeightPenalty
{
    /// <summary>λ &gt; 0.</summary>
    public double Lambda { get; }
    public RidgePenalty(double lambda) { Lambda = Guard.Positive(lambda, "lambda"); }
    public string Name => "ridge";
    public WeightSide Update(double mHat, double qHat, double vHat)
    {
        double v = 1 / (Lambda + vHat);
        return new WeightSide(mHat * v, (mHat * mHat + qHat) * v * v, v, Lambda);
    }
    public double Prior(double mHat, double qHat, double vHat) => -(mHat * mHat + qHat) / (2 * (Lambda + vHat));
    public double Value(WeightSide w) => 0.5 * Lambda * w.Q;
    public double Value(ReadOnlySpan<double> w) => 0.5 * Lambda * Kernels.Norm2(w);
    public override string ToString() => $"ridge lambda={Lambda:G6}";
}

/// <summary>
/// The spherical constraint ‖w‖² = N Q, Q &gt; 0. At large N it acts as a ridge whose multiplier λ̃ is fixed by q = Q:
/// V = 1/(λ̃ + V̂), m = m̂V, q = (m̂² + q̂)V² = Q, hence V = √(Q/(m̂² + q̂)) in closed form and λ̃ = 1/V − V̂.
/// λ̃ &lt; 0 when Q exceeds the norm of the unpenalised minimiser (possible for the square loss). Prior term:
/// V̂Q/2 − √((m̂² + q̂) Q).
/// </summary>
public sealed record SpherePenalty : IWeightPenalty
{
    /// <summary>The squared norm per component, Q = ‖w‖²/N &gt; 0.</summary>
    public double Norm { get; }
    public SpherePenalty(double norm) { Norm = Guard.Positive(norm, "norm"); }
    public string Name => "sphere";
    public WeightSide Update(double mHat, double qHat, double vHat)
    {
        double s2 = mHat * mHat + qHat;
        double v = Math.Sqrt(Norm / s2);
        return new WeightSide(mHat * v, Norm, v, 1 / v - vHat);
    }
    public double Prior(double mHat, double qHat, double vHat) => 0.5 * vHat * Norm - Math.Sqrt((mHat * mHat + qHat) * Norm);
    public double Value(WeightSide w) => 0;
    public double Value(ReadOnlySpan<double> w) => 0;
    public override string ToString() => $"sphere Q={Norm:G6}";
}

/// <summary>
/// L1 (lasso) r(w) = λ|w|, λ &gt; 0: ŵ = soft(h, λ)/V̂, soft(h, λ) = sign(h)(|h| − λ)₊. With s² = m̂² + q̂ and t = λ/s
/// (Gaussian integrals in closed form): V = 2H(t)/V̂, m = m̂V, q = 2s²[(1 + t²)H(t) − tφ(t)]/V̂².
/// Prior term −q V̂/2 (= −E[(|h| − λ)₊²]/(2V̂)).
/// </summary>
public sealed record L1Penalty : IWeightPenalty
{
    /// <summary>λ &gt; 0.</summary>
    public double Lambda { get; }
    public L1Penalty(double lambda) { Lambda = Guard.Positive(lambda, "lambda"); }
    public string Name => "l1";
    private static double Tail2(double t) => (1 + t * t) * Gaussian.H(t) - t * Gaussian.Pdf(t);
    public WeightSide Update(double mHat, double qHat, double vHat)
    {
        double s2 = mHat * mHat + qHat, t = Lambda / Math.Sqrt(s2);
        double v = 2 * Gaussian.H(t) / vHat;
        return new WeightSide(mHat * v, 2 * s2 * Tail2(t) / (vHat * vHat), v, Lambda);
    }
    public double Prior(double mHat, double qHat, double vHat)
    {
        double s2 = mHat * mHat + qHat, t = Lambda / Math.Sqrt(s2);
        return -s2 * Tail2(t) / vHat;
    }
    /// <summary>λ E|ŵ| = λ · 2s[φ(t) − tH(t)]/V̂ needs (m̂, q̂, V̂), not only (m, q, V): this overload returns NaN
    /// (use <see cref="ValueAt"/>).</summary>
    public double Value(WeightSide w) => double.NaN;
    /// <summary>λ E|ŵ| at the conjugates.</summary>
    public double ValueAt(double mHat, double qHat, double vHat)
    {
        double s = Math.Sqrt(mHat * mHat + qHat), t = Lambda / s;
        return Lambda * 2 * s * (Gaussian.Pdf(t) - t * Gaussian.H(t)) / vHat;
    }
    public double Value(ReadOnlySpan<double> w)
    {
        double s = 0;
        foreach (var x in w) s += Math.Abs(x);
        return Lambda * s;
    }
    public override string ToString() => $"l1 lambda={Lambda:G6}";
}

/// <summary>Parsing of penalty names for the command line.</summary>
public static class WeightPenalties
{
    /// <summary>"ridge", "sphere", "l1".</summary>
    public static IReadOnlyList<string> Names { get; } = ["ridge", "sphere", "l1"];

    /// <summary>Builds a penalty from its name: ridge and l1 take <paramref name="lambda"/>, sphere takes
    /// <paramref name="norm"/>.</summary>
    public static IWeightPenalty Parse(string name, double lambda, double norm) => name.Trim().ToLowerInvariant() switch
    {
        "ridge" => new RidgePenalty(lambda),
        "sphere" => new SpherePenalty(norm),
        "l1" => new L1Penalty(lambda),
        _ => throw new ArgumentException($"penalty must be one of {string.Join(", ", Names)} (got '{name}').", "penalty"),
    };
}
