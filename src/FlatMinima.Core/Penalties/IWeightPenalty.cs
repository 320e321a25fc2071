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
/// <see cref="Losses.IMarginLoss"/>. The replica saddle point uses <see cref="Update"/>; <see cref="Prior"/> is the
/// weight term of the RS energy, whose derivatives must reproduce <see cref="Update"/>:
/// ∂Prior/∂m̂ = −m, ∂Prior/∂q̂ = −V/2, ∂Prior/∂V̂ = q/2 (tests check this numerically for every shipped penalty). The
/// finite-N solvers reach the penalty through <see cref="SelectAlgorithm{T}"/> and, for a separable penalty, its
/// proximal map <see cref="Prox"/>. A separable penalty r(w) per weight is most easily written as a
/// <see cref="SeparablePenalty"/>, which derives every member from r, r', r'' and its kinks.
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

    /// <summary>The penalty per component at a fixed point, (1/N) Σ_j r(w_j) = E_h r(ŵ(h)), from its order parameters
    /// <paramref name="w"/> and conjugates (m̂, q̂, V̂) (0 for the sphere). Enters the minimal training energy
    /// α E[ℓ] + penalty.</summary>
    double Value(WeightSide w, double mHat, double qHat, double vHat);

    /// <summary>The penalty's part of the finite-N objective, Σ_j r(w_j) (0 for a constraint).</summary>
    double Value(ReadOnlySpan<double> w);

    /// <summary>The effective ridge λ_eff = 1/V − V̂ at a fixed point with susceptibility <paramref name="v"/> and
    /// conjugate <paramref name="vHat"/> (default; the Lagrange multiplier of the sphere). The ridge and L1 report their λ.</summary>
    double Multiplier(double v, double vHat) => 1 / v - vHat;

    /// <summary>The strength λ of a penalty λ·r₁(w) (ridge, L1, ...), or null for a constraint (the sphere) and by
    /// default. Learning curves in λ and the continuation of the saddle point in λ change it through
    /// <see cref="WithStrength"/>.</summary>
    double? Strength => null;

    /// <summary>The same penalty at strength <paramref name="strength"/>.</summary>
    /// <exception cref="InvalidOperationException">The penalty has no strength (default).</exception>
    IWeightPenalty WithStrength(double strength) =>
        throw new InvalidOperationException($"penalty '{Name}' has no strength lambda to change.");

    /// <summary>The squared norm per component Q = ‖w‖²/N a constraint fixes, or null (default).</summary>
    double? Norm => null;

    /// <summary>
    /// Proximal map of the penalty on one weight, argmin_w [ (<paramref name="curvature"/>/2)(w − v)² + r(w) ]: the
    /// step of the proximal-gradient solver (soft thresholding for L1). The saddle point's scalar problem is
    /// ŵ(h) = Prox(h/V̂, V̂).
    /// </summary>
    /// <exception cref="NotSupportedException">Not separable (default; the sphere is a global constraint).</exception>
    double Prox(double v, double curvature) =>
        throw new NotSupportedException($"penalty '{Name}' is not separable: it has no proximal map per weight.");

    /// <summary>
    /// Picks the finite-N ERM algorithm the penalty's structure allows (double dispatch, so that no solver tests for a
    /// concrete penalty type): the ridge asks for the ridge solvers, the sphere for the fixed-norm solvers, and any
    /// other penalty (the default) for proximal gradient with <see cref="Prox"/>.
    /// </summary>
    T SelectAlgorithm<T>(IPenaltyAlgorithms<T> algorithms) => algorithms.Proximal(this);
}

