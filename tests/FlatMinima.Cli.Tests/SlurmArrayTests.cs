using System.Diagnostics;
using System.Globalization;
using FlatMinima.Cli.Tests.Faults;
using Xunit.Abstractions;

namespace FlatMinima.Cli.Tests;

/// <summary>
/// Whether a Slurm cluster answers here (<c>sinfo</c> lists a node that can run jobs). CI (<c>.ci/run</c>, as root)
/// starts a single-node cluster and sets FLATMINIMA_REQUIRE_SLURM=1, which turns a missing cluster into a failure.
/// </summary>
internal static class Slurm
{
    public static bool Required => Environment.GetEnvironmentVariable("FLATMINIMA_REQUIRE_SLURM") == "1";

    /// <summary>Null when a cluster answers; otherwise what was tried.</summary>
    public static string? Unreachable { get; } = Probe();

    private static string? Probe()
    {
        try
        {
            var r = Shell.Run("sinfo", ["-h", "-o", "%T"], 20);
            if (r.Code != 0) return $"sinfo failed: {r.Err.Trim()}";
            return r.Out.Split('\n').Any(s => s.Trim() is "idle" or "mixed" or "allocated") ? null : $"sinfo lists no node that can run jobs ('{r.Out.Trim()}')";
        }
        catch (System.ComponentModel.Win32Exception) { return "sinfo is not installed (Debian: apt-get install slurm-wlm munge)"; }
    }

    public const string HowToEnable =
        "to run it: as root, `.ci/slurm-up.sh /tmp/slurm && source /tmp/slurm/env` (Debian packages slurm-wlm and munge), or run `.ci/run`, which does this";
}

/// <summary>A test that needs a Slurm cluster: skipped with the reason and how to enable it when none answers, unless
/// FLATMINIMA_REQUIRE_SLURM=1 (CI), where it runs and fails.</summary>
public sealed class SlurmFactAttribute : FactAttribute
{

    public SlurmFactAttribute()
    {
        if (Slurm.Unreachable is string why && !Slurm.Required) Skip = $"no Slurm cluster: {why}; {Slurm.HowToEnable}.";
    }
}

internal static class Shell
{
    public static ChildResult Run(string file, IEnumerable<string> args, int timeoutSeconds = 60, string? cwd = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (cwd is not null) psi.WorkingDirectory = cwd;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(timeoutSeconds * 1000)) { p.Kill(true); throw new TimeoutException($"{file} {string.Join(' ', args)}: no answer within {timeoutSeconds} s."); }
        return new ChildResult(p.ExitCode, output, err.Result);
    }
}

/// <summary>
/// The job array that <c>sweep --emit-slurm</c> writes, run by a real Slurm: submitted with <c>sbatch</c> from a folder
/// whose path holds spaces (the sweep directory, the grid file and the <c>flatminima</c> command all have spaces in
/// their paths), waited for, collected, and compared with a local sweep of the same grid: sweep.csv, summary.csv and
/// the correlation tables are the same (timing columns aside).
/// </summary>
public class SlurmArrayTests(ITestOutputHelper output)
{
    private const string Grid = """
    {
      "train": {"n": 20, "alpha": 2, "test-size": 200, "width": 8, "epochs": 3, "batch-size": 10},
      "optimizers": {"sgd": {"lr": 0.05}, "esgd": {"lr": 0.1, "inner-steps": 2}},
      "seeds": [0, 1],
      "probes": {"sigma": [0.05, 0.1], "draws": 2, "hessian_samples": 40, "max_iter": 3, "trace_samples": 2}
    }
    """;

    // Columns of a table without its timing columns (named *_s, *_seconds or *_s_mean).
    private static List<string> Untimed(string file)
    {
        var rows = File.ReadAllLines(file).Select(l => l.Split(',')).ToList();
        var keep = rows[0].Select((h, i) => (h, i)).Where(c => !(c.h.EndsWith("_s", StringComparison.Ordinal) || c.h.EndsWith("_seconds", StringComparison.Ordinal) || c.h.EndsWith("_s_mean", StringComparison.Ordinal))).Select(c => c.i).ToList();
        return rows.Select(r => string.Join(',', keep.Select(i => r[i]))).ToList();
    }

