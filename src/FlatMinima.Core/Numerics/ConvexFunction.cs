namespace FlatMinima.Numerics;

/// <summary>A point where a convex function of one variable is not differentiable: its derivative jumps from
/// <paramref name="LeftSlope"/> to <paramref name="RightSlope"/> &gt; <paramref name="LeftSlope"/> at <paramref name="At"/>.</summary>
/// <param name="At">Position of the kink.</param>
/// <param name="LeftSlope">f'(At⁻).</param>
/// <param name="RightSlope">f'(At⁺).</param>
public readonly record struct Kink(double At, double LeftSlope, double RightSlope);

/// <summary>
/// A convex function of one variable given by its value, its first two derivatives and its kinks: the shape shared by a
/// loss of the margin and a separable penalty on one weight. Between kinks f is twice differentiable; at a kink
/// <see cref="Derivative"/> returns a subgradient of the function's choice.
/// </summary>
public interface IConvexFunction
{
    /// <summary>f(x).</summary>
    double Value(double x);
    /// <summary>f'(x); at a kink, a subgradient.</summary>
    double Derivative(double x);
    /// <summary>f''(x); at a kink, the value of either neighbouring piece.</summary>
    double SecondDerivative(double x);
    /// <summary>Where f' jumps, in increasing order (empty for a smooth function, the default).</summary>
    IReadOnlyList<Kink> Kinks => [];
}

/// <summary>
/// The proximal map of a convex function of one variable, u*(a, c) = argmin_u [ (u − a)²/(2c) + f(u) ], c &gt; 0,
/// and its derivative in a. Used by the default proximal map of every loss and every separable penalty.
/// </summary>
public static class ScalarProx
{
    /// <summary>
    /// u*(a, c). A kink k holds the minimiser when 0 ∈ (k − a)/c + [f'(k⁻), f'(k⁺)], i.e. for a in
    /// [k + c f'(k⁻), k + c f'(k⁺)]; this is checked first and returns k exactly. Otherwise u* is the root of
    /// (u − a)/c + f'(u) = 0, which by convexity lies between a and a − c f'(a): Newton's method safeguarded with
    /// bisection inside that bracket (Numerical Recipes' rtsafe: a Newton step is taken only when it stays inside the
    /// bracket and at least halves the step before the last; otherwise the bracket is bisected). Converges to machine
    /// precision for any convex f, including the logistic loss at large c where plain Newton ping-pongs between the two
    /// flat regions of ℓ' (docs/theory.md#erm-saddle-point).
    /// </summary>
    public static double Of<TFunction>(TFunction f, double a, double c) where TFunction : IConvexFunction
    {
        if (!(c > 0)) throw new ArgumentOutOfRangeException(nameof(c), c, "The proximal scale c must be > 0.");
        var kinks = f.Kinks;
        for (int i = 0; i < kinks.Count; i++)
        {
            var k = kinks[i];
            if (a >= k.At + c * k.LeftSlope && a <= k.At + c * k.RightSlope) return k.At;
        }
        double g0 = f.Derivative(a);
        if (g0 == 0) return a;
        double lo = Math.Min(a, a - c * g0), hi = Math.Max(a, a - c * g0);
        double u = 0.5 * (lo + hi);
        double dxOld = hi - lo, dx = dxOld;
        for (int it = 0; it < 400; it++)
        {
            double r = (u - a) / c + f.Derivative(u);
            if (r == 0) return u;
            if (r > 0) hi = u; else lo = u;
            double rp = 1 / c + f.SecondDerivative(u);
            double next = u - r / rp;
            if (!(next > lo && next < hi) || Math.Abs(2 * r) > Math.Abs(dxOld * rp))
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

    /// <summary>∂u*/∂a at the proximal point <paramref name="u"/> = u*(a, c): 1/(1 + c f''(u)) by implicit
    /// differentiation, and 0 when u sits at a kink (u* is constant while a crosses the kink's interval).</summary>
    public static double Slope<TFunction>(TFunction f, double u, double c) where TFunction : IConvexFunction =>
        AtKink(f.Kinks, u) ? 0 : 1.0 / (1.0 + c * f.SecondDerivative(u));

    /// <summary>Whether <paramref name="x"/> is one of the <paramref name="kinks"/> (where a proximal map that landed on a
    /// kink returns it exactly).</summary>
    public static bool AtKink(IReadOnlyList<Kink> kinks, double x)
    {
        for (int i = 0; i < kinks.Count; i++) if (kinks[i].At == x) return true;
        return false;
    }

    /// <summary>The values of a at which u*(a, c) has kinks: k + c f'(k⁻) and k + c f'(k⁺) for every kink k, in order.</summary>
    public static double[] Breakpoints(IReadOnlyList<Kink> kinks, double c)
    {
        var b = new double[2 * kinks.Count];
        for (int i = 0; i < kinks.Count; i++)
        {
            b[2 * i] = kinks[i].At + c * kinks[i].LeftSlope;
            b[2 * i + 1] = kinks[i].At + c * kinks[i].RightSlope;
        }
        return b;
    }
}