/// <summary>The finite-N ERM algorithms a penalty can select through <see cref="IWeightPenalty.SelectAlgorithm{T}"/>;
/// implemented by FlatMinima.Estimators.</summary>
public interface IPenaltyAlgorithms<out T>
{
    /// <summary>Σℓ + (λ/2)‖w‖²: exact linear solve, SVM dual or L-BFGS, as the loss allows.</summary>
    T Ridge(double lambda);
    /// <summary>Σℓ subject to ‖w‖² = N Q.</summary>
    T Sphere(double norm);
    /// <summary>Σℓ + Σ_j r(w_j) for a separable penalty, by proximal gradient with the penalty's <see cref="IWeightPenalty.Prox"/>
    /// (a smooth loss is needed).</summary>
    T Proximal(IWeightPenalty penalty);
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
    /// <summary>λq/2.</summary>
    public double Value(WeightSide w, double mHat, double qHat, double vHat) => 0.5 * Lambda * w.Q;
    public double Value(ReadOnlySpan<double> w) => 0.5 * Lambda * Kernels.Norm2(w);
    /// <summary>λ.</summary>
    public double Multiplier(double v, double vHat) => Lambda;
    public double? Strength => Lambda;
    public IWeightPenalty WithStrength(double strength) => new RidgePenalty(strength);
    /// <summary>v·κ/(κ + λ) for curvature κ.</summary>
    public double Prox(double v, double curvature) => v * curvature / (curvature + Lambda);
    /// <summary>The ridge solvers.</summary>
    public T SelectAlgorithm<T>(IPenaltyAlgorithms<T> algorithms) => algorithms.Ridge(Lambda);
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
    double? IWeightPenalty.Norm => Norm;
    public WeightSide Update(double mHat, double qHat, double vHat)
    {
        double s2 = mHat * mHat + qHat;
        double v = Math.Sqrt(Norm / s2);
        return new WeightSide(mHat * v, Norm, v, 1 / v - vHat);
    }
    public double Prior(double mHat, double qHat, double vHat) => 0.5 * vHat * Norm - Math.Sqrt((mHat * mHat + qHat) * Norm);
    public double Value(WeightSide w, double mHat, double qHat, double vHat) => 0;
    public double Value(ReadOnlySpan<double> w) => 0;
    public IWeightPenalty WithStrength(double strength) =>
        throw new InvalidOperationException("a fixed-norm problem has no lambda; sweep the norm (WithNorm, SweepVariable.Norm).");
    /// <summary>The fixed-norm solvers.</summary>
    public T SelectAlgorithm<T>(IPenaltyAlgorithms<T> algorithms) => algorithms.Sphere(Norm);
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
    /// <summary>λ E|ŵ| = λ · 2s[φ(t) − tH(t)]/V̂: it needs the conjugates, not only (m, q, V).</summary>
    public double Value(WeightSide w, double mHat, double qHat, double vHat)
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
    /// <summary>The soft threshold λ.</summary>
    public double Multiplier(double v, double vHat) => Lambda;
    public double? Strength => Lambda;
    public IWeightPenalty WithStrength(double strength) => new L1Penalty(strength);
    /// <summary>Soft thresholding at λ/κ.</summary>
    public double Prox(double v, double curvature)
    {
        double thr = Lambda / curvature;
        return v > thr ? v - thr : (v < -thr ? v + thr : 0);
    }
    public override string ToString() => $"l1 lambda={Lambda:G6}";
}

/// <summary>The shipped penalties by name, and the rules for naming one with its parameter (command line, configurations).</summary>
public static class WeightPenalties
{
    /// <summary>"ridge", "sphere", "l1".</summary>
    public static IReadOnlyList<string> Names { get; } = ["ridge", "sphere", "l1"];

    /// <summary>Builds a penalty from its name with whichever of the two parameters it takes (the other is ignored):
    /// ridge and l1 take <paramref name="lambda"/>, sphere takes <paramref name="norm"/>.</summary>
    public static IWeightPenalty Parse(string name, double lambda, double norm) =>
        CanonicalName(name) == "sphere" ? FromParameters(name, null, norm) : FromParameters(name, lambda, null);

    /// <summary>
    /// The rule for a penalty named with its one parameter: ridge and l1 take lambda, sphere takes the norm Q; giving
    /// the other parameter, or not the needed one, is an error that says which one to give. Returns the canonical name.
    /// </summary>
    /// <param name="name">"ridge", "sphere" or "l1" (case-insensitive).</param>
    /// <param name="lambdaGiven">Whether a lambda was given.</param>
    /// <param name="normGiven">Whether a norm was given.</param>
    /// <exception cref="ArgumentException">Unknown name (parameter "penalty"), or a parameter that does not apply or is
    /// missing (parameter "lambda" or "norm").</exception>
    public static string CheckParameters(string name, bool lambdaGiven, bool normGiven)
    {
        string n = CanonicalName(name);
        if (n == "sphere")
        {
            if (lambdaGiven) throw new ArgumentException("lambda does not apply to the penalty sphere; give the norm Q.", "lambda");
            if (!normGiven) throw new ArgumentException("norm Q is required for the penalty sphere.", "norm");
        }
        else
        {
            if (normGiven) throw new ArgumentException("norm applies to the penalty sphere only.", "norm");
            if (!lambdaGiven) throw new ArgumentException($"lambda is required for the penalty {n}.", "lambda");
        }
        return n;
    }

    /// <summary>The penalty named <paramref name="name"/> with its parameter, under the rule of <see cref="CheckParameters"/>:
    /// ridge and l1 need <paramref name="lambda"/> &gt; 0, sphere needs <paramref name="norm"/> &gt; 0.</summary>
    /// <exception cref="ArgumentException">As <see cref="CheckParameters"/>, or a parameter out of its range.</exception>
    public static IWeightPenalty FromParameters(string name, double? lambda, double? norm) =>
        CheckParameters(name, lambda is not null, norm is not null) switch
        {
            "sphere" => new SpherePenalty(norm!.Value),
            "ridge" => new RidgePenalty(lambda!.Value),
            _ => new L1Penalty(lambda!.Value),
        };

    private static string CanonicalName(string name)
    {
        string n = name?.Trim().ToLowerInvariant() ?? "";
        return Names.Contains(n) ? n
            : throw new ArgumentException($"penalty must be one of {string.Join(", ", Names)} (got '{name}').", "penalty");
    }
}
