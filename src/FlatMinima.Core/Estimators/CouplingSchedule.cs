using FlatMinima.Numerics;

namespace FlatMinima.Estimators;

/// <summary>Shape of a coupling ("scoping") schedule γ_t, t = 0 … T−1 (docs/optim.md#coupling-schedules).</summary>
public enum CouplingShape
{
    /// <summary>γ_t = γ0 (γmax/γ0)^{t/(T−1)}: the per-step growth (1 + g1) of the Entropy-SGD/rSGD codes.</summary>
    Exponential,
    /// <summary>γ_t = γ0 + (γmax − γ0) t/(T−1).</summary>
    Linear,
    /// <summary>γ_t = γ0 + (γmax − γ0)(1 − cos(π t/(T−1)))/2.</summary>
    Cosine,
    /// <summary>γ_t = γmax for every t (no scoping).</summary>
    Constant,
}

/// <summary>
/// A coupling schedule from γ0 to γmax over T steps. γ0 may be left automatic (<see cref="Initial"/> = null): the
/// descents then calibrate it at the first step as (mean objective)/(mean squared distance per component to the
/// centre) × <see cref="AutoFactor"/>, which balances the two terms (the rSGD code's g0).
/// </summary>
/// <param name="Shape">Shape (default exponential).</param>
/// <param name="Initial">γ0 &gt; 0, or null for automatic (default null).</param>
/// <param name="Final">γmax &gt; 0 (default 10).</param>
/// <param name="AutoFactor">Multiplier of the automatic γ0, &gt; 0 (default 1).</param>
public sealed record CouplingSchedule(CouplingShape Shape = CouplingShape.Exponential, double? Initial = null, double Final = 10, double AutoFactor = 1)
{
    /// <summary>Validated γ0.</summary>
    public double? Initial { get; init; } = Initial is { } g ? Guard.Positive(g, "gamma0") : null;
    /// <summary>Validated γmax.</summary>
    public double Final { get; init; } = Guard.Positive(Final, "gamma-max");
    /// <summary>Validated automatic factor.</summary>
    public double AutoFactor { get; init; } = Guard.Positive(AutoFactor, "gamma-auto-factor");

    /// <summary>Parses exp|exponential|lin|linear|cos|cosine|const|constant.</summary>
    public static CouplingShape ParseShape(string name) => name?.Trim().ToLowerInvariant() switch
    {
        "exp" or "exponential" => CouplingShape.Exponential,
        "lin" or "linear" => CouplingShape.Linear,
        "cos" or "cosine" => CouplingShape.Cosine,
        "const" or "constant" => CouplingShape.Constant,
        _ => throw new ArgumentOutOfRangeException("schedule", name, $"schedule must be one of exp|lin|cos|const (got '{name}')."),
    };

    /// <summary>γ_t for step t of T, given the (possibly calibrated) initial value γ0.</summary>
    public double At(int t, int steps, double gamma0)
    {
        Guard.Positive(gamma0, "gamma0");
        if (Shape == CouplingShape.Constant) return Final;
        double x = steps <= 1 ? 1 : Math.Clamp((double)t / (steps - 1), 0, 1);
        return Shape switch
        {
            CouplingShape.Exponential => gamma0 * Math.Pow(Final / gamma0, x),
            CouplingShape.Linear => gamma0 + (Final - gamma0) * x,
            CouplingShape.Cosine => gamma0 + (Final - gamma0) * 0.5 * (1 - Math.Cos(Math.PI * x)),
            _ => Final,
        };
    }
}
