using FlatMinima.Estimators;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Replica;
using static FlatMinima.Experiments.TableFormat;

namespace FlatMinima.Experiments;

public static partial class ReferenceTables
{
    /// <summary>Sizes of the finite-N separability check.</summary>
    internal static readonly int[] SeparabilityN = [200, 400];
    internal const int SeparabilitySets = 12;
    internal static readonly double[] SeparabilityAlphas = [3.2, 3.5, 3.9, 4.2];

    private static IEnumerable<ReferenceTable> ThresholdTables() =>
    [
        new("threshold", "Linear separability threshold alpha_c(Delta, rho) without and with bias, with the maximiser: m* at rho = 1/2 without bias, " +
            "m* and b* at rho = 1/4 with bias.", Threshold),
        new("threshold-separability", $"Fraction of separable training sets (Delta = 1, rho = 1/2, no bias; {SeparabilitySets} data sets per cell, seeds 0-{SeparabilitySets - 1}): " +
            "a set counts as separable when an L-BFGS iterate of unregularised logistic regression classifies it perfectly, as " +
            "non-separable when the iteration converges to a finite minimiser.", ThresholdSeparability),
    ];

    private static MarkdownTable Threshold()
    {
        var t = new MarkdownTable(["Δ", "ρ = ½, no bias", "m*", "ρ = ½, with bias", "ρ = ¼, with bias", "m*", "b*"]);
        foreach (double delta in new[] { 0.25, 0.5, 1.0, 2.0 })
        {
            var noBias = SeparabilityThreshold.Solve(delta, 0.5, withBias: false);
            var quarter = SeparabilityThreshold.Solve(delta, 0.25, withBias: true);
            t.Add(Short(delta), Significant(noBias.AlphaC, 6), Fixed(noBias.M, 4), Significant(SeparabilityThreshold.Of(delta, 0.5, true), 6),
                Significant(quarter.AlphaC, 6), Fixed(quarter.M, 4), Fixed(quarter.Bias, 4));
        }
        return t;
    }

    /// <summary>Whether a training set is linearly separable through the origin: true when logistic regression at
    /// λ = 0 without bias finds an iterate with every margin positive (a certificate), false when it converges to a
    /// finite minimiser (which exists only for non-separable data), null when it does neither.</summary>
    internal static bool? SeparableThroughOrigin(MixtureSample sample)
    {
        try
        {
            var sol = Erm.Fit(sample, LogisticLoss.Instance, 0, new ErmOptions(FitBias: false));
            return sol.Converged ? false : null;
        }
        catch (NoMinimizerException) { return true; }
    }

    private static MarkdownTable ThresholdSeparability()
    {
        var t = new MarkdownTable(["N", .. SeparabilityAlphas.Select(a => $"α = {Short(a)}")]);
        foreach (int n in SeparabilityN)
        {
            var cells = new List<string> { n.ToString() };
            foreach (double alpha in SeparabilityAlphas)
            {
                var verdicts = MonteCarlo.Run(new MixtureModel(alpha, 1).AtSize(n), SeparabilitySets, SeparableThroughOrigin).PerSeed;
                int undecided = verdicts.Count(v => v is null);
                cells.Add(Fixed(verdicts.Count(v => v == true) / (double)SeparabilitySets, 2) + (undecided > 0 ? $" ({undecided} undecided)" : ""));
            }
            t.Add([.. cells]);
        }
        return t;
    }
}
