using FlatMinima.Estimators;
using FlatMinima.Flatness;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;

namespace FlatMinima.Experiments;

/// <summary>An estimator compared by local energy: Bayes-optimal (<paramref name="Loss"/> null) or ridge ERM.</summary>
/// <param name="Name">Label, e.g. "logistic λ=0.1".</param>
/// <param name="Loss">Loss name, or null for the Bayes-optimal estimator.</param>
/// <param name="Lambda">Ridge λ (0 for Bayes-optimal).</param>
public sealed record LocalEnergyEstimator(string Name, string? Loss, double Lambda);

/// <summary>
/// The estimators of docs/theory.md#table-local-energy at α = 2, Δ = 1, ρ = ½, their local energy δE(σ) and test error from the
/// theory — (LE2) for Bayes-optimal, (LE3) from the replica fixed point for ERM — and from finite-N simulations, the
/// exact (LE1) of fitted estimators on datasets with exact label counts (at large λ the weights are O(1/λ) and an
/// i.i.d. label imbalance of O(1/√P) would set the bias; the theory has b = 0).
/// </summary>
public static class LocalEnergyComparison
{
    public const double Alpha = 2, Delta = 1, Rho = 0.5;

    /// <summary>The data model (α, Δ, ρ) = (2, 1, ½).</summary>
    public static MixtureModel Model { get; } = new(Alpha, Delta, Rho);

    /// <summary>The estimators, in the order of the table.</summary>
    public static IReadOnlyList<LocalEnergyEstimator> Estimators { get; } =
    [
        new("Bayes-optimal", null, 0),
        new("logistic λ=10", "logistic", 10),
        new("hinge λ=1", "hinge", 1),
        new("square λ=1", "square", 1),
        new("logistic λ=0.1", "logistic", 0.1),
        new("logistic λ=1e-3", "logistic", 1e-3),
        new("square λ=1e-3", "square", 1e-3),
        new("hinge λ=1e-3", "hinge", 1e-3),
    ];

    /// <summary>Theory: the test error and E_σ for each σ, from (LE2) or from the replica fixed point through (LE3).</summary>
    public static (double TestError, double[] Energy) Theory(LocalEnergyEstimator estimator, IReadOnlyList<double> sigmas)
    {
        if (estimator.Loss is null) return (BayesOptimal.Error(Model), LocalEnergy.BayesOptimalTheory(Model, sigmas));
        var fp = ErmSaddlePoint.Solve(new ErmProblem(MarginLosses.Parse(estimator.Loss), Model, estimator.Lambda));
        return (fp.TestError, LocalEnergy.ErmTheory(fp, sigmas));
    }

    /// <summary>Simulation: per dataset the exact test error and δE(σ) = E_σ − E_0 (LE1) of the fitted estimator; their
    /// statistics over <paramref name="seeds"/> datasets of dimension <paramref name="n"/> from <paramref name="seed"/>.</summary>
    public static (Statistic TestError, Statistic[] DeltaE) Simulate(LocalEnergyEstimator estimator, IReadOnlyList<double> sigmas,
        int n, int seeds, long seed = 0, int? threads = null)
    {
        var runs = MonteCarlo.Run(new MixtureSpec(Model, n, seed, ExactLabelCounts: true), seeds, Measure(estimator, sigmas), threads);
        return (runs.Of(r => r.TestError), runs.OfEach(r => r.DeltaE));
    }

    /// <summary>The measurement of <see cref="Simulate"/> on one dataset: the exact test error and δE(σ) = E_σ − E_0 (LE1)
    /// of the estimator fitted to it.</summary>
    public static Func<MixtureSample, (double TestError, double[] DeltaE)> Measure(LocalEnergyEstimator estimator, IReadOnlyList<double> sigmas)
    {
        ArgumentNullException.ThrowIfNull(estimator); ArgumentNullException.ThrowIfNull(sigmas);
        var est = estimator.Loss is null ? EstimatorKind.Bayes : EstimatorKind.Erm(MarginLosses.Parse(estimator.Loss), estimator.Lambda);
        double[] grid = [0, .. sigmas];
        return s =>
        {
            var c = est.Fit(s);
            var e = LocalEnergy.Exact(s, c.W, c.B, grid);
            return (s.TestError(c.W, c.B), e.Skip(1).Select(v => v - e[0]).ToArray());
        };
    }

