using FlatMinima.Numerics;

namespace FlatMinima.Losses;

/// <summary>
/// Gaussian averages over one cluster of the channel (sample) side of the ERM saddle point (docs/theory.md#erm-saddle-point).
/// For the cluster with label y the stretched argument of the proximal map is a = yω = m + y b + √(Δq) y ξ, which
/// has the law N(μ, s²) with μ = m + y b and s = √(Δq). With c = ΔV and u* = prox(a, c):
/// </summary>
/// <param name="G">E[G], G = (u* − a)/c = −ℓ'(u*) = y g.</param>
/// <param name="G2">E[G²] = E[g²].</param>
/// <param name="DU">E[∂u*/∂a]; then E[∂_ω g] = (DU − 1)/c.</param>
public readonly record struct ClusterMoments(double G, double G2, double DU);

/// <summary>
/// Cluster averages of the channel of a loss: moments for the fixed-point equations, training loss and Moreau
/// envelope for the observables and the free energy. Each loss provides its channel through
/// <see cref="IMarginLoss.Channel"/>: by default split Gauss–Legendre quadrature whose panels resolve the Gaussian
/// (width ≤ <see cref="ErmQuadrature.PanelWidth"/> in ξ) and the loss (width ≤ <see cref="ErmQuadrature.MarginResolution"/>
/// in a) and end at the kinks of the proximal map; the hinge loss has exact closed forms (truncated Gaussian moments).
/// </summary>
public abstract class ErmChannel
{
    /// <summary>The loss.</summary>
    public IMarginLoss Loss { get; }

    protected ErmChannel(IMarginLoss loss) => Loss = loss;

    /// <summary>E[G], E[G²], E[∂u*/∂a] for a ~ N(μ, s²) at proximal scale c = ΔV &gt; 0.</summary>
    public abstract ClusterMoments Moments(double mu, double s, double c);

    /// <summary>E[ℓ(u*)] for a ~ N(μ, s²).</summary>
    public abstract double TrainingLoss(double mu, double s, double c);

    /// <summary>E[min_u (u − a)²/(2c) + ℓ(u)] (Moreau envelope) for a ~ N(μ, s²).</summary>
    public abstract double Moreau(double mu, double s, double c);

    /// <summary>The channel <paramref name="loss"/> provides (<see cref="IMarginLoss.Channel"/>), with the quadrature settings
    /// <paramref name="quadrature"/> (default <see cref="ErmQuadrature.Default"/>) where it integrates numerically.</summary>
    public static ErmChannel For(IMarginLoss loss, ErmQuadrature? quadrature = null) =>
        (loss ?? throw new ArgumentNullException(nameof(loss))).Channel(quadrature ?? ErmQuadrature.Default);

    /// <summary>The default channel of any loss: split Gauss–Legendre quadrature (see the class summary).</summary>
    public static ErmChannel Quadrature(IMarginLoss loss, ErmQuadrature quadrature) =>
        new QuadratureChannel(loss ?? throw new ArgumentNullException(nameof(loss)), quadrature ?? throw new ArgumentNullException(nameof(quadrature)));

    /// <summary>A channel that averages with a fixed rule, for any loss (e.g. the trapezoid grid of docs/theory.md#erm-numerics).</summary>
    public static ErmChannel WithRule(IMarginLoss loss, QuadratureRule rule) => new GridChannel(loss, rule ?? throw new ArgumentNullException(nameof(rule)));
}

/// <summary>Quadrature settings of the ERM channel for smooth losses.</summary>
/// <param name="PanelWidth">Largest Gauss–Legendre panel width in ξ (Gaussian units). Default 2.</param>
/// <param name="MarginResolution">Largest panel width in a (margin units), so that the loss's own structure —
/// e.g. the logistic corner at large ΔV and large √(Δq) — is resolved. Default 2 (agrees with 0.25 to 1e−15).</param>
/// <param name="PointsPerPanel">Legendre nodes per panel. Default 8.</param>
/// <param name="HalfWidth">Truncation of ξ to [−L, L]; the neglected mass is 2H(L) (≈ 1.5e−23 at L = 10). Default 10.</param>
/// <param name="MaxPanels">Cap on the number of panels (default 512, i.e. √(Δq) up to ≈ 50 fully resolved).</param>
public sealed record ErmQuadrature(double PanelWidth = 2, double MarginResolution = 2, int PointsPerPanel = 8, double HalfWidth = 10, int MaxPanels = 512)
{
    /// <summary>The defaults above.</summary>
    public static ErmQuadrature Default { get; } = new();
}

