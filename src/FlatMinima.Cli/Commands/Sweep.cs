using FlatMinima.Storage;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Numerics;

namespace FlatMinima.Cli.Commands;

/// <summary>
/// <c>flatminima sweep</c>: a grid of training runs (optimisers × listed options × seeds) from a JSON file, run
/// resumably, each final model probed for flatness (local energy at several σ, top Hessian eigenvalue, Hutchinson
/// trace); one table of test error against flatness with Spearman and Kendall correlations and confidence intervals.
/// For a cluster it emits a Slurm job array whose tasks run one grid point each; <c>--collect</c> merges them.
/// </summary>
public sealed class Sweep : ICommand
{
    public string Name => "sweep";
    public string Summary => "grid of training runs × flatness probes → table of test error vs flatness with rank correlations (Slurm arrays)";
    public string Usage =>
        "usage: flatminima sweep --grid GRID.json --out DIR [--task I|I-J|I,J,..] [--shard K/M] [--device cpu|cuda|auto] [--json]\n" +
        "       flatminima sweep --grid GRID.json --out DIR --emit-slurm [--slurm-partition P] [--slurm-time HH:MM:SS]\n" +
        "                        [--slurm-gpus G] [--slurm-max-parallel K] [--slurm-cpus C] [--flatminima PATH]\n" +
        "       flatminima sweep --collect --out DIR [--exclude NAME[,NAME...]] [--json]\n" +
        "       flatminima sweep --grid GRID.json --list\n\n" +
        "GRID.json: {\"train\": {train options, e.g. \"data\": \"gmm\", \"epochs\": 10},\n" +
        "            \"optimizers\": {\"sgd\": {\"lr\": 0.05}, \"esgd\": {\"lr\": 0.1, \"inner-steps\": 5}, ...},\n" +
        "            \"seeds\": [0, 1, 2],  \"grid\": {\"weight-decay\": [0, 0.0005]}   (optional; cartesian product),\n" +
        "            \"probes\": {\"sigma\": [0.01, 0.02, 0.05], \"draws\": 20, \"le_samples\": 5000,\n" +
        "                       \"hessian_samples\": 1000, \"top_k\": 1, \"max_iter\": 50, \"trace_samples\": 10}}\n" +
        "Runs go to DIR/runs/ID (a train run directory plus result.json). A finished run is skipped, an interrupted one\n" +
        "resumed from its checkpoint. Writes DIR/sweep.csv (one row per run), DIR/correlation.csv and .json (flatness vs\n" +
        "test error) and DIR/correlation_gap.csv (flatness vs the generalisation gap, test − train error).\n" +
        "--emit-slurm writes DIR/sweep.slurm (a job array, one task per run), DIR/jobs.tsv and DIR/grid.json; submit with\n" +
        "`sbatch DIR/sweep.slurm`, then merge with `flatminima sweep --collect --out DIR`. Paths in the grid (--data-dir)\n" +
        "are relative to the working directory of each task: prefer absolute paths for Slurm.\n" +
        "--collect --exclude esgd,sam computes the correlations without those optimisers' runs (names as in the grid,\n" +
        "with @tags) into DIR/correlation[_gap].without-esgd+sam.csv (and .json); sweep.csv always lists every run.\n" +
        "--shard K/M runs every M-th grid point: one process per GPU or machine (processes sharing one GPU time-slice it).\n";

    /// <summary>One grid point.</summary>
    internal sealed record Job(int Index, string Id, string Optimizer, long Seed, Dictionary<string, string> Options, Dictionary<string, string> GridValues);

    /// <summary>The parsed grid file.</summary>
    internal sealed class Grid
    {
        public required Dictionary<string, string> Train { get; init; }
        public required List<(string Name, Dictionary<string, string> Options)> Optimizers { get; init; }
        public required List<long> Seeds { get; init; }
        public required List<(string Key, List<string> Values)> Axes { get; init; }
        public required double[] Sigmas { get; init; }
        public int Draws { get; init; } = 20;
        public int? LeSamples { get; init; }
        public int HessianSamples { get; init; } = 1000;
        public int TopK { get; init; } = 1;
        public int MaxIter { get; init; } = 50;
        public int TraceSamples { get; init; } = 10;
        public bool Hessian { get; init; } = true;
        public required string Text { get; init; }

