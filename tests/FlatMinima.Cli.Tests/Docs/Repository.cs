using System.Diagnostics;

namespace FlatMinima.Cli.Tests.Docs;

/// <summary>The repository the tests run in: its root (the folder of FlatMinima.Theory.sln) and its tracked files.</summary>
internal static class Repository
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FlatMinima.Theory.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no FlatMinima.Theory.sln above {AppContext.BaseDirectory}.");
    });

    private static readonly Lazy<IReadOnlyList<string>> Tracked = new(ListTracked);

    /// <summary>Absolute path of the repository root.</summary>
    public static string Root => RootPath.Value;

    /// <summary>Tracked files, relative to the root with '/': <c>git ls-files</c>, or a walk of the folder (without
    /// build outputs and hidden folders other than .ci) where git or the repository metadata is absent.</summary>
    public static IReadOnlyList<string> Files => Tracked.Value;

    /// <summary>Text of a file given relative to the root.</summary>
    public static string Read(string relative) => File.ReadAllText(Path.Combine(Root, relative));

    /// <summary>Whether a file given relative to the root exists.</summary>
    public static bool Exists(string relative) => File.Exists(Path.Combine(Root, relative));

    private static IReadOnlyList<string> ListTracked()
    {
        try
        {
            var psi = new ProcessStartInfo("git", "ls-files -z")
            {
                WorkingDirectory = Root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode == 0 && output.Length > 0)
                // Tracked but deleted in the working tree (a file being moved) does not count.
                return output.Split('\0', StringSplitOptions.RemoveEmptyEntries).Where(Exists).ToArray();
        }
        catch (System.ComponentModel.Win32Exception) { } // no git on this machine
        return Walk(new DirectoryInfo(Root), "").ToArray();
    }

    private static IEnumerable<string> Walk(DirectoryInfo dir, string prefix)
    {
        foreach (var f in dir.EnumerateFiles()) yield return prefix + f.Name;
        foreach (var d in dir.EnumerateDirectories())
        {
            if (d.Name is "bin" or "obj" or "TestResults" || d.Name.StartsWith('.') && d.Name != ".ci") continue;
            foreach (var f in Walk(d, prefix + d.Name + "/")) yield return f;
        }
    }
}
