namespace FlatMinima.Numerics;

/// <summary>
/// How a Monte Carlo run shares the cores: <see cref="Workers"/> seeds at once, each solve with
/// <see cref="ThreadsPerSolve"/> threads (<see cref="LinearAlgebra.SolveThreads"/>). The numbers never depend on the
/// plan (every kernel's work division is fixed by the problem size); only the time and the peak memory do.
/// <para>The rule (docs/core.md#finite-n-at-scale; the benchmarks' `plans` case measures it): seeds in parallel
/// with one thread per solve whenever there are at least as many seeds as cores — sampling a dataset is sequential,
/// the margin pass of L-BFGS and the SMO iterations are memory- or latency-bound and gain little from a second
/// thread, and independent seeds share nothing. With fewer seeds than cores, the spare cores go to the solves
/// (⌊cores / workers⌋ threads each). Memory comes first: no more seeds run at once than fit in the available
/// memory, and the cores left over go to the solves.</para>
/// </summary>
/// <param name="Workers">Seeds solved concurrently, ≥ 1.</param>
/// <param name="ThreadsPerSolve">Threads given to each solve, ≥ 1.</param>
public sealed record ParallelPlan(int Workers, int ThreadsPerSolve)
{
    /// <summary>The plan for this machine: <see cref="Environment.ProcessorCount"/> cores and
    /// <see cref="MemoryBudget.AvailableBytes"/>.</summary>
    /// <param name="seeds">Seeds to run, ≥ 1.</param>
    /// <param name="maxCores">Cores the run may use (null: all; 1: one seed after another on one thread).</param>
    /// <param name="bytesPerSeed">Peak bytes of one seed (its dataset and its solver's workspace).</param>
    /// <param name="describe">Names the problem in the error message, e.g. "n = 8000, alpha = 2".</param>
    /// <exception cref="ProblemTooLargeException">One seed alone does not fit in memory.</exception>
    public static ParallelPlan For(int seeds, int? maxCores, long bytesPerSeed, string describe)
    {
        int cores = maxCores ?? Environment.ProcessorCount;
        long available = MemoryBudget.AvailableBytes;
        if (bytesPerSeed * Math.Min(seeds, Math.Max(1, cores)) > available) available = MemoryBudget.AvailableAfterCollection();
        return Choose(seeds, cores, bytesPerSeed, available, describe);
    }

    /// <summary>The rule itself, for given cores and memory (see the type's summary).</summary>
    public static ParallelPlan Choose(int seeds, int cores, long bytesPerSeed, long availableBytes, string describe)
    {
        Guard.AtLeast(seeds, 1, "seeds");
        Guard.AtLeast(cores, 1, "threads");
        if (bytesPerSeed > availableBytes)
            throw new ProblemTooLargeException(bytesPerSeed, availableBytes,
                $"{describe} needs about {MemoryBudget.Format(bytesPerSeed)} for one dataset and its solve, but " +
                $"{MemoryBudget.Format(availableBytes)} is available; reduce n or alpha (seeds only set how many datasets run at once).");
        int workers = Math.Min(seeds, cores);
        long fit = bytesPerSeed > 0 ? availableBytes / bytesPerSeed : long.MaxValue;
        workers = (int)Math.Max(1, Math.Min(workers, fit));
        return new ParallelPlan(workers, Math.Max(1, cores / workers));
    }
}
