using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Estimators;

/// <summary>
/// The Bayes-optimal (BO) classifier of the mixture and its error (docs/theory.md#bayes-optimal). With a Gaussian prior on v the posterior
/// is Gaussian with mean v̂ = Σ_μ y^μ x^μ/(√N(α + Δ)), and the Bayes rule is the single linear classifier
/// sign(x·v̂/√N + b_BO): a "pointwise" estimator.
/// </summary>
public static class BayesOptimal
{
    /// <summary>m_B = q_B = α/(α + Δ): overlap and squared norm of v̂ (Nishimori identity, docs/theory.md#e3).</summary>
    public static double Overlap(MixtureModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Alpha / (model.Alpha + model.Delta);
    }

    /// <summary>Asymptotic BO bias b_BO = (Δ/2) ln(ρ/(1 − ρ)) for w = v̂ (docs/theory.md#e2). It does not depend on α, so
    /// it takes Δ and ρ alone.</summary>
    public static double Bias(double delta, double rho)
    {
        Guard.Positive(delta, "delta"); Guard.OpenInterval(rho, 0, 1, "rho");
        return 0.5 * delta * Math.Log(rho / (1 - rho));
    }

    /// <summary>
    /// BO generalisation error (docs/theory.md#e3): ρ H((m_B + b)/√(Δ m_B)) + (1 − ρ) H((m_B − b)/√(Δ m_B)); balanced:
    /// H(√(α/(Δ(α + Δ)))).
    /// </summary>
    public static double Error(MixtureModel model)
    {
        double m = Overlap(model);
        return GeneralizationError.Of(m, m, Bias(model.Delta, model.Rho), model.Delta, model.Rho);
    }

    /// <summary>Oracle error (docs/theory.md#e4): the classifier w = v with the optimal bias (Δ/2) ln(ρ/(1 − ρ)); the
    /// α → ∞ limit of <see cref="Error"/>, so it takes Δ and ρ alone.</summary>
    public static double OracleError(double delta, double rho = 0.5) =>
        GeneralizationError.Of(1, 1, Bias(delta, rho), delta, rho);

    /// <summary>
    /// The BO classifier on a training set: w = v̂ = Σ_μ y^μ x^μ/(√N(α + Δ)) and the exact finite-N Bayes bias
    /// ((Δ + c/N)/2) ln(ρ/(1 − ρ)), c = Δ/(Δ + α) (docs/theory.md#e2). α is the realised P/N. The error of this classifier is
    /// <see cref="Error"/> up to O(1/√N) fluctuations.
    /// </summary>
    public static LinearClassifier Fit(MixtureSample sample)
    {
        var spec = sample.Spec;
        double alpha = (double)sample.P / sample.N;
        var w = sample.Hebbian();
        double scale = 1 / (Math.Sqrt(sample.N) * (alpha + spec.Delta));
        for (int i = 0; i < w.Length; i++) w[i] *= scale;
        double c = spec.Delta / (spec.Delta + alpha);
        double b = 0.5 * (spec.Delta + c / sample.N) * Math.Log(spec.Rho / (1 - spec.Rho));
        return new LinearClassifier(w, b);
    }
}
