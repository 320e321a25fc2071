using FlatMinima.Estimators;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Penalties;

namespace FlatMinima.Experiments;

/// <summary>
/// The estimators a simulation can fit: "bayes" (docs/theory.md#e2) or ERM with one of the shipped losses at ridge λ.
/// </summary>
public sealed record EstimatorKind
{
    /// <summary>Names accepted by <see cref="Parse"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["bayes", .. MarginLosses.Names];

    /// <summary>"bayes" or the loss name.</summary>
    public string Name { get; }
    /// <summary>The ERM loss; null for Bayes-optimal.</summary>
    public IMarginLoss? Loss { get; }
    /// <summary>Ridge λ ≥ 0, or the strength of <see cref="Penalty"/> (0 for a constraint; ignored for Bayes-optimal).</summary>
    public double Lambda { get; }
    /// <summary>Solver options for ERM.</summary>
    public ErmOptions Options { get; }
    /// <summary>The weight penalty; null means ridge with <see cref="Lambda"/> ≥ 0 (λ = 0 allowed at finite N). Any other
    /// penalty fits with the solver it selects (<see cref="Estimators.Erm.Fit(MixtureSample, IMarginLoss, IWeightPenalty, ErmOptions?)"/>).</summary>
    public IWeightPenalty? Penalty { get; private init; }

    private EstimatorKind(string name, IMarginLoss? loss, double lambda, ErmOptions options)
    {
        Name = name; Loss = loss; Lambda = lambda; Options = options;
    }

    /// <summary>The Bayes-optimal estimator.</summary>
    public static EstimatorKind Bayes { get; } = new("bayes", null, 0, ErmOptions.Default);

    /// <summary>ERM with <paramref name="loss"/> and ridge λ ≥ 0.</summary>
    public static EstimatorKind Erm(IMarginLoss loss, double lambda, ErmOptions? options = null) =>
        options is { FitBias: false } && !loss.IsSmooth
            ? throw new ArgumentException($"fixing the bias at 0 needs a smooth loss (got '{loss.Name}').", "no-bias")
            : new(loss.Name, loss, Guard.NonNegative(lambda, "lambda"), options ?? ErmOptions.Default);

    /// <summary>ERM with <paramref name="loss"/> and any penalty: ridge (as <see cref="Erm(IMarginLoss, double, ErmOptions?)"/>),
    /// the sphere ‖w‖² = NQ, L1 or a user's separable penalty.</summary>
    /// <exception cref="ArgumentException">A penalty other than the ridge with a loss that is not smooth.</exception>
    public static EstimatorKind Erm(IMarginLoss loss, IWeightPenalty penalty, ErmOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return (penalty ?? throw new ArgumentNullException(nameof(penalty))).SelectAlgorithm(new Choice(loss, penalty, options));
    }

    // The estimator for the solver family the penalty selects; only the ridge solvers handle a loss with kinks.
    private sealed class Choice(IMarginLoss loss, IWeightPenalty penalty, ErmOptions? options) : IPenaltyAlgorithms<EstimatorKind>
    {
        public EstimatorKind Ridge(double lambda) => Erm(loss, lambda, options);
        public EstimatorKind Sphere(double norm) => With(0);
        public EstimatorKind Proximal(IWeightPenalty separable) => With(separable.Strength ?? 0);

        private EstimatorKind With(double lambda) => loss.IsSmooth
            ? new(loss.Name, loss, lambda, options ?? ErmOptions.Default) { Penalty = penalty }
            : throw new ArgumentException(
                $"penalty '{penalty.Name}' needs a smooth loss at finite N (got '{loss.Name}'); use square, logistic or a smooth user loss.", "penalty");
    }

    /// <summary>ERM with a penalty named as on the command line, under the rule of <see cref="WeightPenalties.CheckParameters"/>:
    /// the ridge with λ ≥ 0 (λ = 0 is unpenalised ERM, meaningful at finite N), l1 with λ &gt; 0, the sphere with the norm Q.</summary>
    public static EstimatorKind Erm(IMarginLoss loss, string penalty, double? lambda, double? norm, ErmOptions? options = null) =>
        WeightPenalties.CheckParameters(penalty, lambda is not null, norm is not null) == "ridge"
            ? Erm(loss, lambda!.Value, options)
            : Erm(loss, WeightPenalties.FromParameters(penalty, lambda, norm), options);

    /// <summary>Parses "bayes" or a loss name.</summary>
    /// <exception cref="ArgumentException">Unknown estimator; the message lists the valid names.</exception>
    public static EstimatorKind Parse(string name, double lambda, ErmOptions? options = null)
    {
        string n = name.Trim().ToLowerInvariant();
        if (n == "bayes") return Bayes;
        if (!MarginLosses.Names.Contains(n))
            throw new ArgumentException($"estimator must be one of {string.Join(", ", Names)} (got '{name}').", "estimator");
        return Erm(MarginLosses.Parse(n), lambda, options);
    }

    /// <summary>Fits the estimator on a sample.</summary>
    public LinearClassifier Fit(MixtureSample sample)
    {
        if (Loss is null) return BayesOptimal.Fit(sample);
        var sol = Penalty is null
            ? Estimators.Erm.Fit(sample, Loss, Lambda, Options)
            : Estimators.Erm.Fit(sample, Loss, Penalty, Options);
        if (!sol.Converged)
            throw new InvalidOperationException(
                $"{Name} ERM did not reach its tolerance on seed {sample.Spec.Seed}: residual {sol.Residual:G3} after {sol.Iterations} iterations.");
        return sol.Classifier;
    }

    /// <summary>Bytes a fit allocates besides the dataset (the solver's Gram matrix or workspace; see
    /// <see cref="Estimators.Erm.WorkspaceBytes(int, int, IMarginLoss, Penalties.IWeightPenalty)"/>), plus the margins of the measurement.</summary>
    public long WorkspaceBytes(MixtureSpec spec) => 8L * spec.P + (Loss is null ? 8L * spec.N
        : Penalty is null ? Estimators.Erm.WorkspaceBytes(spec.P, spec.N, Loss)
        : Estimators.Erm.WorkspaceBytes(spec.P, spec.N, Loss, Penalty));

    /// <summary>Fits and measures the estimator on a sample.</summary>
    public Observables Measure(MixtureSample sample)
    {
        var c = Fit(sample);
        var o = sample.OverlapsOf(c.W);
        var u = sample.Margins(c.W, c.B);
        double loss = double.NaN;
        if (Loss is not null)
        {
            double s = 0;
            foreach (var ui in u) s += Loss.Value(ui);
            loss = s / u.Length;
        }
        return new Observables(
            GeneralizationError.Of(o.M, o.Q, c.B, sample.Spec.Delta, sample.Spec.Rho),
            MixtureSample.TrainErrorOfMargins(u), loss, o.M, o.Q, c.B);
    }
}
