using FlatMinima.Estimators;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Replica;
using static FlatMinima.Experiments.TableFormat;

namespace FlatMinima.Experiments;

public static partial class ReferenceTables
{
    /// <summary>Sizes of the finite-N ERM check.</summary>
    internal const int ErmSimulationN = 600, ErmSimulationSets = 3;

    private static IEnumerable<ReferenceTable> ErmTables() =>
    [
        new("erm-balanced", "ERM replica fixed points, alpha = 2, Delta = 1, rho = 1/2 (b = 0): test and training error, training loss, m, q, V.", ErmBalanced),
        new("erm-unbalanced", "ERM replica fixed points, alpha = 2, Delta = 1, rho = 1/4: test and training error, m, q, b.", ErmUnbalanced),
        new("erm-simulation", $"ERM fixed points against exact finite-N ERM: alpha = 2, Delta = 1, N = {ErmSimulationN}, {ErmSimulationSets} data sets " +
            $"(seeds 0-{ErmSimulationSets - 1}), mean and its s.e.", ErmSimulation),
        new("erm-optimal-lambda", "The ridge lambda minimising the ERM test error at alpha = 2, Delta = 1, rho = 1/4, and its gap to the Bayes-optimal error.", ErmOptimalLambda),
    ];

    private static ErmFixedPoint SolveErm(string loss, double lambda, double rho = 0.5, double alpha = 2, double delta = 1) =>
        ErmSaddlePoint.Solve(new ErmProblem(MarginLosses.Parse(loss), alpha, delta, lambda, rho));

    private static readonly (string Loss, double[] Lambdas)[] BalancedRows =
    [
        ("square", [1e-3, 1e-2, 0.1, 1, 10, 100, 1e4]),
        ("logistic", [1e-3, 1e-2, 0.1, 1, 10, 100]),
        ("hinge", [1e-3, 1e-2, 0.1, 1, 10, 100]),
    ];

    private static MarkdownTable ErmBalanced()
    {
        var t = new MarkdownTable(["loss", "λ", "ε_g", "ε_t", "train loss", "m", "q", "V"]);
        foreach (var (loss, lambdas) in BalancedRows)
            foreach (double lambda in lambdas)
            {
                var fp = SolveErm(loss, lambda);
                t.Add(loss, Lambda(lambda), Fixed(fp.TestError, 5), Fixed(fp.TrainError, 5), Fixed(fp.TrainLoss, 5),
                    Significant(fp.M, 6), Significant(fp.Q, 6), Significant(fp.V, 6));
            }
        return t;
    }

    private static readonly (string Loss, double[] Lambdas)[] UnbalancedRows =
    [
        ("square", [1e-3, 0.1, 1, 10, 1e4]),
        ("logistic", [1e-2, 0.05, 0.1, 0.2, 0.3, 1, 10]),
        ("hinge", [1e-2, 0.1, 1, 10]),
    ];

    private static MarkdownTable ErmUnbalanced()
    {
        var t = new MarkdownTable(["loss", "λ", "ε_g", "ε_t", "m", "q", "b"]);
        foreach (var (loss, lambdas) in UnbalancedRows)
            foreach (double lambda in lambdas)
            {
                var fp = SolveErm(loss, lambda, rho: 0.25);
                t.Add(loss, Lambda(lambda), Fixed(fp.TestError, 5), Fixed(fp.TrainError, 5),
                    Significant(fp.M, 6), Significant(fp.Q, 6), Significant(fp.Bias, 6));
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
        var t = new MarkdownTable(["loss", "ρ", "λ", "theory ε_g / m / q / b / ε_t", $"simulation (N = {ErmSimulationN}) ε_g / m / q / b / ε_t",
            "s.e. of the simulation"]);
        foreach (var (loss, rho, lambda) in SimulationRows)
        {
            var fp = SolveErm(loss, lambda, rho);
            var mc = MonteCarlo.Run(new MixtureSpec(2, 1, rho, ErmSimulationN), ErmSimulationSets,
                EstimatorKind.Erm(MarginLosses.Parse(loss), lambda));
            Statistic[] sim = [mc.TestError, mc.M, mc.Q, mc.Bias, mc.TrainError];
            t.Add(loss, Short(rho), Lambda(lambda),
                string.Join(" / ", new[] { fp.TestError, fp.M, fp.Q, fp.Bias, fp.TrainError }.Select(x => Fixed(x, 4))),
                string.Join(" / ", sim.Select(s => Fixed(s.Mean, 4))),
                string.Join(" / ", sim.Select(s => Fixed(s.StdError, 4))));
        }
        return t;
    }

    private static MarkdownTable ErmOptimalLambda()
    {
        double bo = BayesOptimal.Error(2, 1, 0.25);
        var t = new MarkdownTable(["loss", "λ*", "log₁₀ λ*", "ε_g(λ*)", "ε_g(λ*) − ε_BO"]);
        foreach (var loss in new[] { "square", "logistic", "hinge" })
        {
            var opt = LearningCurve.Optimize(MarginLosses.Parse(loss), 2, 1, 0.25);
            t.Add(loss, Significant(opt.Lambda, 4), Fixed(Math.Log10(opt.Lambda), 3), Fixed(opt.FixedPoint.TestError, 5),
                Fixed(opt.FixedPoint.TestError - bo, 5));
        }
        return t;
    }
}
