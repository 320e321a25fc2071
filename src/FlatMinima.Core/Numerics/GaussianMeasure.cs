namespace FlatMinima.Numerics;

/// <summary>
/// A quadrature rule for the standard Gaussian measure: E_ξ[f(ξ)] ≈ Σ_k w_k f(ξ_k), ξ ~ N(0,1). The weights
/// already contain the density φ, so they sum to (almost exactly) 1. Immutable and thread-safe.
/// </summary>
public sealed class QuadratureRule
{
    private readonly double[] _nodes;
    private readonly double[] _weights;

    internal QuadratureRule(double[] nodes, double[] weights, string description)
    {
        _nodes = nodes; _weights = weights; Description = description;
    }

    /// <summary>Nodes ξ_k (dimensionless, in units of the standard deviation).</summary>
    public ReadOnlySpan<double> Nodes => _nodes;
    /// <summary>Weights w_k, density included.</summary>
    public ReadOnlySpan<double> Weights => _weights;
    /// <summary>Number of nodes.</summary>
    public int Count => _nodes.Length;
    /// <summary>How the rule was built (for logs and docs).</summary>
    public string Description { get; }

    /// <summary>E_ξ[f(ξ)] under this rule.</summary>
    public double Expect(Func<double, double> f)
    {
        double s = 0;
        for (int k = 0; k < _nodes.Length; k++) s += _weights[k] * f(_nodes[k]);
        return s;
    }

    public override string ToString() => Description;

    /// <summary>The node and weight arrays themselves (not copies), for hot loops inside Core; callers must not modify them.</summary>
    internal void Deconstruct(out double[] nodes, out double[] weights)
    {
        nodes = _nodes; weights = _weights;
    }
}

/// <summary>
/// The one integrator for Gaussian expectations E_ξ[f(ξ)] = ∫Dξ f(ξ) used by the replica engine (docs/theory.md#conventions).
/// <list type="bullet">
/// <item><see cref="GaussHermite"/>: exact for polynomials of degree ≤ 2n−1, the rule for smooth integrands.</item>
/// <item><see cref="Split"/>: composite Gauss–Legendre panels on [−L, L] whose edges include given breakpoints —
/// for integrands with kinks (hinge) or with a structure narrower than the Gaussian (logistic at large ΔV).</item>
/// <item><see cref="Trapezoid"/>: the uniform fine grid of docs/theory.md#erm-saddle-point (24 001 points on [−12, 12]); slow but
/// robust, used as a reference.</item>
/// </list>
/// Truncated moments of a Gaussian on an interval (<see cref="TruncatedMoments"/>) give exact closed forms for
/// piecewise-polynomial integrands such as every hinge-loss expectation.
/// </summary>
public static class GaussianMeasure
{
    private static readonly Dictionary<int, QuadratureRule> HermiteCache = new();
    private static readonly Dictionary<int, (double[] X, double[] W)> LegendreCache = new();

    /// <summary>
    /// Gauss–Hermite rule with <paramref name="n"/> nodes for the standard Gaussian (probabilists' form).
    /// Default 100 nodes, the choice of docs/theory.md#erm-numerics for smooth losses. Nodes are computed once per n and cached.
    /// </summary>
    /// <param name="n">Number of nodes, 1 ≤ n ≤ <see cref="MaxHermiteNodes"/>.</param>
    public static QuadratureRule GaussHermite(int n = 100)
    {
        Guard.AtLeast(n, 1, "n");
        if (n > MaxHermiteNodes) throw new ArgumentOutOfRangeException(nameof(n), n, $"n must be an integer in [1, {MaxHermiteNodes}].");
        lock (HermiteCache)
        {
            if (HermiteCache.TryGetValue(n, out var r)) return r;
            var (x, w) = PhysicistsHermite(n);
            var nodes = new double[n];
            var weights = new double[n];
            for (int i = 0; i < n; i++)
            {
                nodes[i] = Math.Sqrt(2) * x[i];
                weights[i] = w[i] / Math.Sqrt(Math.PI);
            }
            r = new QuadratureRule(nodes, weights, $"Gauss-Hermite, {n} nodes");
            HermiteCache[n] = r;
            return r;
        }
    }

