using FlatMinima.Experiments;
using OxyPlot;
using OxyPlot.Annotations;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace FlatMinima.Plots.Figures;

/// <summary>
/// Figures of the flatness probes of a trained network, drawn from the CSV files the probes write (FlatMinima.Torch
/// <c>SpectralDensityResult.DensityCsv</c>, <c>InterpolationResult.ToCsv</c>, <c>SurfaceResult.ToCsv</c>) in the
/// figures' data folder:
/// <list type="bullet">
/// <item><c>hessian_density_LABEL.csv</c> (<c>eigenvalue,density[,density_se][,width]</c>): every file one curve of
/// figure 8a (densities are comparable only at one broadening width σ: a warning says when they differ);</item>
/// <item><c>landscape_line_LABEL.csv</c> (<c>t,train_loss,train_error,test_loss,test_error</c>, errors as
/// fractions): one figure 8b per file;</item>
/// <item><c>landscape_surface_LABEL.csv</c> (<c>alpha,beta,loss,error</c>): one figure 8c per file.</item>
/// </list>
/// The builders also take the numbers directly (<see cref="Density"/>, <see cref="Line"/>, <see cref="Surface"/>), so a
/// caller that has just run a probe can draw it without a file.
/// </summary>
public static class ProbeFigures
{
    /// <summary>Densities below this fraction of the largest are not drawn on the logarithmic axis (they are kept in
    /// the CSV): the Gaussian broadening makes the tails arbitrarily small.</summary>
    public const double DensityFloor = 1e-6;

    /// <summary>The figures the data folder supports (none when it holds no probe files).</summary>
    public static IReadOnlyList<IFigure> For(string dataDirectory)
    {
        var figs = new List<IFigure>();
        if (!Directory.Exists(dataDirectory)) return figs;
        var densities = Files(dataDirectory, "hessian_density_");
        if (densities.Count > 0) figs.Add(new SpectralDensityFigure(densities));
        foreach (var (label, path) in Files(dataDirectory, "landscape_line_")) figs.Add(new LandscapeLineFigure(label, path));
        foreach (var (label, path) in Files(dataDirectory, "landscape_surface_")) figs.Add(new LandscapeSurfaceFigure(label, path));
        return figs;
    }

    private static List<(string Label, string Path)> Files(string dir, string prefix) =>
        Directory.GetFiles(dir, prefix + "*.csv").Order(StringComparer.Ordinal)
            .Select(p => (Path.GetFileNameWithoutExtension(p)[prefix.Length..], p)).ToList();

    /// <summary>Reads one of the probe CSV files (header row, numbers; an empty cell is NaN).</summary>
    internal static Dictionary<string, double[]> ReadColumns(string path, params string[] required)
    {
        var table = Csv.Read(path);
        foreach (var c in required) table.Column(c);
        if (table.Rows.Count == 0) throw new InvalidDataException($"{path}: no data rows.");
        return table.Header.ToDictionary(h => h, h => Enumerable.Range(0, table.Rows.Count).Select(r => table.Double(r, h) ?? double.NaN).ToArray());
    }

