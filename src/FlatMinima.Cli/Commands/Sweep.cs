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
public sealed class Sweep : ICommand
{
    public string Name => "sweep";
    public string Summary => "grid of training runs × flatness probes → table of test error vs flatness with rank correlations (Slurm arrays)";
    public string Usage =>
        "usage: flatminima sweep --grid GRID.json --out DIR [--task I|I-J|I,J,..] [--shard K/M] [--device cpu|cuda|auto] [--json]\n" +
        "       flatminima sweep --grid GRID.json --out DIR --emit-slurm [--slurm-partition P] [--slurm-time HH:MM:SS]\n" +
        "                        [--slurm-gpus G] [--slurm-max-parallel K] [--slurm-cpus C] [--flatminima PATH]\n" +
        "       flatminima sweep --collect --out DIR [--exclude NAME[,NAME...]] [--max-train-error E]\n" +
        "                        [--where OPTION=VALUE] [--json | --markdown]\n" +
        "       flatminima sweep --grid GRID.json --list\n\n" +
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
        "--emit-slurm writes DIR/sweep.slurm (a job array, one task per run), DIR/jobs.tsv and DIR/grid.json; submit with\n" +
        "`sbatch DIR/sweep.slurm`, then merge with `flatminima sweep --collect --out DIR`. Paths in the grid (--data-dir)\n" +
        "are relative to the working directory of each task: prefer absolute paths for Slurm.\n" +
        "--collect --exclude esgd,sam computes the correlations without those optimisers' runs (names as in the grid,\n" +
        "with @tags) into DIR/correlation[_gap].without-esgd+sam.csv (and .json); sweep.csv always lists every run.\n" +
        "--collect --max-train-error 0.01 leaves runs with a final training error above 1 % out of the correlations\n" +
        "(the comparison at equal training error), into DIR/correlation[_gap][.without-…].max-train-error0.01.csv.\n" +
        "--collect --where batch-size=10 correlates only the runs with that value of a listed option of the grid.\n" +
        "--collect --markdown prints the summary and the correlations as Markdown tables (those of docs/optim.md). A\n" +
        "recorded sweep without grid.json and runs/ is collected from its sweep.csv.\n" +
        "--shard K/M runs every M-th grid point: one process per GPU or machine (processes sharing one GPU time-slice it).\n";

    public int Run(Args a, CommandContext ctx)
    {
        bool collect = a.Flag("collect"), emit = a.Flag("emit-slurm"), list = a.Flag("list"), json = a.Flag("json"), markdown = a.Flag("markdown");
        string? gridPath = a.OptionalString("grid");
        string? outDir = a.OptionalString("out");
        string? taskSpec = a.OptionalString("task"), shard = a.OptionalString("shard");
        string? device = a.OptionalString("device");
        string? excludeSpec = a.OptionalString("exclude");
        double? maxTrainError = a.OptionalDouble("max-train-error");
        string? where = a.OptionalString("where");
        var slurm = new SlurmOptions(a.String("slurm-partition", ""), a.String("slurm-time", "04:00:00"), a.Int("slurm-gpus", 1), a.Int("slurm-cpus", 4),
            a.Int("slurm-max-parallel", 0), a.String("flatminima", "flatminima"));
        a.EnsureAllUsed();
        if (markdown && (!collect || json)) throw new UsageException("--markdown applies to --collect, without --json.");

        if (collect)
        {
            if (outDir is null) throw new UsageException("--collect needs --out DIR (the sweep directory).");
            var exclude = excludeSpec?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList() ?? [];
            return Print(SweepCollector.Collect(outDir, exclude, maxTrainError, where), ctx, json, markdown);
        }
        if (excludeSpec is not null || maxTrainError is not null || where is not null) throw new UsageException("--exclude, --max-train-error and --where apply to --collect only.");
        if (gridPath is null) throw new UsageException("--grid GRID.json is required (or --collect --out DIR).");
        var grid = SweepGrid.Read(gridPath, device);
        if (list)
        {
            foreach (var j in grid.Jobs) ctx.Out.WriteLine($"{j.Index}\t{j.Id}\t{j.CommandLine("RUN")}");
            return 0;
        }
        if (outDir is null) throw new UsageException("--out DIR is required.");
        using var reporter = new CliReporter(ctx);
        var runner = new SweepRunner(grid, outDir, ctx.Argv, reporter);
        if (emit)
        {
            string script = SlurmScript.Write(runner, grid, slurm, device);
            ctx.Err.WriteLine($"wrote {script} ({grid.Jobs.Count} tasks) and jobs.tsv; submit with: sbatch {script}");
            if (json) Output.WriteJson(ctx.Out, new Dictionary<string, object?> { ["tasks"] = grid.Jobs.Count, ["script"] = script });
            return 0;
        }
        IEnumerable<SweepJob> todo = taskSpec is null ? grid.Jobs : grid.Tasks(taskSpec);
        if (shard is not null) todo = SweepGrid.Shard(todo, shard);
        int failed = runner.Run(todo.ToList());
        if (taskSpec is null && shard is null) return Print(SweepCollector.Collect(outDir), ctx, json, markdown: false) == 0 && failed == 0 ? 0 : 1;
        return failed == 0 ? 0 : 1;
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
            ctx.Out.Write(Output.Table(["flatness measure", "against", "method", "value", "95% CI", "n"], both.Select(t => (IReadOnlyList<string>)[t.x.Measure, t.Item1, t.x.Method, Output.Num(t.x.Value), $"[{Output.Num(t.x.Lower)}, {Output.Num(t.x.Upper)}]", t.x.N.ToString()])));
            ctx.Out.WriteLine($"table: {Path.Combine(Path.GetFullPath(c.Directory), SweepTable.FileName)} ({c.Table.Runs.Count}/{c.Runs} runs); summary: {Path.Combine(Path.GetFullPath(c.Directory), SweepCollector.SummaryFile)}");
        }
        return 0;
    }
}
