using System.Globalization;
using System.Reflection;
using System.Text.Json.Serialization;
using FlatMinima.Numerics;

namespace FlatMinima.Torch.Experiments;

/// <summary>
/// Marks a property of a configuration record as a user option and carries everything a front end needs about it,
/// once: the name (<c>--inner-steps</c> on the command line, <c>inner-steps</c> in a sweep grid, <c>inner_steps</c> in
/// <c>config.json</c> and in messages), the description, the valid range and, where the default is not a plain value of
/// the property (null = derived from the run), how it is derived. The default itself is the property's initial value
/// in the record, written nowhere else.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionAttribute(string name, string description) : Attribute
{
    /// <summary>Kebab-case name without dashes, e.g. <c>inner-steps</c>.</summary>
    public string Name { get; } = name;
    public string Description { get; } = description;
    /// <summary>Valid values in interval notation, e.g. <c>(0, inf)</c>, <c>[0, 1)</c>, <c>[1, inf)</c> (null: any).</summary>
    public string? Range { get; init; }
    /// <summary>The symbol of the docs (L, α, η'), shown next to the name in messages and help.</summary>
    public string? Symbol { get; init; }
    /// <summary>Help text of the default when the property's value is null, i.e. derived (e.g. <c>⌈0.75·epochs⌉</c>).</summary>
    public string? DefaultText { get; init; }
}

/// <summary>
/// Names a family of configuration records chosen by one selector option (<c>--data</c>, <c>--model</c>,
/// <c>--optimizer</c>); the variants are the record's <see cref="JsonDerivedTypeAttribute"/> entries, whose discriminators
/// are the selector's values.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ConfigFamilyAttribute(string name, string description, string defaultVariant) : Attribute
{
    public string Name { get; } = name;
    public string Description { get; } = description;
    public string Default { get; } = defaultVariant;
}

/// <summary>An interval of valid values, parsed from the notation of <see cref="OptionAttribute.Range"/>.</summary>
public sealed record ValueRange(double Lo, bool LoClosed, double Hi, bool HiClosed)
{
    public static ValueRange Parse(string text)
    {
        string t = text.Trim();
        var parts = t.Length >= 2 ? t[1..^1].Split(',') : [];
        if (parts.Length != 2 || t[0] is not ('[' or '(') || t[^1] is not (']' or ')'))
            throw new ArgumentException($"range '{text}' is not in interval notation such as [0, 1).");
        static double Bound(string s) => s.Trim() switch
        {
            "inf" or "∞" => double.PositiveInfinity,
            "-inf" or "-∞" => double.NegativeInfinity,
            var v => double.Parse(v, CultureInfo.InvariantCulture),
        };
        return new ValueRange(Bound(parts[0]), t[0] == '[', Bound(parts[1]), t[^1] == ']');
    }

    /// <summary>Throws, through <see cref="Guard.Interval"/>, when <paramref name="value"/> lies outside.</summary>
    public void Check(double value, string name) => Guard.Interval(value, Lo, LoClosed, Hi, HiClosed, name);

    public bool Contains(double value) => double.IsFinite(value) && (double.IsNegativeInfinity(Lo) || (LoClosed ? value >= Lo : value > Lo))
                                          && (double.IsPositiveInfinity(Hi) || (HiClosed ? value <= Hi : value < Hi));

    private static string Show(double v) => double.IsPositiveInfinity(v) ? "∞" : double.IsNegativeInfinity(v) ? "−∞" : v.ToString(CultureInfo.InvariantCulture);

    /// <summary>The interval as help shows it, e.g. <c>[0, 1)</c> or <c>(0, ∞)</c>.</summary>
    public override string ToString() => $"{(LoClosed ? "[" : "(")}{Show(Lo)}, {Show(Hi)}{(HiClosed ? "]" : ")")}";
}

/// <summary>The four sections of a run's configuration.</summary>
public enum ConfigSection { Data, Model, Optimizer, Training, Flatness }

