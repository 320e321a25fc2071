using System.Reflection;
using System.Text;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Experiments;

/// <summary>
/// The records measured on S independent realisations of a mixture, in seed order, with their statistics: of any
/// observable (<see cref="Of"/>, <see cref="OfEach"/> for a vector per seed), and of every numeric field of the record
/// by its snake_case name (<see cref="Fields"/>, <see cref="this[string]"/>, <see cref="Summary"/>).
/// </summary>
/// <typeparam name="T">The record one seed yields.</typeparam>
public class MonteCarloResult<T>
{
    private static readonly (string Name, Func<T, double> Get)[] NumericFields = FindNumericFields();

    /// <summary>The spec of seed index 0 (seed k uses Seed + k).</summary>
    public MixtureSpec Spec { get; }
    /// <summary>Seeds actually used, in order.</summary>
    public IReadOnlyList<long> Seeds { get; }
    /// <summary>The record of each seed, in seed order.</summary>
    public IReadOnlyList<T> PerSeed { get; }
    /// <summary>How the cores were shared and how many datasets were resident at once (null when not run by
    /// <see cref="MonteCarlo"/>).</summary>
    public ParallelPlan? Plan { get; init; }
    /// <summary>The linear algebra the run used (provider, library, seeds at once, threads per solve), for manifests
    /// and <c>--json</c> outputs (null when not run by <see cref="MonteCarlo"/>).</summary>
    public LinearAlgebraUse? LinearAlgebra { get; init; }

    public MonteCarloResult(MixtureSpec spec, IReadOnlyList<long> seeds, IReadOnlyList<T> perSeed)
    {
        Spec = spec; Seeds = seeds; PerSeed = perSeed;
        if (seeds.Count != perSeed.Count) throw new ArgumentException($"{seeds.Count} seeds but {perSeed.Count} records.", nameof(perSeed));
    }

    /// <summary>Mean and standard error over seeds of <paramref name="observable"/>.</summary>
    public Statistic Of(Func<T, double> observable) => Statistic.Of(PerSeed.Select(observable).ToArray());

    /// <summary>Mean and standard error over seeds of each component of a vector observable (e.g. one value per σ).</summary>
    public Statistic[] OfEach(Func<T, IReadOnlyList<double>> observable)
    {
        var values = PerSeed.Select(observable).ToArray();
        int k = values.Length == 0 ? 0 : values[0].Count;
        if (values.Any(v => v.Count != k)) throw new ArgumentException("the vector observable has different lengths across seeds.", nameof(observable));
        return Enumerable.Range(0, k).Select(i => Statistic.Of(values.Select(v => v[i]).ToArray())).ToArray();
    }

    /// <summary>The snake_case names of the numeric (double, float, int, long) public properties of
    /// <typeparamref name="T"/>, in the order reflection lists them (declaration order).</summary>
    public static IReadOnlyList<string> Fields { get; } = NumericFields.Select(f => f.Name).ToArray();

    /// <summary>Statistic of the numeric field called <paramref name="name"/> (see <see cref="Fields"/>).</summary>
    /// <exception cref="ArgumentException">No such field; the message lists the valid names.</exception>
    public Statistic this[string name]
    {
        get
        {
            foreach (var (n, get) in NumericFields) if (n == name) return Of(get);
            throw new ArgumentException($"unknown observable '{name}'; valid: {string.Join(", ", Fields)}.", nameof(name));
        }
    }

    /// <summary>Statistic of every numeric field, by name, in the order of <see cref="Fields"/>.</summary>
    public IReadOnlyList<KeyValuePair<string, Statistic>> Summary => NumericFields.Select(f => KeyValuePair.Create(f.Name, Of(f.Get))).ToArray();

