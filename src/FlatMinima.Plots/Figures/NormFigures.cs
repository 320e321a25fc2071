using FlatMinima.Experiments;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace FlatMinima.Plots.Figures;

/// <summary>
/// Figure 8: the replicated square-loss centre's test error against the distance d to its replicas (docs/norms.md §3),
/// α = 2, Δ = 1, ρ = ¼, for several centre norms Q, with coupled-gradient-descent simulations for y = 1 and y = 3 at
/// Q = 0.15, and the lines of fixed-norm ERM at its best norm and of ε_BO (data: <see cref="ReplicatedDistanceCurves"/>).
/// </summary>
public sealed class ReplicatedDistanceFigure : IFigure
{
    public string Name => "fig8_replicated_distance";
    public string Caption =>
        "Replicated square-loss ERM (centre on the sphere |w|^2 = NQ, y replicas, zero temperature), alpha = 2, Delta = 1, rho = 1/4: " +
        "the centre's test error against the replica-centre distance d for several norms Q (lines; y drops out at zero temperature), " +
        "coupled gradient descent for y = 1 and y = 3 at Q = 0.15 (markers), ERM at its best norm (blue dashed) and Bayes-optimal (black). " +
        "No (Q, d) with attractive coupling goes below ERM's best.";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var data = ReplicatedDistanceCurves.Compute(options.Pick(41, 17), options.Pick(300, 100), options.Pick(6, 2), options.Seed, options.Threads, progress);
        return new FigureResult(Draw(data), data.ToTable(), data.Warnings);
    }

    /// <summary>The plot of <paramref name="data"/>.</summary>
    public static PlotModel Draw(ReplicatedDistanceCurves data)
    {
        var model = FigureStyle.NewModel(legend: LegendPosition.TopLeft);
        model.Axes.Add(FigureStyle.Log(AxisPosition.Bottom, "distance d = ‖wᵃ − w̃‖²/N", 1e-4, 1));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "centre test error ε_{g}", 0.15, 0.3));
        int c = 0;
        foreach (var curve in data.Theory)
        {
            var line = new LineSeries { Color = FigureStyle.Palette[c++ % FigureStyle.Palette.Length], StrokeThickness = 1.3, Title = $"theory Q = {curve.Norm:G3}" };
            for (int i = 0; i < curve.Points.Count; i++)
                line.Points.Add(curve.Points[i].Converged ? new DataPoint(curve.Distances[i], curve.Points[i].TestError) : DataPoint.Undefined);
            model.Series.Add(line);
        }
        FigureHelpers.AddHorizontal(model, data.ErmBestNormError, 1e-4, 1, $"ERM, best norm {data.ErmBestNormError:F4}", OxyColors.SteelBlue, LineStyle.Dash);
        FigureHelpers.AddHorizontal(model, data.BayesOptimalError, 1e-4, 1, $"Bayes-optimal {data.BayesOptimalError:F4}", OxyColors.Black, LineStyle.Solid);
        foreach (var s in data.Simulations)
        {
            var pts = new ScatterErrorSeries
            {
                MarkerType = s.Y == 1 ? MarkerType.Circle : MarkerType.Triangle, MarkerSize = 2.4, MarkerFill = FigureStyle.Palette[1],
                MarkerStroke = OxyColors.Black, MarkerStrokeThickness = 0.4, ErrorBarColor = FigureStyle.Palette[1],
                ErrorBarStrokeThickness = 0.8, ErrorBarStopWidth = 2, Title = $"simulation y = {s.Y}, N = {s.N}",
            };
            for (int i = 0; i < s.Distances.Count; i++) pts.Points.Add(new ScatterErrorPoint(s.Distances[i], s.TestErrors[i].Mean, 0, s.TestErrors[i].StdError));
            model.Series.Add(pts);
        }
        model.Subtitle = $"α = {ReplicatedDistanceCurves.Alpha:G}, Δ = {ReplicatedDistanceCurves.Delta:G}, ρ = 1/4; square loss; markers: coupled gradient descent at Q = 0.15";
        model.SubtitleFontSize = 7.5;
        return model;
    }
}