    /// <summary>
    /// The N → ∞ extrapolation of δE(σ) at each σ of <paramref name="sigmas"/> from the statistics
    /// <paramref name="atN"/> of <see cref="Simulate"/> at N = <paramref name="n"/> on <paramref name="seeds"/> datasets and
    /// new simulations at N/4 on 4S and N/2 on 2S datasets (<see cref="FiniteSizeExtrapolation.LadderBelow"/>, datasets
    /// <see cref="FiniteSizeExtrapolation.DatasetSeed"/>, exact label counts), each fitted with a + b/N and judged at 99 % (Student-t interval, the datasets counted)
    /// against the theory δE(σ) (<see cref="Theory"/>). Why 1/N: E_σ of a fitted estimator is an average over the training
    /// margins of a smooth function of the margin (docs/theory.md#le1), so like every smooth observable of the margin law
    /// (<see cref="FiniteSizeExtrapolation.DefaultForm"/>) its dataset mean has an O(1/N) bias.
    /// </summary>
    public static FiniteSizeRow[] Extrapolate(LocalEnergyEstimator estimator, IReadOnlyList<double> sigmas, int n, int seeds,
        IReadOnlyList<Statistic> atN, long seed = 0, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(atN);
        if (atN.Count != sigmas.Count) throw new ArgumentException($"{atN.Count} statistics for {sigmas.Count} sigmas.", nameof(atN));
        var ladder = FiniteSizeExtrapolation.LadderBelow(n, seeds);
        var runs = ladder.Select(l => FiniteSizeExtrapolation.SimulateAt(new MixtureSpec(Model, ExactLabelCounts: true), l.N, l.Seeds, seed,
            Measure(estimator, sigmas), threads).OfEach(r => r.DeltaE)).ToArray();
        var (_, energy) = Theory(estimator, [0, .. sigmas]);
        int[] sizes = [.. ladder.Select(l => l.N), n];
        return sigmas.Select((_, k) => FiniteSizeExtrapolation.Row("delta_e", sizes, [.. runs.Select(r => r[k]), atN[k]], energy[k + 1] - energy[0],
            FiniteSizeForm.InverseN, countDatasets: true)).ToArray();
    }
}

/// <summary>δE(σ) of one estimator: the theory on a σ grid, the simulation at a few σ and, when made, the N → ∞
/// extrapolation of the simulation at each of them (<see cref="LocalEnergyComparison.Extrapolate"/>).</summary>
public sealed record LocalEnergyCurve(LocalEnergyEstimator Estimator, double TestError, IReadOnlyList<double> Sigmas, IReadOnlyList<double> DeltaE,
    Statistic SimulatedTestError, IReadOnlyList<double> SimulatedSigmas, IReadOnlyList<Statistic> SimulatedDeltaE,
    IReadOnlyList<FiniteSizeRow>? Extrapolations = null);

/// <summary>
/// The local energy δE(σ) = E_σ − E_0 (figure 4a) of the Bayes-optimal estimator and of ERM minimisers: theory on 81 σ in
/// [0, 2], finite-N values at σ = ¼, ½, 1, 3/2 (<see cref="LocalEnergyComparison"/>) and their N → ∞ extrapolations
/// (<see cref="LocalEnergyComparison.Extrapolate"/>).
/// </summary>
public sealed record LocalEnergyCurves(IReadOnlyList<LocalEnergyCurve> Curves, int N, int Seeds)
{
    /// <summary>The estimators shown (indices into <see cref="LocalEnergyComparison.Estimators"/>).</summary>
    public static IReadOnlyList<int> Shown { get; } = [0, 2, 4, 5, 7];
    /// <summary>The σ of the simulations.</summary>
    public static IReadOnlyList<double> SimulatedSigmas { get; } = [0.25, 0.5, 1, 1.5];

    public static LocalEnergyCurves Compute(int n = 1000, int seeds = 4, long seed = 0, int? threads = null, Action<double>? progress = null)
    {
        var sigmas = Enumerable.Range(0, 81).Select(i => 2.0 * i / 80).ToArray();
        var curves = new List<LocalEnergyCurve>();
        foreach (int i in Shown)
        {
            var est = LocalEnergyComparison.Estimators[i];
            var (eg, energy) = LocalEnergyComparison.Theory(est, sigmas);
            var (sEg, sDe) = LocalEnergyComparison.Simulate(est, SimulatedSigmas, n, seeds, seed, threads);
            var ext = LocalEnergyComparison.Extrapolate(est, SimulatedSigmas, n, seeds, sDe, seed, threads);
            curves.Add(new(est, eg, sigmas, energy.Select(e => e - energy[0]).ToArray(), sEg, SimulatedSigmas, sDe, ext));
            progress?.Invoke(curves.Count / (double)Shown.Count);
        }
        return new(curves, n, seeds);
    }

    /// <summary>The extrapolations made, with their estimator and σ.</summary>
    public IEnumerable<(LocalEnergyEstimator Estimator, double Sigma, FiniteSizeRow Row)> Extrapolated =>
        Curves.Where(c => c.Extrapolations is not null).SelectMany(c => c.Extrapolations!.Select((r, k) => (c.Estimator, c.SimulatedSigmas[k], r)));

    /// <summary>One warning per extrapolation whose verdict is not "agree".</summary>
    public IReadOnlyList<string> Warnings => Extrapolated.Where(e => e.Row.Verdict != FiniteSizeVerdict.Agree)
        .Select(e => $"extrapolation {e.Estimator.Name} at sigma = {e.Sigma:G}: {e.Row.Verdict} (N -> infinity {e.Row.Fit.Intercept:G4} ± {e.Row.HalfWidth:G3}, theory {e.Row.Theory:G4})")
        .ToArray();

