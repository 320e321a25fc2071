using System.Globalization;
using FlatMinima.Storage;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Flatness;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Experiments;

/// <summary>
/// What a run tells the one who started it: progress within an epoch, each finished epoch, and messages (the runtime
/// that was loaded, a sweep's job starting). The library only reports; a front end decides how to show it.
/// </summary>
public interface IRunReporter
{
    /// <summary>Minibatch <paramref name="batch"/> of <paramref name="batches"/> in epoch <paramref name="epoch"/> of
    /// <paramref name="epochs"/> is done.</summary>
    void Batch(int epoch, int epochs, int batch, int batches) { }
    /// <summary>An epoch is done.</summary>
    void Epoch(EpochMetrics metrics, int epochs) { }
    /// <summary>A line of information.</summary>
    void Message(string text) { }
}

/// <summary>A reporter that reports nothing.</summary>
public sealed class SilentReporter : IRunReporter
{
    public static SilentReporter Instance { get; } = new();
}

/// <summary>Passes the trainer's hooks on to an <see cref="IRunReporter"/>.</summary>
internal sealed class ReportingHook(IRunReporter reporter, int epochs) : ITrainingHook
{
    public void OnBatchEnd(int epoch, int batch, int batches, StepResult result) => reporter.Batch(epoch, epochs, batch, batches);
    public void OnEpochEnd(EpochMetrics metrics, nn.Module<Tensor, Tensor> model) => reporter.Epoch(metrics, epochs);
}

/// <summary>
/// <c>optim_log.csv</c>: the observations of Entropy-SGD, replicated SGD, SWA and PSWA at the end of every epoch, in long
/// format (<c>epoch, step, entity, key, value</c>), with the test loss and error of every replica and of the centre
/// (rSGD) and of the live model (SWA/PSWA) added. Rows are appended (<see cref="EpochLog"/>), never rewritten.
/// </summary>
public sealed class OptimLog(string path, ITrainingAlgorithm algorithm, nn.Module<Tensor, Tensor> model, TensorDataSet test, Device device) : IOptimObserver
{
    public const string Header = "epoch,step,entity,key,value";
    private readonly EpochLog _log = new(path, Header);
    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Attaches a log to <paramref name="algorithm"/> when it reports observations; returns the algorithm.</summary>
    public static ITrainingAlgorithm Attach(ITrainingAlgorithm algorithm, string path, nn.Module<Tensor, Tensor> model, TensorDataSet test, Device device)
    {
        if (algorithm is IObservedAlgorithm o) o.Observers.Add(new OptimLog(path, algorithm, model, test, device));
        return algorithm;
    }

    public void Observe(OptimObservation o)
    {
        var values = new Dictionary<string, double>(o.Values);
        if (algorithm is ReplicatedSgd r && o.Entity.StartsWith("replica", StringComparison.Ordinal))
        {
            var (l, e) = Trainer.Evaluate(r.Replicas[int.Parse(o.Entity[7..], CultureInfo.InvariantCulture)], test, device);
            values["test_loss"] = l; values["test_error"] = e;
        }
        else if (algorithm is ReplicatedSgd && o.Entity == "centre")
        {
            var (l, e) = Trainer.Evaluate(model, test, device);
            values["test_loss"] = l; values["test_error"] = e;
        }
        else if (algorithm is Swa s)
        {
            var (l, e) = Trainer.Evaluate(s.Live, test, device);
            values["live_test_loss"] = l; values["live_test_error"] = e;
        }
        _log.Append(values.Select(kv => string.Join(',', o.Epoch.ToString(CultureInfo.InvariantCulture), o.Step.ToString(CultureInfo.InvariantCulture), o.Entity, kv.Key, F(kv.Value))));
    }

    /// <summary>The value of <paramref name="key"/> per epoch in an <c>optim_log.csv</c> (the first entity that has it).</summary>
    public static Dictionary<int, double> Read(string path, string key)
    {
        var d = new Dictionary<int, double>();
        if (!File.Exists(path)) return d;
        int line = 1;
        foreach (var text in File.ReadLines(path).Skip(1))
        {
            line++;
            var f = text.Split(',');
            if (f.Length != 5) throw new InvalidDataException($"{path}: line {line} has {f.Length} fields, expected 5.");
            if (f[3] != key) continue;
            if (!int.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int epoch) ||
                !double.TryParse(f[4], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                throw new InvalidDataException($"{path}: line {line} is not epoch,step,entity,key,value.");
            d.TryAdd(epoch, v);
        }
        return d;
    }
}

/// <summary>On a resume, cuts <c>optim_log.csv</c> back to the checkpoint's epoch and checks that it holds every earlier
/// epoch when the algorithm logs (<paramref name="logs"/>), and nothing when it does not.</summary>
internal sealed class OptimLogHistory(string path, Func<bool> logs) : ITrainingHook
{
    public void OnResume(int epoch, string? checkpoint)
    {
        var log = new EpochLog(path, OptimLog.Header);
        log.Verify(log.Reconcile(epoch), epoch > 0 && logs() ? Enumerable.Range(1, epoch).ToList() : [], checkpoint ?? "no checkpoint");
    }
}

/// <summary>
/// Local energy during training (docs/theory.md#le): every <c>every</c> epochs, δE_train at one σ with <c>draws</c>
/// noise draws (seed: the run's seed + the epoch) on the training set, appended to <c>local_energy.csv</c>. On a resume
/// the file is cut back to the checkpoint's epoch and must hold every earlier multiple of <c>every</c>.
/// </summary>
public sealed class LocalEnergyHook(string path, TensorDataSet train, Device device, int every, double sigma, int draws, long seed) : ITrainingHook
{
    public const string Header = "epoch,sigma,draws,mean_error_pct,std_error_pct,delta_error_pct,mean_loss";
    private readonly EpochLog _log = new(path, Header);

    public void OnEpochEnd(EpochMetrics m, nn.Module<Tensor, Tensor> model)
    {
        if (m.Epoch % every != 0) return;
        var p = new Probes(model, device).LocalEnergy(train, [sigma], draws, seed + m.Epoch)[0];
        _log.Append(string.Join(',', new object[] { m.Epoch, p.Sigma, p.Draws, p.MeanError, p.StdError, p.DeltaError, p.MeanLoss }.Select(v => Convert.ToString(v, CultureInfo.InvariantCulture))));
    }

    public void OnResume(int epoch, string? checkpoint) =>
        _log.Verify(_log.Reconcile(epoch), Enumerable.Range(1, epoch).Where(e => e % every == 0).ToList(), checkpoint ?? "no checkpoint");
}
