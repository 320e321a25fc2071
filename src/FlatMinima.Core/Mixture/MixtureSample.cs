using FlatMinima.Losses;
using FlatMinima.Numerics;

namespace FlatMinima.Mixture;

/// <summary>
/// One realisation of a <see cref="MixtureSpec"/>: the centroid direction v and P labelled samples. X is row-major
/// (P × N) and holds the raw inputs x^μ (not divided by √N).
/// </summary>
public sealed class MixtureSample
{
    /// <summary>The spec this sample was drawn from.</summary>
    public MixtureSpec Spec { get; }
    /// <summary>Input dimension N.</summary>
    public int N { get; }
    /// <summary>Number of samples P.</summary>
    public int P { get; }
    /// <summary>Inputs, row-major P × N.</summary>
    public double[] X { get; }
    /// <summary>Labels ±1.</summary>
    public double[] Y { get; }
    /// <summary>Centroid direction v (‖v‖² = N when <see cref="MixtureSpec.ExactNormV"/>).</summary>
    public double[] V { get; }

    /// <summary>Wraps given arrays (validated for shape). Prefer <see cref="Sample"/>.</summary>
    public MixtureSample(MixtureSpec spec, double[] x, double[] y, double[] v)
    {
        Spec = spec; N = v.Length; P = y.Length;
        if (x.Length != N * P) throw new ArgumentException($"X must hold P*N = {P * N} values (got {x.Length}).", nameof(x));
        foreach (var yi in y) if (yi != 1 && yi != -1) throw new ArgumentException("labels must be +1 or -1.", nameof(y));
        X = x; Y = y; V = v;
    }

    /// <summary>
    /// Draws the realisation of <paramref name="spec"/> deterministically from its seed: v from stream 0, then the
    /// labels and noise of each sample in order from stream 1. Same spec, same numbers, on every machine.
    /// </summary>
    public static MixtureSample Sample(MixtureSpec spec)
    {
        int n = spec.N, p = spec.P;
        MemoryBudget.Require(Bytes(spec), $"the dataset (n = {n}, alpha = {spec.Alpha:G6}, P = {p})");
        var v = new double[n];
        Rng.ForStream(spec.Seed, 0).FillGaussian(v);
        if (spec.ExactNormV)
        {
            double scale = Math.Sqrt(n / Kernels.Norm2(v));
            for (int i = 0; i < n; i++) v[i] *= scale;
        }
        var rng = Rng.ForStream(spec.Seed, 1);
        var x = GC.AllocateUninitializedArray<double>(p * n); // every entry is written below
        var y = new double[p];
        double invSqrtN = 1 / Math.Sqrt(n), sqrtDelta = Math.Sqrt(spec.Delta);
        double[]? fixedLabels = spec.ExactLabelCounts ? ExactLabels(spec, p) : null;
        for (int mu = 0; mu < p; mu++)
        {
            double label = fixedLabels is null ? rng.NextSign(spec.Rho) : fixedLabels[mu];
            y[mu] = label;
            var row = x.AsSpan(mu * n, n);
            rng.FillGaussian(row);
            Combine(label * invSqrtN, v, sqrtDelta, row);
        }
        return new MixtureSample(spec, x, y, v);
    }

    /// <summary>row ← signal·v + √Δ·row (vectorised; the same two products and one sum per entry as a scalar loop).</summary>
    private static void Combine(double signal, ReadOnlySpan<double> v, double sqrtDelta, Span<double> row)
    {
        int n = row.Length, i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated && n >= System.Numerics.Vector<double>.Count)
        {
            var vv = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(v);
            var vr = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(row);
            System.Numerics.Vector<double> sig = new(signal), sd = new(sqrtDelta);
            for (int k = 0; k < vr.Length; k++) vr[k] = sig * vv[k] + sd * vr[k];
            i = vr.Length * System.Numerics.Vector<double>.Count;
        }
        for (; i < n; i++) row[i] = signal * v[i] + sqrtDelta * row[i];
    }

    // Exactly round(ρP) labels +1, shuffled (Fisher–Yates) with stream 2 so the noise stream is unchanged.
    private static double[] ExactLabels(MixtureSpec spec, int p)
    {
        int plus = (int)Math.Round(spec.Rho * p, MidpointRounding.AwayFromZero);
        var labels = new double[p];
        for (int mu = 0; mu < p; mu++) labels[mu] = mu < plus ? 1 : -1;
        var rng = Rng.ForStream(spec.Seed, 2);
        for (int i = p - 1; i > 0; i--)
        {
            int j = (int)(rng.NextUInt64() % (ulong)(i + 1));
            (labels[i], labels[j]) = (labels[j], labels[i]);
        }
        return labels;
    }

    /// <summary>Bytes of the realisation of <paramref name="spec"/>: X (P × N), y and v.</summary>
    /// <exception cref="ArgumentOutOfRangeException">X would exceed the largest array (names n).</exception>
    public static long Bytes(MixtureSpec spec) => 8L * MemoryBudget.MatrixLength(spec.P, spec.N, "n") + 8L * (spec.P + spec.N);

    /// <summary>Row μ of X.</summary>
    public ReadOnlySpan<double> Row(int mu) => X.AsSpan(mu * N, N);

    /// <summary>Overlaps m = w·v/N and q = ‖w‖²/N with this sample's centroid.</summary>
    public Overlaps OverlapsOf(ReadOnlySpan<double> w) => Overlaps.Of(w, V);

    /// <summary>Margins u^μ = y^μ (w·x^μ/√N + b) of the training samples.</summary>
    public double[] Margins(ReadOnlySpan<double> w, double b)
    {
        var u = new double[P];
        LinearAlgebra.Current.Gemv(false, P, N, 1.0, X, w, 0.0, u);
        double inv = 1 / Math.Sqrt(N);
        for (int mu = 0; mu < P; mu++) u[mu] = Y[mu] * (u[mu] * inv + b);
        return u;
    }

    /// <summary>Training error ε_t = (1/P) Σ Θ(−u^μ); a margin of exactly 0 counts as half an error.</summary>
    public double TrainError(ReadOnlySpan<double> w, double b) => TrainErrorOfMargins(Margins(w, b));

    /// <summary>Training error of given margins.</summary>
    public static double TrainErrorOfMargins(ReadOnlySpan<double> u)
    {
        double e = 0;
        foreach (var ui in u) e += ui < 0 ? 1 : (ui == 0 ? 0.5 : 0);
        return e / u.Length;
    }

    /// <summary>Training loss per sample (1/P) Σ ℓ(u^μ), without the penalty.</summary>
    public double TrainLoss(IMarginLoss loss, ReadOnlySpan<double> w, double b)
    {
        var u = Margins(w, b);
        double s = 0;
        foreach (var ui in u) s += loss.Value(ui);
        return s / P;
    }

    /// <summary>The Hebbian (centroid-difference) vector s = Σ_μ y^μ x^μ, the Bayes-optimal direction (docs/theory.md#posterior).</summary>
    public double[] Hebbian()
    {
        var s = new double[N];
        LinearAlgebra.Current.Gemv(true, P, N, 1.0, X, Y, 0.0, s);
        return s;
    }

    /// <summary>Exact generalisation error (docs/theory.md#e1) of the classifier (w, b) on this mixture.</summary>
    public double TestError(ReadOnlySpan<double> w, double b)
    {
        var o = OverlapsOf(w);
        return GeneralizationError.Of(o.M, o.Q, b, Spec.Delta, Spec.Rho);
    }
}