    /// <summary>The table: columns sigma, delta_e, delta_e_se, test_error, test_error_se; per estimator its theory rows,
    /// then its simulation rows; then for every estimator the smaller sizes of its extrapolation ladder (series
    /// "finite-size NAME n=… seeds=…", not drawn; the test error columns empty) and its extrapolations (series
    /// "extrapolation NAME from n=N1/N2/N3": δE at N → ∞, the interval half-width in delta_e_se, the verdict and the fit
    /// in the note).</summary>
    public SeriesTable ToTable()
    {
        var t = new SeriesTable("sigma", "delta_e", "delta_e_se", "test_error", "test_error_se");
        foreach (var c in Curves)
        {
            for (int k = 0; k < c.Sigmas.Count; k++) t.Add($"theory {c.Estimator.Name}", [c.Sigmas[k], c.DeltaE[k], double.NaN, c.TestError, double.NaN]);
            for (int k = 0; k < c.SimulatedSigmas.Count; k++)
                t.Add($"simulation {c.Estimator.Name} n={N} seeds={Seeds}",
                    [c.SimulatedSigmas[k], c.SimulatedDeltaE[k].Mean, c.SimulatedDeltaE[k].StdError, c.SimulatedTestError.Mean, c.SimulatedTestError.StdError]);
        }
        foreach (var c in Curves.Where(c => c.Extrapolations is { Count: > 0 }))
        {
            var rows = c.Extrapolations!;
            for (int s = 0; s < rows[0].Sizes.Count - 1; s++)
                for (int k = 0; k < rows.Count; k++)
                    t.Add($"finite-size {c.Estimator.Name} n={rows[k].Sizes[s]} seeds={rows[k].Values[s].Count}",
                        [c.SimulatedSigmas[k], rows[k].Values[s].Mean, rows[k].Values[s].StdError, double.NaN, double.NaN],
                        "not drawn: a smaller size of the extrapolation");
            for (int k = 0; k < rows.Count; k++)
                t.Add($"extrapolation {c.Estimator.Name} from n={string.Join('/', rows[k].Sizes)}",
                    [c.SimulatedSigmas[k], rows[k].Fit.Intercept, rows[k].HalfWidth, double.NaN, double.NaN], rows[k].Note);
        }
        return t;
    }
}

/// <summary>One estimator's test error against its local energy at σ = 1, theory and simulation.</summary>
public sealed record FlatnessAndError(LocalEnergyEstimator Estimator, double DeltaE, double TestError, Statistic SimulatedDeltaE, Statistic SimulatedTestError);

/// <summary>
/// Test error against local energy δE(σ = 1) across every estimator of <see cref="LocalEnergyComparison"/> (figure 4b),
/// theory and simulation, with the Spearman rank correlation of the theory points.
/// </summary>
public sealed record FlatnessVersusError(IReadOnlyList<FlatnessAndError> Points, double SpearmanTheory, int N, int Seeds)
{
    public const double Sigma = 1;

    public static FlatnessVersusError Compute(int n = 1000, int seeds = 4, long seed = 0, int? threads = null, Action<double>? progress = null)
    {
        var all = LocalEnergyComparison.Estimators;
        var points = new List<FlatnessAndError>();
        foreach (var est in all)
        {
            var (eg, energy) = LocalEnergyComparison.Theory(est, [0, Sigma]);
            var (sEg, sDe) = LocalEnergyComparison.Simulate(est, [Sigma], n, seeds, seed, threads);
            points.Add(new(est, energy[1] - energy[0], eg, sDe[0], sEg));
            progress?.Invoke(points.Count / (double)all.Count);
        }
        double rho = MathNet.Numerics.Statistics.Correlation.Spearman(points.Select(p => p.DeltaE), points.Select(p => p.TestError));
        return new(points, rho, n, seeds);
    }

    /// <summary>The table: columns delta_e, delta_e_se, test_error, test_error_se; theory and simulation per estimator,
    /// then the Spearman correlation of the theory points.</summary>
    public SeriesTable ToTable()
    {
        var t = new SeriesTable("delta_e", "delta_e_se", "test_error", "test_error_se");
        foreach (var p in Points)
        {
            t.Add($"theory {p.Estimator.Name}", [p.DeltaE, double.NaN, p.TestError, double.NaN]);
            t.Add($"simulation {p.Estimator.Name} n={N} seeds={Seeds}", [p.SimulatedDeltaE.Mean, p.SimulatedDeltaE.StdError, p.SimulatedTestError.Mean, p.SimulatedTestError.StdError]);
        }
        t.Add("spearman theory", [SpearmanTheory, double.NaN, double.NaN, double.NaN]);
        return t;
    }
}
