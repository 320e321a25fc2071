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
    /// <summary>Sizes of the finite-N local-energy and max-flatness checks.</summary>
    internal const int LocalEnergySimulationN = 1000, LocalEnergySimulationSets = 3, MaxFlatnessN = 400;

    private static IEnumerable<ReferenceTable> LocalEnergyTables() =>
    [
        new("local-energy", "Training error E_sigma under multiplicative weight noise and local energy dE(sigma) = E_sigma - E_0 across estimators, " +
            "alpha = 2, Delta = 1, rho = 1/2: (LE2) for Bayes-optimal, (LE3) from the ERM fixed points.", LocalEnergyTable),
        new("local-energy-simulation", $"(LE3) against the exact finite-N local energy (LE1) of exact ERM minimisers: alpha = 2, Delta = 1, rho = 1/2, " +
            $"N = {LocalEnergySimulationN}, {LocalEnergySimulationSets} data sets (seeds 0-{LocalEnergySimulationSets - 1}), mean ± s.e. over sets.", LocalEnergySimulation),
        new("max-flatness-simulation", $"Replicated descent (y = 3, defaults) on the smoothed training error E_sigma (LE1): alpha = 2, Delta = 1, rho = 1/2, " +
            $"N = {MaxFlatnessN}, one data set (seed 0), bias 0; the minimiser's E_sigma, cosine with sum_mu y^mu x^mu, test and training error.", MaxFlatnessSimulation),
    ];

    /// <summary>The estimators compared by local energy: label, loss (null = Bayes-optimal), λ.</summary>
    private static readonly (string Label, string? Loss, double Lambda)[] LocalEnergyEstimators =
    [
        ("Bayes-optimal (= any loss, λ → ∞)", null, 0),
        ("logistic λ = 10", "logistic", 10),
        ("logistic λ = 0.1", "logistic", 0.1),
        ("hinge λ = 1", "hinge", 1),
        ("square λ = 1", "square", 1),
        ("square λ = 10⁻³", "square", 1e-3),
        ("logistic λ = 10⁻³ (≈ interpolating)", "logistic", 1e-3),
        ("hinge λ = 10⁻³ (max margin)", "hinge", 1e-3),
    ];

    /// <summary>Test error, E_σ on <paramref name="sigmas"/> and the cosine with the BO direction, N → ∞.</summary>
    private static (double TestError, double[] Energy, double Cosine) LocalEnergyTheory(string? loss, double lambda, double[] sigmas)
    {
        if (loss is null) return (BayesOptimal.Error(2, 1), LocalEnergy.BayesOptimalTheory(2, 1, 0.5, sigmas), 1);
        var fp = SolveErm(loss, lambda);
        return (fp.TestError, LocalEnergy.ErmTheory(fp, sigmas), HebbianOverlap.ErmCosine(fp));
    }

    private static MarkdownTable LocalEnergyTable()
    {
        double[] sigmas = [0, 0.1, 0.3, 0.5, 1];
        var t = new MarkdownTable(["estimator", "ε_g (test)", "E_0", "E_0.1", "E_0.3", "E_0.5", "E_1", "δE(0.5)", "δE(1)"]);
        foreach (var (label, loss, lambda) in LocalEnergyEstimators)
        {
            var (eg, e, _) = LocalEnergyTheory(loss, lambda, sigmas);
            t.Add([label, Fixed(eg, 5), .. e.Select(x => Fixed(x, 5)), Fixed(e[3] - e[0], 4), Fixed(e[4] - e[0], 4)]);
        }
        return t;
    }

    private static MarkdownTable LocalEnergySimulation()
    {
        double[] sigmas = [0, 0.1, 0.3, 1];
        var t = new MarkdownTable(["estimator", .. sigmas.Select(s => $"σ = {Short(s)}: theory / N = {LocalEnergySimulationN} ± s.e.")]);
        foreach (var (loss, lambda) in new[] { ("square", 0.01), ("logistic", 0.01), ("logistic", 1.0) })
        {
            var theory = LocalEnergy.ErmTheory(SolveErm(loss, lambda), sigmas);
            var est = EstimatorKind.Erm(MarginLosses.Parse(loss), lambda);
            var perSet = new double[LocalEnergySimulationSets][];
            Parallel.For(0, LocalEnergySimulationSets, k =>
            {
                var s = MixtureSample.Sample(new MixtureSpec(2, 1, 0.5, LocalEnergySimulationN, k));
                var c = est.Fit(s);
                perSet[k] = LocalEnergy.Exact(s, c.W, c.B, sigmas);
            });
            t.Add([$"{loss} λ = {Lambda(lambda)}", .. sigmas.Select((_, i) =>
                $"{Fixed(theory[i], 4)} / {MeanSe(Statistic.Of(perSet.Select(e => e[i]).ToArray()), 4)}")]);
        }
        return t;
    }

    private static MarkdownTable MaxFlatnessSimulation()
    {
        var sample = MixtureSample.Sample(new MixtureSpec(2, 1, 0.5, MaxFlatnessN, 0));
        var t = new MarkdownTable(["σ", "E_σ of the minimiser", "cos(w, Σ_μ y^μ x^μ)", "ε_g", "ε_t"]);
        foreach (double sigma in new[] { 0.1, 0.3, 1, 3, 10 })
        {
            var fit = MaxFlatness.Fit(sample, new MaxFlatnessOptions(Sigma: sigma));
            double e = LocalEnergy.Exact(sample, fit.Classifier.W, fit.Classifier.B, sigma);
            t.Add(Short(sigma), Fixed(e, 5), Fixed(fit.CosineBo, 4), Fixed(fit.TestError, 5), Fixed(fit.TrainError, 4));
        }
        var bo = BayesOptimal.Fit(sample);
        t.Add("Bayes-optimal estimator, same data", "—", Fixed(1, 4), Fixed(sample.TestError(bo.W, bo.B), 5),
            Fixed(sample.TrainError(bo.W, bo.B), 4));
        return t;
    }
}
