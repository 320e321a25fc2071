using System.CommandLine;
using System.Globalization;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Estimators;
using FlatMinima.Losses;

namespace FlatMinima.Cli.Commands;

/// <summary>The options of a max-flatness estimator (maxflat, local-energy --estimator maxflat): the method, the
/// objective, the bias policy and the descent's settings, whose defaults are those of Core's
/// <see cref="ReplicatedOptions"/> and <see cref="EntropicOptions"/> (each written there once).</summary>
internal sealed class MaxFlatOptions
{
    private static readonly ReplicatedOptions Rep = new();
    private static readonly EntropicOptions Ent = new();

    // "600 (replicated), 60 (entropic)", or one value when both methods share it; a null γ0 is calibrated automatically.
    private static string Both(object? replicated, object? entropic) =>
        Equals(replicated, entropic) ? Show(replicated) : $"{Show(replicated)} (replicated), {Show(entropic)} (entropic)";

    private static string Show(object? v) => v is null ? "automatic" : Convert.ToString(v, CultureInfo.InvariantCulture)!;

    public CliOption<string> Method { get; } = Opt.Choice("--method", "replicated (rSGD) or entropic (Entropy-SGD) descent (docs/theory.md#max-flatness)", ["replicated", "entropic"], "replicated");
    public CliOption<string> Objective { get; } = Opt.Choice("--objective", "classifier (norm-independent smoothed 0-1 error E_sigma) or loss (noise-smoothed loss)", ["classifier", "loss"], "classifier");
    public CliOption<string> Loss { get; } = Opt.Choice("--loss", "loss of --objective loss", ["square", "logistic"], "logistic");
    public CliOption<string> Bias { get; } = Opt.Choice("--bias", "learned, zero, or bayes (b = κ b_BO along the data's BO vector)", ["learned", "zero", "bayes"], "bayes");
    public CliOption<int?> Replicas { get; } = Opt.OptionalInt("--replicas", "Y", "coupled replicas (replicated)", Show(Rep.Replicas), "[1, inf)");
    public CliOption<int?> Steps { get; } = Opt.OptionalInt("--steps", "T", "steps (replicated) or outer steps (entropic)", Both(Rep.Steps, Ent.Steps), "[1, inf)");
    public CliOption<double?> Lr { get; } = Opt.OptionalReal("--lr", "ETA", "learning rate (entropic: of the outer step)", Both(Rep.LearningRate, Ent.OuterLearningRate), "(0, inf)");
    public CliOption<double?> Momentum { get; } = Opt.OptionalReal("--momentum", "MU", "heavy-ball momentum (entropic: of the outer step)", Both(Rep.Momentum, Ent.OuterMomentum), "[0, 1)");
    public CliOption<double?> Temperature { get; } = Opt.OptionalReal("--temperature", "T", "Langevin temperature", Both(Rep.Temperature, Ent.Temperature), "[0, inf)");
    public CliOption<string> Schedule { get; } = Opt.Choice("--schedule", "coupling schedule (docs/optim.md#coupling-schedules)", ["exp", "lin", "cos", "const"], "exp");
    public CliOption<double?> Gamma0 { get; } = Opt.OptionalReal("--gamma0", "G", "initial coupling γ0", Both(Rep.Coupling.Initial, Ent.Coupling.Initial), "(0, inf)");
    public CliOption<double?> GammaMax { get; } = Opt.OptionalReal("--gamma-max", "G", "final coupling γmax", Both(Rep.Coupling.Final, Ent.Coupling.Final), "(0, inf)");
    public CliOption<int?> InnerSteps { get; } = Opt.OptionalInt("--inner-steps", "L", "Entropy-SGD inner Langevin steps (entropic)", Show(Ent.InnerSteps), "[1, inf)");
    public CliOption<double?> InnerLr { get; } = Opt.OptionalReal("--inner-lr", "ETA", "Entropy-SGD inner learning rate (entropic)", Show(Ent.InnerLearningRate), "(0, inf)");
    public CliOption<double?> Ema { get; } = Opt.OptionalReal("--ema", "A", "Entropy-SGD weight on the old mean (entropic)", Show(Ent.EmaWeight), "[0, 1)");
    public CliOption<int?> BatchSize { get; } = Opt.OptionalInt("--batch-size", "B", "minibatch per replica step or inner step (SGD); 0 = full batch", Both(Rep.BatchSize, Ent.BatchSize), "[0, inf)");

    public Option[] All => [Method, Objective, Loss, Bias, Replicas, Steps, Lr, Momentum, Temperature, Schedule, Gamma0, GammaMax, InnerSteps, InnerLr, Ema, BatchSize];

    /// <summary>The options at flatness scale σ = 1 (the caller sets σ per run); <paramref name="seed"/> seeds the descent.</summary>
    public MaxFlatnessOptions Read(ParseResult p, long seed)
    {
        var method = p.Value(Method) == "entropic" ? MaxFlatnessMethod.Entropic : MaxFlatnessMethod.Replicated;
        bool lossObjective = p.Value(Objective) == "loss";
        if (!lossObjective && p.Given(Loss)) throw new UsageException("--loss applies to --objective loss.");
        IMarginLoss? loss = lossObjective ? MarginLosses.Parse(p.Value(Loss)) : null;
        var bias = p.Value(Bias) switch { "learned" => BiasPolicy.Learned, "zero" => BiasPolicy.Zero, _ => BiasPolicy.BayesRule };
        var shape = CouplingSchedule.ParseShape(p.Value(Schedule));
        double? gamma0 = p.GetValue(Gamma0);
        ReplicatedOptions rep = Rep;
        EntropicOptions ent = Ent;
        if (method == MaxFlatnessMethod.Replicated)
        {
            foreach (var o in new Option[] { InnerSteps, InnerLr, Ema })
                if (p.Given(o)) throw new UsageException($"{o.Name} applies to --method entropic.");
            rep = new ReplicatedOptions(p.GetValue(Replicas) ?? Rep.Replicas, p.GetValue(Steps) ?? Rep.Steps, p.GetValue(Lr) ?? Rep.LearningRate,
                p.GetValue(Momentum) ?? Rep.Momentum, p.GetValue(Temperature) ?? Rep.Temperature,
                new CouplingSchedule(shape, gamma0 ?? Rep.Coupling.Initial, p.GetValue(GammaMax) ?? Rep.Coupling.Final),
                Seed: seed, BatchSize: p.GetValue(BatchSize) ?? Rep.BatchSize);
        }
        else
        {
            if (p.Given(Replicas)) throw new UsageException("--replicas applies to --method replicated.");
            ent = new EntropicOptions(p.GetValue(Steps) ?? Ent.Steps, p.GetValue(InnerSteps) ?? Ent.InnerSteps, p.GetValue(InnerLr) ?? Ent.InnerLearningRate,
                p.GetValue(Lr) ?? Ent.OuterLearningRate, p.GetValue(Temperature) ?? Ent.Temperature, p.GetValue(Ema) ?? Ent.EmaWeight,
                OuterMomentum: p.GetValue(Momentum) ?? Ent.OuterMomentum,
                Coupling: new CouplingSchedule(shape, gamma0 ?? Ent.Coupling.Initial, p.GetValue(GammaMax) ?? Ent.Coupling.Final),
                Seed: seed, BatchSize: p.GetValue(BatchSize) ?? Ent.BatchSize);
        }
        return new MaxFlatnessOptions(method, loss, 1, 0, bias, rep, ent);
    }
}