/// <summary>
/// One option of a configuration record: its metadata (from <see cref="OptionAttribute"/>), its type, its default, its
/// range, and how to parse and check a value. A front end builds its options from these (the current parser fills the
/// records generically through <see cref="ConfigBinder"/>; a System.CommandLine front end can make one typed option per
/// <see cref="ExperimentOptions.ByName"/> entry, with <see cref="DefaultText"/> and <see cref="Range"/> in its help and
/// <see cref="Parse"/>/<see cref="Check"/> as its validator); sweep grids use the same names.
/// </summary>
public sealed class ExperimentOption
{
    internal ExperimentOption(PropertyInfo property, OptionAttribute a, ConfigSection section, IReadOnlyList<(string Name, Type Type)> variants)
    {
        Property = property;
        Name = a.Name;
        Description = a.Description;
        Symbol = a.Symbol;
        Section = section;
        Type = property.PropertyType;
        var inner = Nullable.GetUnderlyingType(Type);
        IsNullable = inner is not null || !Type.IsValueType;
        ValueType = inner ?? Type;
        Range = a.Range is null ? null : ValueRange.Parse(a.Range);
        Choices = ValueType.IsEnum ? EnumNames.Of(ValueType) : [];
        Variants = variants.Where(v => property.DeclaringType!.IsAssignableFrom(v.Type)).Select(v => v.Name).ToList();
        _defaults = variants.Where(v => property.DeclaringType!.IsAssignableFrom(v.Type))
            .ToDictionary(v => v.Name, v => property.GetValue(Activator.CreateInstance(v.Type)));
        _derivedText = a.DefaultText;
    }

    private readonly Dictionary<string, object?> _defaults;
    private readonly string? _derivedText;
    internal PropertyInfo Property { get; }

    /// <summary>Kebab-case name: <c>--NAME</c> on the command line, <c>NAME</c> in a sweep grid.</summary>
    public string Name { get; }
    /// <summary>The name in <c>config.json</c> and in messages: <see cref="Name"/> with underscores.</summary>
    public string Key => Name.Replace('-', '_');
    public string Description { get; }
    /// <summary>The symbol of the docs, or null.</summary>
    public string? Symbol { get; }
    public ConfigSection Section { get; }
    /// <summary>The variants of the section (optimisers, data sets, models) that have this option; for the training
    /// section, "training".</summary>
    public IReadOnlyList<string> Variants { get; }
    /// <summary>The property's type (e.g. <c>double?</c>).</summary>
    public Type Type { get; }
    /// <summary>The value's type without nullability: double, int, long, bool, string, an enum, or a comma list of
    /// reals (double[]) or names (string[]).</summary>
    public Type ValueType { get; }
    /// <summary>Whether null (derived from the run, or unset) is a valid value.</summary>
    public bool IsNullable { get; }
    /// <summary>A switch: given without a value it means true.</summary>
    public bool IsFlag => ValueType == typeof(bool);
    /// <summary>The accepted values of an enum option, as written on the command line and in JSON.</summary>
    public IReadOnlyList<string> Choices { get; }
    /// <summary>The valid range of a numeric option, or null.</summary>
    public ValueRange? Range { get; }

    /// <summary>The default of this option for <paramref name="variant"/> (null: derived from the run, see <see cref="DefaultText"/>).</summary>
    public object? DefaultFor(string variant) => _defaults.TryGetValue(variant, out var v) ? v
        : throw new ArgumentException($"--{Name} does not apply to {variant}.");

    /// <summary>The default as help shows it: the value, the derivation of a null default, or one value per variant
    /// where they differ (e.g. <c>true for esgd, rsgd; false otherwise</c>).</summary>
    public string DefaultText
    {
        get
        {
            var groups = _defaults.GroupBy(kv => Show(kv.Value)).ToList();
            if (groups.Count <= 1) return groups.Count == 0 ? "" : groups[0].Key;
            var common = groups.OrderByDescending(g => g.Count()).First();
            return string.Join("; ", groups.Where(g => g != common).Select(g => $"{g.Key} for {string.Join(", ", g.Select(kv => kv.Key))}")) + $"; {common.Key} otherwise";
        }
    }

