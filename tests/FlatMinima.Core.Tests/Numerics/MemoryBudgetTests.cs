using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Tests.Numerics;

public class MemoryBudgetTests
{
    [Fact]
    public void SizesThatOverflowAnArrayNameTheParameter()
    {
        // N = 40 000 at α = 2: P·N = 3.2e9 values, more than any array holds.
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => MixtureSample.Bytes(new MixtureModel(2, 1, 0.5).AtSize(40_000)));
        Assert.Equal("n", e.ParamName);
        Assert.Contains("3200000000", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => MixtureSample.Sample(new MixtureModel(2, 1, 0.5).AtSize(40_000)));
        // The hinge kernel is P × P: P = 48 000 overflows although X (P × 24 000) would not.
        Assert.Equal("alpha", Assert.Throws<ArgumentOutOfRangeException>(() => Erm.WorkspaceBytes(48_000, 24_000, HingeLoss.Instance)).ParamName);
        Assert.Equal(8L * 16000 * 8000 + 8L * (16000 + 8000), MixtureSample.Bytes(new MixtureModel(2, 1, 0.5).AtSize(8000)));
    }

    [Fact]
    public void WorkspaceEstimatesFollowTheSolver()
    {
        // P > N: one N × N Gram; P ≤ N: one P × P Gram; hinge: the P × P kernel; smooth losses: vectors only.
        // OpenBLAS adds one block of centred rows (≤ 32 MiB); the managed kernels a centred copy of X and
        // MathNet's copy of the matrix it factors.
        long vectors = Erm.WorkspaceBytes(16000, 8000, LogisticLoss.Instance);
        Assert.InRange(vectors, 1, 8L * 50 * 16000);
        Assert.Equal(8L * 16000 * 16000, Erm.WorkspaceBytes(16000, 8000, HingeLoss.Instance) - vectors);
        const long gram = 8L * 8000 * 8000, x = 8L * 16000 * 8000, dualGram = 8L * 500 * 500;
        using (LinearAlgebra.Use(LinearAlgebra.Managed))
        {
            Assert.Equal(2 * gram + x, Erm.WorkspaceBytes(16000, 8000, SquareLoss.Instance) - vectors);
            Assert.Equal(2 * dualGram + 8L * 500 * 1000,
                Erm.WorkspaceBytes(500, 1000, SquareLoss.Instance) - Erm.WorkspaceBytes(500, 1000, LogisticLoss.Instance));
        }
        if (LinearAlgebra.OpenBlas is { } blas)
            using (LinearAlgebra.Use(blas))
            {
                Assert.InRange(Erm.WorkspaceBytes(16000, 8000, SquareLoss.Instance) - vectors, gram, gram + (32L << 20));
                Assert.InRange(Erm.WorkspaceBytes(500, 1000, SquareLoss.Instance) - Erm.WorkspaceBytes(500, 1000, LogisticLoss.Instance),
                    dualGram, dualGram + 8L * 500 * 1000);
            }
    }

    [Theory]
    // seeds, cores, bytes per seed, available → workers, threads per solve
    [InlineData(8, 2, 100, 10_000, 2, 1)]     // more seeds than cores: seeds in parallel, one thread each
    [InlineData(1, 2, 100, 10_000, 1, 2)]     // one seed: both cores inside the solve
    [InlineData(3, 8, 100, 10_000, 3, 2)]     // 3 seeds on 8 cores: 2 threads each
    [InlineData(8, 4, 100, 250, 2, 2)]        // memory for two at once: two seeds, the other cores to their solves
    [InlineData(8, 1, 100, 10_000, 1, 1)]     // one core: sequential
    public void PlanSharesCoresWithinMemory(int seeds, int cores, long bytes, long available, int workers, int threads) =>
        Assert.Equal(new ParallelPlan(workers, threads), ParallelPlan.Choose(seeds, cores, bytes, available, "test"));

    [Fact]
    public void PlanRefusesWhatCannotFitWithTheEstimate()
    {
        var e = Assert.Throws<ProblemTooLargeException>(() =>
            ParallelPlan.Choose(2, 2, 3_000_000_000, 2_000_000_000, "n = 8000, alpha = 2 (P = 16000)"));
        Assert.Equal("n", e.ParamName);
        Assert.Equal(3_000_000_000, e.RequiredBytes);
        Assert.Contains("3 GB", e.Message);
        Assert.Contains("2 GB is available", e.Message);
        Assert.Contains("n = 8000, alpha = 2", e.Message);
        Assert.IsAssignableFrom<ArgumentException>(e); // the CLI's one-line error with exit code 2
        Assert.Throws<ProblemTooLargeException>(() => MemoryBudget.Require(long.MaxValue / 2, "a test"));
    }
}
