using FlatMinima.Estimators;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;
using static FlatMinima.Experiments.TableFormat;

namespace FlatMinima.Experiments;

public static partial class ReferenceTables
{
    /// <summary>Size and seeds of the finite-N ERM check: those of ErmVersusReplicaTheoryTests and of the
    /// <c>flatminima simulate ... --n 600 --seeds 8 --seed 1000</c> command docs/theory.md#table-erm prints.</summary>
    internal const int ErmSimulationN = 600, ErmSimulationSets = 8, ErmSimulationSeed = 1000;

    private static IEnumerable<ReferenceTable> ErmTables() =>
    [
        new("erm-balanced", "ERM replica fixed points, alpha = 2, Delta = 1, rho = 1/2 (b = 0): test and training error, training loss, m, q, V.", ErmBalanced),
        new("erm-unbalanced", "ERM replica fixed points, alpha = 2, Delta = 1, rho = 1/4: test and training error, training loss, m, q, V, b.", ErmUnbalanced),
        new("erm-simulation", $"ERM fixed points against exact finite-N ERM: alpha = 2, Delta = 1, N = {ErmSimulationN}, {ErmSimulationSets} data sets " +
            $"(seeds {ErmSimulationSeed}-{ErmSimulationSeed + ErmSimulationSets - 1}); each cell theory / mean ± s.e.", ErmSimulation),
        new("erm-optimal-lambda", "The ridge lambda minimising the ERM test error at alpha = 2, Delta = 1, rho = 1/2 and 1/4 on [1e-3, 1e4], " +
            "its gap to the Bayes-optimal error, cosine m/sqrt(q) and bias.", ErmOptimalLambda),
    ];

    private static ErmFixedPoint SolveErm(string loss, double lambda, double rho = 0.5, double alpha = 2, double delta = 1) =>
        ErmSaddlePoint.Solve(new ErmProblem(MarginLosses.Parse(loss), new MixtureModel(alpha, delta, rho), lambda));

    private static readonly (string Loss, double[] Lambdas)[] BalancedRows =
    [
        ("square", [1e-3, 1e-2, 0.1, 1, 10, 100, 1e4]),
        ("logistic", [1e-3, 1e-2, 0.1, 1, 10, 100]),
        ("hinge", [1e-3, 1e-2, 0.1, 1, 10, 100]),
    ];

    private static MarkdownTable ErmBalanced()
    {
        var t = new MarkdownTable(["loss", "λ", "ε_g", "ε_t", "training loss", "m", "q", "V"]);
        foreach (var (loss, lambdas) in BalancedRows)
            foreach (double lambda in lambdas)
            {
                var fp = SolveErm(loss, lambda);
                t.Add(loss, AsTyped(lambda), TheoryValue(fp.TestError), TheoryValue(fp.TrainError), TheoryValue(fp.TrainLoss),
                    TheoryValue(fp.M), TheoryValue(fp.Q), TheoryValue(fp.V));
            }
        return t;
    }

    private static readonly (string Loss, double[] Lambdas)[] UnbalancedRows =
    [
        ("square", [1e-3, 0.1, 1, 10, 1e4]),
        ("logistic", [1e-2, 0.05, 0.1, 0.2, 0.3, 1, 10]),
        ("hinge", [0.1, 0.5, 1]),
    ];

    private static MarkdownTable ErmUnbalanced()
    {
        var t = new MarkdownTable(["loss", "λ", "ε_g", "ε_t", "training loss", "m", "q", "V", "b"]);
        foreach (var (loss, lambdas) in UnbalancedRows)
            foreach (double lambda in lambdas)
            {
                var fp = SolveErm(loss, lambda, rho: 0.25);
                t.Add(loss, AsTyped(lambda), TheoryValue(fp.TestError), TheoryValue(fp.TrainError), TheoryValue(fp.TrainLoss),
                    TheoryValue(fp.M), TheoryValue(fp.Q), TheoryValue(fp.V), TheoryValue(fp.Bias));
            }
        return t;
    }

    private static readonly (string Loss, double Rho, double Lambda)[] SimulationRows =
    [
        ("square", 0.5, 0.1), ("square", 0.5, 1), ("square", 0.25, 0.1), ("square", 0.25, 1),
        ("logistic", 0.5, 0.1), ("logistic", 0.5, 1), ("logistic", 0.25, 0.1), ("logistic", 0.25, 1),
        ("hinge", 0.5, 0.1), ("hinge", 0.5, 1),
    ];

    private static MarkdownTable ErmSimulation()
    {
        var t = new MarkdownTable(["loss", "ρ", "λ", "ε_g", "ε_t", "m", "q", "b"]);
        foreach (var (loss, rho, lambda) in SimulationRows)
        {
            var fp = SolveErm(loss, lambda, rho);
            var mc = MonteCarlo.Run(new MixtureModel(2, 1, rho).AtSize(ErmSimulationN, ErmSimulationSeed), ErmSimulationSets,
                EstimatorKind.Erm(MarginLosses.Parse(loss), lambda));
            static string Cell(double theory, Statistic sim) => $"{Fixed(theory, 4)} / {MeanSe(sim, 4)}";
            t.Add(loss, Short(rho), AsTyped(lambda), Cell(fp.TestError, mc.TestError), Cell(fp.TrainError, mc.TrainError),
                Cell(fp.M, mc.M), Cell(fp.Q, mc.Q), Cell(fp.Bias, mc.Bias));
        }
        return t;
    }

    private static MarkdownTable ErmOptimalLambda()
    {
        var t = new MarkdownTable(["ρ", "loss", "λ*", "ε_g(λ*)", "ε_BO", "gap", "cosine m/√q", "b(λ*)"]);
        foreach (double rho in new[] { 0.5, 0.25 })
            foreach (var loss in new[] { "square", "logistic", "hinge" })
            {
                var opt = LearningCurve.Optimize(MarginLosses.Parse(loss), new MixtureModel(2, 1, rho));
                var fp = opt.FixedPoint;
                t.Add(Short(rho), loss, opt.AtUpperBound ? $"{AsTyped(opt.Lambda)} (upper end: λ* → ∞)" : Fixed(opt.Lambda, 3),
                    Fixed(fp.TestError, 5), Fixed(opt.BayesOptimalError, 5), Fixed(opt.GapToBayesOptimal, 5), Fixed(fp.Cosine, 4), Fixed(fp.Bias, 5));
            }
        return t;
    }
}
