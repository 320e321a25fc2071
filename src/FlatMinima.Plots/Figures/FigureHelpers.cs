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

    /// <summary>Open diamonds with error bars in <paramref name="color"/>: N → ∞ extrapolations, the bar being the 99 %
    /// half-width of the interval (docs/replica.md#figure-extrapolations).</summary>
    public static ScatterErrorSeries ExtrapolationSeries(OxyColor color, string? title = null) => new()
    {
        MarkerType = MarkerType.Diamond, MarkerSize = 2.8, MarkerFill = OxyColors.White,
        MarkerStroke = color, MarkerStrokeThickness = 0.9,
        ErrorBarColor = color, ErrorBarStrokeThickness = 0.7, ErrorBarStopWidth = 2.5, Title = title,
    };

    /// <summary>The extrapolated points of <paramref name="sim"/> at x·<paramref name="shift"/> (a log axis: beside their
    /// N point, not on it), in the loss's colour.</summary>
    public static ScatterErrorSeries ExtrapolationPoints(ErmSimulation sim, double shift)
    {
        var pts = ExtrapolationSeries(LossColor(sim.Loss));
        foreach (var (x, row) in sim.Extrapolated) pts.Points.Add(new ScatterErrorPoint(x * shift, row.Fit.Intercept, 0, row.HalfWidth));
        return pts;
    }

    /// <summary>A legend entry for the open diamonds of the extrapolations (nothing is drawn in the plot area).</summary>
    public static void AddExtrapolationLegend(PlotModel model) =>
        model.Series.Add(new ScatterSeries
        {
            Title = "N → ∞ (99 %)", MarkerType = MarkerType.Diamond, MarkerSize = 2.8, MarkerFill = OxyColors.White,
            MarkerStroke = OxyColors.Gray, MarkerStrokeThickness = 0.9, Points = { new ScatterPoint(-1e300, -1e300) },
        });

    /// <summary>The sentence of figures/README.md on a figure's extrapolations: what was fitted and how many verdicts
    /// agree, e.g. "N → ∞ extrapolations (a + b/N from N = 100, 200, 400): 18 of 18 agree with the theory within their
    /// 99 % intervals."</summary>
    public static string ExtrapolationFindings(IReadOnlyCollection<FiniteSizeRow> rows)
    {
        if (rows.Count == 0) return "";
        var first = rows.First();
        int agree = rows.Count(r => r.Verdict == FiniteSizeVerdict.Agree);
        int disagree = rows.Count(r => r.Verdict == FiniteSizeVerdict.Disagree);
        int noFit = rows.Count(r => r.Verdict == FiniteSizeVerdict.FormDoesNotFit);
        string law = first.Fit.Form == FiniteSizeForm.InverseN ? "a + b/N" : "a + b/sqrt(N)";
        string text = $"N -> infinity extrapolations ({law} from N = {string.Join(", ", first.Sizes)}): {agree} of {rows.Count} agree with the theory " +
                      $"within their {first.Fit.Confidence * 100:G3} % intervals";
        if (disagree > 0) text += $", {disagree} disagree";
        if (noFit > 0) text += $", {noFit} do not fit {law} (no verdict)";
        return text + ".";
    }

    /// <summary>Draws a replica-symmetric theory curve in one colour: solid where RS is locally stable (replicon Λ &gt; 0,
    /// docs/theory.md#rs-stability), dotted where it is not (joined to the neighbouring stable points); a point that
    /// cannot be drawn (null: not converged) breaks the line. Returns whether any point is drawn dotted.</summary>
    public static bool AddRsCurve(PlotModel model, IReadOnlyList<DataPoint?> points, IReadOnlyList<double> replicons, OxyColor color, string? title,
        double thickness = 1.3)
    {
        bool Unstable(int i) => points[i] is not null && !(replicons[i] > 0);
        var solid = new LineSeries { Color = color, StrokeThickness = thickness, Title = title };
        var dotted = new LineSeries { Color = color, StrokeThickness = thickness, LineStyle = LineStyle.Dot };
        bool any = false;
        for (int i = 0; i < points.Count; i++)
        {
            bool near = Unstable(i) || (i > 0 && Unstable(i - 1)) || (i + 1 < points.Count && Unstable(i + 1));
            solid.Points.Add(points[i] is { } p && !Unstable(i) ? p : DataPoint.Undefined);
            dotted.Points.Add(points[i] is { } q && near ? q : DataPoint.Undefined);
            any |= Unstable(i);
        }
        model.Series.Add(solid);
        if (any) model.Series.Add(dotted);
        return any;
    }

    /// <summary>The sentence of figures/README.md on the RS stability of a figure's replica points, from their replicons:
    /// "Every one of the 240 replica-symmetric points is RS-stable (replicon Λ ≥ 0.786, ...)", or how many are not.</summary>
    public static string RsFindings(IReadOnlyCollection<double> replicons)
    {
        int n = replicons.Count, unstable = replicons.Count(l => !(l > 0));
        // rounded down, so that the printed bound holds
        double floor = Math.Floor(replicons.Where(l => l > 0).DefaultIfEmpty(double.NaN).Min() * 1000) / 1000;
        return unstable == 0
            ? $"Every one of the {n} replica-symmetric points is RS-stable (replicon Lambda >= {floor:F3}, docs/theory.md#rs-stability)."
            : $"{unstable} of the {n} replica-symmetric points are RS-unstable (replicon Lambda <= 0, docs/theory.md#rs-stability; drawn dotted).";
    }

    /// <summary>A legend entry for the dotted RS-unstable parts of theory curves.</summary>
    public static void AddRsUnstableLegend(PlotModel model) => FigureStyle.AddLegendOnlyLine(model, "RS unstable (Λ ≤ 0)", LineStyle.Dot);

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
