using FlatMinima.Storage;
using FlatMinima.Torch.Flatness;

namespace FlatMinima.Torch.Experiments;

/// <summary>
/// The flatness probes of a trained run (<c>flatness --run</c>): local energy (docs/theory.md#le), the top eigenvalues
/// and the Hutchinson trace of the training-loss Hessian, ε-sharpness (Keskar et al.), and on request the worst-case
/// adaptive sharpness (Kwon et al.) and the Hessian spectral density by stochastic Lanczos quadrature, on the run's
/// training data.
/// </summary>
public sealed record FlatnessConfig
{
    /// <summary>The probes there are.</summary>
    public static readonly string[] ProbeNames = ["le", "hessian", "trace", "sharpness", "adaptive", "slq", "line", "surface"];

    [Option("probes", "comma list of le, hessian, trace, sharpness, adaptive (worst-case adaptive sharpness, Kwon et al.), slq (Hessian " +
        "spectral density by stochastic Lanczos quadrature: RUN/hessian_density.csv), line (loss and error on the line to the model of --other: " +
        "RUN/landscape_line.csv), surface (loss around the model along two filter-normalised random directions: RUN/landscape_surface.csv)",
        DefaultText = "le,hessian,trace,sharpness")]
    public string[] Probes { get; init; } = ["le", "hessian", "trace", "sharpness"];
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
    [Option("adaptive-rho", "radius ρ of the adaptive-sharpness ball ‖δ/|w|‖₂ ≤ ρ", Range = "(0, inf)", Symbol = "ρ")]
    public double AdaptiveRho { get; init; } = DefaultAdaptiveRho;
    [Option("adaptive-steps", "ascent steps of the adaptive sharpness", Range = "[1, inf)")]
    public int AdaptiveSteps { get; init; } = 20;
    [Option("slq-steps", "Lanczos steps per starting vector of the spectral density", Range = "[1, inf)")]
    public int SlqSteps { get; init; } = DefaultSlqSteps;
    [Option("slq-vectors", "starting vectors (Rademacher) of the spectral density", Range = "[1, inf)")]
    public int SlqVectors { get; init; } = 4;
    [Option("slq-width", "σ of the Gaussian broadening of the spectral density (give one σ to compare densities)", Range = "(0, inf)",
        DefaultText = "from the spectrum's range")]
    public double? SlqWidth { get; init; }
    [Option("other", "the run at t = 1 of the line probe (same data and network)", DefaultText = "none")]
    public string? Other { get; init; }
    [Option("line-from", "first t of the line w(t) = (1 − t)·w_RUN + t·w_OTHER", Symbol = "t")]
    public double LineFrom { get; init; } = -0.5;
    [Option("line-to", "last t of the line")]
    public double LineTo { get; init; } = 1.5;
    [Option("line-points", "points of the line", Range = "[2, inf)")]
    public int LinePoints { get; init; } = 41;
    [Option("surface-extent", "the surface spans α, β in [−extent, extent] filter norms", Range = "(0, inf)")]
    public double SurfaceExtent { get; init; } = 1;
    [Option("surface-points", "points per axis of the surface", Range = "[2, inf)")]
    public int SurfacePoints { get; init; } = 21;
    [Option("params", "restrict every probe to these parameter groups (name prefixes, e.g. layers.fc0)", DefaultText = "all")]
    public string[]? Params { get; init; }
    [Option("seed", "seed of every probe vector")]
    public long Seed { get; init; }

    /// <summary>Training samples of the Hessian probes and ε-sharpness when <see cref="Samples"/> is not given.</summary>
    public const int DefaultHessianSamples = 1000;
    /// <summary>ρ of the adaptive sharpness when not given (the default of <see cref="AdaptiveSharpnessOptions"/>).</summary>
    public const double DefaultAdaptiveRho = 0.1;
    /// <summary>Lanczos steps when not given (the default of <see cref="SlqOptions"/>).</summary>
    public const int DefaultSlqSteps = 60;

    public FlatnessConfig Validate()
    {
        ExperimentOptions.CheckRanges(this);
        foreach (var p in Probes)
            if (!ProbeNames.Contains(p)) throw new ConfigException($"--probes takes {string.Join(",", ProbeNames)} (got '{p}').");
        if (Probes.Contains("line") && string.IsNullOrEmpty(Other)) throw new ConfigException("--probes line needs --other RUN_DIR (the model at t = 1).");
        if (!(LineTo > LineFrom)) throw new ConfigException($"--line-to must be greater than --line-from (got {LineFrom} .. {LineTo}).");
        return this;
    }
}

