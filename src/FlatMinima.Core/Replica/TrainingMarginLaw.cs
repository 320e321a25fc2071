using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Replica;

/// <summary>
/// The asymptotic law of the training margins of an ERM minimiser at its replica-symmetric fixed point (m, q, V, b)
/// (docs/theory.md#erm-saddle-point): a sample of class y has cavity margin a = yω = m + y b + √(Δq) ξ, ξ ~ N(0, 1), and training
/// margin u* = prox_ℓ(a, ΔV). Since a(u) = u + ΔV ℓ'(u) inverts the proximal map (monotone), the CDF is exact:
/// P(u* ≤ t) = Σ_y ρ_y Φ((t + ΔV ℓ'(t) − m − y b)/√(Δq)). The law has an atom at every kink of the loss (the hinge's
/// at u = 1), and u*(a) has kinks where a crosses k + ΔV ℓ'(k±). The local-energy theory (docs/theory.md#le3) and the
/// training observables of <see cref="ErmFixedPoint"/> are computed from it.
/// </summary>
public sealed class TrainingMarginLaw
{
    private readonly double _s, _c;

    /// <summary>The law of the margins of <paramref name="loss"/> at order parameters (m, q, V, b) on <paramref name="model"/>
    /// (only its Δ and ρ enter).</summary>
    public TrainingMarginLaw(IMarginLoss loss, MixtureModel model, double m, double q, double v, double b)
        : this(loss ?? throw new ArgumentNullException(nameof(loss)), model ?? throw new ArgumentNullException(nameof(model)),
            Guard.Finite(m, "m"), Guard.Positive(q, "q"), Guard.Positive(v, "V"), Guard.Finite(b, "b"), validated: true)
    {
    }

    private TrainingMarginLaw(IMarginLoss loss, MixtureModel model, double m, double q, double v, double b, bool validated)
    {
        Loss = loss; Model = model; M = m; Q = q; V = v; Bias = b;
        _s = Math.Sqrt(model.Delta * q); _c = model.Delta * v;
        Kinks = ScalarProx.Breakpoints(loss.Kinks, _c);
    }

    // From a fixed point, converged or not: the iteration keeps q, V > 0 but may stop anywhere, so no validation.
    internal static TrainingMarginLaw AtFixedPoint(ErmProblem p, double m, double q, double v, double b) =>
        new(p.Loss, p.Model, m, q, v, b, validated: false);

    /// <summary>The loss ℓ.</summary>
    public IMarginLoss Loss { get; }
    /// <summary>The data model (Δ and ρ enter).</summary>
    public MixtureModel Model { get; }
    /// <summary>Overlap m = w·v/N.</summary>
    public double M { get; }
    /// <summary>Squared norm q = ‖w‖²/N.</summary>
    public double Q { get; }
    /// <summary>Susceptibility V.</summary>
    public double V { get; }
    /// <summary>Bias b.</summary>
    public double Bias { get; }
    /// <summary>Noise variance Δ.</summary>
    public double Delta => Model.Delta;
    /// <summary>Fraction ρ of the +1 class.</summary>
    public double Rho => Model.Rho;
    /// <summary>Values of the cavity margin a where u*(a) has kinks (empty for a smooth loss); quadrature breakpoints.</summary>
    public IReadOnlyList<double> Kinks { get; }

    /// <summary>Training margin u*(a) = prox_ℓ(a, ΔV) of a sample whose cavity margin is a; non-decreasing in a.</summary>
    public double Margin(double a) => Loss.Prox(a, _c);

    /// <summary>P(u* ≤ t) (right-continuous; ℓ' is the loss's documented subgradient).</summary>
    public double Cdf(double t)
    {
        double a = t + _c * Loss.Derivative(t);
        return Rho * Phi(a - M - Bias) + (1 - Rho) * Phi(a - M + Bias);
    }

    private static readonly Lazy<QuadratureRule> FineGrid = new(() => GaussianMeasure.Trapezoid());

    private double Phi(double x) => _s > 0 ? Gaussian.Cdf(x / _s) : (x >= 0 ? 1 : 0);

    /// <summary>Training error P(u* &lt; 0).</summary>
    public double TrainError
    {
        get
        {
            // left limit at 0: a(0⁻) = c ℓ'(0⁻)
            double a = _c * Loss.Derivative(-double.Epsilon);
            double f(double x) => _s > 0 ? Gaussian.Cdf(x / _s) : (x > 0 ? 1 : 0);
            return Rho * f(a - M - Bias) + (1 - Rho) * f(a - M + Bias);
        }
    }

    /// <summary>E[f(u*)] by the fine trapezoid grid of docs/theory.md#erm-saddle-point (robust to discontinuous f), or
    /// <paramref name="rule"/>.</summary>
    public double Expect(Func<double, double> f, QuadratureRule? rule = null)
    {
        rule ??= FineGrid.Value;
        double sum = 0;
        foreach (var (y, w) in new[] { (1.0, Rho), (-1.0, 1 - Rho) })
        {
            double mu = M + y * Bias;
            sum += w * rule.Expect(xi => f(Loss.Prox(mu + _s * xi, _c)));
        }
        return sum;
    }

    /// <summary>Mean training margin E[u*].</summary>
    public double Mean => Expect(u => u);
}
