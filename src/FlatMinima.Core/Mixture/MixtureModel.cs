using FlatMinima.Numerics;

namespace FlatMinima.Mixture;

/// <summary>
/// The data model of docs/theory.md#model in the proportional limit: two Gaussian clusters x = y v/√N + √Δ z with
/// P(y = +1) = ρ, sampled at the ratio α = P/N. Every theory (Bayes-optimal, ERM, replicated, Franz–Parisi, local
/// energy) and every finite-N spec takes its (α, Δ, ρ) from one of these, validated here once, on construction and on
/// every <c>with</c>:
/// <code>var model = new MixtureModel(Alpha: 2, Delta: 1, Rho: 0.25);</code>
/// </summary>
/// <param name="Alpha">Sample ratio α = P/N, &gt; 0.</param>
/// <param name="Delta">Noise variance Δ per component, &gt; 0.</param>
/// <param name="Rho">Fraction ρ of the +1 cluster, in (0, 1). Default ½ (balanced).</param>
public sealed record MixtureModel(double Alpha, double Delta, double Rho = 0.5)
{
    private readonly double _alpha = Guard.Positive(Alpha, "alpha");
    private readonly double _delta = Guard.Positive(Delta, "delta");
    private readonly double _rho = Guard.OpenInterval(Rho, 0, 1, "rho");

    /// <summary>α = P/N &gt; 0.</summary>
    public double Alpha { get => _alpha; init => _alpha = Guard.Positive(value, "alpha"); }
    /// <summary>Δ &gt; 0.</summary>
    public double Delta { get => _delta; init => _delta = Guard.Positive(value, "delta"); }
    /// <summary>ρ ∈ (0, 1).</summary>
    public double Rho { get => _rho; init => _rho = Guard.OpenInterval(value, 0, 1, "rho"); }

    /// <summary>True when ρ = ½, where the bias vanishes by symmetry.</summary>
    public bool Balanced => Rho == 0.5;

    /// <summary>A finite-N realisation spec of this model: dimension <paramref name="n"/>, first seed <paramref name="seed"/>.</summary>
    public MixtureSpec AtSize(int n, long seed = 0) => new(this, n, seed);

    public override string ToString() => $"alpha={Alpha:G6} delta={Delta:G6} rho={Rho:G6}";
}
