using FlatMinima.Numerics;

namespace FlatMinima.Penalties;

/// <summary>
/// A separable convex penalty Σ_j r(w_j), given by r, r', r'' and its kinks like a loss: the base for a user's penalty
/// (an elastic net, a Huber-type penalty, ...). Everything the saddle point and the finite-N solver need follows from
/// the scalar problem ŵ(h) = argmin_w [ V̂w²/2 − hw + r(w) ] = <see cref="Prox"/>(h/V̂, V̂), h = m̂ v + √q̂ ζ ~ N(0, s²),
/// s² = m̂² + q̂ (docs/theory.md#erm-saddle-point):
/// V = E[∂ŵ/∂h] with ∂ŵ/∂h = 1/(V̂ + r''(ŵ)) off the kinks and 0 on them, m = m̂V (Stein's lemma, E[v f(h)] = m̂ E[f'(h)]),
/// q = E[ŵ²], the prior term E[V̂ŵ²/2 − hŵ + r(ŵ)] and the value E[r(ŵ)], each by split Gauss–Legendre quadrature
/// (<see cref="GaussianMeasure.Split"/>) whose panels end where ŵ(h) has kinks, h = V̂k + r'(k±). A penalty overrides any
/// of these where it has a closed form. The finite-N solver is proximal gradient with <see cref="Prox"/> (default: the
/// exact scalar prox of <see cref="ScalarProx"/>).
/// </summary>
public abstract class SeparablePenalty : IWeightPenalty, IConvexFunction
{
    /// <summary>Name used in results.</summary>
    public abstract string Name { get; }
    /// <summary>r(w) for one weight.</summary>
    public abstract double Value(double w);
    /// <summary>r'(w); at a kink, a subgradient.</summary>
    public abstract double Derivative(double w);
    /// <summary>r''(w).</summary>
    public abstract double SecondDerivative(double w);
    /// <summary>Where r' jumps (default none).</summary>
    public virtual IReadOnlyList<Kink> Kinks => [];
    /// <summary>The strength λ of r = λ·r₁, if the penalty has one (default null).</summary>
    public virtual double? Strength => null;
    /// <summary>The same penalty at another strength (default: not supported).</summary>
    public virtual IWeightPenalty WithStrength(double strength) =>
        throw new InvalidOperationException($"penalty '{Name}' has no strength lambda to change.");

    /// <summary>Quadrature over ξ = h/s: split Gauss–Legendre, 16 nodes per panel of width ≤ ½ on [−10, 10]. A penalty
    /// whose flat region covers all of it (an L1 part above 10 s) then gives V = 0, where the saddle point stops.</summary>
    protected virtual QuadratureRule Rule(double s, double vHat)
    {
        var kinks = Kinks;
        var breaks = new double[2 * kinks.Count];
        for (int i = 0; i < kinks.Count; i++)
        {
            breaks[2 * i] = (vHat * kinks[i].At + kinks[i].LeftSlope) / s;
            breaks[2 * i + 1] = (vHat * kinks[i].At + kinks[i].RightSlope) / s;
        }
        return GaussianMeasure.Split(breaks, maxPanelWidth: 0.5, pointsPerPanel: 16);
    }

    /// <summary>argmin_w [ (κ/2)(w − v)² + r(w) ] by <see cref="ScalarProx.Of"/> with c = 1/κ.</summary>
    public virtual double Prox(double v, double curvature)
    {
        if (!(curvature > 0)) throw new ArgumentOutOfRangeException(nameof(curvature), curvature, "curvature must be > 0.");
        return ScalarProx.Of(this, v, 1 / curvature);
    }

    // E over h ~ N(0, s²) of (∂ŵ/∂h, ŵ², V̂ŵ²/2 − hŵ + r(ŵ), r(ŵ)).
    private (double V, double Q, double Prior, double Value) Averages(double mHat, double qHat, double vHat)
    {
        // outside the domain (V̂ ≤ 0, m̂² + q̂ ≤ 0, or not finite, as a diverging iteration may produce) the averages are
        // undefined: NaN, which the saddle-point solver treats as a failed step
        double s = Math.Sqrt(mHat * mHat + qHat);
        if (!(vHat > 0 && s > 0) || !double.IsFinite(vHat) || !double.IsFinite(s)) return (double.NaN, double.NaN, double.NaN, double.NaN);
        var rule = Rule(s, vHat);
        var x = rule.Nodes; var wt = rule.Weights;
        double v = 0, q = 0, prior = 0, value = 0;
        for (int k = 0; k < x.Length; k++)
        {
            double h = s * x[k];
            double w = Prox(h / vHat, vHat);
            double r = Value(w);
            v += wt[k] * ScalarProx.Slope(this, w, 1 / vHat) / vHat;
            q += wt[k] * w * w;
            prior += wt[k] * (0.5 * vHat * w * w - h * w + r);
            value += wt[k] * r;
        }
        return (v, q, prior, value);
    }

    /// <summary>(m̂V, E[ŵ²], E[∂ŵ/∂h]) with multiplier 1/V − V̂.</summary>
    public virtual WeightSide Update(double mHat, double qHat, double vHat)
    {
        var a = Averages(mHat, qHat, vHat);
        return new WeightSide(mHat * a.V, a.Q, a.V, 1 / a.V - vHat);
    }

    /// <summary>E min_w [V̂w²/2 − hw + r(w)].</summary>
    public virtual double Prior(double mHat, double qHat, double vHat) => Averages(mHat, qHat, vHat).Prior;

    /// <summary>E r(ŵ(h)) at the conjugates.</summary>
    public virtual double Value(WeightSide w, double mHat, double qHat, double vHat) => Averages(mHat, qHat, vHat).Value;

    /// <summary>Σ_j r(w_j).</summary>
    public virtual double Value(ReadOnlySpan<double> w)
    {
        double s = 0;
        foreach (var x in w) s += Value(x);
        return s;
    }

    public override string ToString() => Strength is { } l ? $"{Name} lambda={l:G6}" : Name;
}
