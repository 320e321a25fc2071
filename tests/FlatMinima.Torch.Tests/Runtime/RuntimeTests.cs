using System.Diagnostics;
using FlatMinima.Torch.Runtime;
using TorchSharp;

namespace FlatMinima.Torch.Tests.Runtime;

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

    // TorchSharp's own shim: the one version that older distributions lack binds only GCC 13's iostream anchor, and
    // weakening that requirement changes one byte of the file and nothing else.
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
    }

    // The fixtures (Fixtures/make-fixtures.sh): a stand-in libstdc++ without GLIBCXX_3.4.32 ("old", as on Debian 12),
    // one with it ("new"), and a stand-in shim linked against "new" that binds GLIBCXX_3.4 and, for the anchor
    // symbol only, GLIBCXX_3.4.32.
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Runtime", "Fixtures", name);

    [Fact]
    public void SyntheticFixturesHaveTheVersionsTheyAreBuiltWith()
    {
        var shim = ElfVersions.Read(Fixture("shim.so"));
        Assert.Equal(["GLIBCXX_3.4.32", "GLIBCXX_3.4"], shim.Needs.Select(n => n.Version));
        Assert.All(shim.Needs, n => Assert.Equal("libstdc++.so.6", n.File));
        Assert.All(shim.Needs, n => Assert.Equal(0, n.Flags));
        Assert.Equal([TorchRuntime.AnchorSymbol], shim.Needs[0].Symbols);
        Assert.Equal(["_ZNSt8ios_base4InitC1Ev"], shim.Needs[1].Symbols);
        Assert.DoesNotContain(TorchRuntime.AnchorVersion, ElfVersions.Read(Fixture("old/libstdc++.so.6")).Definitions);
        Assert.Contains("GLIBCXX_3.4", ElfVersions.Read(Fixture("old/libstdc++.so.6")).Definitions);
        Assert.Contains(TorchRuntime.AnchorVersion, ElfVersions.Read(Fixture("new/libstdc++.so.6")).Definitions);
    }

    [Fact]
    public void AgainstALibStdCxxWithoutTheVersion_ThePatchMarksTheAnchorWeakAndChangesNothingElse()
    {
        var shim = ElfVersions.Read(Fixture("shim.so"));
        var need = TorchRuntime.AnchorToWeaken(shim, ElfVersions.Read(Fixture("old/libstdc++.so.6")), "shim.so", "old/libstdc++.so.6");
        Assert.NotNull(need);
        Assert.Equal(TorchRuntime.AnchorVersion, need!.Version);
        byte[] patchedBytes = shim.WithWeak(need);
        var patched = ElfVersions.Parse(patchedBytes, "patched");
        // The version-needed entry of GLIBCXX_3.4.32 carries VER_FLG_WEAK; every other entry and field is as it was.
        Assert.Equal(ElfVersions.VerFlgWeak, patched.Needs.Single(n => n.Version == TorchRuntime.AnchorVersion).Flags);
        static IEnumerable<string> Rest(ElfVersions e) => e.Needs.Select(n => $"{n.File} {n.Version} {n.Index} {n.FlagsOffset} {string.Join(" ", n.Symbols)}");
        Assert.Equal(Rest(shim), Rest(patched));
        Assert.Equal(shim.Definitions, patched.Definitions);
        Assert.Equal(0, patched.Needs.Single(n => n.Version == "GLIBCXX_3.4").Flags);
        var changed = shim.Bytes.Zip(patchedBytes).Select((p, i) => (p, i)).Where(t => t.p.First != t.p.Second).Select(t => (long)t.i).ToList();
        Assert.Equal([need.FlagsOffset], changed);
        Assert.Equal(shim.Bytes.Length, patchedBytes.Length);
    }

    [Fact]
    public void AgainstALibStdCxxWithTheVersion_NothingIsPatched()
    {
        var shim = ElfVersions.Read(Fixture("shim.so"));
        Assert.Null(TorchRuntime.AnchorToWeaken(shim, ElfVersions.Read(Fixture("new/libstdc++.so.6")), "shim.so", "new/libstdc++.so.6"));
    }

    [Fact]
    public void AMissingVersionBeyondTheAnchorIsRefusedByName()
    {
        var other = ElfVersions.Read(Fixture("shim-other.so"));
        var e = Assert.Throws<TorchRuntimeException>(() => TorchRuntime.AnchorToWeaken(other, ElfVersions.Read(Fixture("old/libstdc++.so.6")), "shim-other.so", "old/libstdc++.so.6"));
        Assert.Contains("GLIBCXX_3.4.31", e.Message);
        Assert.Contains("old/libstdc++.so.6", e.Message);
    }

    // glibc's own loader is the judge: against the old library, the missing version is fatal for the original shim
    // ("version ... not found") and only noted for the patched one ("weak version ... not found"), which the loader
    // then loads (ld.so --list resolves the dependencies and their versions without running anything).
    [Fact]
    public void TheLoaderAcceptsThePatchedShimAndRejectsTheOriginal()
    {
        const string loader = "/lib64/ld-linux-x86-64.so.2";
        if (!File.Exists(loader)) { Console.Error.WriteLine($"skipped: no {loader} on this machine"); return; }
        var shim = ElfVersions.Read(Fixture("shim.so"));
        var need = TorchRuntime.AnchorToWeaken(shim, ElfVersions.Read(Fixture("old/libstdc++.so.6")), "shim.so", "old")!;
        using var dir = new TempDir();
        File.WriteAllBytes(dir["patched.so"], shim.WithWeak(need));
        string List(string file)
        {
            var psi = new ProcessStartInfo(loader) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "--library-path", Path.GetDirectoryName(Fixture("old/libstdc++.so.6"))!, "--list", file }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string text = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return text;
        }
        string original = List(Fixture("shim.so"));
        Assert.Contains($": version `{TorchRuntime.AnchorVersion}' not found", original);
        Assert.DoesNotContain("weak version", original);
        string patched = List(dir["patched.so"]);
        Assert.Contains($": weak version `{TorchRuntime.AnchorVersion}' not found", patched);
        Assert.DoesNotContain(": version `", patched);
        Assert.Contains("libstdc++.so.6 => ", patched);
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
