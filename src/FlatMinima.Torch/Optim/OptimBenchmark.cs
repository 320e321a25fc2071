using System.Diagnostics;
using FlatMinima.Numerics;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Experiments;
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
        Guard.AtLeast(steps, 1, "steps"); Guard.AtLeast(warmup, 0, "warmup"); Guard.AtLeast(rounds, 1, "rounds"); Guard.AtLeast(batchSize, 1, "batch_size");
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

    /// <summary>
    /// The benchmark of <c>flatminima optim-bench</c>: on random data of <paramref name="inputShape"/> and
    /// <paramref name="classes"/> (drawn from <paramref name="seed"/>), TorchSharp's SGD (the unit), SGD on one flat
    /// buffer, Entropy-SGD per inner step (with and without its noise), replicated SGD with <paramref name="replicas"/>
    /// replicas, SAM and SWA, each with its settings of the overhead measurements in docs/optim.md.
    /// </summary>
    public static List<OptimTiming> Standard(string model, long[] inputShape, int classes, Device device, int batchSize, int steps, int warmup, int rounds,
        int innerSteps, int replicas, long seed)
    {
        Guard.AtLeast(innerSteps, 1, "inner_steps"); Guard.AtLeast(replicas, 1, "replicas"); Guard.AtLeast(batchSize, 1, "batch_size");
        var config = (ModelConfig)ExperimentOptions.Model.New(model);
        long n = (long)batchSize * Math.Max(4, replicas + 1);
        TensorDataSet data;
        using (var g = new Generator((ulong)seed))
            data = new TensorDataSet("random", randn([n, .. inputShape], generator: g), randint(0, classes, [n], generator: g), classes);
        using var _ = data;
        ModelFactory factory = i => { var m = config.Create(inputShape, classes, Seeds.Mix(seed, 77, i)); m.to(device); return m; };
        var algos = new List<(string, double, Func<nn.Module<Tensor, Tensor>, ITrainingAlgorithm>)>
        {
            ("sgd", 1, m => OptimizerAlgorithm.Factory("sgd", 0.01, 0.9, 5e-4)(m)),
            ("sgd-flat (same update, one flat buffer)", 1, m => OptimizerAlgorithm.Factory("sgd-flat", 0.01, 0.9, 5e-4)(m)),
            ($"esgd (L={innerSteps}, per inner step)", 1, m => new EntropySgd(m, new EntropySgdOptions { Lr = 0.01, InnerSteps = innerSteps, WeightDecay = 5e-4, Gamma0 = 0.03, Seed = seed })),
            ($"esgd (L={innerSteps}, per inner step, noise 0)", 1, m => new EntropySgd(m, new EntropySgdOptions { Lr = 0.01, InnerSteps = innerSteps, WeightDecay = 5e-4, Gamma0 = 0.03, Noise = 0, Seed = seed })),
            ($"rsgd (y={replicas})", replicas, m => new ReplicatedSgd(m, factory, data, new ReplicatedSgdOptions { Replicas = replicas, Lr = 0.01, WeightDecay = 5e-4, G0 = 1e-3, BatchSize = batchSize, Seed = seed })),
            ("sam", 2, m => new Sam(m, new SamOptions { Lr = 0.01, WeightDecay = 5e-4 })),
            ("swa", 1, m => new Swa(m, factory(99), data, new SwaOptions { Lr = 0.01, WeightDecay = 5e-4, SwaStart = 1000 })),
        };
        return Run(algos, factory, data, device, batchSize, steps, warmup, rounds);
    }
}
