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

    /// <summary>Logistic function 1/(1 + e^{−x}), stable for either sign.</summary>
    public static double Sigmoid(double x)
    {
        if (x >= 0) return 1 / (1 + Math.Exp(-x));
        double e = Math.Exp(x);
        return e / (1 + e);
    }

    /// <summary>Root in [a, a + c] of (u − a)/c = σ(−u): safeguarded Newton, robust for large c (docs/theory.md#erm-saddle-point).</summary>
    public double Prox(double a, double c) => ProxSolver.Newton(this, a, c);

    public double ProxDerivative(double a, double c) => 1 / (1 + c * SecondDerivative(Prox(a, c)));
}

/// <summary>Hinge loss ℓ(u) = max(0, 1 − u). Subgradient at the kink u = 1 is taken as 0.</summary>
public sealed class HingeLoss : IMarginLoss
{
    public static readonly HingeLoss Instance = new();
    public string Name => "hinge";
    public bool IsSmooth => false;
    public double Value(double u) => u < 1 ? 1 - u : 0;
    public double Derivative(double u) => u < 1 ? -1 : 0;
    public double SecondDerivative(double u) => 0;

    /// <summary>u* = a if a ≥ 1; a + c if a ≤ 1 − c; 1 otherwise.</summary>
    public double Prox(double a, double c) => a >= 1 ? a : (a <= 1 - c ? a + c : 1);

    /// <summary>1, 1, 0 on the three pieces of the proximal map.</summary>
    public double ProxDerivative(double a, double c) => a >= 1 ? 1 : (a <= 1 - c ? 1 : 0);
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