    /// <summary>Figure 8a: Hessian spectral densities (log density against eigenvalue), one curve per model.</summary>
    public static FigureResult Density(IReadOnlyList<(string Label, double[] Eigenvalue, double[] Density, double Width)> curves)
    {
        var model = FigureStyle.NewModel(legend: LegendPosition.TopRight);
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Bottom, "Hessian eigenvalue λ"));
        model.Axes.Add(FigureStyle.Log(AxisPosition.Left, "spectral density ρ(λ)"));
        var data = new SeriesTable("eigenvalue", "density", "width");
        var warnings = new List<string>();
        var widths = curves.Select(c => c.Width).Where(double.IsFinite).Distinct().ToList();
        if (widths.Count > 1)
            warnings.Add($"the densities were broadened with different widths ({string.Join(", ", widths.Select(w => w.ToString("G3")))}): their shapes are not comparable; recompute them with one SlqOptions.Width");
        for (int c = 0; c < curves.Count; c++)
        {
            var (label, x, y, width) = curves[c];
            if (x.Length != y.Length) throw new ArgumentException($"curve '{label}': {x.Length} eigenvalues but {y.Length} densities.");
            double floor = DensityFloor * y.Where(double.IsFinite).DefaultIfEmpty(0).Max();
            var line = new LineSeries { Title = double.IsFinite(width) ? $"{label} (σ = {width:G2})" : label, Color = FigureStyle.Palette[c % FigureStyle.Palette.Length], StrokeThickness = 1.1 };
            for (int i = 0; i < x.Length; i++)
            {
                line.Points.Add(y[i] > floor ? new DataPoint(x[i], y[i]) : DataPoint.Undefined);
                data.Add(label, [x[i], y[i], width], y[i] > floor ? "" : "below the drawing floor");
            }
            model.Series.Add(line);
        }
        model.Subtitle = $"stochastic Lanczos quadrature; drawn down to {DensityFloor:G1} × the maximum";
        model.SubtitleFontSize = 7.5;
        return new FigureResult(model, data, warnings);
    }

    /// <summary>Figure 8b: training and test loss (left axis) and error in % (right axis) along the line
    /// w(t) = (1 − t) w_A + t w_B; the two models are marked at t = 0 and t = 1.</summary>
    public static FigureResult Line(string label, double[] t, double[] trainLoss, double[] trainError, double[] testLoss, double[] testError)
    {
        var model = FigureStyle.NewModel(legend: LegendPosition.TopCenter);
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Bottom, "interpolation t"));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "loss"));
        var err = FigureStyle.Linear(AxisPosition.Right, "error (%)");
        err.Key = "error";
        err.AxisTitleDistance = 6;
        model.Axes.Add(err);
        var data = new SeriesTable("t", "loss", "error_pct");
        void Add(string name, double[] y, bool isError, LineStyle style, OxyColor color)
        {
            if (y.All(double.IsNaN)) return;
            var s = new LineSeries { Title = name, Color = color, LineStyle = style, StrokeThickness = 1.2 };
            if (isError) s.YAxisKey = "error";
            for (int i = 0; i < t.Length; i++)
            {
                double v = isError ? 100 * y[i] : y[i];
                s.Points.Add(double.IsFinite(v) ? new DataPoint(t[i], v) : DataPoint.Undefined);
                data.Add(name, isError ? [t[i], double.NaN, v] : [t[i], v, double.NaN]);
            }
            model.Series.Add(s);
        }
        Add("train loss", trainLoss, false, LineStyle.Solid, FigureStyle.Palette[0]);
        Add("test loss", testLoss, false, LineStyle.Solid, FigureStyle.Palette[1]);
        Add("train error", trainError, true, LineStyle.Dash, FigureStyle.Palette[0]);
        Add("test error", testError, true, LineStyle.Dash, FigureStyle.Palette[1]);
        foreach (var (x, name) in new[] { (0.0, "A"), (1.0, "B") })
            model.Annotations.Add(new LineAnnotation
            {
                Type = LineAnnotationType.Vertical, X = x, Color = OxyColors.Gray, LineStyle = LineStyle.Dot, StrokeThickness = 1,
                Text = name, TextColor = OxyColors.DimGray, FontSize = 7, TextOrientation = AnnotationTextOrientation.Horizontal,
            });
        model.Subtitle = label;
        model.SubtitleFontSize = 7.5;
        return new FigureResult(model, data, []);
    }

    /// <summary>Figure 8c: the loss surface around a model as a heat map with contour lines, on the (α, β) grid of
    /// two filter-normalised directions; the model is the centre (0, 0). The grid may come in any order but must be
    /// complete.</summary>
    public static FigureResult Surface(string label, double[] alpha, double[] beta, double[] loss)
    {
        var xs = alpha.Distinct().Order().ToArray();
        var ys = beta.Distinct().Order().ToArray();
        if (xs.Length * ys.Length != loss.Length || xs.Length < 2 || ys.Length < 2)
            throw new InvalidDataException($"surface '{label}': {loss.Length} points do not fill a {xs.Length} × {ys.Length} grid.");
        var z = new double[xs.Length, ys.Length];
        var filled = new bool[xs.Length, ys.Length];
        for (int k = 0; k < loss.Length; k++)
        {
            int i = Array.IndexOf(xs, alpha[k]), j = Array.IndexOf(ys, beta[k]);
            z[i, j] = loss[k];
            filled[i, j] = true;
        }
        if (filled.Cast<bool>().Any(f => !f)) throw new InvalidDataException($"surface '{label}': the (α, β) grid has a missing point.");
        var model = FigureStyle.NewModel(legend: LegendPosition.TopRight);
        model.IsLegendVisible = false;
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Bottom, "direction 1, α", xs[0], xs[^1]));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "direction 2, β", ys[0], ys[^1]));
        model.Axes.Add(new LinearColorAxis { Position = AxisPosition.Right, Palette = OxyPalettes.Viridis(200), Title = "loss", FontSize = 7.5, TitleFontSize = 8.5 });
        model.Series.Add(new HeatMapSeries { X0 = xs[0], X1 = xs[^1], Y0 = ys[0], Y1 = ys[^1], Data = z, Interpolate = true, RenderMethod = HeatMapRenderMethod.Bitmap });
        // Ten evenly spaced contour levels between the smallest and the largest loss, every second one labelled.
        double zmin = z.Cast<double>().Min(), zmax = z.Cast<double>().Max();
        var levels = Enumerable.Range(1, 10).Select(k => zmin + (zmax - zmin) * k / 11).ToArray();
        model.Series.Add(new ContourSeries
        {
            ColumnCoordinates = xs, RowCoordinates = ys, Data = z, Color = OxyColors.White, StrokeThickness = 0.6,
            ContourLevels = levels, LabelStep = 2, LabelFormatString = "G2",
            FontSize = 6, LabelBackground = OxyColors.Undefined, TextColor = OxyColors.White,
        });
        model.Annotations.Add(new PointAnnotation { X = 0, Y = 0, Shape = MarkerType.Cross, Size = 4, Stroke = OxyColors.White, StrokeThickness = 1.2 });
        var data = new SeriesTable("alpha", "beta", "loss");
        for (int i = 0; i < xs.Length; i++) for (int j = 0; j < ys.Length; j++) data.Add(label, [xs[i], ys[j], z[i, j]]);
        model.Subtitle = $"{label}: loss around the model (centre) along filter-normalised directions";
        model.SubtitleFontSize = 7.5;
        return new FigureResult(model, data, []);
    }
}

