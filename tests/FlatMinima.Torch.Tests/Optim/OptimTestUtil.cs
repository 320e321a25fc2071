using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Tests.Optim;

/// <summary>A "network" whose output is its parameter vector: lets a test put an exact quadratic loss on w.</summary>
internal sealed class QuadModel : nn.Module<Tensor, Tensor>
{
    public Parameter W;
    public QuadModel(float[] init) : base("quad")
    {
        W = new Parameter(tensor(init));
        RegisterComponents();
    }
    public override Tensor forward(Tensor x) => W.unsqueeze(0).expand(x.shape[0], W.shape[0]);
}

internal static class Quad
{
    /// <summary>Loss ½ a Σ_i (w_i − c_i)² on the output row 0 of a <see cref="QuadModel"/>.</summary>
    public static Func<Tensor, Tensor, Tensor> Loss(double a, float[] c) => (out_, y) =>
    {
        var w = out_[0];
        using var ct = tensor(c);
        return (w - ct).pow(2).sum().mul(0.5 * a);
    };

    public static (Tensor X, Tensor Y) Batch() => (zeros(1, 1), zeros(new long[] { 1 }, dtype: ScalarType.Int64));

    public static float[] Values(Tensor t) => t.detach().cpu().data<float>().ToArray();
}
