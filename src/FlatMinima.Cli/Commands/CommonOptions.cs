using System.CommandLine;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Penalties;

namespace FlatMinima.Cli.Commands;

/// <summary>The options several commands share, each declared here once; a command takes the ones it has, with its own
/// default where the commands differ (the dimension N of a quick sampling run is not that of a Monte Carlo check).</summary>
internal static class CommonOptions
{
    public static CliOption<int> N(int @default, int min = 1, string description = "input dimension N") =>
        Opt.Int("--n", "N", description, @default, $"[{min}, inf)");

    public static CliOption<int> Seeds(int @default, int min = 1, string description = "independent datasets") =>
        Opt.Int("--seeds", "S", description, @default, $"[{min}, inf)");

    public static CliOption<long> Seed(string description = "first seed; dataset k uses seed K + k") => Opt.Long("--seed", "K", description, 0);

    public static CliOption<int?> Threads() =>
        Opt.OptionalInt("--threads", "T", "parallel workers (results do not depend on it)", "all cores", "[1, inf)");

    public static CliOption<bool> Json(string description = "print one JSON object on stdout") => Opt.Flag("--json", description);

    public static CliOption<string> Loss(IReadOnlyList<string>? names = null, string? @default = null, string description = "the loss (docs/theory.md#losses)") =>
        Opt.Choice("--loss", description, names ?? MarginLosses.Names, @default);

    public static CliOption<string> Penalty(string description = "weight penalty: ridge, sphere (fixed norm ‖w‖² = NQ, needs --norm) or l1 (docs/norms.md)") =>
        Opt.Choice("--penalty", description, WeightPenalties.Names, "ridge");

    public static CliOption<double?> Norm() =>
        Opt.OptionalReal("--norm", "Q", "squared norm per component Q of --penalty sphere", "none (the ridge and l1 take --lambda)", "(0, inf)");

    public static CliOption<bool> NoBias() => Opt.Flag("--no-bias", "fix the bias at 0 (by default it is learned and not penalised)");
}

/// <summary>The data model (α, Δ, ρ) of docs/theory.md#model as three options.</summary>
internal sealed class ModelOptions
{
    public ModelOptions(double? alpha = null, double? delta = null)
    {
        Alpha = Opt.Real("--alpha", "A", "sample ratio α = P/N (docs/theory.md#model)", alpha, "(0, inf)");
        Delta = Opt.Real("--delta", "D", "noise variance Δ of each cluster", delta, "(0, inf)");
    }

    public CliOption<double> Alpha { get; }
    public CliOption<double> Delta { get; }
    public CliOption<double> Rho { get; } = Opt.Real("--rho", "R", "fraction ρ of the +1 cluster", 0.5, "(0, 1)");

    public Option[] All => [Alpha, Delta, Rho];

    /// <summary>The validated model.</summary>
    public MixtureModel Read(ParseResult p) => new(p.Value(Alpha), p.Value(Delta), p.Value(Rho));
}
