using System.CommandLine;
using System.CommandLine.Parsing;
using System.Reflection;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Training;
using Spectre.Console;

namespace FlatMinima.Cli.Commands;

/// <summary>
/// The options of configuration sections, generated from the experiments layer's metadata (<see cref="ExperimentOptions"/>):
/// the selector of each section (<c>--data</c>, <c>--model</c>, <c>--optimizer</c>) and one typed option per name
/// (<see cref="ExperimentOptions.ByName"/>: <c>--gmax</c> of esgd and rsgd is one option), parsed and range-checked by its
/// <see cref="ExperimentOption"/>, with no built-in default: the records hold the defaults, help shows their
/// <see cref="ExperimentOption.DefaultText"/>. The given texts go to <see cref="ConfigBinder"/>.
/// </summary>
internal sealed class SectionOptions
{
    private readonly Dictionary<string, Option> _byName = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<ConfigFamily> _families;

    public SectionOptions(params ConfigFamily[] families)
    {
        _families = families;
        foreach (var f in families)
        {
            if (f.HasSelector)
                _byName[f.Name] = Opt.Choice("--" + f.Name, f.Description, f.Variants.Select(v => v.Name).ToList(), defaultText: f.Default);
            foreach (var group in f.Options.GroupBy(o => o.Name))
                if (!_byName.ContainsKey(group.Key)) _byName[group.Key] = Make([.. group]);
        }
    }

    /// <summary>Every option, selectors first within each section.</summary>
    public IReadOnlyList<Option> All => [.. _byName.Values];

    /// <summary>The option called <paramref name="name"/> (without dashes).</summary>
    public Option this[string name] => _byName[name];

    /// <summary>The texts the user gave, by option name, for <see cref="ConfigBinder"/>; null for a switch without a value.</summary>
    public OptionDictionary Values(ParseResult p)
    {
        var given = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, o) in _byName)
            if (p.GetResult(o) is { Implicit: false } r) given[name] = r.Tokens.Count == 0 ? null : r.Tokens[^1].Value;
        return new OptionDictionary(given);
    }

    /// <summary>The names of the options the user gave.</summary>
    public IEnumerable<Option> Given(ParseResult p) => _byName.Values.Where(o => p.Given(o));

    /// <summary>Help groups: per section its selector and the options every choice has, then the options of each set of
    /// choices (<c>--optimizer esgd</c>), each with the description and default of that choice's record.</summary>
    public IReadOnlyList<OptionGroup> HelpGroups()
    {
        var groups = new List<OptionGroup>();
        foreach (var f in _families)
        {
            var sets = f.Options.GroupBy(o => o.Variants.Count == f.Variants.Count ? "" : string.Join(", ", o.Variants)).ToList();
            var common = sets.FirstOrDefault(g => g.Key == "")?.ToList() ?? [];
            var head = new List<Option>();
            if (f.HasSelector) head.Add(_byName[f.Name]);
            head.AddRange(common.Select(o => _byName[o.Name]));
            string heading = f.HasSelector ? $"--{f.Name} ({f.Description})" : f.Name;
            if (head.Count > 0) groups.Add(new(heading, head, Describe: Describer(common)));
            foreach (var set in sets.Where(g => g.Key != ""))
                groups.Add(new($"--{f.Name} {set.Key}", set.Select(o => _byName[o.Name]).ToList(), Describe: Describer(set.ToList())));
        }
        return groups;
    }

    // The second help column of an option from the record that declares it in this group.
    private static Func<Option, string?> Describer(IReadOnlyList<ExperimentOption> defs) => o =>
    {
        var d = defs.FirstOrDefault(x => "--" + x.Name == o.Name);
        if (d is null) return null;
        var facts = new List<string>();
        if (d.Range is not null) facts.Add("in " + d.Range);
        if (d.DefaultText.Length > 0) facts.Add("default: " + d.DefaultText);
        return d.Description + (facts.Count > 0 ? $" [{string.Join("; ", facts)}]" : "");
    };

    private static readonly MethodInfo TypedMethod = typeof(SectionOptions).GetMethod(nameof(Typed), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>One typed option for the options called by one name (their value type is the same); help shows
    /// <paramref name="defaultText"/> or the first one's default.</summary>
    public static Option Make(IReadOnlyList<ExperimentOption> defs, string? defaultText = null)
    {
        var t = defs[0].ValueType;
        var optionType = t.IsValueType ? typeof(Nullable<>).MakeGenericType(t) : t;
        return (Option)TypedMethod.MakeGenericMethod(optionType).Invoke(null, [defs, defaultText])!;
    }

    private static CliOption<T> Typed<T>(IReadOnlyList<ExperimentOption> defs, string? defaultText)
    {
        var d = defs[0];
        string value = d.IsFlag ? "" : d.Choices.Count > 0 ? string.Join("|", d.Choices) : d.Symbol ?? (
            d.ValueType == typeof(string) ? "PATH" : d.ValueType.IsArray ? "LIST" : d.ValueType == typeof(double) ? "X" : "K");
        var o = new CliOption<T>("--" + d.Name, value, d.Description) { DefaultText = defaultText ?? d.DefaultText, Range = d.Range };
        if (d.IsFlag) o.Arity = ArgumentArity.ZeroOrOne;
        o.CustomParser = a =>
        {
            try
            {
                var v = d.Parse(a.Tokens.Count == 0 ? null : a.Tokens[^1].Value);
                foreach (var x in defs) x.Check(v);
                return (T)v!;
            }
            catch (ArgumentException e)
            {
                a.AddError(Failures.FirstLine(e));
                return default;
            }
        };
        if (d.Choices.Count > 0) o.CompletionSources.Add([.. d.Choices]);
        return o;
    }
}

