using FlatMinima.Numerics;
using FlatMinima.Replica;

namespace FlatMinima.Flatness;

/// <summary>
/// Stability of the replica-symmetric Franz–Parisi saddle point (docs/theory.md#rs-stability): the replicon
/// (de Almeida–Thouless) eigenvalue of the constrained replicas' overlap matrix, in the s → 0 limit of the computation of
/// <see cref="FranzParisiLocalEntropy"/> (the reference is an explicit function of the data, so it carries no replicas).
/// Normalised by its value without energy (β = 0, the bare sphere, −1/(1 − q)²):
/// <code>
/// Λ = 1 − α E_{y,ξ}[ L''(z)² ],   L(z) = ln(1 − (1 − e^{−β}) H(z)),   L'' = −L'(z + L'),
/// z = (m + yb + √(Δq) ξ)/√(Δ(1−q)) + kA√(Δ(1−q))   (the z of the saddle point).
/// </code>
/// RS is locally stable iff Λ &gt; 0; Λ = 1 at β = 0. The tilt e^{kAu} of the overlap constraint is linear in the
/// margin and drops out of ∂²ln Z except through z.
/// </summary>
public static class FranzParisiStability
{
    /// <summary>L''(z) for L(z) = ln(1 − (1 − e^{−β})H(z)); the denominator is written e^{−β} + (1 − e^{−β})H(−z) so that
    /// it keeps full precision where H(z) → 1 at large β.</summary>
    public static double SecondDerivative(double beta, double z)
    {
        double eb = Math.Exp(-beta), gam = beta < 1e-5 ? beta * (1 - 0.5 * beta) : 1 - eb;
        double den = eb + gam * Gaussian.H(-z);
        double lp = gam * Gaussian.Pdf(z) / den;
        return -lp * (z + lp);
    }

    /// <summary>The replicon integrand L''(z(y, ξ))² of the saddle point <paramref name="point"/>, as a function of
    /// the label y = ±1 and the Gaussian variable ξ: Λ = 1 − α Σ_y P(y) E_ξ[integrand(y, ξ)]. Public so that the
    /// expectation can be taken by an independent quadrature or by Monte Carlo.</summary>
    public static Func<double, double, double> Integrand(FranzParisiProblem problem, FranzParisiPoint point)
    {
        ArgumentNullException.ThrowIfNull(problem);
        double q = point.Q, k = point.K, m = point.M, a = problem.A, delta = problem.Delta, b = problem.Bias, beta = problem.Beta;
        double sig = Math.Sqrt(delta * (1 - q)), sq = Math.Sqrt(delta * q);
        return (y, xi) =>
        {
            double z = (m + y * b + sq * xi) / sig + k * a * sig;
            double l2 = SecondDerivative(beta, z);
            return l2 * l2;
        };
    }

    /// <summary>
    /// Λ of a saddle point, the Gaussian expectation on a composite Gauss–Legendre rule graded around the ξ where z = 0
    /// (the structure of L'' has width √((1−q)/q) in ξ, which vanishes as q → 1), as the solver itself integrates.
    /// NaN for a point whose order parameters are not finite.
    /// </summary>
    public static double Replicon(FranzParisiProblem problem, FranzParisiPoint point)
    {
        ArgumentNullException.ThrowIfNull(problem);
        if (!(point.Q > 0 && point.Q < 1) || !double.IsFinite(point.K) || !double.IsFinite(point.M)) return double.NaN;
        double q = point.Q, a = problem.A, delta = problem.Delta;
        double sig = Math.Sqrt(delta * (1 - q)), sq = Math.Sqrt(delta * q);
        var f = Integrand(problem, point);
        double e = 0;
        foreach (var (y, py) in new[] { (1.0, problem.Rho), (-1.0, 1 - problem.Rho) })
        {
            // z = 0 at ξ* = −(kAΔ(1−q) + m + yb)/√(Δq)
            double xiStar = (-point.K * a * sig * sig - point.M - y * problem.Bias) / sq;
            var rule = GaussianMeasure.Graded([xiStar], 12, Math.Min(0.05, 0.05 * sig / sq));
            e += py * rule.Expect(xi => f(y, xi));
        }
        return 1 - problem.Alpha * e;
    }

    /// <summary>Λ with the ξ-expectation taken by a given rule (for cross-checks of the quadrature).</summary>
    public static double Replicon(FranzParisiProblem problem, FranzParisiPoint point, QuadratureRule rule)
    {
        ArgumentNullException.ThrowIfNull(problem); ArgumentNullException.ThrowIfNull(rule);
        var f = Integrand(problem, point);
        return 1 - problem.Alpha * (problem.Rho * rule.Expect(xi => f(1, xi)) + (1 - problem.Rho) * rule.Expect(xi => f(-1, xi)));
    }

    /// <summary>
    /// The β → 0 limit in closed form: Λ = 1 − c₀β² + O(β³) with c₀ = α E_{y,ξ}[z²φ(z)²] at the β = 0 saddle point
    /// (q = R², k = R/(1−R²), m = αAR), where z = [RA(α+Δ) + yb + R√Δ ξ]/√(Δ(1−R²)) is Gaussian with mean a_y and
    /// standard deviation s = R/√(1−R²), so E_ξ[z²e^{−z²}] = e^{−a²/(1+2s²)}(1+2s²)^{−1/2}[s²/(1+2s²) + a²/(1+2s²)²].
    /// </summary>
    public static double SmallBetaCoefficient(FranzParisiProblem problem, double r)
    {
        ArgumentNullException.ThrowIfNull(problem);
        Guard.OpenInterval(r, -1, 1, "R");
        double d = Math.Sqrt(problem.Delta * (1 - r * r)), s2 = r * r / (1 - r * r), c = 1 + 2 * s2, e = 0;
        foreach (var (y, py) in new[] { (1.0, problem.Rho), (-1.0, 1 - problem.Rho) })
        {
            double a = (r * problem.A * (problem.Alpha + problem.Delta) + y * problem.Bias) / d;
            e += py * Math.Exp(-a * a / c) / Math.Sqrt(c) * (s2 / c + a * a / (c * c)) / (2 * Math.PI);
        }
        return problem.Alpha * e;
    }
}
