using System.Diagnostics;
using FlatMinima.Torch.Experiments;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Training;

/// <summary>Result of a training-throughput measurement.</summary>
public sealed record ThroughputResult(string Model, string Optimizer, string Precision, bool ChannelsLast, int BatchSize, int Steps, double Seconds, double ImagesPerSecond, string Device);

/// <summary>Memory layout helpers.</summary>
public static class Layout
{
    /// <summary>A 4-D tensor with NHWC strides (PyTorch's channels-last format), same shape and values.</summary>
    public static Tensor ChannelsLast(Tensor t) => t.dim() != 4 ? t : t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    /// <summary>Gives every Conv2d weight of <paramref name="model"/> NHWC strides (TorchSharp 0.107 has no
    /// memory_format argument; libtorch's convolution follows the strides of its inputs). Call before building the
    /// optimiser.</summary>
    public static void ToChannelsLast(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var m in model.modules())
            if (m is Conv2d conv && conv.weight is { } w)
                conv.weight = new Parameter(ChannelsLast(w.detach()), w.requires_grad);
    }
}

/// <summary>
/// Training throughput (images/s) of a model on random CIFAR-sized batches (3×32×32, 10 classes), SGD with momentum,
/// cross-entropy: the same loop as the PyTorch eager script <c>tests/FlatMinima.Benchmarks/python/torch_resnet18.py</c>.
/// Warm-up steps are excluded; the clock stops after a device synchronisation.
/// </summary>
public static class Benchmark
{
    public static ThroughputResult TrainThroughput(string model, Device device, int batchSize = 256, int steps = 50, int warmup = 10,
        string precision = "fp32", bool channelsLast = false, long seed = 0, bool syncEachStep = false, string optimizer = "sgd")
    {
        var config = (ModelConfig)ExperimentOptions.Model.New(model);
        using var g = new Generator((ulong)seed);
        var master = config.Create([3, 32, 32], 10, g);
        master.to(device);
        if (channelsLast) Layout.ToChannelsLast(master);
        var inner = (OptimizerAlgorithm)OptimizerAlgorithm.Factory(optimizer, 0.01, 0.9, 5e-4)(master);
        inner.ReadLoss = syncEachStep;
        ITrainingAlgorithm algo = inner;
        if (precision == "bf16")
        {
            var work = config.Create([3, 32, 32], 10, g);
            work.to(device);
            if (channelsLast) Layout.ToChannelsLast(work);
            algo = new MixedPrecisionAlgorithm(master, work, inner) { ReadLoss = syncEachStep };
        }
        else if (precision != "fp32") throw new ArgumentException($"precision must be fp32|bf16 (got '{precision}').");
        master.train();
        // Inputs drawn on the CPU from the same generator (TorchSharp's generators are CPU generators) and moved.
        using var x0 = randn([batchSize, 3, 32, 32], generator: g).to(device);
        using var x = channelsLast ? Layout.ChannelsLast(x0) : x0.alias();
        using var y = randint(0, 10, [batchSize], generator: g).to(device);
        Func<Tensor, Tensor, Tensor> ce = (l, t) => nn.functional.cross_entropy(l, t);
        void One()
        {
            using var scope = NewDisposeScope();
            algo.Step(master, x, y, ce);
        }
        for (int i = 0; i < warmup; i++) One();
        Sync(device);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) One();
        Sync(device);
        double secs = clock.Elapsed.TotalSeconds;
        algo.Dispose();
        master.Dispose();
        return new ThroughputResult(model, optimizer, precision, channelsLast, batchSize, steps, secs, steps * (double)batchSize / secs, device.type.ToString());
    }

    private static void Sync(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize();
    }
}
