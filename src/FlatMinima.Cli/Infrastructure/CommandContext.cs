using System.Diagnostics;
using Spectre.Console;

namespace FlatMinima.Cli.Infrastructure;

/// <summary>How long work is shown on stderr.</summary>
public enum ProgressMode
{
    /// <summary>Spectre.Console progress bars (stderr is a terminal).</summary>
    Live,
    /// <summary>Plain lines, at most one every few seconds and one at the end (stderr is redirected, or NO_COLOR).</summary>
    Lines,
    /// <summary>Nothing (FLATMINIMA_NO_PROGRESS is set).</summary>
    Off,
}

/// <summary>
/// Where a command writes: results on stdout (one JSON object with <c>--json</c>, CSV, or human tables), progress and
/// messages on stderr. Human tables are Spectre.Console tables when stdout is a terminal and plain aligned text
/// otherwise; machine output is never decorated.
/// </summary>
public sealed class CommandContext
{
    public CommandContext(TextWriter stdout, TextWriter stderr, IReadOnlyList<string> argv)
    {
        Out = stdout;
        Err = stderr;
        Argv = argv;
        OutIsTerminal = ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected;
        bool errIsTerminal = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;
        Progress = Environment.GetEnvironmentVariable("FLATMINIMA_NO_PROGRESS") is not null ? ProgressMode.Off
            : errIsTerminal && Environment.GetEnvironmentVariable("NO_COLOR") is null ? ProgressMode.Live
            : ProgressMode.Lines;
    }

    public TextWriter Out { get; }
    public TextWriter Err { get; }
    /// <summary>The full command line as given (for manifests).</summary>
    public IReadOnlyList<string> Argv { get; }
    /// <summary>Whether stdout is a terminal (human tables drawn by Spectre.Console).</summary>
    public bool OutIsTerminal { get; }
    public ProgressMode Progress { get; }

    private IAnsiConsole? _errConsole, _outConsole;
    /// <summary>Spectre.Console on stderr (live progress).</summary>
    internal IAnsiConsole ErrConsole => _errConsole ??= AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Err) });
    private IAnsiConsole OutConsole => _outConsole ??= AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Out) });

    /// <summary>Writes a human table on stdout: Spectre.Console on a terminal, plain aligned text otherwise.</summary>
    public void Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        if (!OutIsTerminal) { Out.Write(Output.Table(header, rows)); return; }
        var t = new Table().Border(TableBorder.Simple);
        foreach (var h in header) t.AddColumn(new TableColumn(Markup.Escape(h)));
        foreach (var r in rows) t.AddRow(r.Select(c => new Text(c)).ToArray<Spectre.Console.Rendering.IRenderable>());
        OutConsole.Write(t);
    }

    /// <summary>Runs <paramref name="work"/>, which calls its argument once per unit done (from any thread), showing
    /// progress towards <paramref name="total"/> units.</summary>
    public T WithProgress<T>(string label, int total, Func<Action, T> work)
    {
        switch (Progress)
        {
            case ProgressMode.Off:
                return work(() => { });
            case ProgressMode.Lines:
            {
                var lines = new ProgressLines(Err, label, total);
                var result = work(lines.Tick);
                lines.Finish();
                return result;
            }
            default:
            {
                T result = default!;
                ErrConsole.Progress().AutoClear(false).HideCompleted(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(p =>
                    {
                        var task = p.AddTask(Markup.Escape(label), maxValue: Math.Max(1, total));
                        result = work(() => task.Increment(1));
                        task.Value = task.MaxValue;
                    });
                return result;
            }
        }
    }

    /// <summary>Runs <paramref name="work"/>, whose length is not known, showing that it runs (a spinner on a terminal, a
    /// line when it ends otherwise).</summary>
    public T WithStatus<T>(string label, Func<T> work)
    {
        switch (Progress)
        {
            case ProgressMode.Off:
                return work();
            case ProgressMode.Lines:
            {
                var clock = Stopwatch.StartNew();
                var result = work();
                Err.WriteLine($"{label}: done ({clock.Elapsed.TotalSeconds:F1} s)");
                return result;
            }
            default:
                return ErrConsole.Status().Start(Markup.Escape(label), _ => work());
        }
    }

    /// <summary><see cref="WithProgress{T}"/> for work without a result.</summary>
    public void WithProgress(string label, int total, Action<Action> work) => WithProgress(label, total, tick => { work(tick); return 0; });
}

/// <summary>Progress as plain lines: "label: done/total (s)" at most every 10 seconds, and once at the end.</summary>
internal sealed class ProgressLines(TextWriter err, string label, int total)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _lock = new();
    private int _done;
    private double _lastLine;

    public void Tick()
    {
        int done = Interlocked.Increment(ref _done);
        double now = _clock.Elapsed.TotalSeconds;
        if (now - _lastLine < 10 || done >= total) return;
        lock (_lock)
        {
            if (now - _lastLine < 10) return;
            _lastLine = now;
            err.WriteLine($"{label}: {done}/{total} ({now:F0} s)");
        }
    }

    public void Finish() => err.WriteLine($"{label}: {Math.Min(_done, total)}/{total} done ({_clock.Elapsed.TotalSeconds:F1} s)");
}
