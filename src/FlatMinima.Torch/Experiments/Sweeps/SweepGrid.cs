using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FlatMinima.Torch.Experiments.Sweeps;

/// <summary>One grid point of a sweep: an optimiser (with its <c>@tag</c>), a seed and the values of the listed options,
/// with the run's configuration they define.</summary>
/// <param name="Index">Position in the grid (the Slurm array index).</param>
/// <param name="Id">Folder name of the run under <c>runs/</c>.</param>
/// <param name="Optimizer">The optimiser as named in the grid (<c>esgd@long</c>).</param>
/// <param name="Seed">The run's seed.</param>
/// <param name="Options">Every option of the run by name, as the grid gives it (train, then the optimiser's, then the
/// listed values).</param>
/// <param name="GridValues">The values of the grid's listed options, in the grid's order.</param>
/// <param name="Config">The run's configuration (validated).</param>
public sealed record SweepJob(int Index, string Id, string Optimizer, long Seed, IReadOnlyList<KeyValuePair<string, string>> Options,
    IReadOnlyList<string> GridValues, RunConfig Config)
{
    /// <summary>The job as a <c>flatminima train</c> command line (for <c>--list</c> and <c>jobs.tsv</c>: the same run
    /// by hand); <paramref name="device"/> is added when the options name none.</summary>
    public string CommandLine(string runDir, string? device = null) =>
        string.Join(' ', new[] { "train", "--out", runDir, "--seed", Seed.ToString(CultureInfo.InvariantCulture), "--optimizer", Optimizer.Split('@')[0] }
            .Concat(Options.SelectMany(kv => new[] { "--" + kv.Key, kv.Value }))
            .Concat(device is not null && Options.All(kv => kv.Key != "device") ? ["--device", device] : [])
            .Select(SlurmScript.Quote));
}

/// <summary>The flatness probes every final model of a sweep gets (the grid's <c>probes</c>).</summary>
/// <param name="Sigmas">σ of the local energy.</param>
/// <param name="Draws">Noise draws per σ.</param>
/// <param name="LeSamples">Training samples of the local energy (null: all).</param>
/// <param name="HessianSamples">Training samples of the Hessian probes.</param>
/// <param name="TopK">Hessian eigenvalues.</param>
/// <param name="MaxIter">Power iterations per eigenvalue.</param>
/// <param name="TraceSamples">Hutchinson probes.</param>
/// <param name="Hessian">Whether to run the Hessian probes at all.</param>
/// <param name="AdaptiveRho">ρ of the worst-case adaptive sharpness (Kwon et al.), on the Hessian probes' samples; null:
/// not probed.</param>
/// <param name="AdaptiveSteps">Ascent steps of the adaptive sharpness.</param>
/// <param name="SlqSteps">Lanczos steps of the Hessian spectral density (SLQ), on the Hessian probes' samples; null:
/// not probed.</param>
/// <param name="SlqVectors">Starting vectors of the SLQ.</param>
public sealed record SweepProbes(double[] Sigmas, int Draws = 20, int? LeSamples = null, int HessianSamples = 1000, int TopK = 1, int MaxIter = 50,
    int TraceSamples = 10, bool Hessian = true, double? AdaptiveRho = null, int AdaptiveSteps = 20, int? SlqSteps = null, int SlqVectors = 2)
{
    /// <summary>The local-energy probe.</summary>
    public FlatnessConfig LocalEnergy => new() { Probes = ["le"], Sigma = Sigmas, Draws = Draws, Samples = LeSamples };

    /// <summary>The Hessian probes (top eigenvalue and trace).</summary>
    public FlatnessConfig HessianProbes => new() { Probes = ["hessian", "trace"], Samples = HessianSamples, TopK = TopK, MaxIter = MaxIter, TraceSamples = TraceSamples };

    /// <summary>The adaptive-sharpness and SLQ probes the grid asks for (none: null).</summary>
    public FlatnessConfig? SpectralProbes => AdaptiveRho is null && SlqSteps is null ? null : new()
    {
        Probes = [.. AdaptiveRho is null ? Array.Empty<string>() : ["adaptive"], .. SlqSteps is null ? Array.Empty<string>() : ["slq"]],
        Samples = HessianSamples, AdaptiveRho = AdaptiveRho ?? FlatnessConfig.DefaultAdaptiveRho, AdaptiveSteps = AdaptiveSteps,
        SlqSteps = SlqSteps ?? FlatnessConfig.DefaultSlqSteps, SlqVectors = SlqVectors,
    };
}

