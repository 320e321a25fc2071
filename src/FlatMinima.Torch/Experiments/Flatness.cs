using FlatMinima.Storage;
using FlatMinima.Torch.Flatness;

namespace FlatMinima.Torch.Experiments;

/// <summary>
/// The flatness probes of a trained run (<c>flatness --run</c>): local energy (docs/theory.md#le), the top eigenvalues
/// and the Hutchinson trace of the training-loss Hessian, and ε-sharpness (Keskar et al.), on the run's training data.
/// </summary>
public sealed record FlatnessConfig
{
    /// <summary>The probes there are.</summary>
    public static readonly string[] ProbeNames = ["le", "hessian", "trace", "sharpness"];

    [Option("probes", "comma list of le, hessian, trace, sharpness")]
    public string[] Probes { get; init; } = ProbeNames;
    [Option("sigma", "σ grid of the local energy (the linear grid to s_max = 0.1 of docs/theory.md#le)", Range = "[0, inf)", Symbol = "σ")]
    public double[] Sigma { get; init; } = Enumerable.Range(0, 11).Select(i => i * 0.01).ToArray();
    [Option("draws", "noise draws per σ", Range = "[1, inf)")]
    public int Draws { get; init; } = 100;
    [Option("samples", "training samples used by every probe", Range = "[1, inf)", DefaultText = "all for le, 1000 for the Hessian probes")]
    public int? Samples { get; init; }
    [Option("top-k", "Hessian eigenvalues (power iteration with deflation)", Range = "[1, inf)")]
    public int TopK { get; init; } = 3;
    [Option("max-iter", "power iterations per eigenvalue", Range = "[1, inf)")]
    public int MaxIter { get; init; } = 100;
    [Option("tol", "relative change of the Rayleigh quotient that ends a power iteration", Range = "(0, inf)")]
    public double Tol { get; init; } = 1e-4;
    [Option("trace-samples", "Hutchinson probes (Rademacher) of the Hessian trace", Range = "[1, inf)")]
    public int TraceSamples { get; init; } = 20;
    [Option("epsilon", "box size of ε-sharpness (Keskar et al.)", Range = "(0, inf)", Symbol = "ε")]
    public double Epsilon { get; init; } = 1e-3;
    [Option("sharpness-steps", "ascent steps of ε-sharpness", Range = "[1, inf)")]
    public int SharpnessSteps { get; init; } = 20;
    [Option("params", "restrict every probe to these parameter groups (name prefixes, e.g. layers.fc0)", DefaultText = "all")]
    public string[]? Params { get; init; }
    [Option("seed", "seed of every probe vector")]
    public long Seed { get; init; }

    /// <summary>Training samples of the Hessian probes and ε-sharpness when <see cref="Samples"/> is not given.</summary>
    public const int DefaultHessianSamples = 1000;

    public FlatnessConfig Validate()
    {
        ExperimentOptions.CheckRanges(this);
        foreach (var p in Probes)
            if (!ProbeNames.Contains(p)) throw new ConfigException($"--probes takes {string.Join(",", ProbeNames)} (got '{p}').");
        return this;
    }
}