        public List<Job> Jobs()
        {
            var combos = new List<Dictionary<string, string>> { new() };
            foreach (var (k, vs) in Axes)
                combos = combos.SelectMany(c => vs.Select(v => new Dictionary<string, string>(c) { [k] = v })).ToList();
            var jobs = new List<Job>();
            foreach (var (opt, oo) in Optimizers)
                foreach (var combo in combos)
                    foreach (var seed in Seeds)
                    {
                        var options = new Dictionary<string, string>(Train);
                        foreach (var (k, v) in oo) options[k] = v;
                        foreach (var (k, v) in combo) options[k] = v;
                        string tag = string.Concat(combo.Select(kv => $"_{kv.Key}{kv.Value}"));
                        string id = Sanitize($"{opt}{tag}_s{seed}");
                        jobs.Add(new Job(jobs.Count, id, opt, seed, options, combo));
                    }
            return jobs;
        }

        private static string Sanitize(string s) => new(s.Select(ch => char.IsLetterOrDigit(ch) || ch is '.' or '-' or '_' ? ch : '_').ToArray());
    }

    private static string Scalar(JsonNode? n, string where) => n switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b ? "true" : "false",
        JsonValue v => v.ToJsonString(),
        _ => throw new UsageException($"{where}: expected a number, string or boolean."),
    };

    private static Dictionary<string, string> Options(JsonNode? n, string where)
    {
        var d = new Dictionary<string, string>();
        if (n is null) return d;
        if (n is not JsonObject o) throw new UsageException($"{where} must be an object of option → value.");
        foreach (var (k, v) in o)
        {
            if (k is "out" or "resume" or "seed" or "optimizer" or "json") throw new UsageException($"{where}: option '{k}' is set by the sweep itself.");
            d[k] = Scalar(v, $"{where}.{k}");
        }
        return d;
    }

    internal static Grid ParseGrid(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"--grid: file {path} not found.");
        string text = File.ReadAllText(path);
        JsonNode root;
        try { root = JsonNode.Parse(text) ?? throw new UsageException($"{path}: empty grid."); }
        catch (JsonException e) { throw new UsageException($"{path}: invalid JSON ({e.Message})."); }
        var opts = root["optimizers"] as JsonObject ?? throw new UsageException($"{path}: \"optimizers\" (an object name → options) is required.");
        var optimizers = new List<(string, Dictionary<string, string>)>();
        foreach (var (k, v) in opts)
        {
            string name = k.Split('@')[0];   // "sgd@wd" lets one optimiser appear twice with different options
            if (!OptimizerOptions.Names.Contains(name)) throw new UsageException($"{path}: optimizer '{name}' must be one of {string.Join("|", OptimizerOptions.Names)}.");
            optimizers.Add((k, Options(v, $"optimizers.{k}")));
        }
        if (optimizers.Count == 0) throw new UsageException($"{path}: \"optimizers\" is empty.");
        var seeds = (root["seeds"] as JsonArray ?? [0]).Select(s => s!.GetValue<long>()).ToList();
        if (seeds.Count == 0 || seeds.Distinct().Count() != seeds.Count) throw new UsageException($"{path}: \"seeds\" must be a non-empty list of distinct integers.");
        var axes = new List<(string, List<string>)>();
        if (root["grid"] is JsonObject g)
            foreach (var (k, v) in g)
            {
                if (v is not JsonArray arr || arr.Count == 0) throw new UsageException($"{path}: grid.{k} must be a non-empty list.");
                axes.Add((k, arr.Select(x => Scalar(x, $"grid.{k}")).ToList()));
            }
        var p = root["probes"] as JsonObject ?? new JsonObject();
        double[] sigmas = (p["sigma"] as JsonArray)?.Select(x => x!.GetValue<double>()).ToArray() ?? [0.01, 0.02, 0.05, 0.1];
        if (sigmas.Length == 0 || sigmas.Any(s => !(s > 0))) throw new UsageException($"{path}: probes.sigma must be a list of numbers > 0.");
        int I(string k, int d) { int v = p[k]?.GetValue<int>() ?? d; if (v < 1) throw new UsageException($"{path}: probes.{k} must be >= 1 (got {v})."); return v; }
        return new Grid
        {
            Train = Options(root["train"], "train"), Optimizers = optimizers, Seeds = seeds, Axes = axes, Sigmas = sigmas,
            Draws = I("draws", 20), LeSamples = p["le_samples"] is null ? null : I("le_samples", 1), HessianSamples = I("hessian_samples", 1000),
            TopK = I("top_k", 1), MaxIter = I("max_iter", 50), TraceSamples = I("trace_samples", 10), Hessian = p["hessian"]?.GetValue<bool>() ?? true, Text = text,
        };
    }

    internal static List<int> ParseTasks(string spec, int n)
    {
        var list = new List<int>();
        foreach (var part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var ab = part.Split('-');
            if (!int.TryParse(ab[0], out int a) || (ab.Length == 2 ? !int.TryParse(ab[1], out int b) : (b = a) != a) || ab.Length > 2)
                throw new UsageException($"--task must be I, I-J or a comma list of them (got '{spec}').");
            for (int i = a; i <= b; i++)
            {
                if (i < 0 || i >= n) throw new UsageException($"--task {i} is outside the grid's 0..{n - 1}.");
                list.Add(i);
            }
        }
        return list;
    }

    public int Run(Args a, CommandContext ctx)
    {
        bool collect = a.Flag("collect"), emit = a.Flag("emit-slurm"), list = a.Flag("list"), json = a.Flag("json");
        string? gridPath = a.OptionalString("grid");
        string? outDir = a.OptionalString("out");
        string? taskSpec = a.OptionalString("task"), shard = a.OptionalString("shard");
        string? device = a.OptionalString("device");
        string? excludeSpec = a.OptionalString("exclude");
        string partition = a.String("slurm-partition", ""), time = a.String("slurm-time", "04:00:00"), exe = a.String("flatminima", "flatminima");
        int gpus = a.Int("slurm-gpus", 1), maxPar = a.Int("slurm-max-parallel", 0), cpus = a.Int("slurm-cpus", 4);
        a.EnsureAllUsed();

        if (collect)
        {
            if (outDir is null) throw new UsageException("--collect needs --out DIR (the sweep directory).");
            var exclude = excludeSpec?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList() ?? [];
            return Collect(outDir, ctx, json, exclude);
        }
        if (excludeSpec is not null) throw new UsageException("--exclude applies to --collect only.");
        if (gridPath is null) throw new UsageException("--grid GRID.json is required (or --collect --out DIR).");
        var grid = ParseGrid(gridPath);
        var jobs = grid.Jobs();
        if (list)
        {
            foreach (var j in jobs) ctx.Out.WriteLine($"{j.Index}\t{j.Id}\t{string.Join(' ', TrainArgv(j, "RUN", null))}");
            return 0;
        }
        if (outDir is null) throw new UsageException("--out DIR is required.");
        Directory.CreateDirectory(outDir);
        string gridCopy = Path.Combine(outDir, "grid.json");
        if (File.Exists(gridCopy) && File.ReadAllText(gridCopy) != grid.Text)
            throw new UsageException($"{outDir} belongs to a different grid ({gridCopy} differs from {gridPath}); use another --out.");
        if (!File.Exists(gridCopy)) AtomicFile.WriteAllText(gridCopy, grid.Text);
        if (emit)
        {
            if (gpus < 0 || cpus < 1 || maxPar < 0) throw new UsageException("--slurm-gpus must be >= 0, --slurm-cpus >= 1, --slurm-max-parallel >= 0.");
            EmitSlurm(outDir, jobs, partition, time, gpus, cpus, maxPar, exe, device);
            ctx.Err.WriteLine($"wrote {Path.Combine(outDir, "sweep.slurm")} ({jobs.Count} tasks) and jobs.tsv; submit with: sbatch {Path.Combine(outDir, "sweep.slurm")}");
            if (json) Output.WriteJson(ctx.Out, new Dictionary<string, object?> { ["tasks"] = jobs.Count, ["script"] = Path.GetFullPath(Path.Combine(outDir, "sweep.slurm")) });
            return 0;
        }
        IEnumerable<Job> todo = jobs;
        if (taskSpec is not null) { var idx = ParseTasks(taskSpec, jobs.Count); todo = idx.Select(i => jobs[i]); }
        if (shard is not null)
        {
            var km = shard.Split('/');
            if (km.Length != 2 || !int.TryParse(km[0], out int k) || !int.TryParse(km[1], out int m) || m < 1 || k < 0 || k >= m)
                throw new UsageException($"--shard must be K/M with 0 <= K < M (got '{shard}').");
            todo = todo.Where(j => j.Index % m == k);
        }
        int failed = 0;
        foreach (var j in todo.ToList())
            if (!RunJob(j, grid, outDir, device, ctx)) failed++;
        if (taskSpec is null && shard is null) return Collect(outDir, ctx, json) == 0 && failed == 0 ? 0 : 1;
        return failed == 0 ? 0 : 1;
    }

    private static List<string> TrainArgv(Job j, string runDir, string? device)
    {
        var argv = new List<string> { "train", "--out", runDir, "--seed", j.Seed.ToString(CultureInfo.InvariantCulture), "--optimizer", j.Optimizer.Split('@')[0] };
        // Flags (--adaptive) accept true/false as values, so every option is passed as --key value.
        foreach (var (k, v) in j.Options) { argv.Add("--" + k); argv.Add(v); }
        if (device is not null && !j.Options.ContainsKey("device")) { argv.Add("--device"); argv.Add(device); }
        return argv;
    }

    private static void EmitSlurm(string outDir, List<Job> jobs, string partition, string time, int gpus, int cpus, int maxPar, string exe, string? device)
    {
        string dir = Path.GetFullPath(outDir);
        var tsv = new StringBuilder("index\tid\toptimizer\tseed\targv\n");
        foreach (var j in jobs) tsv.Append($"{j.Index}\t{j.Id}\t{j.Optimizer}\t{j.Seed}\t{string.Join(' ', TrainArgv(j, Path.Combine(dir, "runs", j.Id), device))}\n");
        AtomicFile.WriteAllText(Path.Combine(outDir, "jobs.tsv"), tsv.ToString());
        var s = new StringBuilder();
        s.Append("#!/bin/bash\n");
        s.Append("#SBATCH --job-name=flatminima-sweep\n");
        s.Append($"#SBATCH --array=0-{jobs.Count - 1}{(maxPar > 0 ? "%" + maxPar : "")}\n");
        s.Append($"#SBATCH --time={time}\n#SBATCH --cpus-per-task={cpus}\n");
        if (gpus > 0) s.Append($"#SBATCH --gres=gpu:{gpus}\n");
        if (partition.Length > 0) s.Append($"#SBATCH --partition={partition}\n");
        s.Append($"#SBATCH --output={Path.Combine(dir, "logs", "%A_%a.out")}\n");
        s.Append("set -euo pipefail\n");
        s.Append($"mkdir -p {Q(Path.Combine(dir, "logs"))}\n");
        s.Append("export FLATMINIMA_NO_PROGRESS=1\n");
        s.Append("# One grid point per array task; a requeued or re-submitted task resumes from its checkpoint.\n");
        s.Append($"{Q(exe)} sweep --grid {Q(Path.Combine(dir, "grid.json"))} --out {Q(dir)} --task \"$SLURM_ARRAY_TASK_ID\"{(device is null ? "" : " --device " + device)}\n");
        s.Append($"# After the array: {exe} sweep --collect --out {dir}\n");
        Directory.CreateDirectory(Path.Combine(outDir, "logs"));
        AtomicFile.WriteAllText(Path.Combine(outDir, "sweep.slurm"), s.ToString());
    }

    private static string Q(string s) => s.All(ch => char.IsLetterOrDigit(ch) || "/._-:".Contains(ch)) ? s : "'" + s.Replace("'", "'\\''") + "'";

    private static JsonNode? ReadJson(string path) => File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) : null;

    /// <summary>Trains (or resumes) one grid point and probes its final model; writes runs/ID/result.json.</summary>
    private static bool RunJob(Job j, Grid grid, string outDir, string? device, CommandContext ctx)
    {
        string runDir = Path.Combine(outDir, "runs", j.Id);
        string resultPath = Path.Combine(runDir, "result.json");
        if (File.Exists(resultPath)) { ctx.Err.WriteLine($"sweep: [{j.Index}] {j.Id}: done, skipped"); return true; }
        var quiet = new CommandContext(TextWriter.Null, ctx.Err, []) { ShowProgress = false };
        var clock = Stopwatch.StartNew();
        string status = ReadJson(Path.Combine(runDir, "manifest.json"))?["status"]?.GetValue<string>() ?? "";
        JsonNode? trainSummary;
        if (status != "completed")
        {
            var sw = new StringWriter();
            var tctx = new CommandContext(sw, TextWriter.Null, []) { ShowProgress = false };
            bool resume = Torch.Training.Trainer.LatestCheckpoint(runDir) is not null;
            List<string> argv = resume
                ? ["train", "--resume", runDir, "--json"]
                : [.. TrainArgv(j, runDir, device), "--json"];
            if (!resume && Directory.Exists(runDir)) Directory.Delete(runDir, true);
            ctx.Err.WriteLine($"sweep: [{j.Index}] {j.Id}: {(resume ? "resuming" : "training")}");
            int rc = Cli.Run([.. argv], sw, ctx.Err);
            if (rc != 0) { ctx.Err.WriteLine($"sweep: [{j.Index}] {j.Id}: train exited with {rc}"); return false; }
            trainSummary = JsonNode.Parse(sw.ToString());
        }
        else trainSummary = ReadJson(Path.Combine(runDir, "manifest.json"))?["result"];
        double trainSecs = clock.Elapsed.TotalSeconds;
        clock.Restart();
        string sig = string.Join(',', grid.Sigmas.Select(s => s.ToString("R", CultureInfo.InvariantCulture)));
        var le = Probe(runDir, ["--probes", "le", "--sigma", sig, "--draws", grid.Draws.ToString(CultureInfo.InvariantCulture),
            .. grid.LeSamples is int ls ? new[] { "--samples", ls.ToString(CultureInfo.InvariantCulture) } : []], ctx);
        if (le is null) return false;
        JsonNode? hs = null;
        if (grid.Hessian)
        {
            hs = Probe(runDir, ["--probes", "hessian,trace", "--samples", grid.HessianSamples.ToString(CultureInfo.InvariantCulture),
                "--top-k", grid.TopK.ToString(CultureInfo.InvariantCulture), "--max-iter", grid.MaxIter.ToString(CultureInfo.InvariantCulture),
                "--trace-samples", grid.TraceSamples.ToString(CultureInfo.InvariantCulture)], ctx);
            if (hs is null) return false;
        }
        var metrics = Torch.Training.Trainer.ReadMetrics(Path.Combine(runDir, "metrics.csv"));
        var last = metrics[^1];
        var result = new Dictionary<string, object?>
        {
            ["index"] = j.Index, ["id"] = j.Id, ["optimizer"] = j.Optimizer, ["seed"] = j.Seed, ["grid"] = j.GridValues.ToDictionary(k => k.Key, k => (object?)k.Value),
            ["epochs"] = last.Epoch, ["train_loss"] = last.TrainLoss, ["train_error"] = last.TrainError, ["test_loss"] = last.TestLoss, ["test_error"] = last.TestError,
            ["epsilon_bo"] = trainSummary?["epsilon_bo"]?.GetValue<double>(),
            ["local_energy"] = le["local_energy"]!.AsArray().Select(p => new Dictionary<string, object?>
            {
                ["sigma"] = p!["sigma"]!.GetValue<double>(), ["delta_train_error_pct"] = p["delta_train_error_pct"]?.GetValue<double>(),
                ["mean_train_error_pct"] = p["mean_train_error_pct"]?.GetValue<double>(), ["sem_train_error_pct"] = p["sem_train_error_pct"]?.GetValue<double>(),
            }).ToList(),
            ["hessian_top"] = hs?["hessian_top"]?["values"]?[0]?.GetValue<double>(),
            ["hessian_trace"] = hs?["hessian_trace"]?["trace"]?.GetValue<double>(),
            ["hessian_trace_se"] = hs?["hessian_trace"]?["se"]?.GetValue<double>(),
            ["train_seconds"] = metrics.Sum(m => m.Seconds), ["probe_seconds"] = clock.Elapsed.TotalSeconds, ["wall_seconds"] = trainSecs + clock.Elapsed.TotalSeconds,
            ["device"] = trainSummary?["device"]?.GetValue<string>(),
        };
        AtomicFile.WriteAllText(resultPath, Output.Json(result));
        ctx.Err.WriteLine($"sweep: [{j.Index}] {j.Id}: test error {Output.Num(last.TestError)}, δE(σ={Output.Num(grid.Sigmas[0])}) = {Output.Num(le["local_energy"]![0]!["delta_train_error_pct"]?.GetValue<double>() ?? double.NaN)} %");
        return true;
    }

    private static JsonNode? Probe(string runDir, string[] extra, CommandContext ctx)
    {
        var sw = new StringWriter();
        int rc = Cli.Run(["flatness", "--run", runDir, "--json", .. extra], sw, TextWriter.Null);
        if (rc != 0) { ctx.Err.WriteLine($"sweep: flatness probes failed on {runDir} (exit {rc})."); return null; }
        return JsonNode.Parse(sw.ToString());
    }

    /// <summary>Merges every runs/*/result.json of <paramref name="outDir"/> into sweep.csv and the correlations.</summary>
    /// <param name="outDir">The sweep directory (holds grid.json and runs/).</param>
    /// <param name="ctx">Output streams.</param>
    /// <param name="json">Print the summary as JSON instead of a table.</param>
    /// <param name="exclude">Optimiser names (with @tags) whose runs stay out of the correlations (not of sweep.csv).</param>
    internal static int Collect(string outDir, CommandContext ctx, bool json, IReadOnlyList<string>? exclude = null)
    {
        string gridCopy = Path.Combine(outDir, "grid.json");
        if (!File.Exists(gridCopy)) throw new UsageException($"{outDir} is not a sweep directory (no grid.json).");
        var grid = ParseGrid(gridCopy);
        exclude ??= [];
        var names = grid.Optimizers.Select(o => o.Name).ToList();
        foreach (var e in exclude)
            if (!names.Contains(e)) throw new UsageException($"--exclude: '{e}' is not an optimizer of this grid (one of {string.Join(", ", names)}).");
        if (exclude.Count > 0 && exclude.Count == names.Count) throw new UsageException("--exclude: leaves no optimizer to correlate.");
        var jobs = grid.Jobs();
        var rows = new List<JsonNode>();
        var missing = new List<string>();
        foreach (var j in jobs)
        {
            var r = ReadJson(Path.Combine(outDir, "runs", j.Id, "result.json"));
            if (r is null) missing.Add(j.Id); else rows.Add(r);
        }
        var axes = grid.Axes.Select(x => x.Key).ToList();
        var header = new List<string> { "id", "optimizer", "seed" };
        header.AddRange(axes);
        header.AddRange(["epochs", "train_loss", "train_error", "test_loss", "test_error", "epsilon_bo"]);
        header.AddRange(grid.Sigmas.Select(s => $"le_delta_pct_sigma{s.ToString("R", CultureInfo.InvariantCulture)}"));
        header.AddRange(["hessian_top", "hessian_trace", "hessian_trace_se", "train_s", "probe_s"]);
        static string F(double? v) => v is double d && double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "";
        static double? D(JsonNode? n) => n?.GetValue<double>();
        var sb = new StringBuilder(string.Join(',', header)).Append('\n');
        var flat = new Dictionary<string, List<double?>>();
        var testErr = new List<double>();
        var gap = new List<double>();
        var inCorrelation = new List<bool>();
        foreach (var r in rows)
        {
            var cells = new List<string> { r["id"]!.GetValue<string>(), r["optimizer"]!.GetValue<string>(), r["seed"]!.ToJsonString() };
            cells.AddRange(axes.Select(k => r["grid"]?[k]?.GetValue<string>() ?? ""));
            cells.AddRange([r["epochs"]!.ToJsonString(), F(D(r["train_loss"])), F(D(r["train_error"])), F(D(r["test_loss"])), F(D(r["test_error"])), F(D(r["epsilon_bo"]))]);
            var le = r["local_energy"]!.AsArray();
            for (int s = 0; s < grid.Sigmas.Length; s++)
            {
                var v = D(le.FirstOrDefault(p => Math.Abs(p!["sigma"]!.GetValue<double>() - grid.Sigmas[s]) < 1e-15)?["delta_train_error_pct"]);
                cells.Add(F(v));
                string key = $"local_energy_sigma{grid.Sigmas[s].ToString("R", CultureInfo.InvariantCulture)}";
                (flat.TryGetValue(key, out var l) ? l : flat[key] = []).Add(v);
            }
            cells.AddRange([F(D(r["hessian_top"])), F(D(r["hessian_trace"])), F(D(r["hessian_trace_se"])), F(D(r["train_seconds"])), F(D(r["probe_seconds"]))]);
            (flat.TryGetValue("hessian_top", out var h) ? h : flat["hessian_top"] = []).Add(D(r["hessian_top"]));
            (flat.TryGetValue("hessian_trace", out var t) ? t : flat["hessian_trace"] = []).Add(D(r["hessian_trace"]));
            testErr.Add(D(r["test_error"]) ?? double.NaN);
            gap.Add((D(r["test_error"]) ?? double.NaN) - (D(r["train_error"]) ?? double.NaN));
            inCorrelation.Add(!exclude.Contains(r["optimizer"]!.GetValue<string>()));
            sb.Append(string.Join(',', cells)).Append('\n');
        }
        AtomicFile.WriteAllText(Path.Combine(outDir, "sweep.csv"), sb.ToString());
        // Flatness against the test error (the papers' comparison) and against the generalisation gap test − train
        // error (what flatness is meant to predict; it differs when the runs reach different training errors).
        List<Dictionary<string, object?>> Correlate(List<double> target, StringBuilder csv)
        {
            var list = new List<Dictionary<string, object?>>();
            foreach (var (measure, values) in flat)
            {
                var pairs = values.Zip(target).Where((p, i) => inCorrelation[i] && p.First is double v && double.IsFinite(v) && double.IsFinite(p.Second)).Select(p => (X: p.First!.Value, Y: p.Second)).ToList();
                if (pairs.Count < 2) continue;
                foreach (var res in new[] { RankCorrelation.Spearman(pairs.Select(p => p.X).ToList(), pairs.Select(p => p.Y).ToList()), RankCorrelation.Kendall(pairs.Select(p => p.X).ToList(), pairs.Select(p => p.Y).ToList()) })
                {
                    list.Add(new() { ["measure"] = measure, ["method"] = res.Method, ["value"] = res.Value, ["lower"] = res.Lower, ["upper"] = res.Upper, ["n"] = res.N, ["level"] = res.Level });
                    csv.Append($"{measure},{res.Method},{F(res.Value)},{F(res.Lower)},{F(res.Upper)},{res.N}\n");
                }
            }
            return list;
        }
        var csv = new StringBuilder("measure,method,value,lower95,upper95,n\n");
        var csvGap = new StringBuilder("measure,method,value,lower95,upper95,n\n");
        var corr = Correlate(testErr, csv);
        var corrGap = Correlate(gap, csvGap);
        string stem = exclude.Count == 0 ? "correlation" : $"correlation.without-{string.Join('+', exclude)}";
        AtomicFile.WriteAllText(Path.Combine(outDir, stem + ".csv"), csv.ToString());
        AtomicFile.WriteAllText(Path.Combine(outDir, stem.Replace("correlation", "correlation_gap") + ".csv"), csvGap.ToString());
        var summary = new Dictionary<string, object?>
        {
            ["out"] = Path.GetFullPath(outDir), ["runs"] = jobs.Count, ["completed"] = rows.Count, ["missing"] = missing,
            ["table"] = Path.GetFullPath(Path.Combine(outDir, "sweep.csv")), ["excluded"] = exclude.ToList(),
            ["runs_in_correlation"] = inCorrelation.Count(b => b), ["correlation"] = corr, ["correlation_gap"] = corrGap,
            ["versions"] = Versions.Describe(), ["collected_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        };
        AtomicFile.WriteAllText(Path.Combine(outDir, stem + ".json"), Output.Json(summary));
        if (missing.Count > 0) ctx.Err.WriteLine($"sweep: {missing.Count} of {jobs.Count} runs have no result yet: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", ..." : "")}");
        if (json) Output.WriteJson(ctx.Out, summary);
        else
        {
            var both = corr.Select(c => ("test error", c)).Concat(corrGap.Select(c => ("test − train error", c)));
            ctx.Out.Write(Output.Table(["flatness measure", "against", "method", "value", "95% CI", "n"], both.Select(t => (IReadOnlyList<string>)[(string)t.c["measure"]!, t.Item1, (string)t.c["method"]!, Output.Num((double)t.c["value"]!), $"[{Output.Num((double)t.c["lower"]!)}, {Output.Num((double)t.c["upper"]!)}]", t.c["n"]!.ToString()!])));
            ctx.Out.WriteLine($"table: {Path.Combine(Path.GetFullPath(outDir), "sweep.csv")} ({rows.Count}/{jobs.Count} runs)");
        }
        return 0;
    }
}
