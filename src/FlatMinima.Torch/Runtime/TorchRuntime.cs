using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using TorchSharp;

namespace FlatMinima.Torch.Runtime;

/// <summary>What the bridge loaded: recorded in every manifest.</summary>
public sealed record RuntimeInfo(
    string Device,
    string TorchSharpVersion,
    string LibtorchVersion,
    string LibtorchDirectory,
    string LibTorchSharpPath,
    string? ShimPatch,
    string? CudaVersion,
    string? GpuName,
    string? Driver)
{
    /// <summary>Snake-case dictionary for manifests.</summary>
    public Dictionary<string, object?> ToDictionary() => new()
    {
        ["device"] = Device,
        ["torchsharp"] = TorchSharpVersion,
        ["libtorch"] = LibtorchVersion,
        ["libtorch_dir"] = LibtorchDirectory,
        ["libtorchsharp"] = LibTorchSharpPath,
        ["libstdcxx_patch"] = ShimPatch,
        ["cuda"] = CudaVersion,
        ["gpu"] = GpuName,
        ["driver"] = Driver,
    };
}

/// <summary>Raised when no usable libtorch / TorchSharp shim / GPU is found; the message names every place searched.</summary>
public sealed class TorchRuntimeException(string message) : Exception(message);

/// <summary>
/// Finds and loads the native side of TorchSharp, once per process (docs/torch.md#runtime).
/// <list type="bullet">
/// <item>CPU: the libtorch of the TorchSharp-cpu package. When the system libstdc++ lacks GLIBCXX_3.4.32 (Debian 12,
/// Ubuntu 22.04), the shim <c>libLibTorchSharp.so</c> is loaded from a private copy whose requirement of that version
/// is marked weak; this is done only after checking that the version binds nothing but
/// <c>std::ios_base_library_init()</c>, a link-time anchor that is never called.</item>
/// <item>CUDA: the libtorch of an installed PyTorch (<c>FLATMINIMA_LIBTORCH=/path/to/torch/lib</c>, or found through
/// <c>python3 -c "import torch"</c>), preloaded by full path in the order c10, torch_cpu, c10_cuda, torch_cuda, torch.</item>
/// </list>
/// </summary>
public static class TorchRuntime
{
    private static readonly object Lock = new();
    private static RuntimeInfo? _current;
    /// <summary>Environment variable naming a PyTorch <c>torch/lib</c> folder.</summary>
    public const string LibtorchEnv = "FLATMINIMA_LIBTORCH";
    /// <summary>The only libstdc++ version the shim may need beyond the system's, and the only symbol it may bind.</summary>
    public const string AnchorVersion = "GLIBCXX_3.4.32";
    /// <summary>The symbol bound at <see cref="AnchorVersion"/>: GCC 13's iostream link-time anchor.</summary>
    public const string AnchorSymbol = "_ZSt21ios_base_library_initv";

    /// <summary>The runtime loaded so far, or null.</summary>
    public static RuntimeInfo? Current => _current;

    /// <summary>The TorchSharp device of the loaded runtime.</summary>
    public static torch.Device Device => _current is { Device: "cuda" } ? torch.CUDA : torch.CPU;

    /// <summary>
    /// Loads the runtime for <paramref name="device"/> (<c>cpu</c>, <c>cuda</c> or <c>auto</c>). Idempotent: a second call
    /// returns the first result (asking for CUDA after a CPU-only load is an error). Messages go to <paramref name="log"/>.
    /// </summary>
    public static RuntimeInfo Initialize(string device = "cpu", Action<string>? log = null)
    {
        device = device.ToLowerInvariant();
        if (device is not ("cpu" or "cuda" or "auto"))
            throw new ArgumentException($"device must be one of cpu|cuda|auto (got '{device}').", nameof(device));
        lock (Lock)
        {
            if (_current is not null)
            {
                if (device == "cuda" && _current.Device != "cuda")
                {
                    var searched0 = new List<string>();
                    if (TryFindPyTorchLib(searched0) is null)
                        throw NotFound($"a PyTorch libtorch for CUDA (set {LibtorchEnv}=/path/to/site-packages/torch/lib)", searched0);
                    throw new TorchRuntimeException("the CPU runtime is already loaded in this process; CUDA must be chosen before the first use of TorchSharp.");
                }
                return _current;
            }
            log ??= _ => { };
            var searched = new List<string>();
            if (device == "auto")
                device = TryFindPyTorchLib(searched) is { } d && File.Exists(Path.Combine(d, "libtorch_cuda.so")) && DriverVersion() is not null ? "cuda" : "cpu";
            _current = device == "cuda" ? LoadCuda(log) : LoadCpu(log);
            return _current;
        }
    }

    // ---------------------------------------------------------------- CPU

