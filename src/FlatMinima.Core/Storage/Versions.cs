using System.Reflection;
using System.Runtime.InteropServices;

namespace FlatMinima.Storage;

/// <summary>Versions and provenance recorded in every manifest (the toolkit, its git commit, .NET, MathNet, the machine).</summary>
public static class Versions
{
    /// <summary>Informational version of the toolkit.</summary>
    public static string Toolkit => typeof(Versions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Version of MathNet.Numerics actually loaded.</summary>
    public static string MathNet => typeof(MathNet.Numerics.Control).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The git commit of the working tree the command runs from, or "unknown" (read from .git without
    /// starting a process).</summary>
    public static string GitCommit()
    {
        try
        {
            for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
            {
                string git = Path.Combine(dir.FullName, ".git");
                if (File.Exists(git))
                {
                    string line = File.ReadAllText(git).Trim();
                    if (line.StartsWith("gitdir:", StringComparison.Ordinal)) git = Path.GetFullPath(Path.Combine(dir.FullName, line[7..].Trim()));
                }
                if (!Directory.Exists(git)) continue;
                string head = File.ReadAllText(Path.Combine(git, "HEAD")).Trim();
                if (!head.StartsWith("ref:", StringComparison.Ordinal)) return head;
                string refName = head[4..].Trim();
                foreach (var root in new[] { git, CommonDir(git) })
                {
                    string refPath = Path.Combine(root, refName);
                    if (File.Exists(refPath)) return File.ReadAllText(refPath).Trim();
                    string packed = Path.Combine(root, "packed-refs");
                    if (File.Exists(packed))
                        foreach (var l in File.ReadLines(packed))
                            if (l.EndsWith(" " + refName, StringComparison.Ordinal)) return l[..l.IndexOf(' ')];
                }
                return "unknown";
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return "unknown";
    }

    private static string CommonDir(string git)
    {
        string common = Path.Combine(git, "commondir");
        return File.Exists(common) ? Path.GetFullPath(Path.Combine(git, File.ReadAllText(common).Trim())) : git;
    }

    /// <summary>Everything a manifest records about the software and machine.</summary>
    public static Dictionary<string, object?> Describe() => new()
    {
        ["toolkit"] = Toolkit,
        ["git_commit"] = GitCommit(),
        ["dotnet"] = RuntimeInformation.FrameworkDescription,
        ["mathnet_numerics"] = MathNet,
        ["os"] = RuntimeInformation.OSDescription,
        ["architecture"] = RuntimeInformation.ProcessArchitecture.ToString(),
        ["processor_count"] = Environment.ProcessorCount,
        ["machine"] = Environment.MachineName,
        ["linear_algebra"] = FlatMinima.Numerics.LinearAlgebra.Describe(),
    };
}
