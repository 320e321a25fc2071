using FlatMinima.Plots.Figures;

namespace FlatMinima.Plots;

/// <summary>Every figure that <c>flatminima figures</c> makes, in order.</summary>
public static class FigureCatalog
{
    /// <summary>The figures.</summary>
    public static IReadOnlyList<IFigure> All { get; } =
    [
        new BayesErrorFigure(),
        new LearningCurveFigure(),
        new LambdaFigure(0.5),
        new LambdaFigure(0.25),
        new LocalEnergyFigure(),
        new FlatnessVersusErrorFigure(),
        new LocalEntropyFigure(),
        new MaxFlatnessFigure(cosine: true),
        new MaxFlatnessFigure(cosine: false),
        new ReplicatedDistanceFigure(),
        new NormFigure(0.5),
        new NormFigure(0.25),
        new ThermalReplicatedFigure(),
    ];
}