/// <summary>
/// Figure 9: test error against the norm Q at α = 2, Δ = 1 (docs/norms.md §4): fixed-norm ERM (square loss; theory and
/// the secular-equation solver at finite N), the replicated centre at fixed distance d = 0.01, and ε_BO (data:
/// <see cref="FixedNormCurves"/>).
/// </summary>
public sealed class NormFigure(double rho) : IFigure
{
    public double Rho { get; } = rho;
    public string Name => Rho == 0.5 ? "fig9a_norm_balanced" : "fig9b_norm_unbalanced";
    public string Caption => (Rho == 0.5 ? "Balanced (rho = 1/2)" : "Unbalanced (rho = 1/4)") +
        ", alpha = 2, Delta = 1, square loss: test error against the norm Q = |w|^2/N for fixed-norm ERM (line; markers: finite-N " +
        "constrained solver) and for the replicated centre at distance d = 0.01 (dashed), with the Bayes-optimal error (black)" +
        (Rho == 0.5 ? "." : " and ERM at its best lambda (grey).");

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var data = FixedNormCurves.Compute(Rho, options.Pick(61, 25), options.Pick(400, 100), options.Pick(6, 2), options.Seed, options.Threads, progress);
        return new FigureResult(Draw(data), data.ToTable(), data.Warnings);
    }

    /// <summary>The plot of <paramref name="data"/>.</summary>
    public static PlotModel Draw(FixedNormCurves data)
    {
        var model = FigureStyle.NewModel(legend: LegendPosition.TopLeft);
        model.Axes.Add(FigureStyle.Log(AxisPosition.Bottom, "norm Q = |w|²/N", 1e-3, 5));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "test error ε_{g}", data.Rho == 0.5 ? 0.19 : 0.15, 0.42));
        var erm = new LineSeries { Color = FigureHelpers.LossColor("square"), StrokeThickness = 1.3, Title = "fixed-norm ERM" };
        var rep = new LineSeries { Color = FigureStyle.Palette[2], StrokeThickness = 1.3, LineStyle = LineStyle.Dash, Title = $"replicated centre, d = {FixedNormCurves.Distance:G}" };
        foreach (var p in data.Theory)
        {
            erm.Points.Add(p.Erm.Converged ? new DataPoint(p.Norm, p.Erm.TestError) : DataPoint.Undefined);
            rep.Points.Add(p.Replicated.Converged ? new DataPoint(p.Norm, p.Replicated.TestError) : DataPoint.Undefined);
        }
        model.Series.Add(erm);
        model.Series.Add(rep);
        FigureHelpers.AddHorizontal(model, data.BayesOptimalError, 1e-3, 5, $"Bayes-optimal {data.BayesOptimalError:F4}", OxyColors.Black, LineStyle.Solid);
        if (data.BestLambda is { } best)
            FigureHelpers.AddHorizontal(model, best.FixedPoint.TestError, 1e-3, 5, $"ERM best λ {best.FixedPoint.TestError:F4}", OxyColors.Gray, LineStyle.Dash);
        var pts = FigureHelpers.SimulationSeries("square", $"simulation N = {data.N}");
        for (int i = 0; i < data.SimulatedNorms.Count; i++)
            pts.Points.Add(new ScatterErrorPoint(data.SimulatedNorms[i], data.SimulatedErrors[i].Mean, 0, data.SimulatedErrors[i].StdError));
        model.Series.Add(pts);
        model.Subtitle = $"α = {FixedNormCurves.Alpha:G}, Δ = {FixedNormCurves.Delta:G}, ρ = {(data.Rho == 0.5 ? "1/2" : "1/4")}; square loss";
        model.SubtitleFontSize = 7.5;
        return model;
    }
}