    private string Show(object? v) => v switch
    {
        null => _derivedText ?? "none",
        bool b => b ? "true" : "false",
        double d => d.ToString(CultureInfo.InvariantCulture),
        double[] a => string.Join(",", a.Select(x => x.ToString(CultureInfo.InvariantCulture))),
        string[] a => string.Join(",", a),
        IFormattable f when v.GetType().IsEnum => EnumNames.Name(v),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    /// <summary>The name with its symbol, as messages use it: <c>inner_steps (L)</c>.</summary>
    public string Display => Symbol is null ? Key : $"{Key} ({Symbol})";

    /// <summary>
    /// Parses a value given as text (the command line, a grid cell). Null text is a switch without a value: true for a
    /// boolean option, an error otherwise. A malformed value is an <see cref="ArgumentException"/> naming the option
    /// (exit code 2 in the CLI); the range is checked by <see cref="Check"/>.
    /// </summary>
    public object? Parse(string? text)
    {
        if (text is null)
            return IsFlag ? true : throw new ConfigException($"--{Name} needs a value.");
        string s = text.Trim();
        if (IsNullable && ValueType != typeof(string) && s is "null" or "auto" && _derivedText is not null) return null;
        if (ValueType == typeof(double[]))
            return s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => ParseReal(t, t)).ToArray();
        if (ValueType == typeof(string[]))
            return s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (ValueType == typeof(double)) return ParseReal(s, text);
        if (ValueType == typeof(int))
            return int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i : throw new ConfigException($"--{Name} must be an integer in {IntegerRange(int.MinValue, int.MaxValue)} (got '{text}').");
        if (ValueType == typeof(long))
            return long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) ? l : throw new ConfigException($"--{Name} must be an integer in {IntegerRange(long.MinValue, long.MaxValue)} (got '{text}').");
        if (ValueType == typeof(bool))
            return s.ToLowerInvariant() switch
            {
                "true" or "1" or "yes" => true,
                "false" or "0" or "no" => false,
                _ => throw new ConfigException($"--{Name} takes true|false (got '{text}')."),
            };
        if (ValueType.IsEnum)
            return EnumNames.Parse(ValueType, s.ToLowerInvariant()) ?? throw new ConfigException($"--{Name} must be one of {string.Join("|", Choices)} (got '{s.ToLowerInvariant()}').");
        return text;
    }

    // The integers an option takes: its range, bounded by what the type holds (counts are parsed as checked integers,
    // never through a real number, so 2e9 or 1e10 is refused, not rounded or wrapped).
    private string IntegerRange(long min, long max)
    {
        long lo = Range is null || double.IsNegativeInfinity(Range.Lo) ? min : (long)Math.Max(min, Range.LoClosed ? Math.Ceiling(Range.Lo) : Math.Floor(Range.Lo) + 1);
        long hi = Range is null || double.IsPositiveInfinity(Range.Hi) ? max : (long)Math.Min(max, Range.HiClosed ? Math.Floor(Range.Hi) : Math.Ceiling(Range.Hi) - 1);
        return $"[{lo.ToString(CultureInfo.InvariantCulture)}, {hi.ToString(CultureInfo.InvariantCulture)}]";
    }

    private double ParseReal(string s, string text)
    {
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || double.IsNaN(v))
            throw new ConfigException($"--{Name} must be a real number (got '{text}').");
        if (double.IsInfinity(v)) throw new ConfigException($"--{Name} must be finite (got '{text}').");
        return v;
    }

    /// <summary>Checks a value against the range, through <see cref="Guard"/> (the message names <see cref="Display"/>
    /// and the range); a list is checked element by element.</summary>
    public void Check(object? value)
    {
        if (value is null || Range is null) return;
        if (value is double[] list) { foreach (var x in list) Range.Check(x, Display); return; }
        double v = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        if (ValueType == typeof(int) && double.IsPositiveInfinity(Range.Hi) && Range.LoClosed) Guard.AtLeast((int)value, (int)Range.Lo, Display);
        else Range.Check(v, Display);
    }

    /// <summary>The value of this option in <paramref name="record"/>.</summary>
    public object? Get(object record) => Property.GetValue(record);

    // Records have a protected copy constructor; calling it keeps every other value.
    internal static T Clone<T>(T record) where T : class
    {
        var t = record.GetType();
        var ctor = t.GetConstructor(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, [t])
                   ?? throw new InvalidOperationException($"{t.Name} is not a record.");
        return (T)ctor.Invoke([record]);
    }
}

