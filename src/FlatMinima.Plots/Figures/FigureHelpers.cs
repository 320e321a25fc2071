using FlatMinima.Experiments;
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

    /// <summary>Draws a theory curve of fixed points; points that did not converge are not joined to their neighbours
    /// (the curve's table marks them and its warnings report them, so nothing is dropped silently).</summary>
    public static void AddTheoryCurve(PlotModel model, ErmTheoryCurve curve, OxyColor color, LineStyle style, string? title, double thickness = 1.3)
    {
        var line = new LineSeries { Color = color, LineStyle = style, StrokeThickness = thickness, Title = title };
        for (int i = 0; i < curve.Points.Count; i++)
            line.Points.Add(curve.Drawable(i) ? new DataPoint(curve.X[i], curve.Points[i].TestError) : DataPoint.Undefined);
        model.Series.Add(line);
    }

    /// <summary>Draws the simulation points of <paramref name="sim"/> with error bars in the loss's colour and marker.</summary>
    public static ScatterErrorSeries SimulationPoints(ErmSimulation sim, string? title = null)
    {
        var pts = SimulationSeries(sim.Loss, title);
        for (int i = 0; i < sim.X.Count; i++) pts.Points.Add(new ScatterErrorPoint(sim.X[i], sim.TestErrors[i].Mean, 0, sim.TestErrors[i].StdError));
        return pts;
    }

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
