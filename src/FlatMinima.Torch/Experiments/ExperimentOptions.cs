using System.Reflection;
using FlatMinima.Torch.Optim;

namespace FlatMinima.Torch.Experiments;

/// <summary>
/// Every option of a training run, by section: the selectors <c>--data</c>, <c>--model</c>, <c>--optimizer</c> with the
/// options of each choice, and the training options. This is the one place a front end reads: names, descriptions,
/// types, defaults, ranges and which choice each option belongs to.
/// </summary>
public static class ExperimentOptions
{
    public static ConfigFamily Data { get; } = new(ConfigSection.Data, typeof(DataConfig));
    public static ConfigFamily Model { get; } = new(ConfigSection.Model, typeof(ModelConfig));
    public static ConfigFamily Optimizer { get; } = new(ConfigSection.Optimizer, typeof(OptimizerConfig));
    public static ConfigFamily Training { get; } = new(ConfigSection.Training, typeof(TrainingConfig));

    /// <summary>The four sections of a run's configuration, in the order help lists them.</summary>
    public static IReadOnlyList<ConfigFamily> Families { get; } = [Data, Model, Optimizer, Training];

    /// <summary>The options of the flatness probes of a trained run (<see cref="FlatnessConfig"/>; not part of a run's
    /// configuration).</summary>
    public static ConfigFamily Flatness { get; } = new(ConfigSection.Flatness, typeof(FlatnessConfig));

    /// <summary>Every option, grouped by name: an option name means the same thing wherever it appears, though some
    /// (<c>gmax</c>) are declared by two optimisers with their own descriptions.</summary>
    public static IReadOnlyList<IGrouping<string, ExperimentOption>> ByName { get; } =
        Families.SelectMany(f => f.Options).GroupBy(o => o.Name).ToList();

    /// <summary>The options named <paramref name="name"/> (empty when none).</summary>
    public static IReadOnlyList<ExperimentOption> Named(string name) => ByName.FirstOrDefault(g => g.Key == name)?.ToList() ?? [];

    /// <summary>Whether <paramref name="name"/> is an option or a selector of a run's configuration.</summary>
    public static bool IsKnown(string name) => Named(name).Count > 0 || Families.Any(f => f.HasSelector && f.Name == name);

    /// <summary>Where an option applies, for messages: "applies to --optimizer esgd, rsgd".</summary>
    public static string WhereApplies(string name)
    {
        var opts = Named(name);
        if (opts.Count == 0) return "";
        var parts = opts.GroupBy(o => o.Section).Select(g =>
        {
            var fam = Families.First(f => f.Section == g.Key);
            return fam.HasSelector ? $"--{fam.Name} {string.Join(", ", g.SelectMany(o => o.Variants).Distinct())}" : "every run";
        });
        return "applies to " + string.Join("; ", parts);
    }

    private static readonly Dictionary<Type, IReadOnlyList<ExperimentOption>> ByType = [];

    /// <summary>The options of a configuration record's type.</summary>
    public static IReadOnlyList<ExperimentOption> Of(Type recordType)
    {
        lock (ByType)
        {
            if (ByType.TryGetValue(recordType, out var list)) return list;
            var fam = Families.Append(Flatness).FirstOrDefault(f => f.BaseType.IsAssignableFrom(recordType))
                      ?? throw new ArgumentException($"{recordType.Name} is not a configuration record.");
            string variant = fam.Variants.First(v => v.Type == recordType).Name;
            return ByType[recordType] = fam.OptionsOf(variant).ToList();
        }
    }

    /// <summary>Checks every option of <paramref name="record"/> against its range.</summary>
    public static void CheckRanges(object record)
    {
        foreach (var o in Of(record.GetType())) o.Check(o.Get(record));
    }
}

/// <summary>Option values as text, by option name (the command line, a sweep grid). Asking for a value marks the name as
/// used, so a caller can report the names nobody asked for.</summary>
public interface IOptionValues
{
    /// <summary>True with the text (null for a switch given without a value) when <paramref name="name"/> was given.</summary>
    bool TryGet(string name, out string? text);
}

/// <summary>Option values from a dictionary; <see cref="Unused"/> lists the names never asked for.</summary>
public sealed class OptionDictionary(IReadOnlyDictionary<string, string?> values) : IOptionValues
{
    private readonly HashSet<string> _used = [];

    public bool TryGet(string name, out string? text)
    {
        _used.Add(name);
        return values.TryGetValue(name, out text);
    }

    public IEnumerable<string> Unused => values.Keys.Where(k => !_used.Contains(k));
}

/// <summary>
/// Fills the configuration records from option values given as text, generically: for each section, the variant named
/// by its selector (or the default), then every option of that variant that was given, parsed by its
/// <see cref="ExperimentOption"/>. Options of other variants are not asked for, so the caller sees them as unknown.
/// </summary>
public static class ConfigBinder
{
    /// <summary>A run's configuration from <paramref name="values"/>; not yet validated (<see cref="RunConfig.Validate"/>).</summary>
    public static RunConfig Bind(IOptionValues values) => new(
        (DataConfig)BindFamily(ExperimentOptions.Data, values),
        (ModelConfig)BindFamily(ExperimentOptions.Model, values),
        (OptimizerConfig)BindFamily(ExperimentOptions.Optimizer, values),
        (TrainingConfig)BindFamily(ExperimentOptions.Training, values));

    /// <summary>The record of one section.</summary>
    public static object BindFamily(ConfigFamily family, IOptionValues values)
    {
        string variant = family.Variants[0].Name;
        if (family.HasSelector)
        {
            variant = family.Default!;
            if (values.TryGet(family.Name, out var text))
                variant = text?.Trim().ToLowerInvariant() ?? throw new ConfigException($"--{family.Name} needs a value.");
        }
        var record = Activator.CreateInstance(family.TypeOf(variant))!;
        return Apply(record, family.OptionsOf(variant), values);
    }

    /// <summary>A copy of <paramref name="record"/> with the options of <paramref name="options"/> that
    /// <paramref name="values"/> holds.</summary>
    public static T Apply<T>(T record, IEnumerable<ExperimentOption> options, IOptionValues values) where T : class
    {
        var copy = ExperimentOption.Clone(record);
        foreach (var o in options)
            if (values.TryGet(o.Name, out var text))
                o.Property.SetValue(copy, o.Parse(text));
        return copy;
    }
}
