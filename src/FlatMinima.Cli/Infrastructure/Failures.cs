using System.Reflection;
using System.Text.Json;
using FlatMinima.Estimators;
using FlatMinima.Replica;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Runtime;

namespace FlatMinima.Cli.Infrastructure;

/// <summary>Bad command-line input found by a command itself (options that contradict each other, an option that does not
/// apply): printed as one line, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>How a failed command ends: the exit code and the lines printed on stderr.</summary>
public enum FailureKind
{
    /// <summary>Bad input: one line naming the parameter and its valid range, exit code 2.</summary>
    UserError,
    /// <summary>A fault outside the program (a missing, unreadable or corrupt file, a full disk, no libtorch) or a
    /// computation that could not finish (a solver that did not converge): one line with the message, which names the
    /// file or the solver, exit code 1.</summary>
    Fault,
    /// <summary>A defect of the program: a short report (command, exception, message), exit code 1; the stack trace
    /// only with FLATMINIMA_DEBUG=1.</summary>
    Internal,
}

/// <summary>
/// The one rule that turns an exception of a command into an exit code and a message. Bad input (exit code 2) is exactly:
/// <list type="number">
/// <item>an error of the command-line parser (an unknown option or command, a missing or malformed value, a value outside
/// the option's range, two options of an exclusive group; see <see cref="ParseErrors"/>);</item>
/// <item>a <see cref="UsageException"/>;</item>
/// <item>an <see cref="ArgumentException"/> (not an <see cref="ArgumentNullException"/>) raised while the command turns
/// its options into the libraries' configuration objects (<see cref="CliCommand.Configure"/>): there the libraries
/// validate what the user gave at their public boundary (records such as <c>MixtureModel</c>, <c>Parse</c>,
/// <c>FromParameters</c>, <c>Validate</c>, <c>Guard</c>);</item>
/// <item>wherever it is raised, one of the libraries' input-error types: an <see cref="ArgumentOutOfRangeException"/>
/// thrown by the toolkit's own code (<c>Guard</c> and the range checks that name a parameter and its range, e.g. λ = 0
/// for the square loss when P − 1 &lt; N), a <see cref="ConfigException"/> of a run configuration, and a
/// <see cref="NoMinimizerException"/> (λ = 0 on separable data: a property of the input; use λ &gt; 0).</item>
/// </list>
/// Any other <see cref="ArgumentException"/> raised while the command runs (a kernel's "Lengths differ.") is a defect.
/// A parallel loop's <see cref="AggregateException"/> and a reflection <see cref="TargetInvocationException"/> are
/// judged by the exception they carry.
/// </summary>
public static class Failures
{
    /// <summary>The environment variable that adds the stack trace to an internal error's report.</summary>
    public const string DebugVariable = "FLATMINIMA_DEBUG";

    /// <summary>The exception a wrapper carries: the first inner exception of an <see cref="AggregateException"/> (a
    /// parallel loop's), the inner exception of a <see cref="TargetInvocationException"/>.</summary>
    public static Exception Unwrap(Exception e)
    {
        while (true)
        {
            if (e is AggregateException a && a.Flatten().InnerExceptions is { Count: > 0 } inner) e = inner[0];
            else if (e is TargetInvocationException { InnerException: { } t }) e = t;
            else return e;
        }
    }

    /// <summary>The kind of <paramref name="e"/> (already unwrapped), raised while configuring or while running.</summary>
    public static FailureKind Classify(Exception e, bool configuring) => e switch
    {
        UsageException or ConfigException or NoMinimizerException => FailureKind.UserError,
        ArgumentNullException => FailureKind.Internal,
        ArgumentException when configuring => FailureKind.UserError,
        ArgumentOutOfRangeException when ThrownByToolkit(e) => FailureKind.UserError,
        IOException or UnauthorizedAccessException or InvalidDataException or JsonException => FailureKind.Fault,
        NonConvergenceException or TorchRuntimeException => FailureKind.Fault,
        _ => FailureKind.Internal,
    };

    // The toolkit's assemblies are FlatMinima.Core, FlatMinima.Torch, FlatMinima.Plots and this one. The runtime's
    // collection and string index checks (List<T>'s indexer, Substring) are a defect of the caller; their throw helpers
    // are hidden from stack traces, so an indexer inlined into the toolkit reports toolkit code as the thrower. They are
    // told apart by their parameter (index, startIndex, count, length, which no toolkit check uses) given without a value.
    private static readonly string[] RuntimeIndexParameters = ["index", "startIndex", "count", "length"];

    private static bool ThrownByToolkit(Exception e) =>
        e.TargetSite?.DeclaringType?.Assembly.GetName().Name is { } name
        && (name.StartsWith("FlatMinima.", StringComparison.Ordinal) || name == typeof(Failures).Assembly.GetName().Name)
        && !(e is ArgumentOutOfRangeException { ActualValue: null } r && RuntimeIndexParameters.Contains(r.ParamName));

    /// <summary>Prints the failure of <paramref name="command"/> and returns its exit code.</summary>
    public static int Report(Exception raised, string command, bool configuring, TextWriter stderr)
    {
        var e = Unwrap(raised);
        string who = command.Length == 0 ? "flatminima" : "flatminima " + command;
        switch (Classify(e, configuring))
        {
            case FailureKind.UserError:
                stderr.WriteLine($"{who}: {FirstLine(e)}");
                return 2;
            case FailureKind.Fault:
                stderr.WriteLine($"{who}: error: {FirstLine(e)}");
                return 1;
            default:
                stderr.WriteLine($"{who}: internal error: {e.GetType().Name}: {FirstLine(e)}");
                if (Environment.GetEnvironmentVariable(DebugVariable) is { Length: > 0 } and not "0") stderr.WriteLine(e.ToString());
                else stderr.WriteLine($"  (a defect of flatminima, not of the input; run with {DebugVariable}=1 for the stack trace)");
                return 1;
        }
    }

    /// <summary>The message of <paramref name="e"/> as one line: without the " (Parameter 'x')" and "Actual value was"
    /// suffixes that <see cref="ArgumentException"/> appends.</summary>
    public static string FirstLine(Exception e)
    {
        string m = e.Message;
        int cut = m.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (cut >= 0) m = m[..cut];
        int nl = m.IndexOf('\n');
        return (nl >= 0 ? m[..nl] : m).Trim();
    }
}
