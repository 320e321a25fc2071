using System.CommandLine;
using System.CommandLine.Help;
using System.Text.RegularExpressions;
using FlatMinima.Cli.Infrastructure;

namespace FlatMinima.Cli.Tests.Infrastructure;

/// <summary>Help is generated from the declared options: every option of every command appears with its default (or as
/// required), and every option that takes a value declares one of the two.</summary>
public class HelpTests
{
    private static string Flat(string s) => Regex.Replace(s, @"\s+", " ");

    public static TheoryData<string> CommandNames() => [.. FlatMinima.Cli.Cli.Commands.Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(CommandNames))]
    public void EveryOptionIsListedWithItsDefault(string name)
    {
        var command = FlatMinima.Cli.Cli.Commands.Single(c => c.Name == name);
        var (code, output, _) = Run.Cli(name, "--help");
        Assert.Equal(0, code);
        Assert.StartsWith($"flatminima {name} — ", output);
        var lines = output.Split('\n');
        foreach (var o in command.Options.Where(o => o is not HelpOption && !o.Hidden))
        {
            var facts = Assert.IsAssignableFrom<IOptionFacts>(o);
            // The option's row starts with two spaces and its name; its description continues on deeper-indented lines.
            string first = Help.FirstColumn(o);
            int row = Array.FindIndex(lines, l => l.StartsWith("  " + first + " ", StringComparison.Ordinal) || l == "  " + first);
            Assert.True(row >= 0, $"{name}: {o.Name} is not listed");
            string entry = Flat(string.Join(" ", lines.Skip(row).Take(1).Concat(lines.Skip(row + 1).TakeWhile(l => l.StartsWith("    ", StringComparison.Ordinal)))));
            if (o.Required) Assert.Contains("required", entry);
            else if (facts.DefaultText is { } d) Assert.Contains("default: " + Flat(d), entry);
            else Assert.True(facts.ValueName.Length == 0, $"{name}: {o.Name} takes a value but declares neither a default nor 'required'");
            if (facts.Range is { } r) Assert.Contains("in " + r, entry);
        }
    }

    [Fact]
    public void TrainGroupsTheOptimiserOptionsUnderTheirOptimiser()
    {
        string help = Run.Cli("train", "--help").Out;
        int esgd = help.IndexOf("--optimizer esgd:", StringComparison.Ordinal), rsgd = help.IndexOf("--optimizer rsgd:", StringComparison.Ordinal);
        Assert.True(esgd > 0 && rsgd > esgd, help);
        int inner = help.IndexOf("--inner-steps L", StringComparison.Ordinal), replicas = help.IndexOf("--replicas y", StringComparison.Ordinal);
        Assert.InRange(inner, esgd, rsgd);
        Assert.True(replicas > rsgd);
        // --gmax is one option, listed under both optimisers that have it, each with its own description
        Assert.True(Regex.Matches(help, @"^\s+--gmax ", RegexOptions.Multiline).Count == 2, help);
    }

    [Fact]
    public void TheDefaultsOfTheMaxFlatnessOptionsAreThoseOfCoresRecords()
    {
        string help = Flat(Run.Cli("maxflat", "--help").Out);
        var rep = new FlatMinima.Estimators.ReplicatedOptions();
        var ent = new FlatMinima.Estimators.EntropicOptions();
        Assert.Contains($"default: {rep.Steps} (replicated), {ent.Steps} (entropic)", help);
        Assert.Contains($"default: automatic (replicated), {ent.Coupling.Initial} (entropic)", help);
    }
}