/// <summary>Hinge loss in closed form: with z₁ = (1 − c − μ)/s and z₂ = (1 − μ)/s the map is u* = a + c
/// (ξ &lt; z₁), 1 (z₁ &lt; ξ &lt; z₂), a (ξ &gt; z₂), and every average is a truncated Gaussian moment.</summary>
internal sealed class HingeChannel() : ErmChannel(HingeLoss.Instance)
{
    /// <summary>The one instance (the channel has no state).</summary>
    public static readonly HingeChannel Instance = new();

    private readonly record struct Pieces(double P1, double L1, double P2, double E1, double E2);

    // P1 = P(a ≤ 1−c); L1 = E[(1−c−a) 1{a ≤ 1−c}]; P2 = P(mid); E1 = E[(1−a) 1{mid}]; E2 = E[(1−a)² 1{mid}]
    private static Pieces Compute(double mu, double s, double c)
    {
        if (s == 0)
        {
            double a = mu;
            if (a <= 1 - c) return new Pieces(1, 1 - c - a, 0, 0, 0);
            if (a < 1) return new Pieces(0, 0, 1, 1 - a, (1 - a) * (1 - a));
            return new Pieces(0, 0, 0, 0, 0);
        }
        double z1 = (1 - c - mu) / s, z2 = (1 - mu) / s;
        var (p1, m11, _) = GaussianMeasure.TruncatedMoments(double.NegativeInfinity, z1);
        var (p2, m1, m2) = GaussianMeasure.TruncatedMoments(z1, z2);
        double l1 = s * (z1 * p1 - m11);
        double e1 = s * (z2 * p2 - m1);
        double e2 = s * s * (z2 * z2 * p2 - 2 * z2 * m1 + m2);
        return new Pieces(p1, Math.Max(0, l1), p2, Math.Max(0, e1), Math.Max(0, e2));
    }

    public override ClusterMoments Moments(double mu, double s, double c)
    {
        var p = Compute(mu, s, c);
        return new ClusterMoments(p.P1 + p.E1 / c, p.P1 + p.E2 / (c * c), 1 - p.P2);
    }

    public override double TrainingLoss(double mu, double s, double c) => Compute(mu, s, c).L1;

    public override double Moreau(double mu, double s, double c)
    {
        var p = Compute(mu, s, c);
        return p.L1 + 0.5 * c * p.P1 + p.E2 / (2 * c);
    }
}

/// <summary>
/// Split Gauss–Legendre over ξ with panels resolving both scales. For a loss with kinks the proximal map u*(a) is
/// piecewise smooth, with breakpoints at a = k + c ℓ'(k±) (<see cref="ScalarProx.Breakpoints"/>): the panels then end
/// there, so every panel integrates a smooth function.
/// </summary>
internal sealed class QuadratureChannel(IMarginLoss loss, ErmQuadrature q) : ErmChannel(loss)
{
    private readonly (double[] X, double[] W) _ref = GaussianMeasure.Legendre(q.PointsPerPanel);

    // capped at MaxPanels so that a diverging norm (λ → 0 on separable data) cannot make one evaluation unbounded
    private int Panels(double s) => (int)Math.Min(q.MaxPanels, Math.Ceiling(2 * q.HalfWidth / Math.Min(q.PanelWidth, s > 0 ? q.MarginResolution / s : double.PositiveInfinity)));

    // Accumulates Σ w f(ξ) for the selected outputs; kind 0 = moments, 1 = loss, 2 = Moreau. Nodes are visited in
    // increasing ξ, so a increases and u* = prox(a) with it: the loss may warm-start its prox from the previous node.
    private (double A, double B, double C) Sum(double mu, double s, double c, int kind)
    {
        if (s == 0) return Point(mu, c, kind, double.NaN).Item1;
        var kinks = Loss.Kinks;
        return SumSplit(mu, s, c, kind, kinks.Count > 0 ? ScalarProx.Breakpoints(kinks, c) : []);
    }