    private static (string, Func<T, double>)[] FindNumericFields() =>
        typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0)
            .Select(p => (p, get: Getter(p)))
            .Where(x => x.get is not null)
            .Select(x => (SnakeCase(x.p.Name), x.get!))
            .ToArray();

    private static Func<T, double>? Getter(PropertyInfo p)
    {
        if (p.PropertyType == typeof(double)) return r => (double)p.GetValue(r)!;
        if (p.PropertyType == typeof(float)) return r => (float)p.GetValue(r)!;
        if (p.PropertyType == typeof(int)) return r => (int)p.GetValue(r)!;
        if (p.PropertyType == typeof(long)) return r => (long)p.GetValue(r)!;
        return null;
    }

    /// <summary>"TestError" → "test_error", "M" → "m".</summary>
    internal static string SnakeCase(string name)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1])))) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}

/// <summary>The six observables of a fitted estimator (<see cref="Observables"/>) over seeds, with a statistic each.</summary>
public sealed class MonteCarloResult : MonteCarloResult<Observables>
{
    public MonteCarloResult(MixtureSpec spec, IReadOnlyList<long> seeds, IReadOnlyList<Observables> perSeed) : base(spec, seeds, perSeed) { }

    public Statistic TestError => Of(o => o.TestError);
    public Statistic TrainError => Of(o => o.TrainError);
    public Statistic TrainLoss => Of(o => o.TrainLoss);
    public Statistic M => Of(o => o.M);
    public Statistic Q => Of(o => o.Q);
    public Statistic Bias => Of(o => o.Bias);
}

/// <summary>
/// Monte Carlo over independent realisations of a mixture: seeds Seed, Seed + 1, …, Seed + S − 1 of a spec, each
/// sampled, measured by any function into any record, in parallel. How the cores are shared — seeds at once, threads
/// per solve — is decided in one place, <see cref="ParallelPlan"/>, which also keeps the datasets in memory at once
/// within the memory available. Each seed's work is independent, every kernel's result is independent of its thread
/// count, and results are stored by seed index, so a parallel run gives exactly the numbers of a sequential one.
/// </summary>
public static class MonteCarlo
{
    /// <summary>
    /// The cores a Monte Carlo run may use: <paramref name="threads"/> (≥ 1), or all cores when null. The run shares
    /// them between seeds at once and threads inside each solve by <see cref="ParallelPlan.For"/>.
    /// </summary>
    public static int Workers(int? threads) => threads is { } t ? Guard.AtLeast(t, 1, "threads") : Environment.ProcessorCount;

    /// <summary>Measures <paramref name="seeds"/> realisations of <paramref name="spec"/> with <paramref name="measure"/>.</summary>
    /// <param name="spec">Mixture; its seed is the first seed.</param>
    /// <param name="seeds">Number of realisations S ≥ 1.</param>
    /// <param name="measure">Measures one sample (its seed is <c>sample.Spec.Seed</c>); must be thread-safe across samples.</param>
    /// <param name="threads">Cores the run may use (default: all; 1 = sequential on one thread); see <see cref="Workers"/>.</param>
    /// <param name="onSeedDone">Called (from worker threads) after each seed, e.g. for a progress bar.</param>
    /// <param name="cancellation">Stops scheduling new seeds.</param>
    /// <param name="workspaceBytes">Bytes <paramref name="measure"/> allocates per seed besides the dataset (for the
    /// memory check and the plan).</param>
    /// <exception cref="ProblemTooLargeException">One dataset and its solve do not fit in the memory available.</exception>
    public static MonteCarloResult<T> Run<T>(MixtureSpec spec, int seeds, Func<MixtureSample, T> measure,
        int? threads = null, Action? onSeedDone = null, CancellationToken cancellation = default, long workspaceBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Guard.AtLeast(seeds, 1, "seeds");
        ArgumentNullException.ThrowIfNull(measure);
        var seedList = SeedList(spec, seeds);
        var results = new T[seeds];
        var plan = ForEach(spec, seeds, k =>
        {
            results[k] = measure(MixtureSample.Sample(spec.WithSeed(seedList[k])));
            onSeedDone?.Invoke();
        }, threads, cancellation, workspaceBytes);
        return new MonteCarloResult<T>(spec, seedList, results) { Plan = plan, LinearAlgebra = Numerics.LinearAlgebra.InUse(plan) };
    }