    [SlurmFact]
    [Trait("Speed", "Slow")]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void TheEmittedJobArrayRunsOnSlurmAndCollectsToTheTablesOfALocalSweep()
    {
        Assert.True(Slurm.Unreachable is null, $"FLATMINIMA_REQUIRE_SLURM=1 but no Slurm cluster answers: {Slurm.Unreachable}; {Slurm.HowToEnable}.");
        using var dir = new Scratch("slurm", space: true);
        string grid = dir["grid file.json"];
        File.WriteAllText(grid, Grid);
        // The command as a cluster has it: an executable on a path with spaces (oneMKL in its reproducible mode, so that
        // two processes compare bit for bit).
        string bin = dir["bin dir"];
        Directory.CreateDirectory(bin);
        string exe = Path.Combine(bin, "flatminima");
        File.WriteAllText(exe, $"#!/bin/sh\nexport MKL_CBWR=COMPATIBLE FLATMINIMA_NO_PROGRESS=1\nexec dotnet '{Child.Dll.Replace("'", "'\\''")}' \"$@\"\n");
        File.SetUnixFileMode(exe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);

        string array = dir["sweep on slurm"];
        var emit = Child.Run(["sweep", "--grid", grid, "--out", array, "--emit-slurm", "--slurm-gpus", "0", "--slurm-cpus", "1", "--slurm-time", "00:10:00", "--flatminima", exe]);
        Assert.True(emit.Code == 0, emit.ToString());
        string script = Path.Combine(array, "sweep.slurm");

        var clock = Stopwatch.StartNew();
        var submit = Shell.Run("sbatch", ["--parsable", script], cwd: dir.Path);
        Assert.True(submit.Code == 0, $"sbatch failed: {submit}");
        string job = submit.Out.Trim().Split(';')[0];
        double queued = double.NaN;
        while (true)
        {
            var q = Shell.Run("squeue", ["-h", "-j", job, "-o", "%T"]);
            var states = q.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (double.IsNaN(queued) && states.Any(s => s == "RUNNING")) queued = clock.Elapsed.TotalSeconds;
            if (states.Length == 0) break;
            Assert.True(clock.Elapsed.TotalSeconds < 600, $"the job array {job} did not finish within 600 s (squeue: {string.Join(' ', states)}).");
            Thread.Sleep(250);
        }
        double arraySeconds = clock.Elapsed.TotalSeconds;
        var logs = Directory.GetFiles(Path.Combine(array, "logs"), "*.out").Order().ToList();
        string Logs() => string.Join("\n", logs.Select(l => $"--- {Path.GetFileName(l)}\n{File.ReadAllText(l)}"));
        Assert.True(logs.Count == 4, $"expected 4 task logs in {Path.Combine(array, "logs")}, found {logs.Count}\n{Logs()}");
        foreach (var id in new[] { "sgd_s0", "sgd_s1", "esgd_s0", "esgd_s1" })
            Assert.True(File.Exists(Path.Combine(array, "runs", id, "result.json")), $"{id} has no result.json\n{Logs()}");

        var collect = Child.Run(["sweep", "--collect", "--out", array]);
        Assert.True(collect.Code == 0, collect.ToString());
        clock.Restart();
        string local = dir["sweep here"];
        var here = Child.Run(["sweep", "--grid", grid, "--out", local]);
        double localSeconds = clock.Elapsed.TotalSeconds;
        Assert.True(here.Code == 0, here.ToString());

        foreach (var table in new[] { "sweep.csv", "summary.csv", "correlation.csv", "correlation_gap.csv" })
            Assert.Equal(Untimed(Path.Combine(local, table)), Untimed(Path.Combine(array, table)));
        string timing = $"Slurm job array of 4 tasks: {arraySeconds.ToString("F1", CultureInfo.InvariantCulture)} s from sbatch to the last task's end " +
                        $"(first task running after {queued.ToString("F1", CultureInfo.InvariantCulture)} s); the same grid in one local process: " +
                        $"{localSeconds.ToString("F1", CultureInfo.InvariantCulture)} s.";
        output.WriteLine(timing);
        Console.Error.WriteLine("slurm: " + timing);
    }
}
