namespace FlatMinima.Losses;

/// <summary>
/// A convex loss of the margin u = y (w·x/√N + b) (docs/theory.md#classifier). This is the toolkit's extension point: the finite-N
/// ERM solver, the replica saddle point, learning curves and theory-versus-simulation checks use only these members,
/// so a new loss needs nothing else.
/// <para>Only <see cref="Value"/>, <see cref="Derivative"/> and <see cref="SecondDerivative"/> are required. The
/// proximal map has a default (safeguarded Newton inside a bracket that convexity guarantees); override it where a
/// closed form exists or the loss has kinks.</para>
/// </summary>
public interface IMarginLoss
{
    /// <summary>Name used on the command line and in results (lower case).</summary>
    string Name { get; }

    /// <summary>True when ℓ is twice differentiable everywhere (no kinks). Quadrature uses it to pick a rule.</summary>
    bool IsSmooth => true;

    /// <summary>ℓ(u).</summary>
    double Value(double u);

    /// <summary>ℓ'(u); at a kink, the subgradient the loss documents.</summary>
    double Derivative(double u);

    /// <summary>ℓ''(u); 0 at kinks and where ℓ is piecewise linear.</summary>
    double SecondDerivative(double u);

    /// <summary>
    /// Proximal margin u*(a, c) = argmin_u [ (u − a)²/(2c) + ℓ(u) ], c &gt; 0 (docs/theory.md#erm-saddle-point, with a = yω and c = ΔV).
    /// Default: the root of (u − a)/c + ℓ'(u) = 0, which by convexity lies between a and a − c ℓ'(a).
    /// </summary>
    double Prox(double a, double c) => ProxSolver.Newton(this, a, c);

    /// <summary>∂u*/∂a = 1/(1 + c ℓ''(u*)) by implicit differentiation.</summary>
    double ProxDerivative(double a, double c) => 1.0 / (1.0 + c * SecondDerivative(Prox(a, c)));

    /// <summary>Moreau envelope min_u [ (u − a)²/(2c) + ℓ(u) ], the channel term of the free energy (docs/theory.md#erm-free-energy).</summary>
    double MoreauEnvelope(double a, double c)
    {
        double u = Prox(a, c);
        return (u - a) * (u - a) / (2 * c) + Value(u);
    }
}

/// <summary>The default proximal solver for smooth convex losses.</summary>
public static class ProxSolver
{
    /// <summary>
    /// Solves (u − a)/c + ℓ'(u) = 0 by Newton's method safeguarded with bisection inside the bracket
    /// [min(a, a − cℓ'(a)), max(a, a − cℓ'(a))] (Numerical Recipes' rtsafe: a Newton step is taken only when it
    /// stays inside the bracket and at least halves the step before the last; otherwise the bracket is bisected).
    /// Converges to machine precision for any convex, differentiable ℓ, including the logistic loss at large c where
    /// plain Newton ping-pongs between the two flat regions of ℓ' (docs/theory.md#erm-saddle-point).
    /// </summary>
    public static double Newton(IMarginLoss loss, double a, double c)
    {
        if (!(c > 0)) throw new ArgumentOutOfRangeException(nameof(c), c, "The proximal scale c must be > 0.");
        double g0 = loss.Derivative(a);
        if (g0 == 0) return a;
        double lo = Math.Min(a, a - c * g0), hi = Math.Max(a, a - c * g0);
        double u = 0.5 * (lo + hi);
        double dxOld = hi - lo, dx = dxOld;
        for (int it = 0; it < 400; it++)
        {
            double f = (u - a) / c + loss.Derivative(u);
            if (f == 0) return u;
            if (f > 0) hi = u; else lo = u;
            double fp = 1 / c + loss.SecondDerivative(u);
            double next = u - f / fp;
            if (!(next > lo && next < hi) || Math.Abs(2 * f) > Math.Abs(dxOld * fp))
            {
                dxOld = dx;
                next = 0.5 * (lo + hi);
                dx = next - u;
            }
            else
            {
                dxOld = dx;
                dx = next - u;
            }
            double scale = 4e-16 * Math.Max(1, Math.Abs(u));
            if (Math.Abs(next - u) <= scale || hi - lo <= scale) return next;
            u = next;
        }
        return 0.5 * (lo + hi);
    }
}
