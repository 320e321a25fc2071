using FlatMinima.Losses;
using FlatMinima.Numerics;

namespace FlatMinima.Flatness;

/// <summary>
/// The asymptotic law of the training margins of a linear classifier with order parameters (m, q, b) on the mixture
/// (Δ, ρ): a sample of class y has cavity pre-activation ω = y m + b + √(Δq) ξ, ξ ~ N(0,1), and training margin
/// u*(y, ω). This is the minimal interface that the ERM local-energy theory (docs/theory.md#le3) needs from a replica fixed
/// point; <see cref="ProxMarginLaw"/> builds it from (m, q, V, b) and a loss.
/// </summary>
public interface ITrainingMarginLaw
{
    /// <summary>Overlap m = w·v/N.</summary>
    double M { get; }
    /// <summary>Squared norm q = ‖w‖²/N.</summary>
    double Q { get; }
    /// <summary>Bias b.</summary>
    double B { get; }
    /// <summary>Noise variance Δ.</summary>
    double Delta { get; }
    /// <summary>Fraction ρ of the +1 class.</summary>
    double Rho { get; }
    /// <summary>Training margin u*(a) of a sample whose cavity margin is a = yω = m + y b + √(Δq) ξ (for y = ±1,
    /// after ξ → yξ). Must be non-decreasing in a.</summary>
    double Margin(double a);
    /// <summary>Values of a where u*(a) has kinks (empty for smooth losses); used as quadrature breakpoints.</summary>
    IReadOnlyList<double> Kinks { get; }
}

/// <summary>
/// Training-margin law of an ERM minimiser at its replica-symmetric fixed point (docs/theory.md#erm-saddle-point): u* = prox_ℓ(a, ΔV).
/// </summary>
public sealed class ProxMarginLaw : ITrainingMarginLaw
{
    private readonly IMarginLoss _loss;
    private readonly double _c;

    /// <summary>Builds the law from the fixed point (m, q, V, b) of <paramref name="loss"/>.</summary>
    public ProxMarginLaw(IMarginLoss loss, double m, double q, double v, double b, double delta, double rho)
    {
        _loss = loss ?? throw new ArgumentNullException(nameof(loss));
        M = Guard.Finite(m, "m"); Q = Guard.Positive(q, "q"); V = Guard.Positive(v, "V"); B = Guard.Finite(b, "b");
        Delta = Guard.Positive(delta, "delta"); Rho = Guard.OpenInterval(rho, 0, 1, "rho");
        _c = Delta * V;
        Kinks = loss.IsSmooth ? [] : [1 - _c, 1.0];
    }

    public double M { get; }
    public double Q { get; }
    /// <summary>Susceptibility V.</summary>
    public double V { get; }
    public double B { get; }
    public double Delta { get; }
    public double Rho { get; }
    public IReadOnlyList<double> Kinks { get; }
    public double Margin(double a) => _loss.Prox(a, _c);
}
