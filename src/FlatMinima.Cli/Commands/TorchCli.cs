using System.Text;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Training;

namespace FlatMinima.Cli.Commands;

/// <summary>What the TorchSharp commands share: binding the options of a run, help text from the options' metadata,
/// and the progress display.</summary>
internal static class TorchCli
{
    /// <summary>A run's configuration from the command line; an option of another data set, model or optimiser is named
    /// as such.</summary>
    public static RunConfig Bind(Args a)
    {
        var config = ConfigBinder.Bind(a);
        RejectUnused(a, $"--optimizer {config.Optimizer.Name}, --model {config.Model.Name}, --data {ExperimentOptions.Data.VariantOf(config.Data)}");
        return config.Validate();
    }

    /// <summary>Throws for the first option nothing asked for, saying where it applies when it is a run option.</summary>
    public static void RejectUnused(Args a, string context)
    {
        foreach (var name in a.Unused)
            if (ExperimentOptions.IsKnown(name))
                throw new UsageException($"unknown option --{name} for {context} ({ExperimentOptions.WhereApplies(name)}).");
        a.EnsureAllUsed();
    }

    /// <summary>One option given on the command line, parsed and range-checked by its metadata, or null.</summary>
    public static T? Single<T>(Args a, ConfigFamily family, string name) where T : struct
    {
        if (!a.TryGet(name, out var text)) return null;
        var o = family.Options.First(x => x.Name == name);
        var v = o.Parse(text);
        o.Check(v);
        return (T?)v;
    }

    /// <summary>Help for the options of <paramref name="families"/>, from their metadata.</summary>
    public static string Help(params ConfigFamily[] families)
    {
        var sb = new StringBuilder();
        foreach (var f in families)
        {
            if (!f.HasSelector && families.Length > 1) sb.AppendLine($"  {f.Name}:");
            if (f.HasSelector)
                sb.AppendLine($"  --{f.Name} {string.Join("|", f.Variants.Select(v => v.Name))}   {f.Description} (default {f.Default})");
            foreach (var group in f.Options.GroupBy(o => o.Variants.Count == f.Variants.Count ? "" : string.Join(", ", o.Variants)))
            {
                if (group.Key.Length > 0) sb.AppendLine($"   {group.Key}:");
                foreach (var o in group) sb.AppendLine(Line(o, group.Key.Length > 0 ? "     " : "    "));
            }
        }
        return sb.ToString();
    }

    private static string Line(ExperimentOption o, string indent)
    {
        string value = o.IsFlag ? "[true|false]" : o.Choices.Count > 0 ? string.Join("|", o.Choices) : o.Symbol ?? (
            o.ValueType == typeof(string) ? "PATH" : o.ValueType.IsArray ? "LIST" : o.ValueType == typeof(double) ? "X" : "K");
        var facts = new List<string>();
        if (o.DefaultText.Length > 0) facts.Add("default " + o.DefaultText);
        if (o.Range is not null) facts.Add("in " + o.Range);
        return $"{indent}--{o.Name} {value}   {o.Description}{(facts.Count > 0 ? " (" + string.Join("; ", facts) + ")" : "")}";
    }
}

/// <summary>Shows a run's progress on stderr: a bar per epoch when stderr is a terminal, a line per epoch, messages.</summary>
internal sealed class CliReporter(CommandContext ctx) : IRunReporter, IDisposable
{
    private Progress? _bar;
    private int _epoch = -1;

    public void Batch(int epoch, int epochs, int batch, int batches)
    {
        if (epoch != _epoch) { _bar?.Dispose(); _bar = new Progress(ctx, $"epoch {epoch}/{epochs}", batches); _epoch = epoch; }
        _bar!.Tick();
    }

    public void Epoch(EpochMetrics m, int epochs)
    {
        _bar?.Dispose(); _bar = null; _epoch = -1;
        ctx.Err.WriteLine($"epoch {m.Epoch}: train loss {Output.Num(m.TrainLoss)} err {Output.Num(m.TrainError)} | test loss {Output.Num(m.TestLoss)} err {Output.Num(m.TestError)} | {m.Seconds:F1}s");
    }

    public void Message(string text) => ctx.Err.WriteLine(text);

    public void Dispose() { _bar?.Dispose(); _bar = null; }
}
