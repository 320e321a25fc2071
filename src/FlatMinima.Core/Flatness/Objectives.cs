using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Flatness;

/// <summary>
/// A differentiable training objective of a linear classifier (w, b), per sample (O(1)), used by the max-flatness
/// descents. Gradients with respect to w are O(1/N) per component; the descents multiply them by N (the natural
/// metric in which w has O(1) components).
/// </summary>
public interface IFlatnessObjective
{
    /// <summary>Input dimension N.</summary>
    int N { get; }
    /// <summary>True when the objective is invariant under (w, b) → c(w, b), c &gt; 0 (the norm-independent classifier);
    /// descents then keep ‖w‖² = N.</summary>
    bool ScaleInvariant { get; }
    /// <summary>A short name for results ("classifier", "loss:square", ...).</summary>
    string Name { get; }
    /// <summary>Upper estimate of the largest curvature of the objective in the N-metric (≥ 1 for well-scaled objectives).
    /// The descents divide the objective's gradient step by it, so one learning rate serves every σ and λ.</summary>
    double Curvature => 1;
    /// <summary>Root-mean-square component of the random initial w used by the descents (default 1: ‖w‖² = N).</summary>
    double InitialScale => 1;
    /// <summary>Number of training samples P that minibatches are drawn from (default 0: the objective is always
    /// evaluated on the full training set).</summary>
    int P => 0;
    /// <summary>Value at (w, b); writes ∇_w into <paramref name="gradW"/> and returns ∂_b in <paramref name="gradB"/>.</summary>
    double Evaluate(ReadOnlySpan<double> w, double b, Span<double> gradW, out double gradB);
    /// <summary>Minibatch estimate: the per-sample average over the training samples <paramref name="rows"/> only (an
    /// unbiased estimate of <see cref="Evaluate(ReadOnlySpan{double}, double, Span{double}, out double)"/>); empty = all.</summary>
    double Evaluate(ReadOnlySpan<double> w, double b, Span<double> gradW, out double gradB, ReadOnlySpan<int> rows);
}

/// <summary>
/// The norm-independent, noise-smoothed error-counting objective of docs/theory.md#max-flatness and docs/theory.md#table-local-energy: the exact local energy (LE1)
/// E_σ(w, b) = (1/P) Σ_μ H(t_μ), t_μ = u^μ/(σ s_μ), bias not perturbed, with its analytic gradient
/// ∇_w E_σ = −(1/P) Σ_μ φ(t_μ) (1/σ)[y^μ x^μ/(√N s_μ) − u^μ (w ⊙ x^μ ⊙ x^μ)/(N s_μ³)], ∂_b E_σ = −(1/P) Σ φ(t_μ) y^μ/(σ s_μ).
/// One evaluation reads X twice (fused kernels: margins and noise scales in one pass, both gradient terms in the other).
/// Thread-safe: concurrent evaluations (one per replica) share nothing mutable.
/// </summary>
public sealed class SmoothedErrorObjective : IFlatnessObjective
{
    private readonly MixtureSample _s;

    /// <summary>Smoothing scale σ &gt; 0 (the flatness scale).</summary>
    public double Sigma { get; }
    public int N => _s.N;
    /// <summary>Number of training samples P.</summary>
    public int P => _s.P;
    public bool ScaleInvariant => true;
    public string Name => "classifier";
    /// <summary>min(1, 1/σ): at large σ, E_σ ≈ ½ − ⟨u/s⟩/(σ√(2π)) has gradients and curvature ∝ 1/σ, so the descents take
    /// steps ∝ σ and need a number of steps independent of σ.</summary>
    public double Curvature => Math.Min(1, 1 / Sigma);

    /// <param name="sample">Training set.</param>
    /// <param name="sigma">Multiplicative-noise scale σ &gt; 0.</param>
    public SmoothedErrorObjective(MixtureSample sample, double sigma)
    {
        _s = sample ?? throw new ArgumentNullException(nameof(sample));
        Sigma = Guard.Positive(sigma, "sigma");
    }

