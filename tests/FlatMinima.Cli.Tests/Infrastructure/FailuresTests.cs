using System.CommandLine;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Estimators;
using FlatMinima.Numerics;

namespace FlatMinima.Cli.Tests.Infrastructure;

/// <summary>The exit-code rule of <see cref="Failures"/>: which exceptions are bad input (2), faults (1) and defects (1,
/// with a short report and no stack trace).</summary>
public class FailuresTests
{
    // A command whose configuration or execution throws what the test asks for.
    private sealed class Throwing(Func<Exception?> configure, Func<Exception> execute) : CliCommand("boom", "throws")
    {
        public override IReadOnlyList<string> Usage => [""];

        protected internal override Execution Configure(ParseResult parse, CommandContext ctx)
        {
            if (configure() is { } e) throw e;
            return () => throw execute();
        }
    }

    private static (int Code, string Err) Invoke(Func<Exception> execute, Func<Exception?>? configure = null)
    {
        var o = new StringWriter(); var e = new StringWriter();
        int code = FlatMinima.Cli.Cli.Invoke(new RootCommand { new Throwing(configure ?? (() => null), execute) }, ["boom"], o, e);
        Assert.Equal("", o.ToString());
        return (code, e.ToString());
    }

    private static Exception Catch(Action a)
    {
        try { a(); }
        catch (Exception e) { return e; }
        throw new InvalidOperationException("nothing thrown");
    }

    [Fact]
    public void AnInternalArgumentExceptionIsADefectWithoutAStackTrace()
    {
        var lengths = Catch(() => Kernels.Dot(new double[2], new double[3])); // "Lengths differ." of a kernel
        var (code, err) = Invoke(() => lengths);
        Assert.Equal(1, code);
        Assert.StartsWith("flatminima boom: internal error: ArgumentException: Lengths differ.", err);
        Assert.Contains(Failures.DebugVariable + "=1", err);
        Assert.DoesNotContain(" at ", err);
        Assert.Equal(2, err.TrimEnd().Split('\n').Length);
    }

    [Fact]
    public void AnIndexOutOfRangeOfTheRuntimeIsADefect()
    {
        var index = Catch(() => _ = new List<int>()[3]);
        Assert.IsType<ArgumentOutOfRangeException>(index);
        Assert.Equal(1, Invoke(() => index).Code);
    }

    [Fact]
    public void GuardsRangeErrorIsBadInputWhereverItIsRaised()
    {
        var range = Catch(() => Guard.Positive(-1, "delta"));
        var (code, err) = Invoke(() => range);
        Assert.Equal(2, code);
        Assert.Equal("flatminima boom: delta must be a finite number > 0 (got -1).", err.Trim());
    }

    [Fact]
    public void AnArgumentExceptionWhileConfiguringIsBadInput()
    {
        var (code, err) = Invoke(() => new InvalidOperationException("never run"), () => new ArgumentException("norm applies to the penalty sphere only.", "norm"));
        Assert.Equal(2, code);
        Assert.Equal("flatminima boom: norm applies to the penalty sphere only.", err.Trim());
    }

    [Fact]
    public void AParallelLoopsErrorIsJudgedByTheExceptionItCarries()
    {
        var inner = new NoMinimizerException("lambda = 0 has no minimiser for the logistic loss: the training set is linearly separable. Use lambda > 0.");
        var (code, err) = Invoke(() => new AggregateException(inner));
        Assert.Equal(2, code);
        Assert.Equal("flatminima boom: lambda = 0 has no minimiser for the logistic loss: the training set is linearly separable. Use lambda > 0.", err.Trim());
        Assert.DoesNotContain("One or more errors", err);
    }

    [Fact]
    public void AFileFaultExitsOneNamingTheFile()
    {
        var (code, err) = Invoke(() => new FileNotFoundException("/data/run/config.json not found.", "/data/run/config.json"));
        Assert.Equal(1, code);
        Assert.Equal("flatminima boom: error: /data/run/config.json not found.", err.Trim());
    }

    // The run-directory faults: a checkpoint that fails its verification, a run directory locked by another process.
    [Fact]
    public void ACheckpointOrLockFaultExitsOneNamingTheFile()
    {
        Exception[] faults =
        [
            new FlatMinima.Torch.Training.CheckpointException("/data/run/checkpoints/epoch-0002/model.bin: SHA-256 differs from the one recorded."),
            new FlatMinima.Storage.DirectoryLockedException("/data/run is in use by another flatminima process (its lock is held)."),
            new InvalidDataException("/data/run/metrics.csv: line 3 is not a row of numbers."),
        ];
        foreach (var fault in faults)
        {
            var (code, err) = Invoke(() => fault);
            Assert.Equal(1, code);
            Assert.Equal("flatminima boom: error: " + fault.Message, err.Trim());
        }
    }

    [Fact]
    public void ASeparableTrainingSetAtLambdaZeroIsBadInputWithAdvice()
    {
        var (code, output, err) = Run.Cli("simulate", "--estimator", "logistic", "--lambda", "0", "--no-bias", "--alpha", "3.5", "--delta", "1",
            "--n", "200", "--seeds", "1", "--seed", "4");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.Contains("lambda = 0 has no minimiser", err);
        Assert.Contains("Use lambda > 0", err);
        Assert.DoesNotContain("One or more errors", err);
    }

    [Fact]
    public void ACorruptRunConfigurationExitsOneNamingTheFile()
    {
        string dir = Path.Combine(Path.GetTempPath(), "fm-corrupt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string config = Path.Combine(dir, "config.json");
            File.WriteAllText(config, "{ \"data\": ");
            var (code, output, err) = Run.Cli("train", "--resume", dir, "--epochs", "2");
            Assert.Equal(1, code);
            Assert.Equal("", output);
            Assert.Contains(config, err);
            Assert.DoesNotContain("internal error", err);
            Assert.DoesNotContain("   at ", err);   // no stack trace
        }
        finally { Directory.Delete(dir, true); }
    }
}
