using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using FlatMinima.Numerics;
using FlatMinima.Torch.Experiments;

namespace FlatMinima.Cli.Infrastructure;

/// <summary>What help shows of an option besides its name and description: the placeholder of its value, its default
/// and its valid range.</summary>
public interface IOptionFacts
{
    /// <summary>The placeholder of the value (<c>A</c>, <c>square|logistic|hinge</c>); empty for a flag.</summary>
    string ValueName { get; }
    /// <summary>The default as help shows it (<c>0.5</c>, <c>all cores</c>); null for a flag and a required option.</summary>
    string? DefaultText { get; }
    /// <summary>The valid values in interval notation (<c>(0, 1)</c>), or null.</summary>
    ValueRange? Range { get; }
}

/// <summary>A typed option of a command with its help facts. Options are made by <see cref="Opt"/>.</summary>
public sealed class CliOption<T> : Option<T>, IOptionFacts
{
    internal CliOption(string name, string valueName, string description) : base(name)
    {
        Description = description;
        ValueName = valueName;
        if (valueName.Length > 0) HelpName = valueName;
    }

    public string ValueName { get; }
    public string? DefaultText { get; init; }
    public ValueRange? Range { get; init; }
}

/// <summary>
/// The option kinds of the commands, each declared once with its default and its valid range: the parser converts the
/// text (invariant culture), checks the range through <see cref="Guard"/> (the message names the option as typed and the
/// range, exit code 2) and applies the default. Names are given with their dashes (<c>--alpha</c>).
/// </summary>
public static class Opt
{
    /// <summary>A real number: required, or with <paramref name="default"/>.</summary>
    public static CliOption<double> Real(string name, string valueName, string description, double? @default = null, string? range = null)
    {
        var r = Range(range);
        var o = new CliOption<double>(name, valueName, description) { Range = r, DefaultText = Show(@default) };
        o.CustomParser = a => Checked(a, name, r, ParseReal(a, name));
        if (@default is { } d) o.DefaultValueFactory = _ => d; else o.Required = true;
        return o;
    }

    /// <summary>A real number that may be absent (null); <paramref name="defaultText"/> says what absence means.</summary>
    public static CliOption<double?> OptionalReal(string name, string valueName, string description, string defaultText, string? range = null)
    {
        var r = Range(range);
        var o = new CliOption<double?>(name, valueName, description) { Range = r, DefaultText = defaultText };
        o.CustomParser = a => Checked(a, name, r, ParseReal(a, name));
        return o;
    }

    /// <summary>An integer: required, or with <paramref name="default"/>.</summary>
    public static CliOption<int> Int(string name, string valueName, string description, int? @default = null, string? range = null)
    {
        var r = Range(range);
        var o = new CliOption<int>(name, valueName, description) { Range = r, DefaultText = @default?.ToString(CultureInfo.InvariantCulture) };
        o.CustomParser = a => (int)Checked(a, name, r, ParseInteger(a, name, int.MinValue, int.MaxValue));
        if (@default is { } d) o.DefaultValueFactory = _ => d; else o.Required = true;
        return o;
    }

    /// <summary>An integer that may be absent (null); <paramref name="defaultText"/> says what absence means.</summary>
    public static CliOption<int?> OptionalInt(string name, string valueName, string description, string defaultText, string? range = null)
    {
        var r = Range(range);
        var o = new CliOption<int?>(name, valueName, description) { Range = r, DefaultText = defaultText };
        o.CustomParser = a => (int)Checked(a, name, r, ParseInteger(a, name, int.MinValue, int.MaxValue));
        return o;
    }

