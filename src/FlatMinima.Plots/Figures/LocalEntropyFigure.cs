using FlatMinima.Flatness;
using FlatMinima.Mixture;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace FlatMinima.Plots.Figures;

/// <summary>
/// Figure 5: the Franz–Parisi local entropy of the error-counting loss around references at cosine cos ψ with the BO
/// direction, against the distance d = 2(1 − R): RS theory lines and Monte Carlo points (docs/flatness.md §4).
/// </summary>
public sealed class LocalEntropyFigure : IFigure
{
    public string Name => "fig5_local_entropy";
    public string Caption =>
        "Local entropy excess Phi(d) - (1/2)ln(1 - R^2) of the error-counting loss (beta = 2) around references at cosine " +
        "cos psi with the Bayes-optimal direction, against the squared distance d = 2(1 - R), alpha = 2, Delta = 1, rho = 1/2: " +
        "replica-symmetric Franz-Parisi theory (lines) and Metropolis sampling on the constrained sphere with thermodynamic " +
        "integration (markers, mean ± s.e. over datasets). The closer the reference is to BO, the higher the local entropy.";

    internal const double Alpha = 2, Delta = 1, Beta = 2;
    internal static readonly double[] Cosines = [1, 0.9, 0.8, 0.7];
    internal static readonly double[] SampleCosines = [1, 0.8];
    internal static readonly double[] SampleOverlaps = [0.3, 0.6, 0.9];

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var model = FigureStyle.NewModel(legend: LegendPosition.BottomLeft);
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Bottom, "squared distance d = ‖w − w̃‖²/N", 0, 1.5));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "local entropy excess (per N)", -1.2, 0));
        var data = new CsvTable("distance", "excess", "excess_se", "reference_cosine", "overlap_r");
        var warnings = new List<string>();
        var overlaps = Enumerable.Range(0, 60).Select(i => 0.25 + 0.74 * i / 59).ToArray();
        int done = 0, total = Cosines.Length + SampleCosines.Length * SampleOverlaps.Length;
        for (int c = 0; c < Cosines.Length; c++)
        {
            double cos = Cosines[c];
            var problem = new FranzParisiProblem(new MixtureModel(Alpha, Delta, 0.5), Beta, cos);
            var line = new LineSeries { Title = cos == 1 ? "cos ψ = 1 (BO)" : $"cos ψ = {cos:G}", Color = FigureStyle.Palette[c], StrokeThickness = 1.3 };
            foreach (var p in FranzParisiLocalEntropy.Curve(problem, overlaps))
            {
                if (!p.Converged)
                {
                    line.Points.Add(DataPoint.Undefined);
                    data.Add($"theory cos={cos:G}", [p.Distance, p.Excess, double.NaN, cos, p.R], "not converged");
                    warnings.Add($"Franz-Parisi point cos={cos:G} R={p.R:G4} did not converge; marked in the CSV");
                    continue;
                }
                line.Points.Add(new DataPoint(p.Distance, p.Excess));
                data.Add($"theory cos={cos:G}", [p.Distance, p.Excess, double.NaN, cos, p.R]);
            }
            model.Series.Add(line);
            progress?.Invoke(++done / (double)total);
        }
        int n = options.Pick(120, 50), seeds = options.Pick(6, 2), sweeps = options.Pick(200, 40);
        for (int c = 0; c < SampleCosines.Length; c++)
        {
            double cos = SampleCosines[c];
            int color = Array.IndexOf(Cosines, cos);
            var pts = new ScatterErrorSeries
            {
                MarkerType = MarkerType.Circle, MarkerSize = 2.4, MarkerFill = FigureStyle.Palette[color],
                ErrorBarColor = FigureStyle.Palette[color], ErrorBarStrokeThickness = 0.8, ErrorBarStopWidth = 2,
                Title = c == 0 ? $"sampling, N = {n}" : null,
            };
            foreach (var r in SampleOverlaps)
            {
                var s = FranzParisiLocalEntropy.Sample(new MixtureSpec(new MixtureModel(Alpha, Delta, 0.5), n, options.Seed), cos, r, Beta, seeds,
                    sweeps, sweeps / 2, maxParallelism: options.Threads);
                pts.Points.Add(new ScatterErrorPoint(2 * (1 - r), s.Excess, 0, s.StdError));
                data.Add($"sampling cos={cos:G} n={n} seeds={seeds} sweeps={sweeps}", [2 * (1 - r), s.Excess, s.StdError, cos, r]);
                progress?.Invoke(++done / (double)total);
            }
            model.Series.Add(pts);
        }
        model.Subtitle = $"α = 2, Δ = 1, ρ = 1/2, β = {Beta:G}; 0 = perfectly flat";
        model.SubtitleFontSize = 7.5;
        return new FigureResult(model, data, warnings);
    }
}
