using FlatMinima.Torch.Runtime;
using TorchSharp;

namespace FlatMinima.Torch.Tests;

public class RuntimeTests
{
    [Fact]
    public void CpuRuntimeLoadsAndComputes()
    {
        var info = TestRuntime.Init();
        Assert.Equal("cpu", info.Device);
        Assert.StartsWith("0.107", info.TorchSharpVersion);
        using var a = torch.ones(3, 3);
        using var b = a.matmul(a);
        Assert.Equal(3f, b[0, 0].item<float>());
    }

    [Fact]
    public void PatchDecisionMatchesSystemLibStdCxx()
    {
        TestRuntime.Init();
        string? cxx = TorchRuntime.SystemLibStdCxx();
        Assert.NotNull(cxx);
        var defs = ElfVersions.Read(cxx!).Definitions;
        Assert.Contains("GLIBCXX_3.4", defs);
        bool has32 = defs.Contains(TorchRuntime.AnchorVersion);
        // The patch is applied exactly when the system lacks the anchor version.
        Assert.Equal(!has32, TorchRuntime.Current!.ShimPatch is not null);
    }

    [Fact]
    public void ShimBindsOnlyTheAnchorAtGlibcxx3432_AndWeakeningSetsTheFlag()
    {
        var info = TestRuntime.Init();
        string original = FindOriginalShim(info);
        var shim = ElfVersions.Read(original);
        var need = shim.Needs.Single(n => n.Version == TorchRuntime.AnchorVersion);
        Assert.Equal("libstdc++.so.6", need.File);
        Assert.Equal([TorchRuntime.AnchorSymbol], need.Symbols);
        Assert.Equal(0, need.Flags & ElfVersions.VerFlgWeak);
        var patched = ElfVersions.Parse(shim.WithWeak(need), "patched");
        var after = patched.Needs.Single(n => n.Version == TorchRuntime.AnchorVersion);
        Assert.Equal(ElfVersions.VerFlgWeak, after.Flags & ElfVersions.VerFlgWeak);
        // Nothing else changed.
        Assert.Equal(shim.Needs.Count, patched.Needs.Count);
        Assert.Equal(1, shim.Bytes.Zip(patched.Bytes).Count(p => p.First != p.Second));
        // A fake libstdc++ lacking a second version is refused rather than patched.
        var cxx = ElfVersions.Read(TorchRuntime.SystemLibStdCxx()!);
        var weak = TorchRuntime.AnchorToWeaken(shim, cxx, original, "libstdc++");
        Assert.Equal(!cxx.Definitions.Contains(TorchRuntime.AnchorVersion), weak is not null);
    }

    [Fact]
    public void TruncatedElfIsAnErrorNamingFileAndOffset()
    {
        var info = TestRuntime.Init();
        var bytes = File.ReadAllBytes(FindOriginalShim(info))[..100];
        var e = Assert.Throws<InvalidDataException>(() => ElfVersions.Parse(bytes, "short.so"));
        Assert.Contains("short.so", e.Message);
        Assert.Contains("offset", e.Message);
    }

    [Fact]
    public void MissingCudaLibtorchNamesEveryPlaceSearched()
    {
        TestRuntime.Init();
        string? old = Environment.GetEnvironmentVariable(TorchRuntime.LibtorchEnv);
        try
        {
            Environment.SetEnvironmentVariable(TorchRuntime.LibtorchEnv, "/nonexistent/torch/lib");
            var e = Assert.Throws<TorchRuntimeException>(() => TorchRuntime.Initialize("cuda"));
            Assert.Contains("$FLATMINIMA_LIBTORCH=/nonexistent/torch/lib", e.Message);
            Assert.Contains("Searched", e.Message);
        }
        finally { Environment.SetEnvironmentVariable(TorchRuntime.LibtorchEnv, old); }
        Assert.Throws<ArgumentException>(() => TorchRuntime.Initialize("tpu"));
    }

    internal static string FindOriginalShim(RuntimeInfo info)
    {
        string a = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (File.Exists(a)) return a;
        string b = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        return File.Exists(b) ? b : info.LibTorchSharpPath;
    }
}

internal static class TestRuntime
{
    public static RuntimeInfo Init() => TorchRuntime.Initialize("cpu", Console.Error.WriteLine);
}