/// <summary>
/// Figure 10: the finite-temperature replicated centre (docs/norms.md §3), ρ = ¼, Q = 0.5, β = 1: the test error of the
/// centre's thermal mean against the replica–centre distance d (swept through the coupling γ) for y = 1, 3, 10, with
/// fixed-norm ERM at the same norm, ERM at its best λ and ε_BO; a curve is dotted where its replicon says RS is unstable
/// (docs/theory.md#rs-stability; data: <see cref="ThermalReplicatedCurves"/>).
/// </summary>
public sealed class ThermalReplicatedFigure : IFigure
{
    public string Name => "fig10_replicated_temperature";
    public string Caption =>
        "Replicated square-loss ERM at finite temperature (beta = 1, centre on the sphere Q = 0.5), alpha = 2, Delta = 1, rho = 1/4: " +
        "test error of the centre's thermal mean against the replica-centre distance d (swept through the coupling gamma) for y = 1, 3, 10 " +
        "(theory; checked against the exact finite-N Gaussian computation in the tests), with ERM at the same norm (dashed), " +
        "ERM at its best lambda (grey) and Bayes-optimal (black). More replicas bring the centre back towards ERM at the same norm; " +
        "no curve goes below ERM's best. Each point carries its replicon (de Almeida-Thouless) eigenvalue (CSV column replicon); a " +
        "point where replica symmetry is unstable (replicon <= 0) would be drawn dotted.";

    public FigureResult Build(FigureOptions options, Action<double>? progress = null)
    {
        var data = ThermalReplicatedCurves.Compute(options.Pick(41, 15), progress);
        return From(data);
    }

    /// <summary>The figure of <paramref name="data"/>: plot, table, warnings (including RS-unstable points) and the RS
    /// stability sentence of the caption.</summary>
    public static FigureResult From(ThermalReplicatedCurves data) =>
        new(Draw(data), data.ToTable(), data.Warnings, FigureHelpers.RsFindings(data.Replicons.ToList()));

    /// <summary>The plot of <paramref name="data"/>.</summary>
    public static PlotModel Draw(ThermalReplicatedCurves data)
    {
        // Legend above the curves: the reference lines run along the bottom of the plot.
        var model = FigureStyle.NewModel(legend: LegendPosition.TopLeft);
        model.Axes.Add(FigureStyle.Log(AxisPosition.Bottom, "distance d = E‖wᵃ − w̃‖²/N", 1e-2, 3));
        model.Axes.Add(FigureStyle.Linear(AxisPosition.Left, "centre (thermal mean) test error ε_{g}", 0.15, 0.30));
        int c = 0;
        bool unstable = false;
        foreach (var curve in data.Theory)
            unstable |= FigureHelpers.AddRsCurve(model,
                curve.Points.Select((p, i) => (DataPoint?)new DataPoint(curve.Distances[i], p.MeanTestError)).ToList(),
                curve.Points.Select(p => p.Replicon).ToList(), FigureStyle.Palette[c++ % FigureStyle.Palette.Length], $"y = {curve.Y}");
        if (unstable) FigureHelpers.AddRsUnstableLegend(model);
        double q = ThermalReplicatedCurves.Norm, best = data.BestLambda.FixedPoint.TestError;
        FigureHelpers.AddHorizontal(model, data.ErmSameNormError, 1e-2, 3, $"ERM at Q = {q:G} ({data.ErmSameNormError:F4})", OxyColors.SteelBlue, LineStyle.Dash);
        FigureHelpers.AddHorizontal(model, best, 1e-2, 3, $"ERM best λ ({best:F4})", OxyColors.Gray, LineStyle.Dash);
        FigureHelpers.AddHorizontal(model, data.BayesOptimalError, 1e-2, 3, $"Bayes-optimal {data.BayesOptimalError:F4}", OxyColors.Black, LineStyle.Solid);
        model.Subtitle = $"α = {ThermalReplicatedCurves.Alpha:G}, Δ = {ThermalReplicatedCurves.Delta:G}, ρ = 1/4, Q = {q:G}, β = {ThermalReplicatedCurves.Beta:G}; square loss; lines: N → ∞ theory";
        model.SubtitleFontSize = 7.5;
        return model;
    }
}
