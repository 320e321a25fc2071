using System.Globalization;

namespace FlatMinima.Cli.Infrastructure;

/// <summary>Raised for bad command-line input. The CLI prints its message as one line and exits with code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// Parsed options of one command: <c>--name value</c>, <c>--name=value</c> and boolean flags <c>--flag</c>.
/// Every accessor validates and names the option in its error. Options that the command never reads are reported
/// as unknown by <see cref="EnsureAllUsed"/>, so a typo is an error instead of a silently ignored option.
/// </summary>
public sealed class Args : FlatMinima.Torch.Experiments.IOptionValues
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    /// <summary>Positional arguments (after the command name).</summary>
    public IReadOnlyList<string> Positional { get; }

    /// <summary>Parses <paramref name="argv"/> (without the command name).</summary>
    public Args(IEnumerable<string> argv)
    {
        var positional = new List<string>();
        var list = argv.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string a = list[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string name = a[2..];
                string? value = null;
                int eq = name.IndexOf('=');
                if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
                else if (i + 1 < list.Count && !IsOptionName(list[i + 1])) value = list[++i];
                if (_values.ContainsKey(name)) throw new UsageException($"option --{name} is given more than once.");
                _values[name] = value;
            }
            else positional.Add(a);
        }
        Positional = positional;
    }

    // A value may itself start with '-' (a negative number), but never with '--' followed by a letter.
    private static bool IsOptionName(string s) => s.StartsWith("--", StringComparison.Ordinal) && s.Length > 2 && char.IsLetter(s[2]);

    /// <summary>True if the option was given.</summary>
    public bool Has(string name) { _used.Add(name); return _values.ContainsKey(name); }

    /// <summary>The option's text (null for a switch without a value) when it was given; marks it used.</summary>
    public bool TryGet(string name, out string? text) { _used.Add(name); return _values.TryGetValue(name, out text); }

    /// <summary>Options given that nothing has asked for yet.</summary>
    public IEnumerable<string> Unused => _values.Keys.Where(k => !_used.Contains(k));

    /// <summary>A boolean flag (present = true; also accepts --flag=true/false).</summary>
    public bool Flag(string name)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out var v)) return false;
        if (v is null) return true;
        return v.ToLowerInvariant() switch
        {
            "true" or "1" or "yes" => true,
            "false" or "0" or "no" => false,
            _ => throw new UsageException($"--{name} is a flag; it takes no value or true/false (got '{v}')."),
        };
    }

    /// <summary>A string option, or <paramref name="fallback"/>; null fallback means required.</summary>
    public string String(string name, string? fallback = null)
    {
        _used.Add(name);
        if (_values.TryGetValue(name, out var v))
        {
            if (v is null) throw new UsageException($"--{name} needs a value.");
            return v;
        }
        return fallback ?? throw new UsageException($"--{name} is required.");
    }

    /// <summary>An optional string option.</summary>
    public string? OptionalString(string name)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out var v)) return null;
        return v ?? throw new UsageException($"--{name} needs a value.");
    }

    /// <summary>A real number; NaN and infinities are rejected here, ranges by the library's validation.</summary>
    public double Double(string name, double? fallback = null)
    {
        string? s = fallback.HasValue ? OptionalString(name) : String(name);
        if (s is null) return fallback!.Value;
        return ParseDouble(name, s);
    }

    /// <summary>An optional real number.</summary>
    public double? OptionalDouble(string name)
    {
        string? s = OptionalString(name);
        return s is null ? null : ParseDouble(name, s);
    }

    /// <summary>An integer.</summary>
    public int Int(string name, int? fallback = null)
    {
        string? s = fallback.HasValue ? OptionalString(name) : String(name);
        if (s is null) return fallback!.Value;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
            throw new UsageException($"--{name} must be an integer (got '{s}').");
        return v;
    }

    /// <summary>A 64-bit integer.</summary>
    public long Long(string name, long fallback)
    {
        string? s = OptionalString(name);
        if (s is null) return fallback;
        if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v))
            throw new UsageException($"--{name} must be an integer (got '{s}').");
        return v;
    }

    /// <summary>A comma-separated list of reals, e.g. <c>--sigma 0,0.1,0.5</c>.</summary>
    public double[]? DoubleList(string name)
    {
        string? s = OptionalString(name);
        if (s is null) return null;
        return s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(t => ParseDouble(name, t)).ToArray();
    }

    /// <summary>One of a fixed set of choices (case-insensitive); the error lists the valid ones.</summary>
    public string Choice(string name, IReadOnlyList<string> choices, string? fallback = null)
    {
        string v = String(name, fallback).ToLowerInvariant();
        if (!choices.Contains(v))
            throw new UsageException($"--{name} must be one of {string.Join("|", choices)} (got '{v}').");
        return v;
    }

    /// <summary>Throws if an option was given that the command did not read, or a positional argument was given.</summary>
    public void EnsureAllUsed()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0) throw new UsageException($"unknown option --{unknown[0]} (see --help).");
        if (Positional.Count > 0) throw new UsageException($"unexpected argument '{Positional[0]}' (see --help).");
    }

    /// <summary>Every option as given, for manifests.</summary>
    public IReadOnlyDictionary<string, string?> Raw => _values;

    private static double ParseDouble(string name, string s)
    {
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || double.IsNaN(v))
            throw new UsageException($"--{name} must be a real number (got '{s}').");
        if (double.IsInfinity(v)) throw new UsageException($"--{name} must be finite (got '{s}').");
        return v;
    }
}