    public double Evaluate(ReadOnlySpan<double> w, double b, Span<double> gradW, out double gradB) => Evaluate(w, b, gradW, out gradB, default);

    public double Evaluate(ReadOnlySpan<double> w, double b, Span<double> gradW, out double gradB, ReadOnlySpan<int> rows)
    {
        int n = _s.N, p = rows.IsEmpty ? _s.P : rows.Length;
        double sqrtN = Math.Sqrt(n), sigma = Sigma;
        var w2 = new double[n]; var tmp = new double[n];
        for (int j = 0; j < n; j++) w2[j] = w[j] * w[j];
        gradW.Clear();
        double e = 0, gb = 0;
        for (int k = 0; k < p; k++)
        {
            int mu = rows.IsEmpty ? k : rows[k];
            var row = _s.Row(mu);
            FusedKernels.DotAndSquare(row, w, w2, out double h, out double s2);
            double y = _s.Y[mu], u = y * (h / sqrtN + b);
            double s = Math.Sqrt(s2 / n);
            if (s == 0) { e += u < 0 ? 1 : (u == 0 ? 0.5 : 0); continue; }
            double t = u / (sigma * s);
            e += Gaussian.H(t);
            double ph = Gaussian.Pdf(t) / (p * sigma * s);
            gb -= ph * y;
            if (ph != 0) FusedKernels.Accumulate(row, -ph * y / sqrtN, ph * u / (n * s * s), gradW, tmp);
        }
        for (int j = 0; j < n; j++) gradW[j] += w[j] * tmp[j];
        gradB = gb;
        return e / p;
    }
}

/// <summary>
/// The differentiable loss smoothed by multiplicative weight noise: the "local energy" of the loss,
/// L_σ(w, b) = (1/P) [ Σ_μ E_ζ ℓ(u^μ(w ⊙ (1 + σζ), b)) + (λ/2)‖w‖² ] = (1/P) [ Σ_μ E_t ℓ(u^μ + σ s_μ t) + (λ/2)‖w‖² ],
/// t ~ N(0,1), s_μ as in (LE1). A quadratic loss (<see cref="IMarginLoss.ConstantCurvature"/> κ) in closed form,
/// ℓ(u) + κσ²s_μ²/2 (for the square loss an input-dependent ridge of strength σ² Σ_μ (x_j^μ)²/N on w_j); other smooth
/// losses by Gauss–Hermite quadrature (default 16 nodes), with the s-derivative through Stein's identity
/// E[t ℓ'(u + σst)] = σ s E[ℓ''(u + σst)]. Not scale invariant: the norm is free.
/// </summary>
public sealed class SmoothedLossObjective : IFlatnessObjective
{
    private readonly MixtureSample _s;
    private readonly IMarginLoss _loss;
    private readonly double[] _gx, _gw;
    private readonly double? _kappa;

    /// <summary>Noise scale σ ≥ 0 (σ = 0: plain ERM objective).</summary>
    public double Sigma { get; }
    /// <summary>Ridge λ ≥ 0 in the convention of docs/theory.md#classifier, Σ ℓ + (λ/2)‖w‖² (divided by P here).</summary>
    public double Lambda { get; }
    public int N => _s.N;
    /// <summary>Number of training samples P.</summary>
    public int P => _s.P;
    public bool ScaleInvariant => false;
    public string Name => "loss:" + _loss.Name;
    /// <summary>ℓ''max [Δ̂(1 + √(N/P))² + 1 + σ²Δ̂] + λN/P with Δ̂ the mean squared input and ℓ''max the loss's
    /// <see cref="IMarginLoss.CurvatureBound"/>: the data term's Marchenko–Pastur edge plus the signal, the noise-induced
    /// ridge, and the explicit ridge.</summary>
    public double Curvature { get; }
    /// <summary>1/√(1 + σ²Δ̂): the smoothed loss penalises the spread σ s_μ, so its minimiser has a norm that shrinks with σ.</summary>
    public double InitialScale { get; }

