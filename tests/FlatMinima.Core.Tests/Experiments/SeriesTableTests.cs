using System.Globalization;
using FlatMinima.Experiments;

namespace FlatMinima.Tests.Experiments;

public class SeriesTableTests
{
    [Fact]
    public void CsvNumbersRoundTripExactly()
    {
        var t = new SeriesTable("x");
        t.Add("s", [0.1 + 0.2]);
        t.Add("s", [double.NaN], "did not converge");
        var lines = t.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(0.1 + 0.2, double.Parse(lines[1].Split(',')[1], CultureInfo.InvariantCulture));
        Assert.Equal("s,,did not converge", lines[2]);
    }

    [Fact]
    public void RowsMustFillTheValueColumns()
    {
        var t = new SeriesTable("a", "b");
        Assert.Equal(["series", "a", "b", "note"], t.Columns);
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => t.Add("s", [1.0])).ParamName);
        t.Add("s", [1.0, 2.5]);
        Assert.Equal(new SeriesRow("s", [1.0, 2.5]).Series, t.Rows[0].Series);
        Assert.Equal("series,a,b,note\ns,1,2.5,\n", t.ToCsv().Replace("\r", ""));
    }

    [Fact]
    public void ErmCurveRowsMarkEveryPointThatDidNotConvergeAndWarn()
    {
        // a fixed point stopped after 2 iterations: kept in the table with its reason, and reported, never dropped
        var problem = new FlatMinima.Replica.ErmProblem(FlatMinima.Losses.LogisticLoss.Instance, new FlatMinima.Mixture.MixtureModel(2, 1, 0.25), 0.1);
        var stopped = new FlatMinima.Replica.ErmSaddlePoint(problem, new FlatMinima.Replica.ErmSaddlePointOptions(
            new FlatMinima.Replica.SaddlePointOptions(MaxIterations: 2), Continuation: false)).TrySolve();
        var done = FlatMinima.Replica.ErmSaddlePoint.Solve(problem);
        Assert.False(stopped.Converged);
        var curve = new ErmTheoryCurve("theory logistic", "logistic", [1, 2], [done, stopped]);
        var t = new SeriesTable("x", "test_error", "test_error_se", "lambda", "rho");
        curve.AddTo(t);
        Assert.Equal("", t.Rows[0].Note);
        Assert.StartsWith("not converged: ", t.Rows[1].Note);
        Assert.Equal([2, stopped.TestError, double.NaN, 0.1, 0.25], t.Rows[1].Values);
        Assert.Single(curve.Warnings);
        Assert.Contains("x = 2", curve.Warnings.Single());
    }
}
