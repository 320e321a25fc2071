using FlatMinima.Experiments;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace FlatMinima.Plots.Figures;

/// <summary>
/// Figure 5: the Franz–Parisi local entropy of the error-counting loss around references at cosine cos ψ with the BO
/// direction, against the distance d = 2(1 − R): RS theory lines (dotted where the replicon says RS is unstable,
/// docs/theory.md#rs-stability) and Monte Carlo points (docs/flatness.md §4; data: <see cref="FranzParisiCurves"/>).
/// </summary>
public sealed class LocalEntropyFigure : IFigure
{
    public string Name => "fig5_local_entropy";
    public string Caption =>
        "Local entropy excess Phi(d) - (1/2)ln(1 - R^2) of the error-counting loss (beta = 2) around references at cosine " +
        "cos psi with the Bayes-optimal direction, against the squared distance d = 2(1 - R), alpha = 2, Delta = 1, rho = 1/2: " +
        "replica-symmetric Franz-Parisi theory (lines) and Metropolis sampling on the constrained sphere with thermodynamic " +
        "integration (markers, mean ± s.e. over datasets). The closer the reference is to BO, the higher the local entropy. " +
        "Each theory point carries its replicon (de Almeida-Thouless) eigenvalue (CSV column replicon); a point where replica " +
        "symmetry is unstable (replicon <= 0) would be drawn dotted.";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var data = FranzParisiCurves.Compute(options.Pick(120, 50), options.Pick(6, 2), options.Pick(200, 40), options.Seed, options.Threads, progress);
        return From(data);
    }

    /// <summary>The figure of <paramref name="data"/>: plot, table, warnings (including RS-unstable points) and the RS
    /// stability sentence of the caption.</summary>
    public static FigureResult From(FranzParisiCurves data) =>
        new(Draw(data), data.ToTable(), data.Warnings, FigureHelpers.RsFindings(data.Replicons.ToList()));

    /// <summary>The plot of <paramref name="data"/>.</summary>
    public static PlotModel Draw(FranzParisiCurves data)
    {
        var model = FigureStyle.NewModel(legend: LegendPosition.BottomLeft);
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Bottom, "squared distance d = ‖w − w̃‖²/N", 0, 1.5));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "local entropy excess (per N)", -1.2, 0));
        var cosines = FranzParisiCurves.Cosines.ToList();
        bool unstable = false;
        foreach (var (cos, points) in data.Theory)
            unstable |= FigureHelpers.AddRsCurve(model, points.Select(p => p.Converged ? new DataPoint(p.Distance, p.Excess) : (DataPoint?)null).ToList(),
                points.Select(p => p.Replicon).ToList(), FigureStyle.Palette[cosines.IndexOf(cos)], cos == 1 ? "cos ψ = 1 (BO)" : $"cos ψ = {cos:G}");
        if (unstable) FigureHelpers.AddRsUnstableLegend(model);
        for (int c = 0; c < data.Sampling.Count; c++)
        {
            var s = data.Sampling[c];
            var color = FigureStyle.Palette[cosines.IndexOf(s.ReferenceCosine)];
            var pts = new ScatterErrorSeries
            {
                MarkerType = MarkerType.Circle, MarkerSize = 2.4, MarkerFill = color,
                ErrorBarColor = color, ErrorBarStrokeThickness = 0.8, ErrorBarStopWidth = 2,
                Title = c == 0 ? $"sampling, N = {s.N}" : null,
            };
            for (int i = 0; i < s.Overlaps.Count; i++) pts.Points.Add(new ScatterErrorPoint(2 * (1 - s.Overlaps[i]), s.Samples[i].Excess, 0, s.Samples[i].StdError));
            model.Series.Add(pts);
        }
        model.Subtitle = $"α = 2, Δ = 1, ρ = 1/2, β = {FranzParisiCurves.Beta:G}; 0 = perfectly flat";
        model.SubtitleFontSize = 7.5;
        return model;
    }
}
