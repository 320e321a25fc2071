using System.CommandLine;

namespace FlatMinima.Cli.Infrastructure;

/// <summary>What a configured command runs: the computation, the printing and the files; returns the exit code.</summary>
public delegate int Execution();

/// <summary>A group of options under a heading in help (<c>--optimizer esgd</c>); a null heading is the command's own
/// options. <paramref name="Describe"/>, when given, writes an option's description in this group (null: the option's own).</summary>
public sealed record OptionGroup(string? Heading, IReadOnlyList<Option> Options, string? Note = null, Func<Option, string?>? Describe = null);

/// <summary>
/// One <c>flatminima</c> sub-command. Its options are fields, each declared once (<see cref="Opt"/>) with its default and
/// range; <see cref="Configure"/> reads them into the libraries' configuration objects and returns the
/// <see cref="Execution"/> that computes, prints and writes. The split is the boundary of <see cref="Failures"/>: an
/// <see cref="ArgumentException"/> while configuring is bad input (exit code 2), while executing a defect unless it is one
/// of the libraries' input errors.
/// </summary>
public abstract class CliCommand : Command
{
    protected CliCommand(string name, string summary) : base(name, summary)
    {
        SetAction(parse =>
        {
            var ctx = new CommandContext(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, Cli.Argv(parse));
            bool configuring = true;
            try
            {
                var run = Configure(parse, ctx);
                configuring = false;
                return run();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                return Failures.Report(e, Name, configuring, ctx.Err);
            }
        });
    }

    /// <summary>One-line summary for the command list.</summary>
    public string Summary => Description ?? "";

    /// <summary>The forms of the command line after <c>flatminima NAME</c>, as help prints them.</summary>
    public abstract IReadOnlyList<string> Usage { get; }

    /// <summary>The options as help groups them; by default all of them under "Options".</summary>
    public virtual IReadOnlyList<OptionGroup> HelpGroups => [new(null, Options.Where(o => !o.Hidden).ToList())];

    /// <summary>Text help prints after the options, or null.</summary>
    public virtual string? Notes => null;

    /// <summary>Reads the options into configuration objects (validated by the libraries) and returns what to run.</summary>
    protected internal abstract Execution Configure(ParseResult parse, CommandContext ctx);

    /// <summary>Adds options to the command.</summary>
    protected void Add(params Option[] options)
    {
        foreach (var o in options) Options.Add(o);
    }

    /// <summary>Rejects <paramref name="a"/> and <paramref name="b"/> together: "give --a or --b, not both".</summary>
    protected void Exclusive(Option a, Option b, string? why = null) =>
        Validators.Add(r =>
        {
            if (r.Given(a) && r.Given(b)) r.AddError($"give {a.Name} or {b.Name}, not both{(why is null ? "" : " (" + why + ")")}.");
        });

    /// <summary>Requires exactly one of <paramref name="a"/> and <paramref name="b"/>.</summary>
    protected void ExactlyOne(Option a, Option b) =>
        Validators.Add(r =>
        {
            if (r.Given(a) == r.Given(b)) r.AddError($"give exactly one of {a.Name} and {b.Name}.");
        });
}
