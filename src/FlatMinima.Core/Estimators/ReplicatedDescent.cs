using FlatMinima.Flatness;
using FlatMinima.Numerics;

namespace FlatMinima.Estimators;

/// <summary>
/// Options of <see cref="ReplicatedDescent"/> (docs/optim.md#replicated-sgd, robust ensemble). Defaults in brackets.
/// </summary>
/// <param name="Replicas">y ≥ 1 coupled replicas [3].</param>
/// <param name="Steps">Descent steps T ≥ 1 [600].</param>
/// <param name="LearningRate">η &gt; 0 [0.05]; the w-step is η(N∇_w L/κ + γ(w^a − w̄)) (w has O(1) components; κ is the objective's
/// <see cref="IFlatnessObjective.Curvature"/>), the b-step η(∂_b L/κ + γ(b^a − b̄)).</param>
/// <param name="Momentum">Heavy-ball momentum in [0, 1) [0.9].</param>
/// <param name="Temperature">Langevin temperature T ≥ 0 [0 = deterministic]; noise √(2ηTN) per w-component, √(2ηT) on b, so the
/// stationary law of each replica is ∝ exp(−(L + coupling)/T) with L per sample.</param>
/// <param name="Coupling">Coupling schedule [exponential, automatic γ0, γmax = 10].</param>
/// <param name="ExplicitCenter">If true, an explicit centre w̃ relaxes towards the replicas; otherwise [false] the centre of mass w̄ is the centre.</param>
/// <param name="LearnBias">If true [true], the bias is a descended parameter; otherwise it stays 0.</param>
/// <param name="Seed">Seed of the initial conditions (replica a uses stream a) and of the noise [0].</param>
/// <param name="HistoryEvery">Record a history row every k ≥ 1 steps [20].</param>
/// <param name="Threads">Replicas evaluated in parallel, ≥ 1, or 0 for the processor count [0]; results do not depend on it.</param>
/// <param name="BatchSize">Minibatch size per replica and step (SGD; each replica draws its own minibatch without replacement
/// from its own stream), or 0 for full-batch gradient descent [0].</param>
public sealed record ReplicatedOptions(int Replicas = 3, int Steps = 600, double LearningRate = 0.05, double Momentum = 0.9,
    double Temperature = 0, CouplingSchedule? Coupling = null, bool ExplicitCenter = false, bool LearnBias = true,
    long Seed = 0, int HistoryEvery = 20, int Threads = 0, int BatchSize = 0)
{
    public int BatchSize { get; init; } = Guard.AtLeast(BatchSize, 0, "batch-size");
    public int Threads { get; init; } = Threads == 0 ? Environment.ProcessorCount : Guard.AtLeast(Threads, 1, "threads");
    public int Replicas { get; init; } = Guard.AtLeast(Replicas, 1, "replicas");
    public int Steps { get; init; } = Guard.AtLeast(Steps, 1, "steps");
    public double LearningRate { get; init; } = Guard.Positive(LearningRate, "lr");
    public double Momentum { get; init; } = Momentum >= 0 && Momentum < 1 ? Momentum
        : throw new ArgumentOutOfRangeException("momentum", Momentum, $"momentum must lie in [0, 1) (got {Momentum}).");
    public double Temperature { get; init; } = Guard.NonNegative(Temperature, "temperature");
    public CouplingSchedule Coupling { get; init; } = Coupling ?? new CouplingSchedule();
    public int HistoryEvery { get; init; } = Guard.AtLeast(HistoryEvery, 1, "history-every");
}

