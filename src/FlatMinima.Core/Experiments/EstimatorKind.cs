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
    /// <summary>Ridge λ (ignored for Bayes-optimal).</summary>
    public double Lambda { get; }
    /// <summary>Solver options for ERM.</summary>
    public ErmOptions Options { get; }
    /// <summary>The weight penalty; null means ridge with <see cref="Lambda"/>. <see cref="SpherePenalty"/> fits
    /// with <see cref="SphericalErm"/>.</summary>
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

    /// <summary>ERM with <paramref name="loss"/> and any shipped penalty: ridge (as <see cref="Erm(IMarginLoss, double, ErmOptions?)"/>)
    /// or the sphere ‖w‖² = NQ.</summary>
    /// <exception cref="ArgumentException">A penalty without a finite-N solver (L1, or a user's penalty).</exception>
    public static EstimatorKind Erm(IMarginLoss loss, IWeightPenalty penalty, ErmOptions? options = null) => penalty switch
    {
        SpherePenalty or L1Penalty when !loss.IsSmooth => throw new ArgumentException(
            $"penalty '{penalty.Name}' needs a smooth loss at finite N (got '{loss.Name}'); use square, logistic or a smooth user loss.", "penalty"),
        RidgePenalty r => Erm(loss, r.Lambda, options),
        SpherePenalty => new(loss.Name, loss, 0, options ?? ErmOptions.Default) { Penalty = penalty },
        L1Penalty l1 => new(loss.Name, loss, l1.Lambda, options ?? ErmOptions.Default) { Penalty = penalty },
        _ => throw new ArgumentException($"no finite-N solver for the penalty '{penalty.Name}'; simulations support ridge, sphere and l1.", "penalty"),
    };

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
        var sol = Penalty is SpherePenalty sp
            ? SphericalErm.Fit(sample, Loss, sp.Norm, Options)
            : Penalty is L1Penalty
            ? LassoErm.Fit(sample, Loss, Lambda, Options)
            : Estimators.Erm.Fit(sample, Loss, Lambda, Options);
        if (!sol.Converged)
            throw new InvalidOperationException(
                $"{Name} ERM did not reach its tolerance on seed {sample.Spec.Seed}: residual {sol.Residual:G3} after {sol.Iterations} iterations.");
        return sol.Classifier;
    }

    /// <summary>Bytes a fit allocates besides the dataset (the solver's Gram matrix or workspace; see
    /// <see cref="Estimators.Erm.WorkspaceBytes"/>), plus the margins of the measurement.</summary>
    public long WorkspaceBytes(MixtureSpec spec) => 8L * spec.P + (Loss is null ? 8L * spec.N
        : Penalty is SpherePenalty ? SphericalErm.WorkspaceBytes(spec.P, spec.N, Loss)
        : Penalty is L1Penalty ? LassoErm.WorkspaceBytes(spec.P, spec.N)
        : Estimators.Erm.WorkspaceBytes(spec.P, spec.N, Loss));

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