/// <summary>
/// A sweep's grid file: <c>{"train": {options}, "optimizers": {"name[@tag]": {options}}, "seeds": [...], "grid":
/// {"option": [values]}, "probes": {...}}</c>. Option names are those of <c>flatminima train</c> (<see cref="ExperimentOptions"/>);
/// every grid point is bound to a <see cref="RunConfig"/> and validated when the file is read, so an unknown option or a
/// bad value is an error naming the option and the file before anything runs.
/// </summary>
public sealed class SweepGrid
{
    private static readonly string[] SetBySweep = ["out", "resume", "seed", "optimizer", "json"];
    private static readonly string[] TopLevel = ["train", "optimizers", "seeds", "grid", "probes"];
    private static readonly string[] ProbeKeys = ["sigma", "draws", "le_samples", "hessian_samples", "top_k", "max_iter", "trace_samples", "hessian",
        "adaptive_rho", "adaptive_steps", "slq_steps", "slq_vectors"];

    private SweepGrid(string path, string text) { Path = path; Text = text; }

    /// <summary>The file it was read from.</summary>
    public string Path { get; }
    /// <summary>The file's text (copied into the sweep directory as <c>grid.json</c>).</summary>
    public string Text { get; private init; }
    public IReadOnlyList<KeyValuePair<string, string>> Train { get; private init; } = [];
    public IReadOnlyList<(string Name, IReadOnlyList<KeyValuePair<string, string>> Options)> Optimizers { get; private init; } = [];
    public IReadOnlyList<long> Seeds { get; private init; } = [];
    /// <summary>The listed options (cartesian product), in the file's order.</summary>
    public IReadOnlyList<(string Key, IReadOnlyList<string> Values)> Axes { get; private init; } = [];
    public SweepProbes Probes { get; private init; } = new([0.01, 0.02, 0.05, 0.1]);
    /// <summary>Every grid point: optimisers × listed values × seeds, in that order.</summary>
    public IReadOnlyList<SweepJob> Jobs { get; private set; } = [];

    /// <summary>Reads and checks <paramref name="path"/>; <paramref name="device"/> is the device of every run whose
    /// options do not name one.</summary>
    public static SweepGrid Read(string path, string? device = null)
    {
        if (!File.Exists(path)) throw new ConfigException($"--grid: file {path} not found.");
        return Parse(File.ReadAllText(path), path, device);
    }

