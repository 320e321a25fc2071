using System.Text.RegularExpressions;

namespace FlatMinima.Tests;

/// <summary>
/// The layering of FlatMinima.Core read from its sources: each folder is a namespace, and a folder depends on another
/// when one of its files names it (a <c>using FlatMinima.X;</c> line, a fully qualified <c>FlatMinima.X.Type</c>, or a
/// namespace-relative <c>X.Type</c>, documentation references included). The folders must form no cycle, so that
/// the numerical tools sit below the physics and every layer can be read and tested on its own.
/// </summary>
public class ArchitectureTests
{
    internal static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FlatMinima.Theory.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root (FlatMinima.Theory.sln) not found above the test binaries.");
    }

    /// <summary>Source files of a project, without build output.</summary>
    internal static IEnumerable<string> Sources(string project) =>
        Directory.EnumerateFiles(Path.Combine(RepositoryRoot(), "src", project), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj"));

    /// <summary>Folder → the other Core folders its files name.</summary>
    internal static Dictionary<string, SortedSet<string>> CoreFolderGraph()
    {
        string core = Path.Combine(RepositoryRoot(), "src", "FlatMinima.Core");
        var folders = Directory.GetDirectories(core).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).Select(f => f!).ToHashSet();
        var names = string.Join("|", folders.Select(Regex.Escape));
        var reference = new Regex($@"(?:\bFlatMinima\.|(?<![\w.]))({names})\.[A-Z]", RegexOptions.Compiled);
        var graph = folders.ToDictionary(f => f, _ => new SortedSet<string>());
        foreach (var folder in folders)
            foreach (var file in Directory.EnumerateFiles(Path.Combine(core, folder), "*.cs", SearchOption.AllDirectories))
                foreach (Match m in reference.Matches(File.ReadAllText(file)))
                    if (m.Groups[1].Value != folder) graph[folder].Add(m.Groups[1].Value);
        foreach (var folder in folders)
            foreach (var file in Directory.EnumerateFiles(Path.Combine(core, folder), "*.cs", SearchOption.AllDirectories))
                foreach (var line in File.ReadLines(file).Where(l => l.StartsWith("using FlatMinima.", StringComparison.Ordinal)))
                {
                    string target = line["using FlatMinima.".Length..].TrimEnd(';').Split('.')[0];
                    if (folders.Contains(target) && target != folder) graph[folder].Add(target);
                }
        return graph;
    }

    /// <summary>A cycle of the graph as "A → B → A", or null.</summary>
    internal static string? FindCycle(IReadOnlyDictionary<string, SortedSet<string>> graph)
    {
        var state = graph.Keys.ToDictionary(k => k, _ => 0); // 0 new, 1 on the stack, 2 done
        var stack = new List<string>();
        string? Visit(string v)
        {
            state[v] = 1; stack.Add(v);
            foreach (var w in graph[v])
            {
                if (state[w] == 1) return string.Join(" → ", stack.SkipWhile(s => s != w).Append(w));
                if (state[w] == 0 && Visit(w) is { } c) return c;
            }
            stack.RemoveAt(stack.Count - 1); state[v] = 2;
            return null;
        }
        foreach (var v in graph.Keys.Order())
            if (state[v] == 0 && Visit(v) is { } cycle) return cycle;
        return null;
    }

    [Fact]
    public void CoreFoldersFormNoDependencyCycle()
    {
        var graph = CoreFolderGraph();
        Assert.Contains("Numerics", graph.Keys);
        Assert.True(FindCycle(graph) is null, $"folder cycle in FlatMinima.Core: {FindCycle(graph)}; edges: " +
            string.Join("; ", graph.Select(kv => $"{kv.Key} → {string.Join(", ", kv.Value)}")));
        // the numerical tools depend on nothing else in Core
        Assert.Empty(graph["Numerics"]);
    }

    [Fact]
    public void CycleFinderFindsACycle()
    {
        // the check itself can fail: the cycle the folders had before the numerical tools moved to Numerics/
        var g = new Dictionary<string, SortedSet<string>>
        {
            ["Estimators"] = ["Flatness"], ["Flatness"] = ["Experiments"], ["Experiments"] = ["Estimators"], ["Numerics"] = [],
        };
        Assert.Equal("Estimators → Flatness → Experiments → Estimators", FindCycle(g));
        g["Experiments"] = ["Numerics"];
        Assert.Null(FindCycle(g));
    }

    // A type test on a shipped loss or penalty: `is X`, `is not X`, `as X`, `case X`, a switch arm `X =>` or `X x =>`,
    // `typeof(X)`; X possibly namespace-qualified.
    private static readonly Regex TypeTest = new(
        @"\b(?:is\s+(?:not\s+)?|as\s+|case\s+|typeof\s*\(\s*)(?:[\w.]*\.)?(?<t>SquareLoss|LogisticLoss|HingeLoss|RidgePenalty|SpherePenalty|L1Penalty)\b" +
        @"|(?<![\w.])(?:[\w.]*\.)?(?<t>SquareLoss|LogisticLoss|HingeLoss|RidgePenalty|SpherePenalty|L1Penalty)(?:\s+\w+)?\s*(?:=>|when\b)",
        RegexOptions.Compiled);

    internal static IEnumerable<string> TypeTests(string source) => TypeTest.Matches(source).Select(m => m.Value);

    [Fact]
    public void NoCodeTestsForAConcreteLossOrPenalty()
    {
        // loss- and penalty-specific behaviour lives behind IMarginLoss and IWeightPenalty, so a user's loss or penalty
        // gets everything a shipped one does
        var found = new List<string>();
        foreach (var project in new[] { "FlatMinima.Core", "FlatMinima.Plots", "FlatMinima.Cli", "FlatMinima.Torch" })
            foreach (var file in Sources(project))
                foreach (var hit in TypeTests(File.ReadAllText(file)))
                    found.Add($"{Path.GetFileName(file)}: {hit}");
        Assert.True(found.Count == 0, "type tests on concrete losses or penalties: " + string.Join("; ", found));
    }

    [Theory]
    [InlineData("if (loss is SquareLoss) return;")]
    [InlineData("if (p is not FlatMinima.Penalties.SpherePenalty sp) x();")]
    [InlineData("var r = loss switch { HingeLoss => 1, _ => 2 };")]
    [InlineData("var l = penalty switch { RidgePenalty r => r.Lambda, _ => 0 };")]
    [InlineData("bool b = loss is LogisticLoss;")]
    [InlineData("case L1Penalty l1:")]
    public void TypeTestPatternFindsEachForm(string code) => Assert.NotEmpty(TypeTests(code));

    [Theory]
    [InlineData("var l = SquareLoss.Instance;")]
    [InlineData("public sealed class HingeLoss : IMarginLoss")]
    [InlineData("new RidgePenalty(lambda) => x")]
    public void TypeTestPatternIgnoresUses(string code) => Assert.Empty(TypeTests(code));
}