    /// <param name="sample">Training set.</param>
    /// <param name="loss">A smooth loss (square, logistic); a loss with kinks is rejected when σ &gt; 0.</param>
    /// <param name="sigma">Multiplicative-noise scale σ ≥ 0.</param>
    /// <param name="lambda">Ridge λ ≥ 0 (default 0).</param>
    /// <param name="hermiteOrder">Gauss–Hermite nodes for non-square losses, ≥ 2 (default 16).</param>
    public SmoothedLossObjective(MixtureSample sample, IMarginLoss loss, double sigma, double lambda = 0, int hermiteOrder = 16)
    {
        _s = sample ?? throw new ArgumentNullException(nameof(sample));
        _loss = loss ?? throw new ArgumentNullException(nameof(loss));
        Sigma = Guard.NonNegative(sigma, "sigma");
        Lambda = Guard.NonNegative(lambda, "lambda");
        Guard.AtLeast(hermiteOrder, 2, "hermite-order");
        if (!loss.IsSmooth && sigma > 0)
            throw new ArgumentOutOfRangeException("loss", loss.Name, $"loss must be smooth (square or logistic) for the smoothed objective (got {loss.Name}).");
        _kappa = loss.ConstantCurvature;
        (_gx, _gw) = GaussianMeasure.GaussHermite(hermiteOrder);
        double dhat = 0;
        foreach (var v in sample.X) dhat += v * v;
        dhat /= sample.X.Length;
        double l2 = loss.CurvatureBound;
        InitialScale = 1 / Math.Sqrt(1 + sigma * sigma * dhat);
        Curvature = l2 * (dhat * Math.Pow(1 + Math.Sqrt((double)sample.N / sample.P), 2) + 1 + sigma * sigma * dhat) + lambda * sample.N / sample.P;
    }

    public double Evaluate(ReadOnlySpan<double> w, double b, Span<double> gradW, out double gradB) => Evaluate(w, b, gradW, out gradB, default);

    public double Evaluate(ReadOnlySpan<double> w, double b, Span<double> gradW, out double gradB, ReadOnlySpan<int> rows)
    {
        int n = _s.N, p = rows.IsEmpty ? _s.P : rows.Length, pAll = _s.P;
        double sqrtN = Math.Sqrt(n), sigma = Sigma, s2sig = sigma * sigma;
        var w2 = new double[n]; var tmp = new double[n];
        for (int j = 0; j < n; j++) w2[j] = w[j] * w[j];
        gradW.Clear();
        double total = 0, gb = 0;
        for (int k = 0; k < p; k++)
        {
            int mu = rows.IsEmpty ? k : rows[k];
            var row = _s.Row(mu);
            FusedKernels.DotAndSquare(row, w, w2, out double h, out double s2raw);
            double y = _s.Y[mu], u = y * (h / sqrtN + b);
            double value, d1, d2; // E ℓ, E ℓ', E ℓ''
            if (sigma == 0) { value = _loss.Value(u); d1 = _loss.Derivative(u); d2 = 0; }
            else if (_kappa is { } kappa) { value = _loss.Value(u) + 0.5 * kappa * s2sig * s2raw / n; d1 = _loss.Derivative(u); d2 = kappa; }
            else
            {
                double sd = sigma * Math.Sqrt(s2raw / n);
                value = d1 = d2 = 0;
                for (int q = 0; q < _gx.Length; q++)
                {
                    double z = u + sd * _gx[q];
                    value += _gw[q] * _loss.Value(z); d1 += _gw[q] * _loss.Derivative(z); d2 += _gw[q] * _loss.SecondDerivative(z);
                }
            }
            total += value;
            gb += d1 * y / p;
            FusedKernels.Accumulate(row, d1 * y / (sqrtN * p), s2sig * d2 / (n * p), gradW, tmp);
        }
        if (sigma > 0) for (int j = 0; j < n; j++) gradW[j] += w[j] * tmp[j];
        if (Lambda > 0) Kernels.Axpy(Lambda / pAll, w, gradW);
        gradB = gb;
        return total / p + 0.5 * Lambda * Kernels.Norm2(w) / pAll;
    }
}