    /// <summary>Parses a grid given as text; <paramref name="path"/> names it in errors.</summary>
    public static SweepGrid Parse(string text, string path, string? device = null)
    {
        JsonNode root;
        try { root = JsonNode.Parse(text) ?? throw new ConfigException($"{path}: empty grid."); }
        catch (JsonException e) { throw new ConfigException($"{path}: invalid JSON {FlatMinima.Storage.JsonText.Where(e)}"); }
        if (root is not JsonObject top) throw new ConfigException($"{path}: a grid is a JSON object.");
        foreach (var (k, _) in top)
            if (!TopLevel.Contains(k)) throw new ConfigException($"{path}: unknown key \"{k}\" (a grid has {string.Join(", ", TopLevel)}).");
        var opts = top["optimizers"] as JsonObject ?? throw new ConfigException($"{path}: \"optimizers\" (an object name → options) is required.");
        var optimizerNames = ExperimentOptions.Optimizer.Variants.Select(v => v.Name).ToList();
        var optimizers = new List<(string, IReadOnlyList<KeyValuePair<string, string>>)>();
        foreach (var (k, v) in opts)
        {
            string name = k.Split('@')[0];   // "sgd@wd" lets one optimiser appear twice with different options
            if (!optimizerNames.Contains(name)) throw new ConfigException($"{path}: optimizer '{name}' must be one of {string.Join("|", optimizerNames)}.");
            optimizers.Add((k, Options(v, $"optimizers.{k}", path)));
        }
        if (optimizers.Count == 0) throw new ConfigException($"{path}: \"optimizers\" is empty.");
        // The seeds are part of every run's identity: they are given, never assumed.
        var seeds = new List<long>();
        if (top["seeds"] is not JsonArray sa)
            throw new ConfigException($"{path}: \"seeds\" is {(top["seeds"] is null ? "missing" : "not a list")}: give the runs' seeds as a list of distinct integers, e.g. \"seeds\": [0, 1, 2].");
        foreach (var s in sa)
            seeds.Add(s is JsonValue sv && sv.GetValueKind() == JsonValueKind.Number && long.TryParse(sv.ToJsonString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long seed)
                ? seed : throw new ConfigException($"{path}: \"seeds\" must be a non-empty list of distinct integers (got {s?.ToJsonString() ?? "null"})."));
        if (seeds.Count == 0 || seeds.Distinct().Count() != seeds.Count) throw new ConfigException($"{path}: \"seeds\" must be a non-empty list of distinct integers.");
        var axes = new List<(string, IReadOnlyList<string>)>();
        if (top["grid"] is JsonObject g)
            foreach (var (k, v) in g)
            {
                if (v is not JsonArray arr || arr.Count == 0) throw new ConfigException($"{path}: grid.{k} must be a non-empty list.");
                CheckName(k, $"grid.{k}", path);
                var values = arr.Select(x => Scalar(x, $"grid.{k}", path)).ToList();
                CheckDistinct(k, arr, values, path);
                axes.Add((k, values));
            }
        else if (top["grid"] is not null) throw new ConfigException($"{path}: \"grid\" must be an object option → list of values.");
        var grid = new SweepGrid(path, text)
        {
            Train = Options(top["train"], "train", path), Optimizers = optimizers, Seeds = seeds, Axes = axes, Probes = ParseProbes(top["probes"], path),
        };
        grid.Jobs = grid.MakeJobs(device);
        grid.CheckIds();
        return grid;
    }

    // Two values of one listed option that mean the same value (0.05 and "0.05", 0.05 and 0.050) would be one run under
    // two names: refused.
    private static void CheckDistinct(string key, JsonArray raw, List<string> values, string path)
    {
        var option = ExperimentOptions.Named(key).FirstOrDefault();
        var seen = new Dictionary<string, int>();
        for (int i = 0; i < values.Count; i++)
        {
            string canonical;
            try { canonical = option is null ? values[i] : Canonical(option.Parse(values[i])); }
            catch (ArgumentException e) { throw new ConfigException($"{path}: grid.{key}: {e.Message}"); }
            if (seen.TryGetValue(canonical, out int j))
                throw new ConfigException($"{path}: grid.{key} lists one value twice ({raw[j]!.ToJsonString()} and {raw[i]!.ToJsonString()}); every value of a grid is one run.");
            seen[canonical] = i;
        }
    }

