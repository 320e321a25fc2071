using FlatMinima.Experiments;
using OxyPlot;

namespace FlatMinima.Plots;

/// <summary>How much work a figure may do: quick (CI and the README's main command) or full (the paper's figure).</summary>
/// <param name="Quick">Smaller simulations.</param>
/// <param name="Seed">First simulation seed.</param>
/// <param name="Threads">Parallel workers (null: all cores); results do not depend on it.</param>
/// <param name="Sweeps">List of the recorded deep-network sweeps that figure 7 draws (data set → sweep directory, JSON);
/// default docs/optim/figure_sweeps.json.</param>
public sealed record FigureOptions(bool Quick = false, long Seed = 0, int? Threads = null, string Sweeps = "docs/optim/figure_sweeps.json")
{
    /// <summary>Scales a simulation budget: the full value, or the quick one.</summary>
    public int Pick(int full, int quick) => Quick ? quick : full;
}

/// <summary>A built figure: the plot and exactly the numbers it shows.</summary>
/// <param name="Plot">The plot.</param>
/// <param name="Data">Its numbers.</param>
/// <param name="Warnings">What needs attention (points that did not converge, extrapolations that disagree, points where
/// replica symmetry is unstable).</param>
/// <param name="Findings">Sentences computed from this build's numbers that complete <see cref="IFigure.Caption"/> in
/// figures/README.md (e.g. how many extrapolations agree with the theory, the smallest replicon); empty when none.</param>
public sealed record FigureResult(PlotModel Plot, SeriesTable Data, IReadOnlyList<string> Warnings, string Findings = "");

/// <summary>One figure of the catalogue.</summary>
public interface IFigure
{
    /// <summary>File stem, e.g. "fig1_bayes_error".</summary>
    string Name { get; }
    /// <summary>One sentence for figures/README.md: what the figure shows.</summary>
    string Caption { get; }
    /// <summary>Builds the figure: its data from the library (a figure type of FlatMinima.Experiments, which also gives
    /// the table), then the plot. <paramref name="progress"/> receives fractions in [0, 1].</summary>
    FigureResult Build(FigureOptions options, Action<double>? progress = null);
}