/// <summary>Raised for a configuration that cannot be valid (an unknown option, a malformed value, options that
/// contradict each other): bad input, exit code 2 in the CLI.</summary>
public sealed class ConfigException(string message) : ArgumentException(message);

/// <summary>One selector option (<c>--data</c>, <c>--model</c>, <c>--optimizer</c>) and the records it chooses between.</summary>
public sealed class ConfigFamily
{
    internal ConfigFamily(ConfigSection section, Type baseType)
    {
        Section = section;
        BaseType = baseType;
        var a = baseType.GetCustomAttribute<ConfigFamilyAttribute>();
        Name = a?.Name ?? section.ToString().ToLowerInvariant();
        Description = a?.Description ?? "";
        Default = a?.Default;
        Variants = baseType.IsAbstract
            ? baseType.GetCustomAttributes<JsonDerivedTypeAttribute>().Select(d => ((string)d.TypeDiscriminator!, d.DerivedType)).ToList()
            : [(Name, baseType)];
        var all = new List<ExperimentOption>();
        var seen = new HashSet<PropertyInfo>();
        foreach (var (_, type) in Variants)
            foreach (var p in type.GetProperties(BindingFlags.Instance | BindingFlags.Public))
            {
                var prop = p.DeclaringType!.GetProperty(p.Name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.DeclaredOnly) ?? p;
                if (prop.GetCustomAttribute<OptionAttribute>() is { } oa && seen.Add(prop)) all.Add(new ExperimentOption(prop, oa, section, Variants));
            }
        Options = all;
    }

    public ConfigSection Section { get; }
    public Type BaseType { get; }
    /// <summary>The selector's name (<c>optimizer</c>), or the section's name for the training section.</summary>
    public string Name { get; }
    public string Description { get; }
    /// <summary>The variant chosen when the selector is not given (null for the training section).</summary>
    public string? Default { get; }
    /// <summary>The selector's values and their records.</summary>
    public IReadOnlyList<(string Name, Type Type)> Variants { get; }
    public bool HasSelector => BaseType.IsAbstract;
    /// <summary>Every option of every variant.</summary>
    public IReadOnlyList<ExperimentOption> Options { get; }

    /// <summary>The options of one variant.</summary>
    public IEnumerable<ExperimentOption> OptionsOf(string variant) => Options.Where(o => o.Variants.Contains(variant));

    public Type TypeOf(string variant) => Variants.FirstOrDefault(v => v.Name == variant).Type
        ?? throw new ConfigException($"--{Name} must be one of {string.Join("|", Variants.Select(v => v.Name))} (got '{variant}').");

    public string VariantOf(object record) => Variants.First(v => v.Type == record.GetType()).Name;

    /// <summary>The record of <paramref name="variant"/> with every default.</summary>
    public object New(string variant) => Activator.CreateInstance(TypeOf(variant))!;
}

/// <summary>Enum values by their <see cref="JsonStringEnumMemberNameAttribute"/> names (e.g. <c>exp</c>, <c>mass</c>).</summary>
public static class EnumNames
{
    public static IReadOnlyList<string> Of(Type enumType) =>
        enumType.GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? f.Name.ToLowerInvariant()).ToList();

    public static string Name(object value)
    {
        var f = value.GetType().GetField(value.ToString()!)!;
        return f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? f.Name.ToLowerInvariant();
    }

    public static object? Parse(Type enumType, string name)
    {
        foreach (var f in enumType.GetFields(BindingFlags.Public | BindingFlags.Static))
            if ((f.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? f.Name.ToLowerInvariant()) == name) return f.GetValue(null);
        return null;
    }
}
