using System.Text.Json.Serialization;
using FlatMinima.Numerics;

namespace FlatMinima.Estimators;

/// <summary>Shape of a coupling ("scoping") schedule γ_t (docs/optim.md#coupling-schedules). The names are the ones every
/// front end writes (<c>exp</c>, <c>lin</c>, <c>cosine</c>, <c>const</c>); <see cref="CouplingSchedule.ParseShape"/> also
/// accepts the long and short forms.</summary>
public enum CouplingShape
{
    /// <summary>Geometric growth: the per-step growth (1 + g1) of the Entropy-SGD/rSGD codes.</summary>
    [JsonStringEnumMemberName("exp")] Exponential,
    /// <summary>Linear growth.</summary>
    [JsonStringEnumMemberName("lin")] Linear,
    /// <summary>Half a cosine period: slow at both ends.</summary>
    [JsonStringEnumMemberName("cosine")] Cosine,
    /// <summary>No scoping.</summary>
    [JsonStringEnumMemberName("const")] Constant,
}

/// <summary>
/// A coupling schedule γ_t: the one representation of the scoping of Entropy-SGD and replicated SGD, for the linear
/// descents of Core and the networks of the Torch bridge (docs/optim.md#coupling-schedules). Its end is given in one of two ways:
/// <list type="bullet">
/// <item><b>absolute</b> (default; <see cref="Growth"/> and <see cref="Rate"/> null): from γ0 to <see cref="Final"/> = γmax over a run of T
/// steps, reached at its last step t = T − 1, with x = t/(T − 1):
/// exponential γ0 (γmax/γ0)^x, linear γ0 + (γmax − γ0)x, cosine γ0 + (γmax − γ0)(1 − cos πx)/2, constant γmax;</item>
/// <item><b>by a total factor</b> (<see cref="Growth"/> = gmax ≥ 1, <see cref="ByFactor"/>): γ grows by gmax over a
/// horizon of T steps — or epochs, if t counts epochs — and stays there after it; with e = min(t, T):
/// exponential γ0 (gmax^{1/T})^e (the codes' per-step factor 1 + g1 = gmax^{1/T}), linear γ0 + γ0(gmax − 1)e/T,
/// cosine γ0 + (γ0 gmax − γ0)(1 − cos(πe/T))/2, constant γ0; T ≤ 0 or gmax = 1 give γ0.</item>
/// </list>
/// A third form, <b>by a rate</b> (<see cref="Rate"/> = g1 ≥ 0, <see cref="ByRate"/>), is the Entropy-SGD code's
/// γ_t = γ0 (1 + g1)^t with no horizon.
/// Either way an optional <see cref="Cap"/> bounds γ. γ0 is <see cref="Initial"/>, or automatic (null): the descent
/// measures it once with <see cref="Calibrate"/>, which balances the objective against the coupling.
/// </summary>
/// <param name="Shape">Shape (default exponential).</param>
/// <param name="Initial">γ0 &gt; 0, or null for automatic (default null).</param>
/// <param name="Final">γmax &gt; 0 of an absolute schedule (default 10).</param>
/// <param name="AutoFactor">Multiplier of the automatic γ0, &gt; 0 (default 1).</param>
public sealed record CouplingSchedule(CouplingShape Shape = CouplingShape.Exponential, double? Initial = null, double Final = 10, double AutoFactor = 1)
{
    private readonly double? _growth, _cap, _fallback;

    /// <summary>Validated γ0.</summary>
    public double? Initial { get; init; } = Initial is { } g ? Guard.Positive(g, "gamma0") : null;
    /// <summary>Validated γmax.</summary>
    public double Final { get; init; } = Guard.Positive(Final, "gamma-max");
    /// <summary>Validated automatic factor.</summary>
    public double AutoFactor { get; init; } = Guard.Positive(AutoFactor, "gamma-auto-factor");

    /// <summary>Total growth factor gmax ≥ 1 over the horizon, or null (default) for an absolute schedule ending at
    /// <see cref="Final"/>.</summary>
    public double? Growth
    {
        get => _growth;
        init => _growth = value is { } g
            ? (g >= 1 && double.IsFinite(g) ? g : throw new ArgumentOutOfRangeException("gmax", g, $"gmax must be a finite number >= 1 (got {g})."))
            : null;
    }

    private readonly double? _rate;

    /// <summary>Per-step growth rate g1 ≥ 0 of the form γ_t = γ0 (1 + g1)^t (no horizon), or null (default). Takes
    /// precedence over <see cref="Growth"/> and <see cref="Final"/>.</summary>
    public double? Rate
    {
        get => _rate;
        init => _rate = value is { } r
            ? (r >= 0 && double.IsFinite(r) ? r : throw new ArgumentOutOfRangeException("gamma1", r, $"gamma1 must be a finite number >= 0 (got {r})."))
            : null;
    }

