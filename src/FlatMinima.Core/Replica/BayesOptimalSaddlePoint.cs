using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Replica;

/// <summary>The Bayes-optimal overlaps and error at (α, Δ, ρ).</summary>
/// <param name="M">m = E[w·v]/N of the posterior mean w = v̂.</param>
/// <param name="Q">q = ‖v̂‖²/N (equal to m: Nishimori identity).</param>
/// <param name="QHat">Conjugate q̂ = α/Δ (signal-to-noise ratio of the effective scalar channel).</param>
/// <param name="Bias">BO bias b = (Δ/2) ln(ρ/(1 − ρ)) for this normalisation of w (docs/theory.md#e2).</param>
/// <param name="TestError">ε_BO (docs/theory.md#e3).</param>
/// <param name="Iterations">Iterations of state evolution (0 for the closed form).</param>
/// <param name="Converged">Whether state evolution converged (true for the closed form).</param>
public sealed record BayesOptimalFixedPoint(double M, double Q, double QHat, double Bias, double TestError, int Iterations, bool Converged);

/// <summary>
/// Bayes-optimal learning of the centroid (docs/theory.md#bayes-optimal) as a replica saddle point, in two independent forms that must
/// agree: the closed form m = q = α/(α + Δ), and the Nishimori state evolution
/// <code>
/// q̂ = α m_y / Δ,   m = q = q̂/(1 + q̂),
/// </code>
/// iterated with the damped solver from q = 0. m_y is the overlap of the label side; labels are observed, so
/// m_y = 1 and the evolution converges geometrically (at the damping rate) to the closed form. The bias is the BO
/// bias for the posterior-mean normalisation, b = (Δq/(2m)) ln(ρ/(1 − ρ)), which reduces to (E2) when m = q.
/// </summary>
public static class BayesOptimalSaddlePoint
{
    /// <summary>Closed form (docs/theory.md#e3).</summary>
    public static BayesOptimalFixedPoint ClosedForm(MixtureModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        double alpha = model.Alpha, delta = model.Delta, rho = model.Rho;
        double m = alpha / (alpha + delta);
        double b = 0.5 * delta * Math.Log(rho / (1 - rho));
        return new BayesOptimalFixedPoint(m, m, alpha / delta, b, GeneralizationError.Of(m, m, b, delta, rho), 0, true);
    }

    /// <summary>State evolution from q = 0 with the damped saddle-point solver (options default:
    /// <see cref="SaddlePointOptions.Default"/>). Throws <see cref="NonConvergenceException"/> on failure.</summary>
    public static BayesOptimalFixedPoint StateEvolution(MixtureModel model, SaddlePointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        double alpha = model.Alpha, delta = model.Delta, rho = model.Rho;
        const double labelOverlap = 1; // labels are observed
        var sol = SaddlePointSolver.Iterate(x =>
        {
            double qHat = alpha * labelOverlap / delta;
            double q = qHat / (1 + qHat);
            double m = qHat / (1 + qHat);
            return [m, q];
        }, [0, 0], options);
        if (!sol.Converged) throw SaddlePointSolver.NonConvergence("Bayes-optimal state evolution", sol);
        double mm = sol.State[0], qq = sol.State[1];
        double b = qq > 0 ? delta * qq / (2 * mm) * Math.Log(rho / (1 - rho)) : 0;
        return new BayesOptimalFixedPoint(mm, qq, alpha / delta, b, GeneralizationError.Of(mm, qq, b, delta, rho), sol.Iterations, true);
    }
}