    // Panels of width at most 2·HalfWidth/Panels(s) (Gauss–Legendre on each), with extra edges at the breakpoints of
    // u*(a) mapped to ξ = (a − μ)/s; without breakpoints exactly Panels(s) equal panels.
    private (double A, double B, double C) SumSplit(double mu, double s, double c, int kind, double[] breakpoints)
    {
        var edges = new List<double> { -q.HalfWidth, q.HalfWidth };
        foreach (var a in breakpoints)
        {
            double xi = (a - mu) / s;
            if (xi > -q.HalfWidth && xi < q.HalfWidth) edges.Add(xi);
        }
        edges.Sort();
        double maxWidth = 2 * q.HalfWidth / Panels(s);
        var (gx, gw) = _ref;
        double sa = 0, sb = 0, sc = 0, guess = double.NaN;
        for (int e = 0; e + 1 < edges.Count; e++)
        {
            double lo = edges[e], hi = edges[e + 1];
            if (!(hi > lo)) continue;
            int panels = (int)Math.Ceiling((hi - lo) / maxWidth - 1e-12);
            double width = (hi - lo) / panels, half = 0.5 * width;
            for (int p = 0; p < panels; p++)
            {
                double mid = lo + (p + 0.5) * width;
                for (int j = 0; j < gx.Length; j++)
                {
                    double xi = mid + half * gx[j];
                    double w = half * gw[j] * Gaussian.Pdf(xi);
                    var ((a, b, cc), u) = Point(mu + s * xi, c, kind, guess);
                    guess = u;
                    sa += w * a; sb += w * b; sc += w * cc;
                }
            }
        }
        return (sa, sb, sc);
    }

    private ((double, double, double), double) Point(double a, double c, int kind, double guess)
    {
        var (u, g, slope) = Loss.ProxPoint(a, c, guess);
        var r = kind switch
        {
            0 => (g, g * g, slope),
            1 => (Loss.Value(u), 0.0, 0.0),
            _ => (0.5 * c * g * g + Loss.Value(u), 0.0, 0.0),
        };
        return (r, u);
    }

    public override ClusterMoments Moments(double mu, double s, double c)
    {
        var (a, b, d) = Sum(mu, s, c, 0);
        return new ClusterMoments(a, b, d);
    }

    public override double TrainingLoss(double mu, double s, double c) => Sum(mu, s, c, 1).A;
    public override double Moreau(double mu, double s, double c) => Sum(mu, s, c, 2).A;
}

/// <summary>Any other loss: a fixed quadrature rule (the fine trapezoid grid by default).</summary>
internal sealed class GridChannel(IMarginLoss loss, QuadratureRule rule) : ErmChannel(loss)
{
    private ClusterMoments Eval(double mu, double s, double c, Func<double, double, (double, double, double)> f)
    {
        double sa = 0, sb = 0, sc = 0;
        var x = rule.Nodes; var w = rule.Weights;
        for (int k = 0; k < x.Length; k++)
        {
            var (a, b, d) = f(mu + s * x[k], c);
            sa += w[k] * a; sb += w[k] * b; sc += w[k] * d;
        }
        return new ClusterMoments(sa, sb, sc);
    }

    public override ClusterMoments Moments(double mu, double s, double c) => Eval(mu, s, c, (a, cc) =>
    {
        double u = Loss.Prox(a, cc), g = (u - a) / cc;
        return (g, g * g, Loss.ProxDerivative(a, cc));
    });

    public override double TrainingLoss(double mu, double s, double c) => Eval(mu, s, c, (a, cc) => (Loss.Value(Loss.Prox(a, cc)), 0, 0)).G;
    public override double Moreau(double mu, double s, double c) => Eval(mu, s, c, (a, cc) => (Loss.MoreauEnvelope(a, cc), 0, 0)).G;
}
