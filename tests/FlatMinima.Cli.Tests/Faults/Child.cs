using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace FlatMinima.Cli.Tests.Faults;

/// <summary>What a finished child process returned.</summary>
internal sealed record ChildResult(int Code, string Out, string Err)
{
    public override string ToString() => $"exit {Code}\nstdout:\n{Out}\nstderr:\n{Err}";
}

/// <summary>
/// The built <c>flatminima</c> command run as a child process (<c>dotnet flatminima.dll ...</c>, the CLI project's build
/// output of this configuration), so that a test can kill it, signal it or run two at once. SIGINT is reset to its
/// default action in the child (<c>env --default-signal</c>), because a test host started in the background inherits
/// it ignored, and oneMKL runs in its reproducible mode (<c>MKL_CBWR=COMPATIBLE</c>).
/// </summary>
internal sealed class Child : IDisposable
{
    /// <summary>The command under test: the build of this configuration, or FLATMINIMA_TEST_DLL (to run the suite
    /// against another build, e.g. the one before a fix).</summary>
    public static string Dll { get; } = Path.GetFullPath(Environment.GetEnvironmentVariable("FLATMINIMA_TEST_DLL") is { Length: > 0 } dll ? dll
        : typeof(Child).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "FlatminimaDll").Value!);

    private readonly Process _p;
    private readonly StringBuilder _out = new(), _err = new();

    private Child(Process p) { _p = p; }

    public int Pid => _p.Id;

    /// <summary>Starts <c>flatminima ARGS</c> in <paramref name="cwd"/> (default: the current folder).</summary>
    public static Child Start(IEnumerable<string> args, string? cwd = null, IReadOnlyDictionary<string, string>? env = null)
    {
        if (!File.Exists(Dll)) throw new InvalidOperationException($"{Dll} not found: build src/FlatMinima.Cli in this configuration first.");
        var psi = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = cwd ?? Environment.CurrentDirectory,
        };
        foreach (var a in new[] { "--default-signal=INT", "dotnet", Dll }.Concat(args)) psi.ArgumentList.Add(a);
        psi.Environment["FLATMINIMA_NO_PROGRESS"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        // libtorch's oneMKL picks kernels by the alignment of the operands, so an evaluation loss can differ in the 7th
        // digit between two processes; its conditional-reproducibility mode makes processes comparable bit for bit.
        psi.Environment["MKL_CBWR"] = "COMPATIBLE";
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        var p = new Process { StartInfo = psi };
        var c = new Child(p);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (c._out) c._out.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (c._err) c._err.AppendLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return c;
    }

    /// <summary>Runs <c>flatminima ARGS</c> to the end (at most <paramref name="timeoutSeconds"/>).</summary>
    public static ChildResult Run(IEnumerable<string> args, string? cwd = null, int timeoutSeconds = 300, IReadOnlyDictionary<string, string>? env = null)
    {
        using var c = Start(args, cwd, env);
        return c.Wait(timeoutSeconds);
    }

    /// <summary>Waits for the end (killing the child after <paramref name="timeoutSeconds"/>, which fails the test).</summary>
    public ChildResult Wait(int timeoutSeconds = 300)
    {
        if (!_p.WaitForExit(timeoutSeconds * 1000))
        {
            _p.Kill(entireProcessTree: true);
            _p.WaitForExit();
            throw new TimeoutException($"flatminima did not finish within {timeoutSeconds} s:\n{Result()}");
        }
        _p.WaitForExit();   // drains the redirected streams
        return Result();
    }

    private ChildResult Result()
    {
        lock (_out) lock (_err) return new ChildResult(_p.HasExited ? _p.ExitCode : -1, _out.ToString(), _err.ToString());
    }

    /// <summary>Whether the child has ended.</summary>
    public bool HasExited => _p.HasExited;

    /// <summary>Sends <paramref name="signal"/> (e.g. 2 for SIGINT, 9 for SIGKILL, 15 for SIGTERM) to the child: to the
    /// dotnet process itself, which <c>env</c> replaced by exec.</summary>
    public void Signal(int signal)
    {
        if (kill(_p.Id, signal) != 0 && !_p.HasExited) throw new InvalidOperationException($"kill({_p.Id}, {signal}) failed: errno {Marshal.GetLastWin32Error()}.");
    }

    public void Dispose()
    {
        if (!_p.HasExited) { try { _p.Kill(entireProcessTree: true); _p.WaitForExit(); } catch (InvalidOperationException) { } }
        _p.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    public const int SIGINT = 2, SIGKILL = 9, SIGTERM = 15;
}

/// <summary>A temporary folder for one test (optionally with a space in its name), removed afterwards.</summary>
internal sealed class Scratch : IDisposable
{
    public string Path { get; }

    public Scratch(string name = "fault", bool space = false)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"fm-{name}{(space ? " dir" : "")}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string this[string name] => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
