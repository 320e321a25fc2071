using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;

namespace FlatMinima.Plots;

/// <summary>
/// The house style: single-column figures (3.4 in × 2.6 in) in DejaVu Sans, which has every Greek letter the theory's
/// symbols need. OxyPlot renders <c>^{…}</c> and <c>_{…}</c> in axis titles as super- and subscripts.
/// </summary>
public static class FigureStyle
{
    /// <summary>The explicit font family (Debian package fonts-dejavu-core).</summary>
    public const string Font = "DejaVu Sans";
    /// <summary>Width in inches of a single-column figure.</summary>
    public const double WidthInches = 3.4;
    /// <summary>Height in inches.</summary>
    public const double HeightInches = 2.6;

    /// <summary>A colour-blind-safe palette (Okabe–Ito).</summary>
    public static readonly OxyColor[] Palette =
    [
        OxyColor.FromRgb(0, 114, 178), OxyColor.FromRgb(213, 94, 0), OxyColor.FromRgb(0, 158, 115),
        OxyColor.FromRgb(204, 121, 167), OxyColor.FromRgb(230, 159, 0), OxyColor.FromRgb(86, 180, 233),
        OxyColor.FromRgb(0, 0, 0), OxyColor.FromRgb(240, 228, 66),
    ];

    /// <summary>A new plot model in the house style with a legend inside the top-right corner.</summary>
    public static PlotModel NewModel(string? title = null, LegendPosition legend = LegendPosition.TopRight)
    {
        var m = new PlotModel
        {
            DefaultFont = Font,
            DefaultFontSize = 8,
            TitleFontSize = 9,
            TitleFontWeight = FontWeights.Normal,
            PlotAreaBorderThickness = new OxyThickness(0.8),
            Padding = new OxyThickness(4, 4, 8, 4),
            Background = OxyColors.White,
            DefaultColors = Palette,
        };
        if (title is not null) m.Title = title;
        m.Legends.Add(new Legend
        {
            LegendPosition = legend,
            LegendPlacement = LegendPlacement.Inside,
            LegendFontSize = 7,
            LegendBackground = OxyColor.FromAColor(220, OxyColors.White),
            LegendBorder = OxyColors.Undefined,
            LegendPadding = 3,
            LegendItemSpacing = 6,
            LegendSymbolLength = 24,
            LegendMargin = 4,
        });
        return m;
    }

    /// <summary>
    /// Adds a grey legend entry explaining a line style. Its single point lies far outside any axis range (OxyPlot
    /// draws the legend symbol of an empty series without its dash pattern), so nothing shows in the plot area.
    /// </summary>
    public static void AddLegendOnlyLine(PlotModel model, string title, LineStyle style) =>
        model.Series.Add(new OxyPlot.Series.LineSeries
        {
            Title = title, Color = OxyColors.Gray, LineStyle = style, StrokeThickness = 1.3,
            Points = { new DataPoint(-1e300, -1e300), new DataPoint(-1e300 * 0.5, -1e300) },
        });

    /// <summary>A linear axis with the house tick style.</summary>
    public static LinearAxis Linear(AxisPosition position, string title, double? min = null, double? max = null) =>
        Style(new LinearAxis { Position = position, Title = title }, min, max);

    /// <summary>A logarithmic axis with the house tick style.</summary>
    public static LogarithmicAxis Log(AxisPosition position, string title, double? min = null, double? max = null) =>
        Style(new LogarithmicAxis { Position = position, Title = title, UseSuperExponentialFormat = false }, min, max);

    private static T Style<T>(T axis, double? min, double? max) where T : Axis
    {
        axis.TickStyle = TickStyle.Inside;
        axis.MajorGridlineStyle = LineStyle.None;
        axis.AxisTitleDistance = 2;
        axis.TitleFontSize = 8.5;
        axis.FontSize = 7.5;
        if (min.HasValue) axis.Minimum = min.Value;
        if (max.HasValue) axis.Maximum = max.Value;
        return axis;
    }
}
