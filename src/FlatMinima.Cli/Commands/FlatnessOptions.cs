using FlatMinima.Storage;
using System.Globalization;
using System.Text;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Estimators;
using FlatMinima.Losses;

namespace FlatMinima.Cli.Commands;

/// <summary>Options and output helpers shared by the flatness commands (local-energy, local-entropy, maxflat).</summary>
internal static class FlatnessOptions
{
    public const string MaxFlatUsage =
        "  --method M       replicated (rSGD) | entropic (Entropy-SGD) (default replicated)\n" +
        "  --objective O    classifier (norm-independent smoothed 0-1 error E_sigma) | loss (noise-smoothed loss) (default classifier)\n" +
        "  --loss L         square | logistic, for --objective loss (default logistic)\n" +
        "  --bias B         learned | zero | bayes (b = kappa b_BO along the data's BO vector; default bayes)\n" +
        "  --replicas Y     coupled replicas (replicated; default 3)\n" +
        "  --steps T        steps (replicated, default 600) or outer steps (entropic, default 60)\n" +
        "  --lr ETA         learning rate (replicated 0.05; entropic outer 1)\n" +
        "  --momentum MU    heavy-ball momentum (replicated 0.9; entropic outer 0)\n" +
        "  --temperature T  Langevin temperature (default 0)\n" +
        "  --schedule S     coupling schedule exp|lin|cos|const (default exp)\n" +
        "  --gamma0 G       initial coupling (replicated: automatic; entropic: 0.3)\n" +
        "  --gamma-max G    final coupling (default 10)\n" +
        "  --inner-steps L  Entropy-SGD inner Langevin steps (default 20)\n" +
        "  --inner-lr ETA   Entropy-SGD inner learning rate (default 0.05)\n" +
        "  --ema A          Entropy-SGD weight on the old mean (default 0.75)\n" +
        "  --batch-size B   minibatch per replica step / inner step (SGD); 0 = full batch (default 0)\n";

    /// <summary>Reads the max-flatness options at flatness scale σ (the σ is set per run by the caller).</summary>
    public static MaxFlatnessOptions MaxFlat(Args a)
    {
        var method = a.Choice("method", ["replicated", "entropic"], "replicated") == "entropic" ? MaxFlatnessMethod.Entropic : MaxFlatnessMethod.Replicated;
        string objective = a.Choice("objective", ["classifier", "loss"], "classifier");
        string lossName = a.Choice("loss", ["square", "logistic"], "logistic");
        if (objective == "classifier" && a.Has("loss")) throw new UsageException("--loss applies to --objective loss.");
        IMarginLoss? loss = objective == "loss" ? MarginLosses.Parse(lossName) : null;
        var bias = a.Choice("bias", ["learned", "zero", "bayes"], "bayes") switch
        {
            "learned" => BiasPolicy.Learned, "zero" => BiasPolicy.Zero, _ => BiasPolicy.BayesRule,
        };
        var shape = CouplingSchedule.ParseShape(a.String("schedule", "exp"));
        double? gamma0 = a.OptionalDouble("gamma0");
        double gmax = a.Double("gamma-max", 10);
        long seed = a.Long("seed", 0);
        ReplicatedOptions rep; EntropicOptions ent;
        if (method == MaxFlatnessMethod.Replicated)
        {
            rep = new ReplicatedOptions(a.Int("replicas", 3), a.Int("steps", 600), a.Double("lr", 0.05), a.Double("momentum", 0.9),
                a.Double("temperature", 0), new CouplingSchedule(shape, gamma0, gmax), Seed: seed, BatchSize: a.Int("batch-size", 0));
            ent = new EntropicOptions();
            foreach (var o in new[] { "inner-steps", "inner-lr", "ema" })
                if (a.Has(o)) throw new UsageException($"--{o} applies to --method entropic.");
        }
        else
        {
            ent = new EntropicOptions(a.Int("steps", 60), a.Int("inner-steps", 20), a.Double("inner-lr", 0.05), a.Double("lr", 1),
                a.Double("temperature", 0), a.Double("ema", 0.75), OuterMomentum: a.Double("momentum", 0),
                Coupling: new CouplingSchedule(shape, gamma0 ?? 0.3, gmax), Seed: seed, BatchSize: a.Int("batch-size", 0));
            rep = new ReplicatedOptions();
            if (a.Has("replicas")) throw new UsageException("--replicas applies to --method replicated.");
        }
        return new MaxFlatnessOptions(method, loss, 1, 0, bias, rep, ent);
    }

    /// <summary>Writes rows (same keys in each) as CSV, atomically.</summary>
    public static void WriteCsv(string path, IReadOnlyList<IReadOnlyDictionary<string, object?>> rows)
    {
        var sb = new StringBuilder();
        if (rows.Count > 0)
        {
            var keys = rows[0].Keys.ToList();
            sb.AppendLine(string.Join(",", keys));
            foreach (var r in rows)
                sb.AppendLine(string.Join(",", keys.Select(k => r[k] switch
                {
                    null => "",
                    double d => d.ToString("R", CultureInfo.InvariantCulture),
                    IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                    var o => o.ToString(),
                })));
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>Parses a required comma list of reals.</summary>
    public static double[] List(Args a, string name)
    {
        var v = a.DoubleList(name) ?? throw new UsageException($"--{name} is required (comma-separated list).");
        if (v.Length == 0) throw new UsageException($"--{name} needs at least one value.");
        return v;
    }
}