    /// <summary>
    /// A Monte Carlo at every point of a grid (e.g. every σ of a scan): all (point, seed) pairs run in parallel, each on
    /// its own sample of seed Seed + k, so every point sees the same datasets. One result per point, in grid order.
    /// </summary>
    public static IReadOnlyList<MonteCarloResult<T>> Run<TPoint, T>(MixtureSpec spec, int seeds, IReadOnlyList<TPoint> points,
        Func<MixtureSample, TPoint, T> measure, int? threads = null, Action? onDone = null, CancellationToken cancellation = default,
        long workspaceBytes = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Guard.AtLeast(seeds, 1, "seeds");
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(measure);
        var seedList = SeedList(spec, seeds);
        var results = new T[points.Count, seeds];
        var plan = ForEach(spec, points.Count * seeds, job =>
        {
            int i = job / seeds, k = job % seeds;
            results[i, k] = measure(MixtureSample.Sample(spec.WithSeed(seedList[k])), points[i]);
            onDone?.Invoke();
        }, threads, cancellation, workspaceBytes);
        return Enumerable.Range(0, points.Count)
            .Select(i => new MonteCarloResult<T>(spec, seedList, Enumerable.Range(0, seeds).Select(k => results[i, k]).ToArray())
                { Plan = plan, LinearAlgebra = Numerics.LinearAlgebra.InUse(plan) })
            .ToArray();
    }

    /// <summary>The six observables of <paramref name="measure"/> over S realisations (see <see cref="Run{T}"/>).</summary>
    public static MonteCarloResult Run(MixtureSpec spec, int seeds, Func<MixtureSample, Observables> measure,
        int? maxParallelism = null, Action? onSeedDone = null, CancellationToken cancellation = default, long workspaceBytes = 0)
    {
        var r = Run<Observables>(spec, seeds, measure, maxParallelism, onSeedDone, cancellation, workspaceBytes);
        return new MonteCarloResult(r.Spec, r.Seeds, r.PerSeed) { Plan = r.Plan, LinearAlgebra = r.LinearAlgebra };
    }

    /// <summary>Runs <paramref name="estimator"/> on S realisations.</summary>
    public static MonteCarloResult Run(MixtureSpec spec, int seeds, EstimatorKind estimator,
        int? maxParallelism = null, Action? onSeedDone = null, CancellationToken cancellation = default) =>
        Run(spec, seeds, estimator.Measure, maxParallelism, onSeedDone, cancellation, estimator.WorkspaceBytes(spec));

    private static long[] SeedList(MixtureSpec spec, int seeds) => Enumerable.Range(0, seeds).Select(k => spec.Seed + k).ToArray();

    /// <summary>Runs <paramref name="count"/> jobs, each drawing one dataset of <paramref name="spec"/>, under the plan
    /// for this machine (<see cref="ParallelPlan.For"/>): that many at once, the rest of the cores to each solve.</summary>
    private static ParallelPlan ForEach(MixtureSpec spec, int count, Action<int> body, int? threads, CancellationToken cancellation,
        long workspaceBytes)
    {
        long datasetBytes = MixtureSample.Bytes(spec);
        var plan = ParallelPlan.For(count, Workers(threads), datasetBytes + workspaceBytes,
            $"n = {spec.N}, alpha = {spec.Alpha:G6} (P = {spec.P})");
        int started = 0;
        var po = new ParallelOptions { MaxDegreeOfParallelism = plan.Workers, CancellationToken = cancellation };
        using (LinearAlgebra.UseSolveThreads(plan.ThreadsPerSolve))
            Parallel.For(0, count, po, k =>
            {
                // The datasets and matrices of finished jobs are garbage by now: collect them before drawing the next
                // dataset, so that no more of them are resident than run at once (the collector would otherwise keep
                // them until its large-object budget is spent: 4 GB instead of 2.6 GB at N = 8000, 2 at a time).
                if (Interlocked.Increment(ref started) > plan.Workers && datasetBytes + workspaceBytes >= 64L << 20)
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
                body(k);
            });
        return plan;
    }
}
