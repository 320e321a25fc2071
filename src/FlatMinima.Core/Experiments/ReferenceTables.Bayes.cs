using FlatMinima.Estimators;
using FlatMinima.Flatness;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using static FlatMinima.Experiments.TableFormat;

namespace FlatMinima.Experiments;

public static partial class ReferenceTables
{
    /// <summary>Sizes and first seeds of the simulation checks of the Bayes-optimal tables: those of the tests that check
    /// them (BayesOptimalTests, LocalEnergyTests) and of the CLI commands docs/theory.md#table-bo and #table-le2 print.</summary>
    internal const int BoSimulationN = 2000, BoSimulationSets = 6, BoSimulationSeed = 100,
        Le2SimulationN = 1000, Le2SimulationSets = 3, Le2SimulationSeed = 0;

    private static IEnumerable<ReferenceTable> BayesOptimalTables() =>
    [
        new("bo-errors", "Bayes-optimal error (E3) on a grid of alpha, Delta, rho, with the oracle error (E4); 5 decimals.", BoErrors),
        new("bo-simulation", $"Bayes-optimal estimator simulated: alpha = 2, Delta = 1, N = {BoSimulationN}, {BoSimulationSets} data sets " +
            $"(seeds {BoSimulationSeed}-{BoSimulationSeed + BoSimulationSets - 1}), exact test error (E1), mean ± s.e.; against (E3) and m = q = alpha/(alpha+Delta).", BoSimulation),
        new("le2-bo", "Training error and local energy (LE2) of the Bayes-optimal estimator, rho = 1/2, with its test error (E3).", Le2Bo),
        new("le2-simulation", $"(LE2) against the exact finite-N local energy (LE1) of the fitted Bayes-optimal estimator: alpha = 2, Delta = 1, " +
            $"N = {Le2SimulationN}, {Le2SimulationSets} data sets (seeds {Le2SimulationSeed}-{Le2SimulationSeed + Le2SimulationSets - 1}), bias not perturbed, mean ± s.e.", Le2Simulation),
    ];

    private static MarkdownTable BoErrors()
    {
        double[] alphas = [0.5, 1, 2, 5, 10, 100];
        var t = new MarkdownTable(["ρ", "Δ", .. alphas.Select(a => $"α = {Short(a)}"), "oracle (E4)"]);
        foreach (double rho in new[] { 0.5, 0.25, 0.1 })
            foreach (double delta in new[] { 0.25, 0.5, 1.0, 2.0 })
                t.Add([Short(rho), Short(delta), .. alphas.Select(a => Fixed(BayesOptimal.Error(new MixtureModel(a, delta, rho)), 5)),
                    Fixed(BayesOptimal.OracleError(delta, rho), 5)]);
        return t;
    }

    private static MarkdownTable BoSimulation()
    {
        var t = new MarkdownTable(["ρ", "theory ε_BO (E3)", "simulated ε_g", "theory m = q", "simulated m", "simulated q"]);
        foreach (double rho in new[] { 0.5, 0.25 })
        {
            var mc = MonteCarlo.Run(new MixtureModel(2, 1, rho).AtSize(BoSimulationN, BoSimulationSeed), BoSimulationSets, EstimatorKind.Bayes);
            t.Add(Short(rho), Fixed(BayesOptimal.Error(mc.Spec.Model), 5), MeanSe(mc.TestError, 5), Fixed(BayesOptimal.Overlap(mc.Spec.Model), 5),
                MeanSe(mc.M, 4), MeanSe(mc.Q, 4));
        }
        return t;
    }

    private static MarkdownTable Le2Bo()
    {
        double[] sigmas = [0, 0.1, 0.3, 1];
        var t = new MarkdownTable(["α", "Δ", "E_0 (training error)", "E_0.1", "E_0.3", "E_1", "ε_BO (test)"]);
        foreach (var model in new MixtureModel[] { new(1, 1), new(2, 1), new(5, 1), new(10, 1), new(2, 0.5) })
            t.Add([Short(model.Alpha), Short(model.Delta), .. LocalEnergy.BayesOptimalTheory(model, sigmas).Select(e => Fixed(e, 5)),
                Fixed(BayesOptimal.Error(model), 5)]);
        return t;
    }

    private static MarkdownTable Le2Simulation()
    {
        double[] sigmas = [0, 0.5, 1, 2];
        var t = new MarkdownTable(["ρ", "σ", "theory E_σ (LE2)", "simulated E_σ (LE1)"]);
        foreach (double rho in new[] { 0.5, 0.25 })
        {
            var model = new MixtureModel(2, 1, rho);
            var mc = MonteCarlo.Run(model.AtSize(Le2SimulationN, Le2SimulationSeed), Le2SimulationSets, s =>
            {
                var bo = BayesOptimal.Fit(s);
                return LocalEnergy.Exact(s, bo.W, bo.B, sigmas);
            });
            var simulated = mc.OfEach(e => e);
            var theory = LocalEnergy.BayesOptimalTheory(model, sigmas);
            for (int i = 0; i < sigmas.Length; i++)
                t.Add(Short(rho), Short(sigmas[i]), Fixed(theory[i], 4), MeanSe(simulated[i], 4));
        }
        return t;
    }
}