/// <summary>What the TorchSharp commands share: binding a run's configuration and the progress display.</summary>
internal static class TorchCli
{
    /// <summary>A run's configuration from the given options; an option of another data set, model or optimiser is named
    /// as such.</summary>
    public static RunConfig Bind(SectionOptions options, ParseResult p)
    {
        var values = options.Values(p);
        var config = ConfigBinder.Bind(values);
        string context = $"--optimizer {config.Optimizer.Name}, --model {config.Model.Name}, --data {ExperimentOptions.Data.VariantOf(config.Data)}";
        foreach (var name in values.Unused)
            throw new UsageException($"unknown option --{name} for {context} ({ExperimentOptions.WhereApplies(name)}).");
        return config.Validate();
    }
}

/// <summary>Shows a run's progress on stderr: a bar per epoch (Spectre.Console on a terminal), a line per epoch, messages.</summary>
internal sealed class CliReporter(CommandContext ctx) : IRunReporter
{
    private ProgressTask? _task;
    private int _epoch = -1;
    private ProgressContext? _live;

    /// <summary>Runs <paramref name="work"/> with this reporter, inside a live display on a terminal.</summary>
    public T Run<T>(Func<IRunReporter, T> work)
    {
        if (ctx.Progress != ProgressMode.Live) return work(this);
        T result = default!;
        ctx.ErrConsole.Progress().AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(live => { _live = live; result = work(this); });
        _live = null;
        return result;
    }

    public void Batch(int epoch, int epochs, int batch, int batches)
    {
        if (_live is null) return;
        if (epoch != _epoch)
        {
            _task?.StopTask();
            _task = _live.AddTask($"epoch {epoch}/{epochs}", maxValue: batches);
            _epoch = epoch;
        }
        _task!.Increment(1);
    }

    public void Epoch(EpochMetrics m, int epochs)
    {
        if (_task is not null) { _task.Value = _task.MaxValue; _task.StopTask(); _task = null; _epoch = -1; }
        Message($"epoch {m.Epoch}: train loss {Output.Num(m.TrainLoss)} err {Output.Num(m.TrainError)} | test loss {Output.Num(m.TestLoss)} err {Output.Num(m.TestError)} | {m.Seconds:F1}s");
    }

    public void Message(string text)
    {
        if (_live is not null) ctx.ErrConsole.WriteLine(text);
        else ctx.Err.WriteLine(text);
    }
}