/// <summary>Figure 8a from <c>hessian_density_*.csv</c> files: one curve per file, labelled by the file name.</summary>
public sealed class SpectralDensityFigure(IReadOnlyList<(string Label, string Path)> files) : IFigure
{
    public string Name => "fig8a_hessian_density";
    public string Caption =>
        "Deep networks: Hessian spectral density of the training loss of each recorded model (stochastic Lanczos " +
        "quadrature with Gaussian broadening, log scale; data: figures/data/hessian_density_*.csv).";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var curves = files.Select(f =>
        {
            var c = ProbeFigures.ReadColumns(f.Path, "eigenvalue", "density");
            return (f.Label, c["eigenvalue"], c["density"], c.TryGetValue("width", out var w) ? w[0] : double.NaN);
        }).ToList();
        progress?.Invoke(1);
        return ProbeFigures.Density(curves);
    }
}

/// <summary>Figure 8b from one <c>landscape_line_LABEL.csv</c>.</summary>
public sealed class LandscapeLineFigure(string label, string path) : IFigure
{
    public string Name => $"fig8b_landscape_line_{DeepNetworkFigures.Slug(label)}";
    public string Caption =>
        $"Deep networks, {label}: training and test loss and error along the straight line between two trained models " +
        "(t = 0 and t = 1), extended beyond them (data: figures/data/landscape_line_" + label + ".csv).";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var c = ProbeFigures.ReadColumns(path, "t", "train_loss", "train_error", "test_loss", "test_error");
        progress?.Invoke(1);
        return ProbeFigures.Line(label, c["t"], c["train_loss"], c["train_error"], c["test_loss"], c["test_error"]);
    }
}

/// <summary>Figure 8c from one <c>landscape_surface_LABEL.csv</c>.</summary>
public sealed class LandscapeSurfaceFigure(string label, string path) : IFigure
{
    public string Name => $"fig8c_landscape_surface_{DeepNetworkFigures.Slug(label)}";
    public string Caption =>
        $"Deep networks, {label}: training loss on a grid around the model along two filter-normalised random " +
        "directions (Li et al.), biases and BatchNorm parameters fixed (data: figures/data/landscape_surface_" + label + ".csv).";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var c = ProbeFigures.ReadColumns(path, "alpha", "beta", "loss");
        progress?.Invoke(1);
        return ProbeFigures.Surface(label, c["alpha"], c["beta"], c["loss"]);
    }
}