    private static RuntimeInfo LoadCpu(Action<string> log)
    {
        var searched = new List<string>();
        string? shimDir = FindDir("libLibTorchSharp.so", ShimCandidates(), searched);
        string? libDir = FindDir("libtorch_cpu.so", CpuLibtorchCandidates(), searched);
        string version;
        if (libDir is null)
        {
            // A GPU bundle without the packaged CPU libtorch: PyTorch's libtorch also runs on the CPU.
            libDir = TryFindPyTorchLib(searched);
            if (libDir is null || shimDir is null) throw NotFound("the CPU libtorch (libtorch_cpu.so) and TorchSharp's shim (libLibTorchSharp.so)", searched);
            version = PyTorchVersion(libDir).Version;
        }
        else version = PackagedLibtorchVersion(libDir);
        if (shimDir is null) throw NotFound("TorchSharp's native shim libLibTorchSharp.so", searched);

        Preload(libDir, ["libc10.so", "libtorch_cpu.so", "libtorch.so"]);
        var (shim, patch) = LoadShim(Path.Combine(shimDir, "libLibTorchSharp.so"), log);
        Late.InitCpu();
        if (version.StartsWith("unknown", StringComparison.Ordinal)) version = Late.Version() + " (cpu)";
        return new RuntimeInfo("cpu", TorchSharpVersion(), version, libDir, shim, patch, null, null, DriverVersion());
    }

    private static IEnumerable<string> ShimCandidates()
    {
        string baseDir = AppContext.BaseDirectory;
        yield return baseDir;
        yield return Path.Combine(baseDir, "runtimes", "linux-x64", "native");
        string? tsDir = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        if (!string.IsNullOrEmpty(tsDir))
        {
            yield return tsDir;
            yield return Path.GetFullPath(Path.Combine(tsDir, "..", "..", "runtimes", "linux-x64", "native"));
        }
        yield return Path.Combine(NuGetRoot(), "torchsharp", TorchSharpVersion(), "runtimes", "linux-x64", "native");
    }

    private static IEnumerable<string> CpuLibtorchCandidates()
    {
        string baseDir = AppContext.BaseDirectory;
        yield return baseDir;
        yield return Path.Combine(baseDir, "runtimes", "linux-x64", "native");
        string pkg = Path.Combine(NuGetRoot(), "libtorch-cpu-linux-x64");
        if (Directory.Exists(pkg))
            foreach (var v in Directory.GetDirectories(pkg).OrderDescending())
                yield return Path.Combine(v, "runtimes", "linux-x64", "native");
        else yield return Path.Combine(pkg, "*", "runtimes", "linux-x64", "native");
    }

    private static string NuGetRoot() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static string PackagedLibtorchVersion(string libDir)
    {
        // .../libtorch-cpu-linux-x64/2.10.0/runtimes/linux-x64/native
        var parts = libDir.Split(Path.DirectorySeparatorChar);
        int i = Array.FindIndex(parts, p => p.StartsWith("libtorch-cpu", StringComparison.Ordinal));
        if (i >= 0 && i + 1 < parts.Length) return parts[i + 1] + " (cpu)";
        return "unknown (cpu)";
    }

    // ---------------------------------------------------------------- CUDA

    private static RuntimeInfo LoadCuda(Action<string> log)
    {
        var searched = new List<string>();
        string? libDir = TryFindPyTorchLib(searched);
        if (libDir is null) throw NotFound($"a PyTorch libtorch for CUDA (set {LibtorchEnv}=/path/to/site-packages/torch/lib)", searched);
        if (!File.Exists(Path.Combine(libDir, "libtorch_cuda.so")))
            throw new TorchRuntimeException($"the PyTorch libtorch at {libDir} has no libtorch_cuda.so (a CPU-only build); --device cuda needs a CUDA build of PyTorch.");
        string? driver = DriverVersion();
        if (driver is null)
            throw new TorchRuntimeException("no NVIDIA driver found (searched /proc/driver/nvidia/version and nvidia-smi); --device cuda needs a GPU.");
        var shimSearched = new List<string>();
        string? shimDir = FindDir("libLibTorchSharp.so", ShimCandidates(), shimSearched);
        if (shimDir is null) throw NotFound("TorchSharp's native shim libLibTorchSharp.so", shimSearched);

        Preload(libDir, ["libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so"]);
        var (shim, patch) = LoadShim(Path.Combine(shimDir, "libLibTorchSharp.so"), log);
        if (!Late.InitCuda())
            throw new TorchRuntimeException($"libtorch at {libDir} loaded, but CUDA reports no usable device (driver {driver}).");
        var (ver, cuda) = PyTorchVersion(libDir);
        return new RuntimeInfo("cuda", TorchSharpVersion(), ver, libDir, shim, patch, cuda, GpuName(), driver);
    }

