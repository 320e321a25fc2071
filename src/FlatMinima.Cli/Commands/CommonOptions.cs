using FlatMinima.Cli.Infrastructure;
using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Mixture;

namespace FlatMinima.Cli.Commands;

/// <summary>Options shared by several commands, read and validated in one place.</summary>
internal static class CommonOptions
{
    public const string MixtureUsage =
        "  --alpha A        sample ratio alpha = P/N > 0\n" +
        "  --delta D        noise variance Delta > 0\n" +
        "  --rho R          fraction of the +1 cluster, in (0,1) (default 0.5)\n";

    public const string SimulationUsage =
        "  --n N            input dimension N >= 1 (default 1000)\n" +
        "  --seeds S        number of independent datasets S >= 1 (default 8)\n" +
        "  --seed K         first seed; dataset k uses seed K + k (default 0)\n" +
        "  --threads T      parallel workers (default: all cores; results do not depend on it)\n" +
        "  --exact-labels   exactly round(rho*P) labels +1 per dataset (default: i.i.d. labels)\n";

    /// <summary>α, Δ, ρ as a validated data model.</summary>
    public static MixtureModel Model(Args a) => new(a.Double("alpha"), a.Double("delta"), a.Double("rho", 0.5));

    /// <summary>α, Δ, ρ, N and the first seed as a validated spec.</summary>
    public static MixtureSpec Mixture(Args a, int? defaultN = 1000) => new(
        Model(a), a.Int("n", defaultN), a.Long("seed", 0), ExactLabelCounts: a.Flag("exact-labels"));

    /// <summary>The estimator with its λ; λ is required for ERM estimators.</summary>
    public static EstimatorKind Estimator(Args a, string optionName = "estimator")
    {
        string name = a.Choice(optionName, EstimatorKind.Names);
        if (name == "bayes")
        {
            if (a.Has("lambda")) throw new UsageException("--lambda applies to ERM estimators, not to bayes.");
            return EstimatorKind.Bayes;
        }
        string pen = a.Choice("penalty", FlatMinima.Penalties.WeightPenalties.Names, "ridge");
        var options = new ErmOptions(Tolerance: a.Double("tolerance", ErmOptions.Default.Tolerance), FitBias: !a.Flag("no-bias"));
        // the penalty's rules (ridge and l1 take --lambda, sphere takes --norm) live in Core
        return EstimatorKind.Erm(FlatMinima.Losses.MarginLosses.Parse(name), pen, a.OptionalDouble("lambda"), a.OptionalDouble("norm"), options);
    }

    public static int Seeds(Args a, int fallback = 8)
    {
        int s = a.Int("seeds", fallback);
        if (s < 1) throw new UsageException($"--seeds must be an integer >= 1 (got {s}).");
        return s;
    }

    public static int? Threads(Args a)
    {
        if (!a.Has("threads")) return null;
        int t = a.Int("threads");
        if (t < 1) throw new UsageException($"--threads must be an integer >= 1 (got {t}).");
        return t;
    }
}
