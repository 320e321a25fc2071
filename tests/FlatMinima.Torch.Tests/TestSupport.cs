using FlatMinima.Torch.Runtime;
using TorchSharp;
using TorchSharp.Modules;

namespace FlatMinima.Torch.Tests;

/// <summary>A temporary folder, removed with its contents on disposal.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fm-torch-" + Guid.NewGuid().ToString("N"));
    public TempDir() => Directory.CreateDirectory(Path);
    public string this[string name] => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}

internal static class TestRuntime
{
    public static RuntimeInfo Init() => TorchRuntime.Initialize("cpu", Console.Error.WriteLine);
}

/// <summary>
/// Layers of the tests' small networks with their initial weights drawn from an explicit generator, as the bridge's
/// models draw theirs (never from the process-wide generator, which tests running in parallel would share): a
/// generator seeded s gives the weights <c>torch.manual_seed(s)</c> and the same constructors gave.
/// </summary>
internal static class Layers
{
    public static Linear Linear(long inputs, long outputs, torch.Generator g) => FlatMinima.Torch.Models.Init.Draw(torch.nn.Linear(inputs, outputs), inputs, g);
}
