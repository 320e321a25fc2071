using FlatMinima.Estimators;
using FlatMinima.Flatness;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;
using static FlatMinima.Experiments.TableFormat;

namespace FlatMinima.Experiments;

public static partial class ReferenceTables
{
    /// <summary>Sizes and first seeds of the finite-N local-energy and max-flatness checks: those of the CLI commands
    /// docs/theory.md#table-local-energy prints (and of LocalEnergyTests for the local energy).</summary>
    internal const int LocalEnergySimulationN = 800, LocalEnergySimulationSets = 2, LocalEnergySimulationSeed = 20,
        MaxFlatnessN = 500, MaxFlatnessSets = 3;

    private static IEnumerable<ReferenceTable> LocalEnergyTables() =>
    [
        new("local-energy", "Training error E_sigma under multiplicative weight noise and local energy dE(sigma) = E_sigma - E_0 across estimators, " +
            "alpha = 2, Delta = 1, rho = 1/2: (LE2) for Bayes-optimal, (LE3) from the ERM fixed points; test error and cosine with the BO direction.", LocalEnergyTable),
        new("local-energy-simulation", $"(LE3) against the exact finite-N local energy (LE1) of exact ERM minimisers: alpha = 2, Delta = 1, rho = 1/2, " +
            $"N = {LocalEnergySimulationN}, {LocalEnergySimulationSets} data sets (seeds {LocalEnergySimulationSeed}-{LocalEnergySimulationSeed + LocalEnergySimulationSets - 1}); " +
            "each cell theory / mean ± s.e. over sets.", LocalEnergySimulation),
        new("max-flatness-simulation", $"Replicated descent (defaults: y = 3, 600 steps, exponential coupling up to 10) on the smoothed training error E_sigma (LE1), " +
            $"bias by the Bayes rule: alpha = 2, Delta = 1, rho = 1/2, N = {MaxFlatnessN}, {MaxFlatnessSets} data sets (seeds 0-{MaxFlatnessSets - 1}); " +
            "cosine with sum_mu y^mu x^mu, test and training error, the BO estimator's test error on the same data; mean ± s.e.", MaxFlatnessSimulation),
    ];

    /// <summary>The estimators compared by local energy: label, loss (null = Bayes-optimal), λ.</summary>
    private static readonly (string Label, string? Loss, double Lambda)[] LocalEnergyEstimators =
    [
        ("BO (E2)", null, 0),
        ("logistic λ = 10", "logistic", 10),
        ("logistic λ = 0.1", "logistic", 0.1),
        ("hinge λ = 1", "hinge", 1),
        ("square λ = 1", "square", 1),
        ("square λ = 1e-3", "square", 1e-3),
        ("logistic λ = 1e-3", "logistic", 1e-3),
        ("hinge λ = 1e-3 (max margin)", "hinge", 1e-3),
    ];

    /// <summary>Test error, E_σ on <paramref name="sigmas"/> and the cosine with the BO direction, N → ∞.</summary>
    private static (double TestError, double[] Energy, double Cosine) LocalEnergyTheory(string? loss, double lambda, double[] sigmas)
    {
        if (loss is null) return (BayesOptimal.Error(new MixtureModel(2, 1)), LocalEnergy.BayesOptimalTheory(new MixtureModel(2, 1), sigmas), 1);
        var fp = SolveErm(loss, lambda);
        return (fp.TestError, LocalEnergy.ErmTheory(fp, sigmas), HebbianOverlap.ErmCosine(fp));
    }

    private static MarkdownTable LocalEnergyTable()
    {
        double[] sigmas = [0, 0.1, 0.3, 0.5, 1];
        var t = new MarkdownTable(["estimator", "ε_g (test)", "cos with BO", "E_0", "E_0.1", "E_0.3", "E_0.5", "E_1.0", "δE(0.5)", "δE(1.0)"]);
        foreach (var (label, loss, lambda) in LocalEnergyEstimators)
        {
            var (eg, e, cos) = LocalEnergyTheory(loss, lambda, sigmas);
            t.Add([label, Fixed(eg, 5), Fixed(cos, 4), .. e.Select(x => Fixed(x, 5)), Fixed(e[3] - e[0], 4), Fixed(e[4] - e[0], 4)]);
        }
        return t;
    }

    private static MarkdownTable LocalEnergySimulation()
    {
        double[] sigmas = [0, 0.1, 0.3, 1];
        var t = new MarkdownTable(["estimator", .. sigmas.Select(s => $"σ = {Short(s)}")]);
        foreach (var (loss, lambda) in new[] { ("square", 0.01), ("logistic", 0.01), ("logistic", 1.0) })
        {
            var theory = LocalEnergy.ErmTheory(SolveErm(loss, lambda), sigmas);
            var est = EstimatorKind.Erm(MarginLosses.Parse(loss), lambda);
            var simulated = MonteCarlo.Run(new MixtureModel(2, 1).AtSize(LocalEnergySimulationN, LocalEnergySimulationSeed), LocalEnergySimulationSets, s =>
            {
                var c = est.Fit(s);
                return LocalEnergy.Exact(s, c.W, c.B, sigmas);
            }).OfEach(e => e);
            t.Add([$"{loss} λ = {Short(lambda)}", .. sigmas.Select((_, i) => $"{Fixed(theory[i], 4)} / {MeanSe(simulated[i], 4)}")]);
        }
        return t;
    }

    private static MarkdownTable MaxFlatnessSimulation()
    {
        double[] sigmas = [0.1, 0.3, 1, 3, 10, 30];
        // One fit per (σ, data set), as flatminima maxflat runs them; each is deterministic whatever runs beside it.
        var fits = MonteCarlo.Run(new MixtureModel(2, 1).AtSize(MaxFlatnessN), MaxFlatnessSets, sigmas,
            (sample, sigma) => MaxFlatness.Fit(sample, new MaxFlatnessOptions(Sigma: sigma)));
        Statistic Over(int i, Func<MaxFlatnessFit, double> f) => fits[i].Of(f);
        var t = new MarkdownTable(["σ", "cosine with Σ y x", "ε_g", "ε_t", "ε_g of the BO estimator, same data"]);
        for (int i = 0; i < sigmas.Length; i++)
            t.Add(Short(sigmas[i]), MeanSe(Over(i, f => f.CosineBo), 4), MeanSe(Over(i, f => f.TestError), 4),
                Fixed(Over(i, f => f.TrainError).Mean, 3), MeanSe(Over(i, f => f.BoTestError), 4));
        return t;
    }
}
