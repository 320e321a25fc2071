using System.Diagnostics;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Optim;

/// <summary>Time per step of one algorithm, and its cost relative to plain SGD in units of gradient evaluations.</summary>
public sealed record OptimTiming(string Name, double GradientsPerStep, double SecondsPerStep, double[] RoundSeconds, double Ratio);

/// <summary>
/// Overhead of the flatness-seeking optimisers over their gradient evaluations: each algorithm runs the trainer's loop
/// (batch moved to the device, <see cref="ITrainingAlgorithm.Step"/> in a dispose scope, loss read back) for a number of
/// steps, in interleaved rounds with plain SGD (TorchSharp's optimiser) measured in the same run. The ratio is
/// (seconds per step)/(k · SGD seconds per step) with k the gradient evaluations per step: 1 for an eSGD inner step
/// (L per outer step), y for rSGD, 2 for SAM, 1 for SWA. Medians over rounds.
/// </summary>
public static class OptimBenchmark
{
    public static List<OptimTiming> Run(IReadOnlyList<(string Name, double Gradients, Func<nn.Module<Tensor, Tensor>, ITrainingAlgorithm> Create)> algorithms,
        ModelFactory newModel, TensorDataSet data, Device device, int batchSize, int steps, int warmup, int rounds)
    {
        Check.AtLeast(steps, 1, "steps"); Check.AtLeast(warmup, 0, "warmup"); Check.AtLeast(rounds, 1, "rounds"); Check.AtLeast(batchSize, 1, "batch_size");
        var models = algorithms.Select((_, i) => newModel(0)).ToList();
        var algos = algorithms.Select((a, i) => a.Create(models[i])).ToList();
        var times = algorithms.Select(_ => new List<double>()).ToList();
        long n = data.Count, cursor = 0;
        Func<Tensor, Tensor, Tensor> ce = Trainer.CrossEntropy;
        void Steps(int i, int k)
        {
            models[i].train();
            for (int s = 0; s < k; s++)
            {
                using var scope = NewDisposeScope();
                long lo = cursor % Math.Max(1, n - batchSize + 1); cursor += batchSize;
                var x = data.X.narrow(0, lo, Math.Min(batchSize, n)).to(device);
                var y = data.Y.narrow(0, lo, Math.Min(batchSize, n)).to(device);
                algos[i].Step(models[i], x, y, ce);
            }
            if (device.type == DeviceType.CUDA) cuda.synchronize();
        }
        for (int i = 0; i < algos.Count; i++) Steps(i, warmup);
        for (int r = 0; r < rounds; r++)
            for (int i = 0; i < algos.Count; i++)
            {
                var clock = Stopwatch.StartNew();
                Steps(i, steps);
                times[i].Add(clock.Elapsed.TotalSeconds / steps);
            }
        foreach (var a in algos) a.Dispose();
        foreach (var m in models) m.Dispose();
        double Median(List<double> v) { var s = v.Order().ToArray(); return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2; }
        double sgd = Median(times[0]);
        return algorithms.Select((a, i) => new OptimTiming(a.Name, a.Gradients, Median(times[i]), times[i].ToArray(), Median(times[i]) / (a.Gradients * sgd))).ToList();
    }
}
