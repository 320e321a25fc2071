using FlatMinima.Estimators;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Replica;

namespace FlatMinima.Torch.Experiments;

/// <summary>
/// A network's test error on Gaussian-mixture data next to the theory of the same (α, Δ, ρ): the Bayes-optimal error
/// ε_BO (docs/theory.md#e3), the floor no classifier trained on αN samples can beat, and the replica (N → ∞) test error of
/// a linear classifier fitted by logistic ERM with ridge <see cref="GmReference.ErmLambda"/>.
/// </summary>
/// <param name="TestError">The network's test error.</param>
/// <param name="TestErrorSe">Its binomial standard error over the test set, √(max(ε(1 − ε), 1/n)/n).</param>
/// <param name="EpsilonBo">ε_BO(α, Δ, ρ).</param>
/// <param name="EpsilonErm">The replica logistic-ERM test error, or null when the saddle point does not converge.</param>
public sealed record GmComparison(double TestError, double TestErrorSe, double EpsilonBo, double? EpsilonErm)
{
    public double GapToBo => TestError - EpsilonBo;
    public double ZVersusBo => GapToBo / TestErrorSe;
    public string ErmNote => EpsilonErm is null
        ? "replica saddle point of logistic ERM did not converge"
        : $"linear classifier, logistic ERM with ridge λ = {GmReference.ErmLambda} (replica, docs/theory.md#erm-saddle-point)";

    /// <summary>The snake-case entries of a run's summary and manifest.</summary>
    public Dictionary<string, object?> ToDictionary() => new()
    {
        ["test_error"] = TestError, ["test_error_se"] = TestErrorSe, ["epsilon_bo"] = EpsilonBo, ["gap_to_bo"] = GapToBo,
        ["z_vs_bo"] = ZVersusBo, ["epsilon_erm_replica"] = EpsilonErm, ["epsilon_erm_note"] = ErmNote,
    };
}

/// <summary>The theory reference of a run on Gaussian-mixture data (<see cref="GmComparison"/>).</summary>
public static class GmReference
{
    /// <summary>Ridge of the linear logistic ERM reference (normalisation of docs/theory.md#classifier: Σ ℓ + (λ/2)‖w‖²).</summary>
    public const double ErmLambda = 0.01;

    /// <summary>
    /// The replica (RS, N → ∞) test error of logistic ERM with ridge <see cref="ErmLambda"/> on the data model (α, Δ, ρ):
    /// what a linear classifier trained by logistic regression reaches (<see cref="ErmSaddlePoint"/>). Null when the
    /// saddle point does not converge.
    /// </summary>
    public static double? ReplicaErmError(MixtureModel model)
    {
        try
        {
            var fp = ErmSaddlePoint.Solve(new ErmProblem(LogisticLoss.Instance, model, ErmLambda));
            return fp.Converged ? fp.TestError : null;
        }
        catch (NonConvergenceException) { return null; }
    }

    /// <summary>Compares <paramref name="testError"/>, measured on <paramref name="testSamples"/> fresh samples of the
    /// mixture <paramref name="spec"/>, with the theory.</summary>
    public static GmComparison Compare(MixtureSpec spec, double testError, long testSamples)
    {
        double se = Math.Sqrt(Math.Max(testError * (1 - testError), 1.0 / testSamples) / testSamples);
        return new GmComparison(testError, se, BayesOptimal.Error(spec.Model), ReplicaErmError(spec.Model));
    }
}
