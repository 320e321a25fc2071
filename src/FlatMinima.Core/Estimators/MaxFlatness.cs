using FlatMinima.Flatness;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Estimators;

/// <summary>Which max-flatness algorithm.</summary>
public enum MaxFlatnessMethod
{
    /// <summary><see cref="ReplicatedDescent"/> (robust ensemble, rSGD).</summary>
    Replicated,
    /// <summary><see cref="EntropicDescent"/> (Entropy-SGD).</summary>
    Entropic,
}

/// <summary>How the bias of a max-flatness estimator is set.</summary>
public enum BiasPolicy
{
    /// <summary>Descended together with w (docs/theory.md#max-flatness: for ρ ≠ ½ the first order drives the classifier to the majority class at large σ).</summary>
    Learned,
    /// <summary>b = 0 throughout.</summary>
    Zero,
    /// <summary>b = 0 during the descent, then b = κ b_BO with b_BO = (Δ/2) ln(ρ/(1−ρ)) (E2) and κ = w·v̂/‖v̂‖² the scale of w
    /// along the data's BO vector v̂ = Σ_μ y^μ x^μ/(√N(α+Δ)): the Bayes bias of the direction, computable from the training
    /// set and the model's (Δ, ρ) — the same knowledge <see cref="BayesOptimal.Fit"/> uses. [default]</summary>
    BayesRule,
}

/// <summary>Options of <see cref="MaxFlatness.Fit"/>. Defaults in brackets.</summary>
/// <param name="Method">Replicated [default] or entropic.</param>
/// <param name="Loss">null [default]: the norm-independent classifier objective E_σ (<see cref="SmoothedErrorObjective"/>);
/// otherwise the noise-smoothed loss (<see cref="SmoothedLossObjective"/>, square or logistic).</param>
/// <param name="Sigma">Flatness scale σ &gt; 0 (multiplicative noise) [1].</param>
/// <param name="Lambda">Ridge λ ≥ 0 for the loss objective [0].</param>
/// <param name="Bias">Bias policy [BayesRule].</param>
/// <param name="Replicated">Options of the replicated descent [defaults].</param>
/// <param name="Entropic">Options of the entropic descent [defaults].</param>
public sealed record MaxFlatnessOptions(MaxFlatnessMethod Method = MaxFlatnessMethod.Replicated, IMarginLoss? Loss = null,
    double Sigma = 1, double Lambda = 0, BiasPolicy Bias = BiasPolicy.BayesRule, ReplicatedOptions? Replicated = null, EntropicOptions? Entropic = null)
{
    public double Sigma { get; init; } = Guard.Positive(Sigma, "sigma");
    public double Lambda { get; init; } = Guard.NonNegative(Lambda, "lambda");
    public ReplicatedOptions Replicated { get; init; } = Replicated ?? new ReplicatedOptions();
    public EntropicOptions Entropic { get; init; } = Entropic ?? new EntropicOptions();
}

/// <summary>A max-flatness estimator with the observables that test the claim "maximally flat = Bayes-optimal".</summary>
/// <param name="Run">The descent's result (centre, history).</param>
/// <param name="Classifier">The estimator after the bias policy.</param>
/// <param name="TestError">Exact ε_g (E1).</param>
/// <param name="TrainError">Training error.</param>
/// <param name="CosineBo">Cosine between w and the BO direction Σ_μ y^μ x^μ of the same training set.</param>
/// <param name="BoTestError">ε_g of <see cref="BayesOptimal.Fit"/> on the same training set.</param>
/// <param name="M">m = w·v/N of the normalised estimator (‖w‖² = N).</param>
/// <param name="BiasNormalised">b of the normalised estimator (‖w‖² = N).</param>
/// <param name="OracleBiasTestError">ε_g with the bias replaced by the best bias for the direction's (m, q),
/// b = (Δq/(2m)) ln(ρ/(1−ρ)) (uses v: a diagnostic, not an estimator).</param>
public sealed record MaxFlatnessFit(MaxFlatnessResult Run, LinearClassifier Classifier, double TestError, double TrainError,
    double CosineBo, double BoTestError, double M, double BiasNormalised, double OracleBiasTestError);

/// <summary>
/// Maximum-flatness estimators for the linear GM classifier (docs/theory.md#max-flatness): replicated or entropic
/// descent on the noise-smoothed error-counting objective (norm independent) or on the noise-smoothed loss.
/// </summary>
public static class MaxFlatness
{
    /// <summary>Builds the objective of <paramref name="options"/> on <paramref name="sample"/>.</summary>
    public static IFlatnessObjective Objective(MixtureSample sample, MaxFlatnessOptions options) =>
        options.Loss is null ? new SmoothedErrorObjective(sample, options.Sigma)
                             : new SmoothedLossObjective(sample, options.Loss, options.Sigma, options.Lambda);

    /// <summary>Fits a max-flatness estimator and measures it.</summary>
    public static MaxFlatnessFit Fit(MixtureSample sample, MaxFlatnessOptions? options = null, Action<FlatnessStep>? observe = null)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var o = options ?? new MaxFlatnessOptions();
        bool learn = o.Bias == BiasPolicy.Learned;
        var obj = Objective(sample, o);
        var run = o.Method == MaxFlatnessMethod.Replicated
            ? ReplicatedDescent.Run(obj, o.Replicated with { LearnBias = learn }, observe)
            : EntropicDescent.Run(obj, o.Entropic with { LearnBias = learn }, observe);
        var w = (double[])run.Classifier.W.Clone();
        double b = o.Bias switch { BiasPolicy.Learned => run.Classifier.B, _ => 0 };
        var hebb = sample.Hebbian();
        if (o.Bias == BiasPolicy.BayesRule)
        {
            double alpha = (double)sample.P / sample.N, delta = sample.Spec.Delta;
            double scale = 1 / (Math.Sqrt(sample.N) * (alpha + delta)); // v̂ = scale · s
            double kappa = Kernels.Dot(w, hebb) / (scale * Kernels.Norm2(hebb));
            b = kappa * 0.5 * delta * Math.Log(sample.Spec.Rho / (1 - sample.Spec.Rho));
        }
        var cls = new LinearClassifier(w, b);
        double nw = Math.Sqrt(Kernels.Norm2(w) / sample.N);
        var ov = sample.OverlapsOf(w);
        double cos = Kernels.Dot(w, hebb) / Math.Sqrt(Kernels.Norm2(w) * Kernels.Norm2(hebb));
        var bo = BayesOptimal.Fit(sample);
        double rho = sample.Spec.Rho, dlt = sample.Spec.Delta;
        double bOracle = ov.M > 0 ? dlt * ov.Q / (2 * ov.M) * Math.Log(rho / (1 - rho)) : 0;
        return new MaxFlatnessFit(run, cls, sample.TestError(w, b), sample.TrainError(w, b), cos, sample.TestError(bo.W, bo.B),
            nw > 0 ? ov.M / nw : 0, nw > 0 ? b / nw : b, GeneralizationError.Of(ov.M, ov.Q, bOracle, dlt, rho));
    }
}