    private static string Canonical(object? v) => v switch
    {
        null => "null",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        double[] a => string.Join(",", a.Select(x => x.ToString("R", CultureInfo.InvariantCulture))),
        string[] a => string.Join(",", a),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    // Run ids are folder names: letters, digits, '.', '-' and '_', every other character replaced by '_'. Two grid points
    // whose ids coincide would share one run directory (one never trained, the other counted twice): refused, naming both.
    private void CheckIds()
    {
        var byId = new Dictionary<string, SweepJob>(StringComparer.Ordinal);
        foreach (var j in Jobs)
        {
            if (byId.TryGetValue(j.Id, out var other))
                throw new ConfigException($"{Path}: grid points {Describe(other)} and {Describe(j)} get the same run id '{j.Id}' (ids keep letters, digits, '.', '-' and '_' " +
                                          "and replace any other character by '_'); rename an optimizer's @tag or change a value.");
            byId[j.Id] = j;
        }
    }

    private string Describe(SweepJob j) =>
        $"[{j.Index}] (optimizers.\"{j.Optimizer}\"{string.Concat(Axes.Select((a, i) => $", {a.Key} = {j.GridValues[i]}"))}, seed {j.Seed})";

    private List<SweepJob> MakeJobs(string? device)
    {
        var combos = new List<List<KeyValuePair<string, string>>> { new() };
        foreach (var (k, vs) in Axes)
            combos = combos.SelectMany(c => vs.Select(v => new List<KeyValuePair<string, string>>(c) { new(k, v) })).ToList();
        var jobs = new List<SweepJob>();
        foreach (var (opt, oo) in Optimizers)
            foreach (var combo in combos)
                foreach (var seed in Seeds)
                {
                    // Later sources override earlier ones; the order of first appearance is kept (it is the order of --list).
                    var options = new List<KeyValuePair<string, string>>();
                    var origin = new Dictionary<string, string>();
                    void Put(IEnumerable<KeyValuePair<string, string>> src, string where)
                    {
                        foreach (var (k, v) in src)
                        {
                            int i = options.FindIndex(p => p.Key == k);
                            if (i >= 0) options[i] = new(k, v); else options.Add(new(k, v));
                            origin[k] = where;
                        }
                    }
                    Put(Train, "train");
                    Put(oo, $"optimizers.{opt}");
                    Put(combo, "grid");
                    string tag = string.Concat(combo.Select(kv => $"_{kv.Key}{kv.Value}"));
                    string id = Sanitize($"{opt}{tag}_s{seed}");
                    var values = options.ToDictionary(kv => kv.Key, kv => (string?)kv.Value);
                    values["optimizer"] = opt.Split('@')[0];
                    values["seed"] = seed.ToString(CultureInfo.InvariantCulture);
                    if (device is not null && !values.ContainsKey("device")) values["device"] = device;
                    var source = new OptionDictionary(values);
                    RunConfig config;
                    try
                    {
                        config = ConfigBinder.Bind(source);
                        foreach (var unused in source.Unused)
                            throw new ConfigException($"unknown option '{unused}' in {origin[unused]}" +
                                (ExperimentOptions.IsKnown(unused) ? $" for {opt} ({ExperimentOptions.WhereApplies(unused)})" : "") + ".");
                        config.Validate();
                    }
                    catch (ArgumentException e) { throw new ConfigException($"{Path}: {id}: {FirstLine(e.Message)}"); }
                    jobs.Add(new SweepJob(jobs.Count, id, opt, seed, options, combo.Select(kv => kv.Value).ToList(), config));
                }
        return jobs;
    }

    private static string FirstLine(string m)
    {
        int cut = m.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return cut >= 0 ? m[..cut] : m;
    }

    private static string Sanitize(string s) => new(s.Select(ch => char.IsLetterOrDigit(ch) || ch is '.' or '-' or '_' ? ch : '_').ToArray());

    private static void CheckName(string k, string where, string path)
    {
        if (SetBySweep.Contains(k)) throw new ConfigException($"{path}: {where}: option '{k}' is set by the sweep itself.");
        if (!ExperimentOptions.IsKnown(k)) throw new ConfigException($"{path}: {where}: unknown option '{k}' (the options of flatminima train).");
    }

    private static string Scalar(JsonNode? n, string where, string path) => n switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>() ? "true" : "false",
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.ToJsonString(),
        _ => throw new ConfigException($"{path}: {where}: expected a number, string or boolean."),
    };

    private static IReadOnlyList<KeyValuePair<string, string>> Options(JsonNode? n, string where, string path)
    {
        var d = new List<KeyValuePair<string, string>>();
        if (n is null) return d;
        if (n is not JsonObject o) throw new ConfigException($"{path}: {where} must be an object of option → value.");
        foreach (var (k, v) in o)
        {
            CheckName(k, where, path);
            d.Add(new(k, Scalar(v, $"{where}.{k}", path)));
        }
        return d;
    }

