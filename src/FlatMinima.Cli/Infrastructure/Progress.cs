using System.Diagnostics;

namespace FlatMinima.Cli.Infrastructure;

/// <summary>
/// A one-line progress display on stderr (only when stderr is a terminal), redrawn at most ten times a second.
/// Thread-safe: Monte Carlo workers report completions concurrently.
/// </summary>
public sealed class Progress : IDisposable
{
    private readonly TextWriter _err;
    private readonly bool _enabled;
    private readonly string _label;
    private readonly int _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _done;
    private long _lastDrawTicks = -1;
    private readonly object _lock = new();

    public Progress(CommandContext ctx, string label, int total)
    {
        _err = ctx.Err; _enabled = ctx.ShowProgress; _label = label; _total = Math.Max(1, total);
        Draw(force: true);
    }

    /// <summary>Reports one more unit of work done.</summary>
    public void Tick()
    {
        Interlocked.Increment(ref _done);
        Draw(force: false);
    }

    private void Draw(bool force)
    {
        if (!_enabled) return;
        lock (_lock)
        {
            long now = _clock.ElapsedTicks;
            if (!force && _done < _total && now - _lastDrawTicks < Stopwatch.Frequency / 10) return;
            _lastDrawTicks = now;
            int done = Math.Min(_done, _total);
            int width = 30, filled = width * done / _total;
            double secs = _clock.Elapsed.TotalSeconds;
            string eta = done > 0 && done < _total ? $", ~{secs / done * (_total - done):F0}s left" : "";
            _err.Write($"\r{_label} [{new string('#', filled)}{new string('.', width - filled)}] {done}/{_total} ({secs:F1}s{eta})   ");
        }
    }

    public void Dispose()
    {
        if (_enabled) { Draw(force: true); _err.WriteLine(); }
    }
}
