using System.CommandLine;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Experiments;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Experiments.Sweeps;

namespace FlatMinima.Cli.Commands;

/// <summary>
/// <c>flatminima sweep</c>: a grid of training runs (optimisers × listed options × seeds) from a JSON file, run
/// resumably, each final model probed for flatness; the table of test error against flatness with rank correlations
/// and the per-optimiser summary. For a cluster it emits a Slurm job array; <c>--collect</c> merges the results.
/// </summary>
public sealed class Sweep : CliCommand
{
    private static readonly SlurmOptions SlurmDefaults = new();

    private readonly Option<string?> _grid = Opt.Text("--grid", "GRID.json", "the grid (see below)", defaultText: "none (required unless --collect)");
    private readonly Option<string?> _out = Opt.Text("--out", "DIR", "the sweep directory", defaultText: "none (required unless --list)");
    private readonly Option<string?> _task = Opt.Text("--task", "I|I-J|I,J,..", "run only these grid points (a Slurm array task)", defaultText: "all");
    private readonly Option<string?> _shard = Opt.Text("--shard", "K/M", "run every M-th grid point from K: one process per GPU or machine (processes sharing one GPU time-slice it)", defaultText: "all");
    private readonly Option<string?> _device = Opt.Text("--device", "cpu|cuda|auto", "device of every run, replacing the grid's", defaultText: "the grid's");
    private readonly Option<bool> _list = Opt.Flag("--list", "list the grid's runs (index, id, equivalent train command line)");
    private readonly Option<bool> _emit = Opt.Flag("--emit-slurm", "write DIR/sweep.slurm (a job array, one task per run), DIR/jobs.tsv and DIR/grid.json instead of running");
    private readonly Option<string?> _partition = Opt.Text("--slurm-partition", "P", "Slurm partition (empty: the cluster's default)", SlurmDefaults.Partition, "the cluster's default");
    private readonly Option<string?> _time = Opt.Text("--slurm-time", "HH:MM:SS", "time limit per task", SlurmDefaults.Time);
    private readonly Option<int> _gpus = Opt.Int("--slurm-gpus", "G", "GPUs per task", SlurmDefaults.Gpus, "[0, inf)");
    private readonly Option<int> _cpus = Opt.Int("--slurm-cpus", "C", "CPUs per task", SlurmDefaults.Cpus, "[1, inf)");
    private readonly Option<int> _maxParallel = Opt.Int("--slurm-max-parallel", "K", "tasks running at once (0: no limit)", SlurmDefaults.MaxParallel, "[0, inf)");
    private readonly Option<string?> _executable = Opt.Text("--flatminima", "PATH", "the flatminima command on the cluster", SlurmDefaults.Executable);
    private readonly Option<bool> _collect = Opt.Flag("--collect", "merge the results of DIR into the tables");
    private readonly Option<string?> _exclude = Opt.Text("--exclude", "NAME[,NAME...]", "with --collect: correlations without these optimisers' runs (names as in the grid, with @tags)", defaultText: "none");
    private readonly Option<string?> _maxTrainError = Opt.Text("--max-train-error", "E", "with --collect: correlations over the runs whose final training error (a fraction) is at most E: the comparison at equal training error", defaultText: "none");
    private readonly Option<string?> _where = Opt.Text("--where", "OPTION=VALUE", "with --collect: correlations over the runs with this value of a listed option of the grid (batch-size=10)", defaultText: "all runs");
    private readonly Option<bool> _markdown = Opt.Flag("--markdown", "with --collect: print the summary and the correlations as Markdown tables (those of docs/optim.md)");
    private readonly Option<bool> _json = CommonOptions.Json();

    public Sweep() : base("sweep", "grid of training runs × flatness probes → table of test error vs flatness with rank correlations (Slurm arrays)")
    {
        Add(_grid, _out, _task, _shard, _device, _list, _emit, _partition, _time, _gpus, _cpus, _maxParallel, _executable, _collect, _exclude, _maxTrainError, _where, _markdown, _json);
    }

