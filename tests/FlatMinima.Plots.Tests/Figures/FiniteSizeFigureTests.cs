using FlatMinima.Experiments;
using FlatMinima.Numerics;
using FlatMinima.Plots.Figures;

namespace FlatMinima.Plots.Tests;

/// <summary>The finite-size figure shows exactly the fit's numbers.</summary>
public class FiniteSizeFigureTests
{
    private static FiniteSizeRow Row(FiniteSizeForm form)
    {
        int[] ns = [100, 200, 400, 800];
        var values = ns.Select(n => new Statistic(0.2 + 0.5 * form.X(n), 0.01, 100)).ToArray(); // s.e. 0.001
        var fit = FiniteSizeExtrapolation.Fit(ns.Select(n => (double)n).ToArray(), values.Select(v => v.Mean).ToArray(),
            values.Select(v => v.StdError).ToArray(), form);
        return new FiniteSizeRow("test_error", ns, values, fit, 0.2, 0, FiniteSizeExtrapolation.Judge(fit, 0.2));
    }

    [Theory]
    [InlineData(FiniteSizeForm.InverseN)]
    [InlineData(FiniteSizeForm.InverseSqrtN)]
    public void CsvHoldsThePointsTheFitTheExtrapolationAndTheTheory(FiniteSizeForm form)
    {
        var row = Row(form);
        var fig = FiniteSizeFigure.Build(row, "synthetic");
        var sim = fig.Data.Rows.Where(r => r.Series == "simulation").ToList();
        Assert.Equal(4, sim.Count);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(1.0 / row.Sizes[i], sim[i].Values[0], 15);
            Assert.Equal(row.Values[i].Mean, sim[i].Values[1], 15);
            Assert.Equal(0.001, sim[i].Values[2], 15);   // s.e. = sd/√count = 0.01/10
        }
        // the fit curve passes through the exact points (the data lie on the law) and reaches a at 1/N = 0
        foreach (var r in fig.Data.Rows.Where(r => r.Series == "fit"))
            Assert.Equal(0.2 + 0.5 * (form == FiniteSizeForm.InverseN ? r.Values[0] : Math.Sqrt(r.Values[0])), r.Values[1], 10);
        var ext = fig.Data.Rows.Single(r => r.Series == "extrapolation");
        Assert.Equal(row.Fit.Intercept, ext.Values[1], 15);
        Assert.Equal(0.5 * (row.Fit.IntervalHigh - row.Fit.IntervalLow), ext.Values[2], 15);
        Assert.Equal(0.2, fig.Data.Rows.Single(r => r.Series == "theory").Values[1]);
        Assert.Empty(fig.Warnings);
        Assert.Equal("finite_size_test_error", FiniteSizeFigure.Name("test_error"));
    }
}