    private static string? TryFindPyTorchLib(List<string> searched)
    {
        string? env = Environment.GetEnvironmentVariable(LibtorchEnv);
        if (!string.IsNullOrEmpty(env))
        {
            searched.Add($"${LibtorchEnv}={env}");
            return File.Exists(Path.Combine(env, "libtorch_cpu.so")) ? Path.GetFullPath(env) : null;
        }
        searched.Add($"${LibtorchEnv} (unset)");
        foreach (var py in new[] { "python3", "python" })
        {
            searched.Add($"{py} -c 'import torch' (torch/lib)");
            string? dir = RunQuiet(py, "-c \"import torch,os;print(os.path.dirname(torch.__file__))\"");
            if (dir is null) continue;
            string lib = Path.Combine(dir.Trim(), "lib");
            if (File.Exists(Path.Combine(lib, "libtorch_cpu.so"))) return lib;
        }
        return null;
    }

    private static (string Version, string? Cuda) PyTorchVersion(string libDir)
    {
        string file = Path.Combine(libDir, "..", "version.py");
        string v = "unknown (PyTorch)", cuda = null!;
        if (File.Exists(file))
            foreach (var line in File.ReadLines(file))
            {
                if (line.StartsWith("__version__", StringComparison.Ordinal)) v = "PyTorch " + Quoted(line);
                else if (line.StartsWith("cuda", StringComparison.Ordinal)) cuda = Quoted(line);
            }
        return (v, cuda);
        static string Quoted(string line)
        {
            int a = line.IndexOfAny(['\'', '"']), b = line.LastIndexOfAny(['\'', '"']);
            return a >= 0 && b > a ? line[(a + 1)..b] : line[(line.IndexOf('=') + 1)..].Trim();
        }
    }

