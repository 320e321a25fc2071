using FlatMinima.Numerics;

namespace FlatMinima.Tests.Numerics;

public class RankCorrelationTests
{
    // Hand-computed: x = 1..5, y = (2, 1, 4, 3, 5): Σd² = 1+1+1+1+0 = 4, ρ = 1 − 6·4/(5·24) = 0.8;
    // pairs: 10, discordant (1,2) and (3,4) → C = 8, D = 2, τ = 0.6.
    [Fact]
    public void SpearmanAndKendallOfAHandWorkedExample()
    {
        double[] x = [1, 2, 3, 4, 5], y = [2, 1, 4, 3, 5];
        var s = RankCorrelation.Spearman(x, y);
        var k = RankCorrelation.Kendall(x, y);
        Assert.Equal(0.8, s.Value, 12);
        Assert.Equal(0.6, k.Value, 12);
        // Fisher interval for Spearman: z = atanh(0.8), se = √(1.06/2), 95 %.
        double z = Math.Atanh(0.8), se = Math.Sqrt(1.06 / 2);
        Assert.Equal(Math.Tanh(z - 1.959963984540054 * se), s.Lower, 9);
        Assert.Equal(Math.Tanh(z + 1.959963984540054 * se), s.Upper, 9);
        Assert.Equal(Math.Tanh(Math.Atanh(0.6) + 1.959963984540054 * Math.Sqrt(0.437 / 1)), k.Upper, 9);
    }

    // Ties: x = (1, 1, 2, 3), y = (1, 2, 2, 3): C = 4 (pairs 13, 14, 24, 34), D = 0, ties in x: 1 (12), in y: 1 (23);
    // τ-b = 4/√((6−1)(6−1)) = 0.8.
    [Fact]
    public void KendallTauBCorrectsForTies()
    {
        Assert.Equal(0.8, RankCorrelation.TauB([1, 1, 2, 3], [1, 2, 2, 3]), 12);
        Assert.Equal(-1, RankCorrelation.TauB([1, 2, 3], [3, 2, 1]), 12);
    }

    [Fact]
    public void SmallSamplesHaveNoInterval_AndBadInputIsRejected()
    {
        var s = RankCorrelation.Spearman([1, 2, 3], [1, 2, 3]);
        Assert.Equal(1, s.Value, 12);
        Assert.True(double.IsNaN(s.Lower));
        Assert.Throws<ArgumentException>(() => RankCorrelation.Kendall([1, 2], [1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => RankCorrelation.Spearman([1, 2], [1, 2], level: 1.5));
    }
}
