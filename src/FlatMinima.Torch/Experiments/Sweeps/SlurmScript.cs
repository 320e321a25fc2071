using System.Text;
using FlatMinima.Storage;

namespace FlatMinima.Torch.Experiments.Sweeps;

/// <summary>Resources of a Slurm job array.</summary>
/// <param name="Partition">Partition (empty: the cluster's default).</param>
/// <param name="Time">Time limit per task, HH:MM:SS.</param>
/// <param name="Gpus">GPUs per task (0: none requested).</param>
/// <param name="Cpus">CPUs per task.</param>
/// <param name="MaxParallel">Tasks running at once (0: no limit).</param>
/// <param name="Executable">The <c>flatminima</c> command on the cluster.</param>
public sealed record SlurmOptions(string Partition = "", string Time = "04:00:00", int Gpus = 1, int Cpus = 4, int MaxParallel = 0, string Executable = "flatminima")
{
    public SlurmOptions Validate()
    {
        if (Gpus < 0 || Cpus < 1 || MaxParallel < 0) throw new ConfigException("--slurm-gpus must be >= 0, --slurm-cpus >= 1, --slurm-max-parallel >= 0.");
        return this;
    }
}

/// <summary>
/// A Slurm job array for a sweep: <c>sweep.slurm</c> (one array task per grid point, each running
/// <c>flatminima sweep --grid DIR/grid.json --out DIR --task $SLURM_ARRAY_TASK_ID</c>) and <c>jobs.tsv</c> (index, id,
/// optimiser, seed and the equivalent <c>train</c> command line of every task). After the array,
/// <c>flatminima sweep --collect --out DIR</c> merges the results.
/// </summary>
public static class SlurmScript
{
    public const string ScriptFile = "sweep.slurm";
    public const string JobsFile = "jobs.tsv";

    /// <summary>Writes the script and the job list into the sweep directory of <paramref name="runner"/>; returns the
    /// script's path.</summary>
    public static string Write(SweepRunner runner, SweepGrid grid, SlurmOptions options, string? device)
    {
        options.Validate();
        runner.Prepare();
        string dir = Path.GetFullPath(runner.Directory);
        var tsv = new StringBuilder("index\tid\toptimizer\tseed\targv\n");
        foreach (var j in grid.Jobs)
            tsv.Append($"{j.Index}\t{j.Id}\t{j.Optimizer}\t{j.Seed}\t{j.CommandLine(Path.Combine(dir, "runs", j.Id), device)}\n");
        AtomicFile.WriteAllText(Path.Combine(dir, JobsFile), tsv.ToString());
        var s = new StringBuilder();
        s.Append("#!/bin/bash\n");
        s.Append("#SBATCH --job-name=flatminima-sweep\n");
        s.Append($"#SBATCH --array=0-{grid.Jobs.Count - 1}{(options.MaxParallel > 0 ? "%" + options.MaxParallel : "")}\n");
        s.Append($"#SBATCH --time={SbatchWord(options.Time)}\n#SBATCH --cpus-per-task={options.Cpus}\n");
        if (options.Gpus > 0) s.Append($"#SBATCH --gres=gpu:{options.Gpus}\n");
        if (options.Partition.Length > 0) s.Append($"#SBATCH --partition={SbatchWord(options.Partition)}\n");
        // Slurm opens the output file before the script runs, so the folder is made here; '%' of the path is escaped
        // as '%%' (Slurm's file-name patterns), %A_%a is the pattern of job and task.
        s.Append($"#SBATCH --output={SbatchQuote(Path.Combine(dir, "logs").Replace("%", "%%") + "/%A_%a.out")}\n");
        s.Append("set -euo pipefail\n");
        s.Append($"mkdir -p {Quote(Path.Combine(dir, "logs"))}\n");
        s.Append("export FLATMINIMA_NO_PROGRESS=1\n");
        s.Append("# One grid point per array task; a requeued or re-submitted task resumes from its checkpoint.\n");
        s.Append($"{Quote(options.Executable)} sweep --grid {Quote(Path.Combine(dir, SweepRunner.GridFile))} --out {Quote(dir)} --task \"$SLURM_ARRAY_TASK_ID\"{(device is null ? "" : " --device " + Quote(device))}\n");
        s.Append($"# After the array: {Quote(options.Executable)} sweep --collect --out {Quote(dir)}\n");
        Directory.CreateDirectory(Path.Combine(dir, "logs"));
        string script = Path.Combine(dir, ScriptFile);
        AtomicFile.WriteAllText(script, s.ToString());
        return script;
    }

    /// <summary>A value of an <c>#SBATCH</c> line: in double quotes, with <c>"</c> and <c>\</c> escaped by a backslash (how
    /// sbatch reads these lines: unquoted, a space ends the value and '#' starts a comment).</summary>
    public static string SbatchQuote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>A value of an <c>#SBATCH</c> line as is when it holds only safe characters, else <see cref="SbatchQuote"/>d.</summary>
    public static string SbatchWord(string s) => s.Length > 0 && s.All(ch => char.IsLetterOrDigit(ch) || "/._-:,".Contains(ch)) ? s : SbatchQuote(s);

    /// <summary>A word for bash: as is when it holds only safe characters, else in single quotes.</summary>
    public static string Quote(string s) => s.Length > 0 && s.All(ch => char.IsAsciiLetterOrDigit(ch) || "/._-:,=+@".Contains(ch)) ? s : "'" + s.Replace("'", "'\\''") + "'";
}
