using FlatMinima.Experiments;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace FlatMinima.Plots.Figures;

/// <summary>
/// The figure of one observable of a finite-size extrapolation (<see cref="FiniteSizeExtrapolation"/>): the simulation
/// means against 1/N with their standard errors, the fitted law a + b·x(N) (a curve in 1/N when x = 1/√N), the
/// extrapolated value at 1/N = 0 with its confidence interval, and the replica value there.
/// </summary>
public static class FiniteSizeFigure
{
    /// <summary>File stem for an observable: "finite_size_{observable}".</summary>
    public static string Name(string observable) => $"finite_size_{observable}";

    /// <summary>Builds the plot and the CSV of exactly its numbers (columns inverse_n, value, error, n; error is the
    /// standard error of a simulation point, the interval half-width of the extrapolation, empty otherwise).</summary>
    /// <param name="row">One observable of a <see cref="FiniteSizeResult"/>.</param>
    /// <param name="subtitle">The problem, e.g. "square, α = 2, Δ = 1, λ = 1, ρ = 0.5".</param>
    public static FigureResult Build(FiniteSizeRow row, string subtitle)
    {
        ArgumentNullException.ThrowIfNull(row);
        var fit = row.Fit;
        var model = FigureStyle.NewModel(legend: LegendPosition.TopLeft);
        double xmax = 1.1 / row.Sizes.Min();
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Bottom, "1/N", 0, xmax));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, row.Observable.Replace('_', ' ')));
        var data = new SeriesTable("inverse_n", "value", "error", "n");
        var warnings = new List<string>();

        var sim = new ScatterErrorSeries
        {
            Title = "simulation (mean ± s.e.)", MarkerType = MarkerType.Circle, MarkerSize = 2.6, MarkerFill = FigureStyle.Palette[0],
            MarkerStroke = OxyColors.Black, MarkerStrokeThickness = 0.4, ErrorBarColor = FigureStyle.Palette[0],
            ErrorBarStrokeThickness = 0.8, ErrorBarStopWidth = 2,
        };
        for (int i = 0; i < row.Sizes.Count; i++)
        {
            sim.Points.Add(new ScatterErrorPoint(1.0 / row.Sizes[i], row.Values[i].Mean, 0, row.Values[i].StdError));
            data.Add("simulation", [1.0 / row.Sizes[i], row.Values[i].Mean, row.Values[i].StdError, row.Sizes[i]]);
        }

        var line = new LineSeries { Title = $"fit a + b·{(fit.Form == FiniteSizeForm.InverseN ? "1/N" : "1/√N")}", Color = FigureStyle.Palette[0], StrokeThickness = 1.2 };
        const int samples = 60;
        for (int k = 0; k <= samples; k++)
        {
            double x = xmax * k / samples;
            double y = fit.Intercept + fit.Slope * (fit.Form == FiniteSizeForm.InverseN ? x : Math.Sqrt(x));
            line.Points.Add(new DataPoint(x, y));
            data.Add("fit", [x, y, double.NaN, x > 0 ? 1 / x : double.PositiveInfinity]);
        }
        model.Series.Add(line);
        model.Series.Add(sim);

        double half = 0.5 * (fit.IntervalHigh - fit.IntervalLow);
        model.Series.Add(new ScatterErrorSeries
        {
            Title = $"N → ∞: {fit.Confidence:P0} interval", MarkerType = MarkerType.Square, MarkerSize = 2.8, MarkerFill = FigureStyle.Palette[1],
            MarkerStroke = OxyColors.Black, MarkerStrokeThickness = 0.4, ErrorBarColor = FigureStyle.Palette[1],
            ErrorBarStrokeThickness = 1, ErrorBarStopWidth = 3,
            Points = { new ScatterErrorPoint(0, fit.Intercept, 0, half) },
        });
        data.Add("extrapolation", [0, fit.Intercept, half, double.PositiveInfinity], $"{fit.Confidence:G3} interval half-width in error");
        if (double.IsFinite(row.Theory))
        {
            model.Series.Add(new ScatterSeries
            {
                Title = "replica theory", MarkerType = MarkerType.Diamond, MarkerSize = 4, MarkerFill = OxyColors.Black,
                Points = { new ScatterPoint(0, row.Theory) },
            });
            data.Add("theory", [0, row.Theory, double.NaN, double.PositiveInfinity]);
        }
        else warnings.Add($"{row.Observable}: no theory value");
        if (row.Verdict != FiniteSizeVerdict.Agree) warnings.Add($"{row.Observable}: {row.Verdict}");
        model.Subtitle = $"{subtitle}; χ²/dof = {fit.ChiSquare:G3}/{fit.DegreesOfFreedom}, p = {fit.PValue:G2}; {row.Verdict}";
        model.SubtitleFontSize = 7;
        return new FigureResult(model, data, warnings);
    }
}