/// <summary>What the flatness probes measured on one run. Sections not probed are null.</summary>
public sealed record FlatnessReport(
    long Seed, IReadOnlyList<string> Params,
    IReadOnlyList<LocalEnergyPoint>? LocalEnergy,
    (HessianEigen Eigen, long Samples)? HessianTop,
    (HessianTrace Trace, long Samples)? HessianTrace,
    (Sharpness Value, long Samples)? Sharpness)
{
    /// <summary>The sections of this report, with those of <paramref name="other"/> where this one has none.</summary>
    public FlatnessReport Merge(FlatnessReport other) => this with
    {
        LocalEnergy = LocalEnergy ?? other.LocalEnergy, HessianTop = HessianTop ?? other.HessianTop,
        HessianTrace = HessianTrace ?? other.HessianTrace, Sharpness = Sharpness ?? other.Sharpness,
    };

    /// <summary>The contents of <c>flatness.json</c> (and of <c>flatness --json</c>).</summary>
    public Dictionary<string, object?> ToDictionary(TrainedModel trained, IReadOnlyList<string> commandLine)
    {
        var d = new Dictionary<string, object?>
        {
            ["run_dir"] = trained.Run.Path, ["checkpoint"] = trained.Checkpoint, ["seed"] = Seed, ["params"] = Params.ToList(),
            ["torch"] = trained.Runtime.ToDictionary(), ["versions"] = Versions.Describe(), ["argv"] = commandLine.ToList(),
        };
        if (LocalEnergy is not null)
            d["local_energy"] = LocalEnergy.Select(p => new Dictionary<string, object?>
            {
                ["sigma"] = p.Sigma, ["draws"] = p.Draws, ["mean_train_error_pct"] = p.MeanError, ["std_train_error_pct"] = p.StdError,
                ["sem_train_error_pct"] = p.SemError, ["delta_train_error_pct"] = p.DeltaError, ["mean_train_loss"] = p.MeanLoss, ["std_train_loss"] = p.StdLoss,
            }).ToList();
        if (HessianTop is var (h, hs))
            d["hessian_top"] = new Dictionary<string, object?> { ["values"] = h.Values, ["iterations"] = h.Iterations, ["converged"] = h.Converged, ["samples"] = hs };
        if (HessianTrace is var (t, ts))
            d["hessian_trace"] = new Dictionary<string, object?> { ["trace"] = t.Trace, ["se"] = t.StandardError, ["probes"] = t.Samples, ["samples"] = ts };
        if (Sharpness is var (s, ss))
            d["epsilon_sharpness"] = new Dictionary<string, object?> { ["epsilon"] = s.Epsilon, ["sharpness_pct"] = s.Value, ["loss"] = s.Loss, ["max_loss"] = s.MaxLoss, ["steps"] = s.Steps, ["samples"] = ss };
        return d;
    }

    /// <summary>Writes <c>flatness.json</c> into the run directory, atomically.</summary>
    public void Write(TrainedModel trained, IReadOnlyList<string> commandLine) =>
        trained.Run.WriteFile(TrainingRun.FlatnessFile, JsonText.Serialize(ToDictionary(trained, commandLine)));
}

/// <summary>Runs the probes of a <see cref="FlatnessConfig"/> on a trained model.</summary>
public static class FlatnessProbing
{
    public static FlatnessReport Run(TrainedModel trained, FlatnessConfig config)
    {
        config.Validate();
        var train = trained.Data.Train;
        var probes = new Probes(trained.Model, trained.Device) { Groups = config.Params };
        var names = probes.Selected().Select(p => p.Name).ToList();
        IReadOnlyList<LocalEnergyPoint>? le = null;
        if (config.Probes.Contains("le"))
        {
            using var set = train.Take(config.Samples ?? train.Count);
            le = probes.LocalEnergy(set, config.Sigma, config.Draws, config.Seed);
        }
        (HessianEigen, long)? top = null;
        (HessianTrace, long)? trace = null;
        (Sharpness, long)? sharp = null;
        if (config.Probes.Any(p => p != "le"))
        {
            using var hset = train.Take(config.Samples ?? FlatnessConfig.DefaultHessianSamples);
            if (config.Probes.Contains("hessian")) top = (probes.HessianTop(hset, config.TopK, config.Seed, config.MaxIter, config.Tol), hset.Count);
            if (config.Probes.Contains("trace")) trace = (probes.HessianTrace(hset, config.TraceSamples, config.Seed), hset.Count);
            if (config.Probes.Contains("sharpness")) sharp = (probes.EpsilonSharpness(hset, config.Epsilon, config.SharpnessSteps), hset.Count);
        }
        return new FlatnessReport(config.Seed, names, le, top, trace, sharp);
    }
}
