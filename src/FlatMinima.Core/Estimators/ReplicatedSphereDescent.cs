using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Estimators;

/// <summary>The finite-N replicated system of <see cref="Replica.ReplicatedProblem"/> after descent.</summary>
/// <param name="Center">The centre (w̃, b̃), ‖w̃‖² = N Q, b̃ the mean replica bias.</param>
/// <param name="Replicas">The replicas (w^a, b^a).</param>
/// <param name="Distance">Mean over replicas of ‖w^a − w̃‖²/N.</param>
/// <param name="ReplicaOverlap">Mean over pairs a &lt; b of w^a·w^b/N (q_r for one replica).</param>
/// <param name="GradientNorm">Largest component of the energy's gradient at the end (per sample).</param>
/// <param name="Steps">Descent steps taken.</param>
/// <param name="Converged">Whether <paramref name="GradientNorm"/> reached the tolerance.</param>
public sealed record ReplicatedSphereSolution(LinearClassifier Center, IReadOnlyList<LinearClassifier> Replicas, double Distance,
    double ReplicaOverlap, double GradientNorm, int Steps, bool Converged);

/// <summary>
/// Coupled gradient descent on y replicas for the square loss (docs/norms.md §3): minimises
/// Σ_a [ ½ Σ_μ (1 − y^μ(w^a·x^μ/√N + b^a))² + (γ/2)‖w^a − w̃‖² ] with ‖w̃‖² = N Q. Each replica's bias is eliminated
/// exactly (b^a = ȳ − ā·w^a, the square loss's bias condition); the centre is the exact minimiser over the sphere,
/// w̃ = √(NQ) w̄/‖w̄‖, recomputed after every step, so each step is a gradient step on the energy reduced over
/// (b, w̃). Heavy-ball momentum 0.8 with step 1/(s_max + γ), s_max the largest eigenvalue of the centred Gram matrix
/// (power iteration). Replica a starts from an independent Gaussian point (stream a of <c>seed</c>).
/// </summary>
public static class ReplicatedSphereDescent
{
    /// <summary>Whether this solver minimises the replicated energy of <paramref name="loss"/>: only for the square loss,
    /// whose biases it eliminates exactly.</summary>
    public static bool Supports(IMarginLoss loss) => (loss ?? throw new ArgumentNullException(nameof(loss))).SelectAlgorithm(SquareOnly.Instance);

    private sealed class SquareOnly : IErmAlgorithms<bool>
    {
        public static readonly SquareOnly Instance = new();
        public bool LeastSquares() => true;
        public bool SupportVectorDual() => false;
        public bool Generic(IMarginLoss loss) => false;
    }

    /// <param name="sample">The data.</param>
    /// <param name="replicas">y ≥ 1.</param>
    /// <param name="norm">Q &gt; 0.</param>
    /// <param name="gamma">γ &gt; 0.</param>
    /// <param name="tolerance">Stop when the largest gradient component per sample is ≤ this (default 1e−9).</param>
    /// <param name="maxSteps">Cap (default 100 000).</param>
    /// <param name="seed">Seed of the initial conditions.</param>
    public static ReplicatedSphereSolution Fit(MixtureSample sample, int replicas, double norm, double gamma,
        double tolerance = 1e-9, int maxSteps = 100_000, long seed = 0)
    {
        Guard.AtLeast(replicas, 1, "y");
        Guard.Positive(norm, "norm");
        Guard.Positive(gamma, "gamma");
        int n = sample.N, p = sample.P;
        double scale = 1 / Math.Sqrt(n);
        var y = sample.Y;
        double yMean = y.Average();
        var aMean = new double[n];
        Kernels.MatTVec(sample.X, p, n, Enumerable.Repeat(scale / p, p).ToArray(), aMean);
        var xt = Kernels.Transpose(sample.X, p, n);
        for (int j = 0; j < n; j++)
        {
            var row = xt.AsSpan(j * p, p);
            for (int mu = 0; mu < p; mu++) row[mu] = row[mu] * scale - aMean[j];
        }
        var gram = Kernels.RowGram(xt, n, p);
        var r = new double[n];
        Kernels.MatVec(xt, n, p, y.Select(v => v - yMean).ToArray(), r);
        double sMax = PowerIteration(gram, n);
        double eta = 1 / (sMax + gamma), mom = 0.8, radius = Math.Sqrt(n * norm);

        var w = new double[replicas][];
        var vel = new double[replicas][];
        for (int a = 0; a < replicas; a++)
        {
            var rng = Rng.ForStream(seed, a);
            w[a] = new double[n]; vel[a] = new double[n];
            for (int j = 0; j < n; j++) w[a][j] = rng.NextGaussian() * Math.Sqrt(norm);
        }
        var center = new double[n];
        var grad = new double[n];
        var gw = new double[n];
        void Center()
        {
            Array.Clear(center);
            for (int a = 0; a < replicas; a++) Kernels.Axpy(1.0 / replicas, w[a], center);
            double k = radius / Math.Sqrt(Kernels.Norm2(center));
            for (int j = 0; j < n; j++) center[j] *= k;
        }
        Center();
        int step = 0;
        double gInf = double.PositiveInfinity;
        for (; step < maxSteps; step++)
        {
            gInf = 0;
            for (int a = 0; a < replicas; a++)
            {
                Kernels.MatVec(gram, n, n, w[a], gw);
                for (int j = 0; j < n; j++)
                {
                    grad[j] = gw[j] - r[j] + gamma * (w[a][j] - center[j]);
                    gInf = Math.Max(gInf, Math.Abs(grad[j]));
                    vel[a][j] = mom * vel[a][j] - eta * grad[j];
                    w[a][j] += vel[a][j];
                }
            }
            Center();
            if (gInf / p <= tolerance) break;
        }
        var reps = w.Select(wa => new LinearClassifier(wa, yMean - Kernels.Dot(aMean, wa))).ToArray();
        double bc = reps.Average(c => c.B);
        double dist = w.Average(wa => { double s = 0; for (int j = 0; j < n; j++) s += (wa[j] - center[j]) * (wa[j] - center[j]); return s / n; });
        double ov = 0; int pairs = 0;
        for (int a = 0; a < replicas; a++) for (int b = a + 1; b < replicas; b++) { ov += Kernels.Dot(w[a], w[b]) / n; pairs++; }
        if (pairs == 0) ov = Kernels.Norm2(w[0]) / n; else ov /= pairs;
        return new ReplicatedSphereSolution(new LinearClassifier((double[])center.Clone(), bc), reps, dist, ov, gInf / p, step, gInf / p <= tolerance);
    }

    private static double PowerIteration(double[] a, int n)
    {
        var v = Enumerable.Repeat(1 / Math.Sqrt(n), n).ToArray();
        var t = new double[n];
        double lam = 0;
        for (int it = 0; it < 200; it++)
        {
            Kernels.MatVec(a, n, n, v, t);
            lam = Math.Sqrt(Kernels.Norm2(t));
            for (int j = 0; j < n; j++) v[j] = t[j] / lam;
        }
        return lam * 1.01;
    }
}