    /// <summary>A 64-bit integer (a seed) with a default.</summary>
    public static CliOption<long> Long(string name, string valueName, string description, long @default)
    {
        var o = new CliOption<long>(name, valueName, description) { DefaultText = @default.ToString(CultureInfo.InvariantCulture) };
        o.CustomParser = a =>
        {
            string s = Text(a);
            if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v)) return v;
            a.AddError($"{name} must be an integer (got '{s}').");
            return 0;
        };
        o.DefaultValueFactory = _ => @default;
        return o;
    }

    /// <summary>A comma-separated list of reals (<c>0,0.1,0.5</c>), each in <paramref name="range"/>; read an optional
    /// one with <see cref="ParseResultExtensions.ListOrNull"/>.</summary>
    public static CliOption<double[]?> Reals(string name, string valueName, string description, string? defaultText, string? range = null, bool required = false)
    {
        var r = Range(range);
        var o = new CliOption<double[]?>(name, valueName, description) { Range = r, DefaultText = defaultText, Required = required };
        o.CustomParser = a =>
        {
            string text = Text(a);
            var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length == 0) { a.AddError($"{name} needs at least one value (a comma-separated list)."); return null; }
            var values = new double[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!TryReal(parts[i], out values[i], out string? why)) { a.AddError($"{name} {why} (got '{parts[i]}' in '{text}')."); return null; }
                if (r is not null && !Check(a, name, r, values[i])) return null;
            }
            return values;
        };
        return o;
    }

    /// <summary>One of <paramref name="choices"/> (case-insensitive, returned in lower case): required, with
    /// <paramref name="default"/>, or absent (null) with <paramref name="defaultText"/> saying what that means.</summary>
    public static CliOption<string> Choice(string name, string description, IReadOnlyList<string> choices, string? @default = null, string? defaultText = null)
    {
        string list = string.Join("|", choices);
        var o = new CliOption<string>(name, list, description) { DefaultText = defaultText ?? @default };
        o.CustomParser = a =>
        {
            string v = Text(a).Trim().ToLowerInvariant();
            if (!choices.Contains(v)) a.AddError($"{name} must be one of {list} (got '{v}').");
            return v;
        };
        o.CompletionSources.Add([.. choices]);
        if (@default is not null) o.DefaultValueFactory = _ => @default;
        else if (defaultText is null) o.Required = true;
        return o;
    }

    /// <summary>A switch: present means true (<c>--json</c>, also <c>--json=false</c>).</summary>
    public static CliOption<bool> Flag(string name, string description) => new(name, "", description);

    /// <summary>A text (a path, a name): required (<paramref name="defaultText"/> null and <paramref name="default"/> null),
    /// with <paramref name="default"/>, or absent (null) with <paramref name="defaultText"/> saying what that means.</summary>
    public static CliOption<string?> Text(string name, string valueName, string description, string? @default = null, string? defaultText = null)
    {
        var o = new CliOption<string?>(name, valueName, description) { DefaultText = defaultText ?? @default };
        if (@default is not null) o.DefaultValueFactory = _ => @default;
        else if (defaultText is null) o.Required = true;
        return o;
    }

    private static ValueRange? Range(string? range) => range is null ? null : ValueRange.Parse(range);

    internal static string? Show(double? v) => v?.ToString(CultureInfo.InvariantCulture);

    private static string Text(ArgumentResult a) => a.Tokens.Count > 0 ? a.Tokens[^1].Value : "";

    private static double ParseReal(ArgumentResult a, string name)
    {
        string s = Text(a);
        if (TryReal(s, out double v, out string? why)) return v;
        a.AddError($"{name} {why} (got '{s}').");
        return double.NaN;
    }

    private static bool TryReal(string s, out double v, out string? why)
    {
        why = null;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v) || double.IsNaN(v)) why = "must be a real number";
        else if (double.IsInfinity(v)) why = "must be finite";
        return why is null;
    }

    private static double ParseInteger(ArgumentResult a, string name, int min, int max)
    {
        string s = Text(a);
        if (int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max) return v;
        a.AddError($"{name} must be an integer (got '{s}').");
        return double.NaN;
    }

    // The range check of Guard, so that the message is the libraries' own: "--alpha must be a finite number > 0 (got -1)."
    private static double Checked(ArgumentResult a, string name, ValueRange? range, double v)
    {
        if (range is not null && !double.IsNaN(v)) Check(a, name, range, v);
        return v;
    }

    private static bool Check(ArgumentResult a, string name, ValueRange range, double v)
    {
        string parameter = name; // as typed: "--points must be an integer >= 1 (got 0)."
        try
        {
            bool integer = a.Argument.ValueType is var t && (t == typeof(int) || t == typeof(int?));
            if (integer && range.LoClosed && double.IsPositiveInfinity(range.Hi)) Guard.AtLeast((int)v, (int)range.Lo, parameter);
            else if (integer && range.LoClosed && range.HiClosed && double.IsFinite(range.Lo) && double.IsFinite(range.Hi))
            {
                if (!range.Contains(v))
                    throw new ArgumentOutOfRangeException(parameter, v, $"{parameter} must be an integer in {range} (got {(int)v}).");
            }
            else range.Check(v, parameter);
            return true;
        }
        catch (ArgumentOutOfRangeException e)
        {
            a.AddError(Failures.FirstLine(e));
            return false;
        }
    }
}

/// <summary>Reading options from a parse result.</summary>
public static class ParseResultExtensions
{
    /// <summary>Whether the user gave <paramref name="option"/> (a default does not count).</summary>
    public static bool Given(this ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    /// <summary>Whether the user gave <paramref name="option"/> on this command.</summary>
    public static bool Given(this CommandResult command, Option option) => command.GetResult(option) is { Implicit: false };

    /// <summary>The list the user gave, or null (the parser itself gives an absent list as empty).</summary>
    public static double[]? ListOrNull(this ParseResult parse, Option<double[]?> option) => parse.Given(option) ? parse.GetValue(option) : null;

    /// <summary>The value of <paramref name="option"/>: given or its default.</summary>
    public static T Value<T>(this ParseResult parse, Option<T> option) => parse.GetValue(option)!;
}
