using FlatMinima.Numerics;

namespace FlatMinima.Mixture;

/// <summary>
/// A finite-N realisation of a <see cref="MixtureModel"/>: P = round(αN) samples of dimension N drawn from a seed.
/// Validates itself on construction.
/// </summary>
/// <param name="Model">The data model (α, Δ, ρ).</param>
/// <param name="N">Input dimension, ≥ 1. Default 1000.</param>
/// <param name="Seed">Seed of the realisation (centroid and samples). Default 0.</param>
/// <param name="ExactNormV">If true (default), the centroid is normalised to ‖v‖² = N exactly (docs/theory.md#model, lower
/// variance, same leading order); otherwise v ~ N(0, I_N).</param>
/// <param name="ExactLabelCounts">If true, exactly round(ρP) samples carry y = +1, in random order; if false (default,
/// docs/theory.md#model) labels are i.i.d. The asymptotic theory is the same. Exact counts remove the O(1/√P) fluctuation of the
/// empirical label mean, which dominates the learned bias once the weights are small (ERM at large λ), where the
/// N → ∞ theory has b = 0 for ρ = ½.</param>
public sealed record MixtureSpec(MixtureModel Model, int N = 1000, long Seed = 0, bool ExactNormV = true, bool ExactLabelCounts = false)
{
    /// <summary>The data model.</summary>
    public MixtureModel Model { get; init; } = Model ?? throw new ArgumentNullException(nameof(Model));
    /// <summary>Validated N (also against α: see <see cref="P"/>).</summary>
    public int N { get; init; } = Checked(Model, N);

    /// <summary>α of <see cref="Model"/>.</summary>
    public double Alpha => Model.Alpha;
    /// <summary>Δ of <see cref="Model"/>.</summary>
    public double Delta => Model.Delta;
    /// <summary>ρ of <see cref="Model"/>.</summary>
    public double Rho => Model.Rho;

    /// <summary>Number of training samples P = round(αN), at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">αN exceeds the largest count, 2³¹ − 1 (checked on construction
    /// too; a <c>with</c> that changes the model alone is checked here).</exception>
    public int P => SampleCount(Alpha, N);

    private static int Checked(MixtureModel model, int n)
    {
        Guard.AtLeast(n, 1, "n");
        SampleCount(model.Alpha, n);
        return n;
    }

    /// <summary>round(αN), at least 1, with αN ≤ <see cref="int.MaxValue"/> (a cast would wrap to a negative count).</summary>
    private static int SampleCount(double alpha, int n) =>
        Math.Max(1, (int)Math.Round(Guard.Interval(alpha * n, 0, false, int.MaxValue, true, "alpha·n"), MidpointRounding.AwayFromZero));

    /// <summary>The same mixture with another seed.</summary>
    public MixtureSpec WithSeed(long seed) => this with { Seed = seed };
}
