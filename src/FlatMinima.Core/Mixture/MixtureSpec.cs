using FlatMinima.Numerics;

namespace FlatMinima.Mixture;

/// <summary>
/// The two-cluster Gaussian mixture of docs/theory.md#model: P = round(αN) samples x = y v/√N + √Δ z with P(y = +1) = ρ.
/// Validates itself on construction.
/// </summary>
/// <param name="Alpha">Sample ratio α = P/N, &gt; 0.</param>
/// <param name="Delta">Noise variance Δ per component, &gt; 0.</param>
/// <param name="Rho">Fraction ρ of the +1 cluster, in (0, 1). Default ½ (balanced).</param>
/// <param name="N">Input dimension, ≥ 1. Default 1000.</param>
/// <param name="Seed">Seed of the realisation (centroid and samples). Default 0.</param>
/// <param name="ExactNormV">If true (default), the centroid is normalised to ‖v‖² = N exactly (docs/theory.md#model, lower
/// variance, same leading order); otherwise v ~ N(0, I_N).</param>
/// <param name="ExactLabelCounts">If true, exactly round(ρP) samples carry y = +1, in random order; if false (default,
/// docs/theory.md#model) labels are i.i.d. The asymptotic theory is the same. Exact counts remove the O(1/√P) fluctuation of the
/// empirical label mean, which dominates the learned bias once the weights are small (ERM at large λ), where the
/// N → ∞ theory has b = 0 for ρ = ½.</param>
public sealed record MixtureSpec(double Alpha, double Delta, double Rho = 0.5, int N = 1000, long Seed = 0, bool ExactNormV = true,
    bool ExactLabelCounts = false)
{
    /// <summary>Validated α.</summary>
    public double Alpha { get; init; } = Guard.Positive(Alpha, "alpha");
    /// <summary>Validated Δ.</summary>
    public double Delta { get; init; } = Guard.Positive(Delta, "delta");
    /// <summary>Validated ρ.</summary>
    public double Rho { get; init; } = Guard.OpenInterval(Rho, 0, 1, "rho");
    /// <summary>Validated N.</summary>
    public int N { get; init; } = Guard.AtLeast(N, 1, "n");

    /// <summary>Number of training samples P = round(αN), at least 1.</summary>
    public int P => Math.Max(1, (int)Math.Round(Alpha * N, MidpointRounding.AwayFromZero));

    /// <summary>The same mixture with another seed.</summary>
    public MixtureSpec WithSeed(long seed) => this with { Seed = seed };
}