    /// <summary>Largest node count of <see cref="GaussHermite"/>: 190. The node search (asymptotic initial guesses, Newton on
    /// the orthonormal recurrence) is exact to rounding up to n = 198 (Σw = 1, E[z²] = 1, E[z⁴] = 3 to 2e−15) and breaks
    /// from n = 199 on, where the largest nodes (|z| ≳ 27) make the squared derivative in the weights overflow and the
    /// guesses collapse onto the same roots; beyond ~100 nodes a split rule (<see cref="Split"/>) is the better tool.</summary>
    public const int MaxHermiteNodes = 190;

    /// <summary>
    /// Trapezoid rule on the uniform grid of <paramref name="points"/> points over [−<paramref name="halfWidth"/>,
    /// <paramref name="halfWidth"/>] with the density φ in the weights. Defaults: 24 001 points on [−12, 12]
    /// (docs/theory.md#erm-saddle-point). Second-order accurate at kinks, exponentially accurate for smooth integrands.
    /// </summary>
    public static QuadratureRule Trapezoid(int points = 24001, double halfWidth = 12)
    {
        Guard.AtLeast(points, 3, "points");
        Guard.Positive(halfWidth, "halfWidth");
        var x = new double[points];
        var w = new double[points];
        double h = 2 * halfWidth / (points - 1);
        for (int i = 0; i < points; i++)
        {
            x[i] = -halfWidth + i * h;
            w[i] = (i == 0 || i == points - 1 ? 0.5 : 1.0) * h * Gaussian.Pdf(x[i]);
        }
        return new QuadratureRule(x, w, $"trapezoid, {points} points on [-{halfWidth}, {halfWidth}]");
    }

    /// <summary>
    /// Composite Gauss–Legendre rule on [−<paramref name="halfWidth"/>, <paramref name="halfWidth"/>]: the interval
    /// is cut at every breakpoint inside it, and each piece is cut further into panels no wider than
    /// <paramref name="maxPanelWidth"/>, each integrated with <paramref name="pointsPerPanel"/> Legendre nodes.
    /// Exact up to the truncation 2H(L) (≈ 1.5e−23 at the default L = 10) for integrands that are polynomials of
    /// degree ≤ 2p−1 between breakpoints; exponentially accurate for integrands analytic between breakpoints.
    /// </summary>
    /// <param name="breakpoints">Positions ξ of kinks or jumps; those outside [−L, L] are ignored.</param>
    /// <param name="maxPanelWidth">Largest panel width in ξ; default 1.</param>
    /// <param name="pointsPerPanel">Legendre nodes per panel, 1..64; default 8.</param>
    /// <param name="halfWidth">Truncation L; default 10.</param>
    public static QuadratureRule Split(IEnumerable<double>? breakpoints = null, double maxPanelWidth = 1,
                                       int pointsPerPanel = 8, double halfWidth = 10)
    {
        Guard.Positive(maxPanelWidth, "maxPanelWidth");
        Guard.Positive(halfWidth, "halfWidth");
        Guard.AtLeast(pointsPerPanel, 1, "pointsPerPanel");
        if (pointsPerPanel > 64) throw new ArgumentOutOfRangeException(nameof(pointsPerPanel), pointsPerPanel, "pointsPerPanel must be an integer in [1, 64].");
        var edges = new List<double> { -halfWidth, halfWidth };
        if (breakpoints != null)
            foreach (var b in breakpoints)
            {
                Guard.Finite(b, "breakpoint");
                if (b > -halfWidth && b < halfWidth) edges.Add(b);
            }
        edges.Sort();
        var (gx, gw) = Legendre(pointsPerPanel);
        var nodes = new List<double>();
        var weights = new List<double>();
        for (int e = 0; e + 1 < edges.Count; e++)
        {
            double lo = edges[e], hi = edges[e + 1];
            if (hi - lo <= 0) continue;
            int panels = (int)Math.Ceiling((hi - lo) / maxPanelWidth - 1e-12);
            double width = (hi - lo) / panels;
            for (int p = 0; p < panels; p++)
            {
                double a = lo + p * width, half = 0.5 * width, mid = a + half;
                for (int j = 0; j < gx.Length; j++)
                {
                    double x = mid + half * gx[j];
                    nodes.Add(x);
                    weights.Add(half * gw[j] * Gaussian.Pdf(x));
                }
            }
        }
        return new QuadratureRule(nodes.ToArray(), weights.ToArray(),
            $"split Gauss-Legendre, {pointsPerPanel} points per panel of width <= {maxPanelWidth} on [-{halfWidth}, {halfWidth}], {edges.Count - 2} breakpoints");
    }