    /// <summary>Upper bound on γ, &gt; 0, or null (default: none).</summary>
    public double? Cap { get => _cap; init => _cap = value is { } c ? Guard.Positive(c, "gamma-cap") : null; }

    /// <summary>The automatic γ0 when there is nothing to measure (zero distance or zero objective), &gt; 0; null
    /// (default): <see cref="Final"/>·10⁻³ for an absolute schedule, 10⁻³ by a factor.</summary>
    public double? AutoFallback { get => _fallback; init => _fallback = value is { } f ? Guard.Positive(f, "gamma0-fallback") : null; }

    /// <summary>A schedule that grows γ by the total factor <paramref name="growth"/> = gmax over the horizon passed to
    /// <see cref="At"/>.</summary>
    public static CouplingSchedule ByFactor(CouplingShape shape, double growth, double? initial = null, double autoFactor = 1,
        double? cap = null, double? autoFallback = null) =>
        new(shape, initial, AutoFactor: autoFactor) { Growth = growth, Cap = cap, AutoFallback = autoFallback };

    /// <summary>The code's per-step rate: γ_t = γ0 (1 + <paramref name="rate"/>)^t, whatever the run's length.</summary>
    public static CouplingSchedule ByRate(double rate, double? initial = null, double autoFactor = 1, double? cap = null, double? autoFallback = null) =>
        new(CouplingShape.Exponential, initial, AutoFactor: autoFactor) { Rate = rate, Cap = cap, AutoFallback = autoFallback };

    /// <summary>Parses exp|exponential|lin|linear|cos|cosine|const|constant.</summary>
    public static CouplingShape ParseShape(string name) => name?.Trim().ToLowerInvariant() switch
    {
        "exp" or "exponential" => CouplingShape.Exponential,
        "lin" or "linear" => CouplingShape.Linear,
        "cos" or "cosine" => CouplingShape.Cosine,
        "const" or "constant" => CouplingShape.Constant,
        _ => throw new ArgumentOutOfRangeException("schedule", name, $"schedule must be one of exp|lin|cosine|const (got '{name}')."),
    };

    /// <summary>
    /// γ_t at step (or epoch) <paramref name="t"/> ≥ 0 for the (possibly calibrated) initial value <paramref name="gamma0"/>
    /// &gt; 0: of a run of <paramref name="steps"/> steps (absolute), or over a horizon of <paramref name="steps"/> steps
    /// (by a factor); then capped at <see cref="Cap"/>.
    /// </summary>
    public double At(long t, long steps, double gamma0)
    {
        Guard.Positive(gamma0, "gamma0");
        double g = Rate is { } rate ? gamma0 * Math.Pow(1 + rate, t)
                 : Growth is { } gmax ? ByFactorAt(t, steps, gamma0, gmax) : AbsoluteAt(t, steps, gamma0);
        return Cap is { } cap ? Math.Min(g, cap) : g;
    }

    private double AbsoluteAt(long t, long steps, double gamma0)
    {
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

    private double ByFactorAt(long t, long horizon, double g0, double gmax)
    {
        if (horizon <= 0 || gmax == 1 || Shape == CouplingShape.Constant) return g0;
        long e = Math.Clamp(t, 0, horizon);
        return Shape switch
        {
            CouplingShape.Exponential => g0 * Math.Pow(Math.Pow(gmax, 1.0 / horizon), e),
            CouplingShape.Linear => g0 + g0 * (gmax - 1) / horizon * e,
            _ => g0 + (g0 * gmax - g0) / 2 * (1 - Math.Cos(Math.PI * e / horizon)),
        };
    }

    /// <summary>
    /// The automatic γ0: <see cref="AutoFactor"/> × <paramref name="energy"/> / <paramref name="couplingPerGamma"/> when
    /// both are &gt; 0 — the coupling that balances the objective (per sample) against the coupling term per unit γ (the
    /// mean squared distance to the centre per component for replicated descent, half of it for Entropy-SGD) — else
    /// <see cref="AutoFallback"/>; for an absolute schedule never above γmax. (<see cref="At"/> applies the cap.)
    /// </summary>
    public double Calibrate(double energy, double couplingPerGamma)
    {
        bool absolute = Growth is null && Rate is null;
        double g0 = couplingPerGamma > 0 && energy > 0 ? AutoFactor * energy / couplingPerGamma
                  : AutoFallback ?? (absolute ? Final * 1e-3 : 1e-3);
        return absolute ? Math.Min(g0, Final) : g0;
    }
}