    public override IReadOnlyList<string> Usage =>
    [
        "--grid GRID.json --out DIR [--task I|I-J|I,J,..] [--shard K/M] [--device cpu|cuda|auto] [--json]",
        "--grid GRID.json --out DIR --emit-slurm [--slurm-partition P] [--slurm-time HH:MM:SS] [--slurm-gpus G] [--slurm-max-parallel K] [--slurm-cpus C] [--flatminima PATH]",
        "--collect --out DIR [--exclude NAME[,NAME...]] [--max-train-error E] [--where OPTION=VALUE] [--json | --markdown]",
        "--grid GRID.json --list",
    ];

    public override string Notes =>
        "GRID.json: {\"train\": {train options, e.g. \"data\": \"gmm\", \"epochs\": 10},\n" +
        "            \"optimizers\": {\"sgd\": {\"lr\": 0.05}, \"esgd\": {\"lr\": 0.1, \"inner-steps\": 5}, ...},\n" +
        "            \"seeds\": [0, 1, 2],  \"grid\": {\"weight-decay\": [0, 0.0005]}   (optional; cartesian product),\n" +
        "            \"probes\": {\"sigma\": [0.01, 0.02, 0.05], \"draws\": 20, \"le_samples\": 5000,\n" +
        "                       \"hessian_samples\": 1000, \"top_k\": 1, \"max_iter\": 50, \"trace_samples\": 10}}\n" +
        "Option names are those of `flatminima train` (see its --help); every grid point is checked before anything runs.\n" +
        "Runs go to DIR/runs/ID (a train run directory plus result.json). A finished run is skipped, an interrupted one\n" +
        "resumed from its checkpoint. Writes DIR/sweep.csv (one row per run), DIR/correlation.csv and .json (flatness vs\n" +
        "test error), DIR/correlation_gap.csv (flatness vs the generalisation gap, test − train error), DIR/summary.csv\n" +
        "(per optimiser and tag: runs, test and train error mean and sd, mean of each flatness measure) and DIR/curves.csv\n" +
        "(every run's per-epoch metrics, with SWA/PSWA's live-model error and averaging).\n" +
        "After --emit-slurm submit with `sbatch DIR/sweep.slurm`, then merge with `flatminima sweep --collect --out DIR`. Paths in\n" +
        "the grid (--data-dir) are relative to the working directory of each task: prefer absolute paths for Slurm.\n" +
        "--collect --exclude esgd,sam computes the correlations without those optimisers' runs into\n" +
        "DIR/correlation[_gap].without-esgd+sam.csv (and .json); sweep.csv always lists every run. --max-train-error 0.01\n" +
        "and --where batch-size=10 restrict the correlations likewise (files …max-train-error0.01…, ….batch-size10…).\n" +
        "Grid probes \"adaptive_rho\", \"adaptive_steps\", \"slq_steps\", \"slq_vectors\" add adaptive sharpness and the SLQ\n" +
        "spectral density; a grid that differs from DIR/grid.json only in its probes adds them to the finished runs. A recorded sweep without\n" +
        "grid.json and runs/ is collected from its sweep.csv.";

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        bool collect = p.Value(_collect), emit = p.Value(_emit), list = p.Value(_list), json = p.Value(_json), markdown = p.Value(_markdown);
        string? gridPath = p.GetValue(_grid), outDir = p.GetValue(_out), taskSpec = p.GetValue(_task), shard = p.GetValue(_shard);
        string? device = p.GetValue(_device), excludeSpec = p.GetValue(_exclude), maxSpec = p.GetValue(_maxTrainError), where = p.GetValue(_where);
        double? maxTrainError = maxSpec is null ? null
            : double.TryParse(maxSpec, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double m) ? m
            : throw new UsageException($"--max-train-error must be a number in [0, 1] (got '{maxSpec}').");
        var slurm = new SlurmOptions(p.GetValue(_partition)!, p.GetValue(_time)!, p.Value(_gpus), p.Value(_cpus), p.Value(_maxParallel), p.GetValue(_executable)!);
        if (markdown && (!collect || json)) throw new UsageException("--markdown applies to --collect, without --json.");