/// <summary>What the flatness probes measured on one run. Sections not probed are null.</summary>
public sealed record FlatnessReport(
    long Seed, IReadOnlyList<string> Params,
    IReadOnlyList<LocalEnergyPoint>? LocalEnergy,
    (HessianEigen Eigen, long Samples)? HessianTop,
    (HessianTrace Trace, long Samples)? HessianTrace,
    (Sharpness Value, long Samples)? Sharpness,
    AdaptiveSharpnessResult? Adaptive = null,
    SpectralDensityResult? Spectrum = null,
    InterpolationResult? Line = null,
    SurfaceResult? Surface = null)
{
    /// <summary>The file the spectral density goes to inside the run directory.</summary>
    public const string DensityFile = "hessian_density.csv";
    /// <summary>The file of the line probe (<see cref="InterpolationResult.ToCsv"/>).</summary>
    public const string LineFile = "landscape_line.csv";
    /// <summary>The file of the surface probe (<see cref="SurfaceResult.ToCsv"/>).</summary>
    public const string SurfaceFile = "landscape_surface.csv";

    /// <summary>The sections of this report, with those of <paramref name="other"/> where this one has none.</summary>
    public FlatnessReport Merge(FlatnessReport other) => this with
    {
        LocalEnergy = LocalEnergy ?? other.LocalEnergy, HessianTop = HessianTop ?? other.HessianTop,
        HessianTrace = HessianTrace ?? other.HessianTrace, Sharpness = Sharpness ?? other.Sharpness,
        Adaptive = Adaptive ?? other.Adaptive, Spectrum = Spectrum ?? other.Spectrum, Line = Line ?? other.Line, Surface = Surface ?? other.Surface,
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
        if (Adaptive is { } a)
            d["adaptive_sharpness"] = new Dictionary<string, object?>
            {
                ["rho"] = a.Rho, ["norm"] = "l2", ["eta"] = a.Eta, ["sharpness"] = a.Sharpness, ["loss"] = a.Loss, ["perturbed_loss"] = a.PerturbedLoss,
                ["error"] = a.Error, ["perturbed_error"] = a.PerturbedError, ["steps"] = a.Iterations, ["samples"] = a.Samples, ["seconds"] = a.Seconds,
            };
        if (Spectrum is { } sp)
            d["hessian_density"] = new Dictionary<string, object?>
            {
                ["steps"] = sp.Steps, ["vectors"] = sp.Nodes.Length, ["top_ritz"] = sp.TopRitz, ["bottom_ritz"] = sp.BottomRitz, ["trace"] = sp.Trace,
                ["trace_se"] = double.IsFinite(sp.TraceStdError) ? sp.TraceStdError : null, ["width"] = sp.Width, ["samples"] = sp.Samples,
                ["parameters"] = sp.Parameters, ["file"] = DensityFile, ["seconds"] = sp.Seconds,
            };
        if (Line is { } line)
            d["landscape_line"] = new Dictionary<string, object?>
            {
                ["other"] = LineOther, ["distance"] = line.Distance, ["batch_norm"] = line.BatchNorm, ["points"] = line.Points.Count,
                ["max_train_loss_between"] = line.Points.Where(p => p.T >= 0 && p.T <= 1).Max(p => p.TrainLoss),
                ["file"] = LineFile, ["seconds"] = line.Seconds,
            };
        if (Surface is { } sf)
            d["landscape_surface"] = new Dictionary<string, object?>
            {
                ["extent"] = sf.Extent, ["points_per_axis"] = sf.PointsPerAxis, ["seed"] = sf.Seed, ["batch_norm"] = sf.BatchNorm,
                ["direction_cosine"] = sf.DirectionCosine, ["file"] = SurfaceFile, ["seconds"] = sf.Seconds,
            };
        return d;
    }

    /// <summary>The run at t = 1 of <see cref="Line"/>.</summary>
    public string? LineOther { get; init; }

    /// <summary>Writes <c>flatness.json</c> into the run directory, atomically.
    /// The curves of the spectral density, the line and the surface go beside it (<see cref="DensityFile"/>,
    /// <see cref="LineFile"/>, <see cref="SurfaceFile"/>).</summary>
    public void Write(TrainedModel trained, IReadOnlyList<string> commandLine)
    {
        if (Spectrum is { } sp) trained.Run.WriteFile(DensityFile, sp.DensityCsv());
        if (Line is { } line) trained.Run.WriteFile(LineFile, line.ToCsv());
        if (Surface is { } sf) trained.Run.WriteFile(SurfaceFile, sf.ToCsv());
        trained.Run.WriteFile(TrainingRun.FlatnessFile, JsonText.Serialize(ToDictionary(trained, commandLine)));
    }
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
        AdaptiveSharpnessResult? adaptive = null;
        SpectralDensityResult? spectrum = null;
        if (config.Probes.Any(p => p != "le"))
        {
            using var hset = train.Take(config.Samples ?? FlatnessConfig.DefaultHessianSamples);
            if (config.Probes.Contains("hessian")) top = (probes.HessianTop(hset, config.TopK, config.Seed, config.MaxIter, config.Tol), hset.Count);
            if (config.Probes.Contains("trace")) trace = (probes.HessianTrace(hset, config.TraceSamples, config.Seed), hset.Count);
            if (config.Probes.Contains("sharpness")) sharp = (probes.EpsilonSharpness(hset, config.Epsilon, config.SharpnessSteps), hset.Count);
            if (config.Probes.Contains("adaptive"))
                adaptive = new AdaptiveSharpness(trained.Model, trained.Device) { Groups = config.Params }.Compute(hset, SharpnessKind.WorstCase,
                    new AdaptiveSharpnessOptions { Rho = config.AdaptiveRho, Steps = config.AdaptiveSteps, Seed = config.Seed });
            if (config.Probes.Contains("slq"))
                spectrum = new SpectralDensity(trained.Model, trained.Device) { Groups = config.Params }.Compute(hset,
                    new SlqOptions { Steps = config.SlqSteps, Vectors = config.SlqVectors, Seed = config.Seed, Width = config.SlqWidth });
        }
        InterpolationResult? line = null;
        SurfaceResult? surface = null;
        if (config.Probes.Contains("line")) line = Line(trained, config);
        if (config.Probes.Contains("surface"))
        {
            using var set = train.Take(config.Samples ?? train.Count);
            surface = new LossLandscape(trained.Model, trained.Device) { Groups = config.Params }.Surface(set,
                new SurfaceOptions { Extent = config.SurfaceExtent, Points = config.SurfacePoints, Seed = config.Seed });
        }
        return new FlatnessReport(config.Seed, names, le, top, trace, sharp, adaptive, spectrum, line, surface) { LineOther = line is null ? null : config.Other };
    }

    /// <summary>
    /// The line from <paramref name="trained"/>'s model (t = 0) to the final model of the run <see cref="FlatnessConfig.Other"/>
    /// (t = 1): training loss and error on the first <see cref="FlatnessConfig.Samples"/> training samples (all by default),
    /// test loss and error on the whole test set, BatchNorm statistics recomputed at every t. The two runs must have the
    /// same data (configuration and, for data drawn from the seed, seed) and network.
    /// </summary>
    public static InterpolationResult Line(TrainedModel trained, FlatnessConfig config)
    {
        var otherRun = TrainingRun.Open(config.Other ?? throw new ConfigException("--probes line needs --other RUN_DIR."));
        var (a, b) = (trained.Run.Config, otherRun.Config);
        if (!Equals(a.Data, b.Data) || !Equals(a.Model, b.Model) || (a.Data is GmmDataConfig && a.Training.Seed != b.Training.Seed))
            throw new ConfigException($"--other {otherRun.Path}: the line needs two runs of the same data and network ({trained.Run.Path} and {otherRun.Path} differ).");
        using var other = TrainedModel.Load(otherRun, (DeviceChoice?)EnumNames.Parse(typeof(DeviceChoice), trained.Runtime.Device));
        using var set = trained.Data.Train.Take(config.Samples ?? trained.Data.Train.Count);
        return new LossLandscape(trained.Model, trained.Device) { Groups = config.Params }.Interpolate(other.Model, set, trained.Data.Test,
            new InterpolationOptions { From = config.LineFrom, To = config.LineTo, Points = config.LinePoints });
    }
}
