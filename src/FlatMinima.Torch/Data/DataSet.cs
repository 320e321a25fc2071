using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Data;

/// <summary>
/// A labelled data set held as two CPU tensors: inputs <see cref="X"/> (float32, N × shape) and class labels
/// <see cref="Y"/> (int64, N). Batches are moved to the training device as they are used.
/// </summary>
public sealed class TensorDataSet : IDisposable
{
    public Tensor X { get; }
    public Tensor Y { get; }
    /// <summary>Number of classes.</summary>
    public int Classes { get; }
    /// <summary>Name for manifests ("gmm", "fashion-mnist", ...).</summary>
    public string Name { get; }
    public long Count => Y.shape[0];
    /// <summary>Shape of one input (without the batch dimension).</summary>
    public long[] InputShape => X.shape[1..];

    public TensorDataSet(string name, Tensor x, Tensor y, int classes)
    {
        if (x.shape[0] != y.shape[0]) throw new ArgumentException($"{name}: {x.shape[0]} inputs but {y.shape[0]} labels.");
        Name = name; X = x; Y = y; Classes = classes;
    }

    /// <summary>A copy of the first <paramref name="n"/> samples (the caller disposes it).</summary>
    public TensorDataSet Take(long n) => new(Name, X.narrow(0, 0, Math.Min(n, Count)).clone(), Y.narrow(0, 0, Math.Min(n, Count)).clone(), Classes);

    public void Dispose() { X.Dispose(); Y.Dispose(); }
}

/// <summary>A training and a test set, with facts about them for the manifest.</summary>
public sealed class DataSplit(TensorDataSet train, TensorDataSet test, Dictionary<string, object?> info) : IDisposable
{
    public TensorDataSet Train { get; } = train;
    public TensorDataSet Test { get; } = test;
    public Dictionary<string, object?> Info { get; } = info;
    public void Dispose() { Train.Dispose(); Test.Dispose(); }
}
