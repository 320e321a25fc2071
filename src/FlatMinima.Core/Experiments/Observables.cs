namespace FlatMinima.Experiments;

/// <summary>
/// What one fitted estimator on one sample is measured by: the exact test error (docs/theory.md#e1), the training error, the
/// training loss per sample (NaN for estimators without a loss, such as Bayes-optimal), m, q and the bias.
/// </summary>
public sealed record Observables(double TestError, double TrainError, double TrainLoss, double M, double Q, double Bias)
{
    /// <summary>Names of the observables, snake_case, in a fixed order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["test_error", "train_error", "train_loss", "m", "q", "bias"];

    /// <summary>The values in the order of <see cref="Names"/>.</summary>
    public double[] Values => [TestError, TrainError, TrainLoss, M, Q, Bias];
}
