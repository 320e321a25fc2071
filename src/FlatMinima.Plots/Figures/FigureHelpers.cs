using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;
using OxyPlot;
using OxyPlot.Annotations;
using OxyPlot.Series;

namespace FlatMinima.Plots.Figures;

/// <summary>Shared pieces of the theory-versus-simulation figures.</summary>
internal static class FigureHelpers
{
    /// <summary>Colour of each shipped loss, the same in every figure.</summary>
    public static OxyColor LossColor(string loss) => loss switch
    {
        "square" => FigureStyle.Palette[0],
        "logistic" => FigureStyle.Palette[1],
        "hinge" => FigureStyle.Palette[2],
        _ => FigureStyle.Palette[3],
    };

    /// <summary>Marker of each shipped loss.</summary>
    public static MarkerType LossMarker(string loss) => loss switch
    {
        "square" => MarkerType.Circle,
        "logistic" => MarkerType.Square,
        "hinge" => MarkerType.Triangle,
        _ => MarkerType.Diamond,
    };

    /// <summary>
    /// Adds a theory curve of fixed points; points that did not converge are not joined to their neighbours, are
    /// marked in the CSV and produce a warning, so nothing is dropped silently.
    /// </summary>
    public static void AddTheoryCurve(PlotModel model, CsvTable data, List<string> warnings, string series,
        IReadOnlyList<ErmFixedPoint> points, Func<ErmFixedPoint, double> x, OxyColor color, LineStyle style,
        string? title, double thickness = 1.3)
    {
        var line = new LineSeries { Color = color, LineStyle = style, StrokeThickness = thickness, Title = title };
        foreach (var fp in points)
        {
            if (!fp.Converged || !double.IsFinite(fp.TestError))
            {
                line.Points.Add(DataPoint.Undefined);
                data.Add(series, [x(fp), fp.TestError, double.NaN, fp.Problem.Lambda, fp.Problem.Rho], "not converged: " + fp.Reason);
                warnings.Add($"{series}: fixed point at x = {x(fp):G4} did not converge ({fp.Reason}); marked in the CSV");
                continue;
            }
            line.Points.Add(new DataPoint(x(fp), fp.TestError));
            data.Add(series, [x(fp), fp.TestError, double.NaN, fp.Problem.Lambda, fp.Problem.Rho]);
        }
        model.Series.Add(line);
    }

    /// <summary>Runs the finite-N simulation of one ERM point; returns the test-error statistic.</summary>
    public static Statistic Simulate(IMarginLoss loss, double alpha, double delta, double lambda, double rho, int n,
        int seeds, FigureOptions options, bool exactLabels = false) =>
        MonteCarlo.Run(new MixtureSpec(new MixtureModel(alpha, delta, rho), n, options.Seed, ExactLabelCounts: exactLabels), seeds,
            EstimatorKind.Erm(loss, lambda), options.Threads).TestError;

    /// <summary>A scatter series with error bars in the loss's colour and marker.</summary>
    public static ScatterErrorSeries SimulationSeries(string loss, string? title) => new()
    {
        MarkerType = LossMarker(loss), MarkerSize = 2.4, MarkerFill = LossColor(loss),
        MarkerStroke = OxyColors.Black, MarkerStrokeThickness = 0.4,
        ErrorBarColor = LossColor(loss), ErrorBarStrokeThickness = 0.8, ErrorBarStopWidth = 2, Title = title,
    };

    /// <summary>A horizontal reference line (e.g. ε_BO) across the whole x range, with a legend entry.</summary>
    public static void AddHorizontal(PlotModel model, double y, double xmin, double xmax, string title, OxyColor color, LineStyle style) =>
        model.Series.Add(new LineSeries
        {
            Title = title, Color = color, LineStyle = style, StrokeThickness = 1,
            Points = { new DataPoint(xmin, y), new DataPoint(xmax, y) },
        });

    /// <summary>A labelled vertical marker (e.g. the separability threshold).</summary>
    public static void AddVertical(PlotModel model, double x, string label) =>
        model.Annotations.Add(new LineAnnotation
        {
            Type = LineAnnotationType.Vertical, X = x, Color = OxyColors.Gray, LineStyle = LineStyle.Dot,
            StrokeThickness = 1, Text = label, TextColor = OxyColors.DimGray, FontSize = 7,
            TextOrientation = AnnotationTextOrientation.Vertical, TextLinePosition = 0.02,
            TextHorizontalAlignment = HorizontalAlignment.Left, TextVerticalAlignment = VerticalAlignment.Top,
        });
}
