using FlatMinima.Flatness;
using FlatMinima.Numerics;

namespace FlatMinima.Estimators;

/// <summary>One row of a max-flatness run's history.</summary>
/// <param name="Step">Step (replicated) or outer step (entropic).</param>
/// <param name="Gamma">Coupling γ at that step.</param>
/// <param name="CenterObjective">Objective at the centre.</param>
/// <param name="MeanReplicaObjective">Mean objective over replicas (replicated) or at the last inner sample (entropic).</param>
/// <param name="MeanDistance">√(mean ‖w^a − w̄‖²/N) (replicated) or √(‖w − μ‖²/N) (entropic).</param>
public readonly record struct FlatnessStep(int Step, double Gamma, double CenterObjective, double MeanReplicaObjective, double MeanDistance);

/// <summary>Result of a max-flatness descent: the centre as a classifier, and the run's history.</summary>
/// <param name="Classifier">The estimator (centre); for a scale-invariant objective normalised to ‖w‖² = N.</param>
/// <param name="Objective">Objective at the centre.</param>
/// <param name="Steps">Steps taken (outer steps for entropic).</param>
/// <param name="GradientEvaluations">Objective/gradient evaluations in total.</param>
/// <param name="Gamma0">The initial coupling actually used (after automatic calibration).</param>
/// <param name="History">Rows every <c>HistoryEvery</c> steps and at the end.</param>
public sealed record MaxFlatnessResult(LinearClassifier Classifier, double Objective, int Steps, long GradientEvaluations,
    double Gamma0, IReadOnlyList<FlatnessStep> History);

/// <summary>Draws minibatches of training-sample indices without replacement (partial Fisher–Yates); size 0 = full batch.</summary>
internal sealed class Minibatch
{
    private readonly int[] _idx;
    private readonly int _size;
    private readonly Rng _rng;

    public Minibatch(IFlatnessObjective objective, int size, Rng rng)
    {
        int p = objective.P;
        _size = size > 0 && p > 0 && size < p ? size : 0;
        _idx = Enumerable.Range(0, p).ToArray();
        _rng = rng;
    }

    public ReadOnlySpan<int> Next()
    {
        if (_size == 0) return default;
        for (int i = 0; i < _size; i++)
        {
            int j = i + (int)(_rng.NextDouble() * (_idx.Length - i));
            (_idx[i], _idx[j]) = (_idx[j], _idx[i]);
        }
        return _idx.AsSpan(0, _size);
    }
}

internal static class Param
{
    /// <summary>Random start: a uniformly random direction with ‖w‖² = N·scale², b = 0.</summary>
    public static double[] RandomW(int n, Rng rng, double scale = 1)
    {
        var w = new double[n];
        rng.FillGaussian(w);
        double sc = scale * Math.Sqrt(n / Kernels.Norm2(w));
        for (int j = 0; j < n; j++) w[j] *= sc;
        return w;
    }

    /// <summary>Rescales (w, b) jointly so that ‖w‖² = N.</summary>
    public static void Normalise(double[] w, ref double b)
    {
        double nrm = Kernels.Norm2(w);
        if (!(nrm > 0)) return;
        double sc = Math.Sqrt(w.Length / nrm);
        for (int j = 0; j < w.Length; j++) w[j] *= sc;
        b *= sc;
    }

    public static double Distance2(double[] a, double[] c)
    {
        double s = 0;
        for (int j = 0; j < a.Length; j++) { double d = a[j] - c[j]; s += d * d; }
        return s / a.Length;
    }
}