/// <summary>
/// Replicated gradient descent / Langevin dynamics (robust ensemble, docs/theory.md#f2 and docs/optim.md#replicated-sgd): y replicas each descend
/// L(θ^a) + (γ_t/2N)‖w^a − w̃‖² + (γ_t/2)(b^a − b̃)², with w̃ the centre of mass (or an explicit centre), and γ_t grown by
/// a <see cref="CouplingSchedule"/> so that the replicas collapse onto a centre in a wide flat region. The centre is
/// the estimator. For a scale-invariant objective every replica is kept on ‖w‖² = N.
/// </summary>
public static class ReplicatedDescent
{
    /// <summary>Runs the descent on <paramref name="objective"/>; <paramref name="observe"/> sees each history row.</summary>
    public static MaxFlatnessResult Run(IFlatnessObjective objective, ReplicatedOptions? options = null, Action<FlatnessStep>? observe = null)
    {
        ArgumentNullException.ThrowIfNull(objective);
        var o = options ?? new ReplicatedOptions();
        int n = objective.N, y = o.Replicas;
        double eta = o.LearningRate, mom = o.Momentum;
        var w = new double[y][]; var b = new double[y]; var vw = new double[y][]; var vb = new double[y];
        var f = new double[y];
        for (int a = 0; a < y; a++) { w[a] = Param.RandomW(n, Rng.ForStream(o.Seed, a), objective.InitialScale); vw[a] = new double[n]; }
        var noise = Enumerable.Range(0, y).Select(a => Rng.ForStream(o.Seed, 1_000_003 + a)).ToArray();
        var grads = Enumerable.Range(0, y).Select(_ => new double[n]).ToArray();
        var g = grads[0];
        var dist = new double[y];
        var po = new ParallelOptions { MaxDegreeOfParallelism = o.Threads };
        var batcher = Enumerable.Range(0, y).Select(a => new Minibatch(objective, o.BatchSize, Rng.ForStream(o.Seed, 2_000_003 + a))).ToArray();
        var c = new double[n]; double cb = 0;
        long evals = 0;
        void CenterOfMass(double[] dest, out double db)
        {
            Array.Clear(dest); db = 0;
            for (int a = 0; a < y; a++) { Kernels.Axpy(1.0 / y, w[a], dest); db += b[a] / y; }
        }
        CenterOfMass(c, out cb);
        // Automatic γ0: mean objective over mean squared distance per component (balances the two terms).
        double gamma0;
        if (o.Coupling.Initial is { } g0) gamma0 = g0;
        else
        {
            double fm = 0, d2 = 0;
            for (int a = 0; a < y; a++) { fm += objective.Evaluate(w[a], b[a], g, out _) / y; d2 += Param.Distance2(w[a], c) / y; evals++; }
            gamma0 = o.Coupling.Calibrate(fm, d2);
        }
        double curv = objective.Curvature, kObj = n / curv;
        var history = new List<FlatnessStep>();
        double sqrtNoiseW = Math.Sqrt(2 * eta * o.Temperature * n), sqrtNoiseB = Math.Sqrt(2 * eta * o.Temperature);
        for (int t = 0; t < o.Steps; t++)
        {
            double gamma = o.Coupling.At(t, o.Steps, gamma0);
            if (!o.ExplicitCenter) CenterOfMass(c, out cb);
            // Replicas are updated in parallel: each reads only the centre and its own state, and draws from its own
            // noise stream, so the result does not depend on the number of threads.
            Parallel.For(0, y, po, a =>
            {
                var ga = grads[a];
                f[a] = objective.Evaluate(w[a], b[a], ga, out double gb, batcher[a].Next());
                dist[a] = Param.Distance2(w[a], c);
                var wa = w[a]; var va = vw[a];
                for (int j = 0; j < n; j++)
                {
                    double grad = kObj * ga[j] + (y > 1 ? gamma * (wa[j] - c[j]) : 0);
                    va[j] = mom * va[j] - eta * grad;
                    wa[j] += va[j];
                    if (sqrtNoiseW > 0) wa[j] += sqrtNoiseW * noise[a].NextGaussian();
                }
                if (o.LearnBias)
                {
                    double grad = gb / curv + (y > 1 ? gamma * (b[a] - cb) : 0);
                    vb[a] = mom * vb[a] - eta * grad;
                    b[a] += vb[a];
                    if (sqrtNoiseB > 0) b[a] += sqrtNoiseB * noise[a].NextGaussian();
                }
                if (objective.ScaleInvariant) Param.Normalise(wa, ref b[a]);
            });
            evals += y;
            double fmean = f.Average(), dmean = dist.Average();
            if (o.ExplicitCenter)
            {
                // Explicit centre: gradient step on (γ/2N) Σ_a ‖w^a − w̃‖², clipped so it never overshoots the mean.
                double step = Math.Min(1, eta * gamma * y);
                CenterOfMass(g, out double mb);
                for (int j = 0; j < n; j++) c[j] += step * (g[j] - c[j]);
                cb += step * (mb - cb);
            }
            if (t % o.HistoryEvery == 0 || t == o.Steps - 1)
            {
                var row = new FlatnessStep(t, gamma, double.NaN, fmean, Math.Sqrt(dmean));
                history.Add(row); observe?.Invoke(row);
            }
        }
        if (!o.ExplicitCenter) CenterOfMass(c, out cb);
        if (objective.ScaleInvariant) Param.Normalise(c, ref cb);
        double fc = objective.Evaluate(c, cb, g, out _); evals++;
        if (history.Count > 0) history[^1] = history[^1] with { CenterObjective = fc };
        return new MaxFlatnessResult(new LinearClassifier(c, cb), fc, o.Steps, evals, gamma0, history);
    }
}
