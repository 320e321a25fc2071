namespace FlatMinima.Estimators;

/// <summary>A linear classifier ŷ(x) = sign(w·x/√N + b) (docs/theory.md#classifier).</summary>
/// <param name="W">Weights w (length N).</param>
/// <param name="B">Bias b.</param>
public sealed record LinearClassifier(double[] W, double B);