    /// <summary>The NVIDIA kernel driver version, or null when there is none.</summary>
    public static string? DriverVersion()
    {
        const string proc = "/proc/driver/nvidia/version";
        try
        {
            if (File.Exists(proc))
            {
                string first = File.ReadLines(proc).FirstOrDefault() ?? "";
                var m = System.Text.RegularExpressions.Regex.Match(first, @"Kernel Module\s+(?:for\s+\S+\s+)?(\d+\.\d+(?:\.\d+)?)");
                return m.Success ? m.Groups[1].Value : first.Trim();
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    private static string? GpuName() =>
        RunQuiet("nvidia-smi", "--query-gpu=name --format=csv,noheader")?.Split('\n')[0].Trim();

    private static string? RunQuiet(string exe, string args)
    {
        try
        {
            var psi = new ProcessStartInfo(exe, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi);
            if (p is null) return null;
            string o = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(30_000)) { p.Kill(); return null; }
            return p.ExitCode == 0 && o.Trim().Length > 0 ? o : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
        catch (InvalidOperationException) { return null; }
    }

    // ---------------------------------------------------------------- shared

    private static string? FindDir(string file, IEnumerable<string> candidates, List<string> searched)
    {
        foreach (var c in candidates)
        {
            searched.Add(Path.Combine(c, file));
            if (File.Exists(Path.Combine(c, file))) return Path.GetFullPath(c);
        }
        return null;
    }

    private static TorchRuntimeException NotFound(string what, List<string> searched) =>
        new($"could not find {what}. Searched: {string.Join("; ", searched.Distinct())}.");

    private static void Preload(string dir, string[] names)
    {
        foreach (var n in names)
        {
            string p = Path.Combine(dir, n);
            if (!File.Exists(p)) throw new TorchRuntimeException($"libtorch folder {dir} lacks {n}.");
            try { NativeLibrary.Load(p); }
            catch (DllNotFoundException e) { throw new TorchRuntimeException($"could not load {p}: {e.Message}"); }
        }
    }

    private static string TorchSharpVersion()
    {
        var asm = typeof(torch).Assembly;
        string? v = asm.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (v is not null && v.IndexOf('+') is int plus and > 0) v = v[..plus];
        return v ?? asm.GetName().Version?.ToString() ?? "unknown";
    }

    /// <summary>The path of the libstdc++.so.6 this process uses (loaded if needed), or null.</summary>
    public static string? SystemLibStdCxx()
    {
        NativeLibrary.TryLoad("libstdc++.so.6", out _);
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                int i = line.IndexOf('/');
                if (i >= 0 && line.Contains("libstdc++.so", StringComparison.Ordinal)) return line[i..].Trim();
            }
        }
        catch (IOException) { }
        return null;
    }

    /// <summary>
    /// Decides whether the shim at <paramref name="shimPath"/> needs the weak-version patch against the libstdc++ at
    /// <paramref name="libstdcxxPath"/>: returns null when every required version is defined there, the requirement to
    /// weaken when the only missing one is <see cref="AnchorVersion"/> binding only <see cref="AnchorSymbol"/>, and
    /// throws otherwise (naming what is missing).
    /// </summary>
    public static VersionNeed? AnchorToWeaken(ElfVersions shim, ElfVersions libstdcxx, string shimPath, string libstdcxxPath)
    {
        var defined = libstdcxx.Definitions.ToHashSet(StringComparer.Ordinal);
        var missing = shim.Needs.Where(n => n.File.StartsWith("libstdc++", StringComparison.Ordinal)
                                            && (n.Flags & ElfVersions.VerFlgWeak) == 0 && !defined.Contains(n.Version)).ToList();
        if (missing.Count == 0) return null;
        var anchor = missing.FirstOrDefault(n => n.Version == AnchorVersion);
        if (missing.Count > 1 || anchor is null)
            throw new TorchRuntimeException($"{shimPath} needs {string.Join(", ", missing.Select(m => m.Version))} but {libstdcxxPath} lacks them; only {AnchorVersion} can be worked around. Install a newer libstdc++ (GCC 13 or later).");
        if (anchor.Symbols.Count == 0 || anchor.Symbols.Any(s => s != AnchorSymbol))
            throw new TorchRuntimeException($"{shimPath} binds {string.Join(", ", anchor.Symbols)} at {AnchorVersion}, which {libstdcxxPath} lacks; only {AnchorSymbol} is known to be safe to leave unbound.");
        return anchor;
    }

    private static (string Path, string? Patch) LoadShim(string shimPath, Action<string> log)
    {
        string? cxx = SystemLibStdCxx();
        VersionNeed? weak = null;
        ElfVersions? shim = null;
        if (cxx is not null)
        {
            shim = ElfVersions.Read(shimPath);
            weak = AnchorToWeaken(shim, ElfVersions.Read(cxx), shimPath, cxx);
        }
        string load = shimPath;
        string? patch = null;
        if (weak is not null)
        {
            byte[] patched = shim!.WithWeak(weak);
            string hash = Convert.ToHexStringLower(SHA256.HashData(patched))[..16];
            string dir = Path.Combine(CacheRoot(), $"libtorchsharp-{hash}");
            load = Path.Combine(dir, "libLibTorchSharp.so");
            try { WritePatched(load, patched); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A read-only home (some CI runners): fall back to the temporary folder.
                dir = Path.Combine(Path.GetTempPath(), "flatminima", $"libtorchsharp-{hash}");
                load = Path.Combine(dir, "libLibTorchSharp.so");
                WritePatched(load, patched);
            }
            patch = $"{cxx} lacks {AnchorVersion}; loaded a private copy of {shimPath} at {load} with that requirement marked weak (VER_FLG_WEAK); it binds only {AnchorSymbol}, a link-time anchor that is never called";
            log($"torch runtime: {patch}.");
        }
        nint handle;
        try { handle = NativeLibrary.Load(load); }
        catch (DllNotFoundException e) { throw new TorchRuntimeException($"could not load TorchSharp's shim {load}: {e.Message}"); }
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, (name, _, _) =>
                name is "LibTorchSharp" or "libLibTorchSharp" or "libLibTorchSharp.so" ? handle : 0);
        }
        catch (InvalidOperationException) { /* TorchSharp set its own; the event below still applies */ }
        // TorchSharp probes with NativeLibrary.TryLoad(name, assembly, null), which ignores the resolver above and would
        // find the unpatched file first; when that fails, the runtime asks this event, which hands over the loaded copy.
        System.Runtime.Loader.AssemblyLoadContext.Default.ResolvingUnmanagedDll += (_, name) =>
            name is "LibTorchSharp" or "libLibTorchSharp" or "libLibTorchSharp.so" ? handle : 0;
        return (load, patch);
    }

    // TorchSharp's `torch` class loads the native backend in its type initializer, which the JIT may run as soon as it
    // compiles a method that mentions it. Every such mention therefore lives here, compiled only when called, after
    // the libraries above are loaded.
    private static class Late
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        public static void InitCpu() => torch.InitializeDeviceType(DeviceType.CPU);

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        public static string Version() => torch.__version__;

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        public static bool InitCuda()
        {
            torch.InitializeDeviceType(DeviceType.CUDA);
            return torch.cuda.is_available();
        }
    }

    private static void WritePatched(string path, byte[] patched)
    {
        if (File.Exists(path) && SHA256.HashData(File.ReadAllBytes(path)).AsSpan().SequenceEqual(SHA256.HashData(patched))) return;
        FlatMinima.Storage.AtomicFile.WriteAllBytes(path, patched);
    }

    private static string CacheRoot()
    {
        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string root = !string.IsNullOrEmpty(xdg) ? xdg : !string.IsNullOrEmpty(home) ? Path.Combine(home, ".cache") : Path.GetTempPath();
        return Path.Combine(root, "flatminima");
    }
}
