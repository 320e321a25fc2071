using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Experiments;

/// <summary>Per-seed observables and their means with standard errors.</summary>
public sealed class MonteCarloResult
{
    /// <summary>The spec of seed index 0 (seed k uses Seed + k).</summary>
    public MixtureSpec Spec { get; }
    /// <summary>Seeds actually used, in order.</summary>
    public IReadOnlyList<long> Seeds { get; }
    /// <summary>Observables of each seed, in seed order.</summary>
    public IReadOnlyList<Observables> PerSeed { get; }
    /// <summary>How the cores were shared (null when not run by <see cref="MonteCarlo"/>).</summary>
    public ParallelPlan? Plan { get; init; }

    public MonteCarloResult(MixtureSpec spec, IReadOnlyList<long> seeds, IReadOnlyList<Observables> perSeed)
    {
        Spec = spec; Seeds = seeds; PerSeed = perSeed;
    }

    private Statistic Stat(Func<Observables, double> f) => Statistic.Of(PerSeed.Select(f).ToArray());

    public Statistic TestError => Stat(o => o.TestError);
    public Statistic TrainError => Stat(o => o.TrainError);
    public Statistic TrainLoss => Stat(o => o.TrainLoss);
    public Statistic M => Stat(o => o.M);
    public Statistic Q => Stat(o => o.Q);
    public Statistic Bias => Stat(o => o.Bias);

    /// <summary>Statistic of the observable called <paramref name="name"/> (see <see cref="Observables.Names"/>).</summary>
    public Statistic this[string name] => name switch
    {
        "test_error" => TestError,
        "train_error" => TrainError,
        "train_loss" => TrainLoss,
        "m" => M,
        "q" => Q,
        "bias" => Bias,
        _ => throw new ArgumentException($"unknown observable '{name}'; valid: {string.Join(", ", Observables.Names)}.", nameof(name)),
    };
}

/// <summary>
/// Runs an estimator on S independent realisations of a mixture (seeds Seed, Seed + 1, …, Seed + S − 1) in parallel.
/// How the cores are shared — seeds at once, threads per solve — is decided in one place, <see cref="ParallelPlan"/>,
/// which also keeps the datasets in memory at once within the memory available. Each seed's work is independent,
/// every kernel's result is independent of its thread count, and results are stored by seed index, so a parallel
/// run gives exactly the numbers of a sequential one.
/// </summary>
public static class MonteCarlo
{
    /// <param name="spec">Mixture; its seed is the first seed.</param>
    /// <param name="seeds">Number of realisations S ≥ 1.</param>
    /// <param name="measure">Fits and measures one sample.</param>
    /// <param name="maxParallelism">Cores the run may use (default: processor count; 1 = sequential on one thread).</param>
    /// <param name="onSeedDone">Called (from worker threads) after each seed, e.g. for a progress bar.</param>
    /// <param name="cancellation">Stops scheduling new seeds.</param>
    /// <param name="workspaceBytes">Bytes <paramref name="measure"/> allocates per seed besides the dataset (for the
    /// memory check and the plan).</param>
    /// <exception cref="ProblemTooLargeException">One dataset and its solve do not fit in the memory available.</exception>
    public static MonteCarloResult Run(MixtureSpec spec, int seeds, Func<MixtureSample, Observables> measure,
        int? maxParallelism = null, Action? onSeedDone = null, CancellationToken cancellation = default, long workspaceBytes = 0)
    {
        Guard.AtLeast(seeds, 1, "seeds");
        ArgumentNullException.ThrowIfNull(measure);
        long datasetBytes = MixtureSample.Bytes(spec);
        var plan = ParallelPlan.For(seeds, maxParallelism, datasetBytes + workspaceBytes,
            $"n = {spec.N}, alpha = {spec.Alpha:G6} (P = {spec.P})");
        int started = 0;
        var results = new Observables[seeds];
        var seedList = Enumerable.Range(0, seeds).Select(k => spec.Seed + k).ToArray();
        var po = new ParallelOptions { MaxDegreeOfParallelism = plan.Workers, CancellationToken = cancellation };
        using (LinearAlgebra.UseSolveThreads(plan.ThreadsPerSolve))
            Parallel.For(0, seeds, po, k =>
            {
                // The datasets and matrices of finished seeds are garbage by now: collect them before drawing the next
                // dataset, so that no more of them are resident than run at once (the collector would otherwise keep
                // them until its large-object budget is spent: 4 GB instead of 2.6 GB at N = 8000, 2 at a time).
                if (Interlocked.Increment(ref started) > plan.Workers && datasetBytes + workspaceBytes >= 64L << 20)
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
                var sample = MixtureSample.Sample(spec.WithSeed(seedList[k]));
                results[k] = measure(sample);
                onSeedDone?.Invoke();
            });
        return new MonteCarloResult(spec, seedList, results) { Plan = plan };
    }

    /// <summary>Runs <paramref name="estimator"/> on S realisations.</summary>
    public static MonteCarloResult Run(MixtureSpec spec, int seeds, EstimatorKind estimator,
        int? maxParallelism = null, Action? onSeedDone = null, CancellationToken cancellation = default) =>
        Run(spec, seeds, estimator.Measure, maxParallelism, onSeedDone, cancellation, estimator.WorkspaceBytes(spec));
}