        if (collect)
        {
            if (outDir is null) throw new UsageException("--collect needs --out DIR (the sweep directory).");
            var exclude = excludeSpec?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList() ?? [];
            return () => Print(SweepCollector.Collect(outDir, exclude, maxTrainError, where), ctx, json, markdown);
        }
        if (excludeSpec is not null || maxSpec is not null || where is not null) throw new UsageException("--exclude, --max-train-error and --where apply to --collect only.");
        if (gridPath is null) throw new UsageException("--grid GRID.json is required (or --collect --out DIR).");
        var grid = SweepGrid.Read(gridPath, device);
        if (list)
            return () =>
            {
                foreach (var j in grid.Jobs) ctx.Out.WriteLine($"{j.Index}\t{j.Id}\t{j.CommandLine("RUN")}");
                return 0;
            };
        if (outDir is null) throw new UsageException("--out DIR is required.");
        IEnumerable<SweepJob> todo = taskSpec is null ? grid.Jobs : grid.Tasks(taskSpec);
        if (shard is not null) todo = SweepGrid.Shard(todo, shard);
        var jobs = todo.ToList();
        return () =>
        {
            var reporter = new CliReporter(ctx);
            var runner = new SweepRunner(grid, outDir, ctx.Argv, reporter);
            if (emit)
            {
                string script = SlurmScript.Write(runner, grid, slurm, device);
                ctx.Err.WriteLine($"wrote {script} ({grid.Jobs.Count} tasks) and jobs.tsv; submit with: sbatch {script}");
                if (json) Output.WriteJson(ctx.Out, new Dictionary<string, object?> { ["tasks"] = grid.Jobs.Count, ["script"] = script });
                return 0;
            }
            int failed = reporter.Run(_ => runner.Run(jobs));
            if (taskSpec is null && shard is null) return Print(SweepCollector.Collect(outDir), ctx, json, markdown: false) == 0 && failed == 0 ? 0 : 1;
            return failed == 0 ? 0 : 1;
        };
    }

    private static int Print(SweepCollection c, CommandContext ctx, bool json, bool markdown)
    {
        if (c.Missing.Count > 0)
            ctx.Err.WriteLine($"sweep: {c.Missing.Count} of {c.Runs} runs have no result yet: {string.Join(", ", c.Missing.Take(10))}{(c.Missing.Count > 10 ? ", ..." : "")}");
        if (c.Recorded) ctx.Err.WriteLine($"sweep: {c.Directory} has no grid.json: tables derived from its recorded sweep.csv.");
        if (json) Output.WriteJson(ctx.Out, c.ToDictionary());
        else if (markdown) ctx.Out.Write(c.Markdown());
        else
        {
            var both = c.Correlation.Select(x => ("test error", x)).Concat(c.CorrelationGap.Select(x => ("test − train error", x)));
            ctx.Table(["flatness measure", "against", "method", "value", "95% CI", "n"], both.Select(t => (IReadOnlyList<string>)[t.x.Measure, t.Item1, t.x.Method, Output.Num(t.x.Value), $"[{Output.Num(t.x.Lower)}, {Output.Num(t.x.Upper)}]", t.x.N.ToString()]));
            ctx.Out.WriteLine($"table: {Path.Combine(Path.GetFullPath(c.Directory), SweepTable.FileName)} ({c.Table.Runs.Count}/{c.Runs} runs); summary: {Path.Combine(Path.GetFullPath(c.Directory), SweepCollector.SummaryFile)}");
        }
        return 0;
    }
}