    /// <summary>E_ξ[f(ξ)] by Gauss–Hermite with <paramref name="n"/> nodes (default 100): for smooth f.</summary>
    public static double Expect(Func<double, double> f, int n = 100) => GaussHermite(n).Expect(f);

    /// <summary>E_ξ[f(ξ)] for f with kinks or jumps at <paramref name="breakpoints"/>: split Gauss–Legendre
    /// (<see cref="Split"/> with its defaults).</summary>
    public static double ExpectPiecewise(Func<double, double> f, params double[] breakpoints) => Split(breakpoints).Expect(f);

    /// <summary>
    /// Nodes and weights for E_{ξ~N(0,1)}[f(ξ)] on [−L, L], with panel edges at every breakpoint and panels growing
    /// geometrically (ratio 3, first width <paramref name="firstWidth"/>) away from each breakpoint, at most ½ wide, 16 Gauss–Legendre
    /// nodes per panel. The Gaussian weight φ(ξ) is folded into the returned weights. For Gaussian expectations of integrands
    /// that are discontinuous or very steep at known points (the 0-1 loss of a monotone margin, docs/theory.md#le3).
    /// </summary>
    public static QuadratureRule Graded(IEnumerable<double> breakpoints, double limit = 12, double firstWidth = 1e-4, int perPanel = 16)
    {
        var edges = new SortedSet<double> { -limit, limit };
        foreach (var b0 in breakpoints)
        {
            if (!(b0 > -limit && b0 < limit)) continue;
            edges.Add(b0);
            for (double h = firstWidth; h < 2 * limit; h *= 3)
            {
                if (b0 + h < limit) edges.Add(b0 + h);
                if (b0 - h > -limit) edges.Add(b0 - h);
            }
        }
        // Panels never wider than ½, so the Gaussian weight itself is integrated to machine precision.
        for (double t = -limit + 0.5; t < limit; t += 0.5) edges.Add(t);
        var e = edges.ToArray();
        var xs = new List<double>(); var ws = new List<double>();
        var rule = new MathNet.Numerics.Integration.GaussLegendreRule(-1, 1, perPanel);
        for (int i = 0; i + 1 < e.Length; i++)
        {
            double a = e[i], c = e[i + 1], half = 0.5 * (c - a), mid = 0.5 * (a + c);
            if (half <= 0) continue;
            for (int k = 0; k < perPanel; k++)
            {
                double t = mid + half * rule.Abscissas[k];
                xs.Add(t);
                ws.Add(half * rule.Weights[k] * Gaussian.Pdf(t));
            }
        }
        return new QuadratureRule(xs.ToArray(), ws.ToArray(), $"graded Gauss-Legendre, {xs.Count} nodes");
    }

    /// <summary>
    /// Exact moments of a standard Gaussian restricted to (lo, hi): returns (P, M1, M2) with
    /// P = P(lo &lt; ξ &lt; hi), M1 = E[ξ 1{lo&lt;ξ&lt;hi}], M2 = E[ξ² 1{lo&lt;ξ&lt;hi}]. Infinite bounds allowed.
    /// P is computed from whichever tail avoids cancellation.
    /// </summary>
    public static (double P, double M1, double M2) TruncatedMoments(double lo, double hi)
    {
        if (!(hi > lo)) return (0, 0, 0);
        double p = lo >= 0 ? Gaussian.H(lo) - Gaussian.H(hi)
                 : hi <= 0 ? Gaussian.H(-hi) - Gaussian.H(-lo)
                 : 1 - Gaussian.H(hi) - Gaussian.H(-lo);
        double pl = double.IsInfinity(lo) ? 0 : Gaussian.Pdf(lo);
        double ph = double.IsInfinity(hi) ? 0 : Gaussian.Pdf(hi);
        double m1 = pl - ph;
        double lpl = double.IsInfinity(lo) ? 0 : lo * pl;
        double hph = double.IsInfinity(hi) ? 0 : hi * ph;
        double m2 = p + lpl - hph;
        return (p, m1, m2);
    }

