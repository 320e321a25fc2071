using FlatMinima.Numerics;

namespace FlatMinima.Losses;

/// <summary>Square loss ℓ(u) = ½(1 − u)², equal to ½(y − h)² since y² = 1.</summary>
public sealed class SquareLoss : IMarginLoss
{
    public static readonly SquareLoss Instance = new();
    public string Name => "square";
    public double Value(double u) => 0.5 * (1 - u) * (1 - u);
    public double Derivative(double u) => u - 1;
    public double SecondDerivative(double u) => 1;
    /// <summary>u* = (a + c)/(1 + c).</summary>
    public double Prox(double a, double c) => (a + c) / (1 + c);
    public double ProxDerivative(double a, double c) => 1 / (1 + c);
    /// <summary>ℓ'' = 1 everywhere.</summary>
    public double? ConstantCurvature => 1;
    /// <summary>The exact linear solve.</summary>
    public T SelectAlgorithm<T>(IErmAlgorithms<T> algorithms) => algorithms.LeastSquares();
}

/// <summary>Logistic (binary cross-entropy) loss ℓ(u) = ln(1 + e^{−u}), evaluated without overflow.</summary>
public sealed class LogisticLoss : IMarginLoss
{
    public static readonly LogisticLoss Instance = new();
    public string Name => "logistic";

    public double Value(double u) => u > 0 ? Math.Log(1 + Math.Exp(-u)) : -u + Math.Log(1 + Math.Exp(u));

    /// <summary>ℓ'(u) = −σ(−u) = −1/(1 + e^{u}).</summary>
    public double Derivative(double u) => -Sigmoid(-u);

    /// <summary>ℓ''(u) = σ(u)σ(−u).</summary>
    public double SecondDerivative(double u)
    {
        double s = Sigmoid(u);
        return s * (1 - s);
    }

    /// <summary>σ(u)σ(−u) ≤ ¼.</summary>
    public double CurvatureBound => 0.25;

    /// <summary>Logistic function 1/(1 + e^{−x}), stable for either sign.</summary>
    public static double Sigmoid(double x)
    {
        if (x >= 0) return 1 / (1 + Math.Exp(-x));
        double e = Math.Exp(x);
        return e / (1 + e);
    }

    /// <summary>Root in [a, a + c] of (u − a)/c = σ(−u): safeguarded Newton, robust for large c (docs/theory.md#erm-saddle-point).</summary>
    public double Prox(double a, double c) => ScalarProx.Of(this, a, c);

    public double ProxDerivative(double a, double c) => 1 / (1 + c * SecondDerivative(Prox(a, c)));

    /// <summary>The proximal margin by <see cref="WarmProx"/> from the previous node's u*, with G = σ(−u*) and
    /// ∂u*/∂a = 1/(1 + c G(1 − G)) sharing one exponential.</summary>
    public (double U, double G, double Slope) ProxPoint(double a, double c, double guess)
    {
        double u = WarmProx(a, c, guess);
        double g = Sigmoid(-u);
        return (u, g, 1 / (1 + c * (g * (1 - g))));
    }

    /// <summary>
    /// Logistic proximal margin: root of h(u) = (u − a)/c − σ(−u) in [a, a + cσ(−a)] (docs/theory.md#erm-saddle-point), by safeguarded
    /// Newton (rtsafe) started from <paramref name="guess"/> when it lies in the bracket (else the midpoint).
    /// </summary>
    internal static double WarmProx(double a, double c, double guess)
    {
        double lo = a, hi = a + c * Sigmoid(-a);
        if (!(hi > lo)) return a;
        double u = guess > lo && guess < hi ? guess : 0.5 * (lo + hi);
        double dxOld = hi - lo, dx = dxOld;
        for (int it = 0; it < 400; it++)
        {
            double sg = Sigmoid(-u);
            double f = (u - a) / c - sg;
            if (f == 0) return u;
            if (f > 0) hi = u; else lo = u;
            double fp = 1 / c + sg * (1 - sg);
            double next = u - f / fp;
            if (!(next > lo && next < hi) || Math.Abs(2 * f) > Math.Abs(dxOld * fp))
            {
                dxOld = dx; next = 0.5 * (lo + hi); dx = next - u;
            }
            else { dxOld = dx; dx = next - u; }
            double scale = 4e-16 * Math.Max(1, Math.Abs(u));
            if (Math.Abs(next - u) <= scale || hi - lo <= scale) return next;
            u = next;
        }
        return 0.5 * (lo + hi);
    }
}

/// <summary>Hinge loss ℓ(u) = max(0, 1 − u). Subgradient at the kink u = 1 is taken as 0.</summary>
public sealed class HingeLoss : IMarginLoss
{
    public static readonly HingeLoss Instance = new();
    private static readonly Kink[] KinkAtOne = [new(1, -1, 0)];
    public string Name => "hinge";
    public double Value(double u) => u < 1 ? 1 - u : 0;
    public double Derivative(double u) => u < 1 ? -1 : 0;
    public double SecondDerivative(double u) => 0;
    /// <summary>One kink at u = 1, where ℓ' jumps from −1 to 0.</summary>
    public IReadOnlyList<Kink> Kinks => KinkAtOne;

    /// <summary>u* = a if a ≥ 1; a + c if a ≤ 1 − c; 1 otherwise.</summary>
    public double Prox(double a, double c) => a >= 1 ? a : (a <= 1 - c ? a + c : 1);

    /// <summary>1, 1, 0 on the three pieces of the proximal map.</summary>
    public double ProxDerivative(double a, double c) => a >= 1 ? 1 : (a <= 1 - c ? 1 : 0);

    /// <summary>Every channel average in closed form (truncated Gaussian moments: the proximal map is piecewise linear).</summary>
    public ErmChannel Channel(ErmQuadrature quadrature) => HingeChannel.Instance;

    /// <summary>The dual of the support-vector machine.</summary>
    public T SelectAlgorithm<T>(IErmAlgorithms<T> algorithms) => algorithms.SupportVectorDual();
}

/// <summary>Lookup of the shipped losses by name.</summary>
public static class MarginLosses
{
    /// <summary>Names accepted by <see cref="Parse"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["square", "logistic", "hinge"];

    /// <summary>The shipped loss called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static IMarginLoss Parse(string name) => name?.Trim().ToLowerInvariant() switch
    {
        "square" or "mse" or "ridge" => SquareLoss.Instance,
        "logistic" or "bce" or "cross-entropy" => LogisticLoss.Instance,
        "hinge" or "svm" => HingeLoss.Instance,
        _ => throw new ArgumentException($"loss must be one of {string.Join(", ", Names)} (got '{name}').", "loss"),
    };
}