    private static SweepProbes ParseProbes(JsonNode? n, string path)
    {
        var p = n as JsonObject ?? (n is null ? new JsonObject() : throw new ConfigException($"{path}: \"probes\" must be an object."));
        foreach (var (k, _) in p)
            if (!ProbeKeys.Contains(k)) throw new ConfigException($"{path}: unknown key probes.{k} (one of {string.Join(", ", ProbeKeys)}).");
        double[] sigmas = [0.01, 0.02, 0.05, 0.1];
        if (p["sigma"] is not null)
            sigmas = (p["sigma"] as JsonArray ?? throw new ConfigException($"{path}: probes.sigma must be a list of numbers > 0."))
                .Select(x => x is JsonValue v && v.GetValueKind() == JsonValueKind.Number ? v.GetValue<double>() : double.NaN).ToArray();
        if (sigmas.Length == 0 || sigmas.Any(s => !(s > 0) || !double.IsFinite(s))) throw new ConfigException($"{path}: probes.sigma must be a list of numbers > 0.");
        int I(string k, int d)
        {
            if (p[k] is null) return d;
            if (p[k] is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !int.TryParse(v.ToJsonString(), out int x) || x < 1)
                throw new ConfigException($"{path}: probes.{k} must be an integer >= 1 (got {p[k]!.ToJsonString()}).");
            return x;
        }
        bool hessian = p["hessian"] is null || (p["hessian"] is JsonValue hv && hv.GetValueKind() is JsonValueKind.True or JsonValueKind.False
            ? hv.GetValue<bool>() : throw new ConfigException($"{path}: probes.hessian must be true or false."));
        double? rho = null;
        if (p["adaptive_rho"] is not null)
            rho = p["adaptive_rho"] is JsonValue rv && rv.GetValueKind() == JsonValueKind.Number && rv.GetValue<double>() is var r && r > 0 && double.IsFinite(r)
                ? r : throw new ConfigException($"{path}: probes.adaptive_rho must be a number > 0 (got {p["adaptive_rho"]!.ToJsonString()}).");
        return new SweepProbes(sigmas, I("draws", 20), p["le_samples"] is null ? null : I("le_samples", 1), I("hessian_samples", 1000),
            I("top_k", 1), I("max_iter", 50), I("trace_samples", 10), hessian,
            rho, I("adaptive_steps", 20), p["slq_steps"] is null ? null : I("slq_steps", 1), I("slq_vectors", 2));
    }

    /// <summary>The grid points of <paramref name="spec"/>: <c>I</c>, <c>I-J</c> or a comma list of them.</summary>
    public IReadOnlyList<SweepJob> Tasks(string spec)
    {
        var list = new List<SweepJob>();
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var ab = part.Split('-');
            if (ab.Length > 2 || !int.TryParse(ab[0], out int a) || !int.TryParse(ab[^1], out int b))
                throw new ConfigException($"--task must be I, I-J or a comma list of them (got '{spec}').");
            for (int i = a; i <= b; i++)
            {
                if (i < 0 || i >= Jobs.Count) throw new ConfigException($"--task {i} is outside the grid's 0..{Jobs.Count - 1}.");
                list.Add(Jobs[i]);
            }
        }
        return list;
    }

    /// <summary>Every M-th grid point from K (<c>K/M</c>): one share of the grid for each of M processes.</summary>
    public static IEnumerable<SweepJob> Shard(IEnumerable<SweepJob> jobs, string spec)
    {
        var km = spec.Split('/');
        if (km.Length != 2 || !int.TryParse(km[0], out int k) || !int.TryParse(km[1], out int m) || m < 1 || k < 0 || k >= m)
            throw new ConfigException($"--shard must be K/M with 0 <= K < M (got '{spec}').");
        return jobs.Where(j => j.Index % m == k);
    }
}