    /// <summary>Legendre nodes and weights on [−1, 1] (Newton on the three-term recurrence), cached.</summary>
    internal static (double[] X, double[] W) Legendre(int n)
    {
        lock (LegendreCache)
        {
            if (LegendreCache.TryGetValue(n, out var r)) return r;
            var x = new double[n];
            var w = new double[n];
            int m = (n + 1) / 2;
            for (int i = 0; i < m; i++)
            {
                double z = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5)), pp = 0;
                for (int it = 0; it < 100; it++)
                {
                    double p1 = 1, p2 = 0;
                    for (int j = 0; j < n; j++)
                    {
                        double p3 = p2; p2 = p1;
                        p1 = ((2 * j + 1) * z * p2 - j * p3) / (j + 1);
                    }
                    pp = n * (z * p1 - p2) / (z * z - 1);
                    double z1 = z;
                    z = z1 - p1 / pp;
                    if (Math.Abs(z - z1) < 1e-15) break;
                }
                {
                    // recompute derivative at the converged node
                    double p1 = 1, p2 = 0;
                    for (int j = 0; j < n; j++)
                    {
                        double p3 = p2; p2 = p1;
                        p1 = ((2 * j + 1) * z * p2 - j * p3) / (j + 1);
                    }
                    pp = n * (z * p1 - p2) / (z * z - 1);
                }
                x[i] = -z; x[n - 1 - i] = z;
                w[i] = w[n - 1 - i] = 2 / ((1 - z * z) * pp * pp);
            }
            if (n % 2 == 1) x[n / 2] = 0;
            r = (x, w);
            LegendreCache[n] = r;
            return r;
        }
    }

    /// <summary>Gauss–Hermite nodes and weights for the weight e^{−x²} (Numerical Recipes' gauher, with
    /// asymptotic initial guesses and Newton refinement on the orthonormal recurrence).</summary>
    private static (double[] X, double[] W) PhysicistsHermite(int n)
    {
        var x = new double[n];
        var w = new double[n];
        const double pim4 = 0.7511255444649425; // π^{-1/4}
        int m = (n + 1) / 2;
        double z = 0;
        for (int i = 0; i < m; i++)
        {
            if (i == 0) z = Math.Sqrt(2 * n + 1) - 1.85575 * Math.Pow(2 * n + 1, -0.16667);
            else if (i == 1) z -= 1.14 * Math.Pow(n, 0.426) / z;
            else if (i == 2) z = 1.86 * z - 0.86 * x[0];
            else if (i == 3) z = 1.91 * z - 0.91 * x[1];
            else z = 2 * z - x[i - 2];
            double pp = 0;
            for (int it = 0; it < 200; it++)
            {
                double p1 = pim4, p2 = 0;
                for (int j = 0; j < n; j++)
                {
                    double p3 = p2; p2 = p1;
                    p1 = z * Math.Sqrt(2.0 / (j + 1)) * p2 - Math.Sqrt((double)j / (j + 1)) * p3;
                }
                pp = Math.Sqrt(2.0 * n) * p2;
                double z1 = z;
                z = z1 - p1 / pp;
                if (Math.Abs(z - z1) <= 1e-15 * Math.Max(1, Math.Abs(z))) break;
            }
            {
                double p1 = pim4, p2 = 0;
                for (int j = 0; j < n; j++)
                {
                    double p3 = p2; p2 = p1;
                    p1 = z * Math.Sqrt(2.0 / (j + 1)) * p2 - Math.Sqrt((double)j / (j + 1)) * p3;
                }
                pp = Math.Sqrt(2.0 * n) * p2;
            }
            x[i] = z; x[n - 1 - i] = -z;
            w[i] = w[n - 1 - i] = 2 / (pp * pp);
        }
        if (n % 2 == 1) x[n / 2] = 0;
        Array.Reverse(x); Array.Reverse(w);
        return (x, w);
    }
}
