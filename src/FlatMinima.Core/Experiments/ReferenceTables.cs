namespace FlatMinima.Experiments;

/// <summary>A table of numbers that the docs print and the engine computes.</summary>
/// <param name="Name">Lowercase-hyphen name, used in the docs' markers and by <c>flatminima tables NAME</c>.</param>
/// <param name="Description">One line: what the table holds and, for simulations, the sizes and seeds.</param>
/// <param name="Compute">Computes the table from the engine. Deterministic: fixed seeds, fixed digits.</param>
public sealed record ReferenceTable(string Name, string Description, Func<MarkdownTable> Compute);

/// <summary>
/// Every table of engine-computed numbers that the repository's docs print, by name. A doc marks each with
/// <c>&lt;!-- table: NAME --&gt;</c> … <c>&lt;!-- end table --&gt;</c> (<see cref="ReferenceTableBlocks"/>);
/// <c>flatminima tables --update</c> rewrites the marked blocks and a test fails when a printed digit differs from what
/// the engine gives. Simulations use fixed seeds and the sizes of the tests and CLI commands the docs quote beside them,
/// so a table prints what its test checks; their sizes are in their descriptions. Every table together takes about 45 s
/// of CPU.
/// </summary>
public static partial class ReferenceTables
{
    /// <summary>Every registered table, in the order of docs/theory.md#tables and then of the other docs.</summary>
    public static IReadOnlyList<ReferenceTable> All { get; } =
    [
        .. BayesOptimalTables(),
        .. ErmTables(),
        .. LocalEnergyTables(),
        .. ThresholdTables(),
        .. OtherDocTables(),
    ];

    /// <summary>Names of <see cref="All"/>, in order.</summary>
    public static IReadOnlyList<string> Names => All.Select(t => t.Name).ToArray();

    /// <summary>The table called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static ReferenceTable Get(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"unknown table '{name}'; valid: {string.Join(", ", Names)}.", nameof(name));

    /// <summary>The Markdown of the table called <paramref name="name"/>.</summary>
    public static string Markdown(string name) => Get(name).Compute().ToString();
}
