using FlatMinima.Torch.Data;
using MathNet.Numerics.LinearAlgebra;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FlatMinima.Torch.Tests.Flatness;

/// <summary>Small models with known answers for the flatness probes, all in float64.</summary>
internal static class ProbeTestModels
{
    /// <summary>A random orthogonal d × d matrix (QR of a Gaussian matrix, signs fixed), from a seed.</summary>
    public static Matrix<double> RandomOrthogonal(int d, int seed)
    {
        var rng = new Random(seed);
        var g = Matrix<double>.Build.Dense(d, d, (_, _) => MathNet.Numerics.Distributions.Normal.Sample(rng, 0, 1));
        var qr = g.QR();
        var q = qr.Q;
        for (int j = 0; j < d; j++) if (qr.R[j, j] < 0) q.SetColumn(j, -q.Column(j));
        return q;
    }

    /// <summary>A symmetric matrix Q diag(λ) Qᵀ with the given spectrum.</summary>
    public static Matrix<double> WithSpectrum(double[] lambda, int seed)
    {
        var q = RandomOrthogonal(lambda.Length, seed);
        return q * Matrix<double>.Build.DenseOfDiagonalArray(lambda) * q.Transpose();
    }

    public static Tensor ToTensor(Matrix<double> a) => tensor(a.ToRowMajorArray(), [a.RowCount, a.ColumnCount]);
    public static Tensor ToTensor(Vector<double> v) => tensor(v.ToArray());

    /// <summary>Random inputs (float64) and random labels in {0, …, classes − 1}.</summary>
    public static TensorDataSet RandomSet(int n, int inputs, int classes, ulong seed)
    {
        using var g = new Generator(seed);
        var x = randn([n, inputs], dtype: ScalarType.Float64, generator: g);
        var y = randint(0, classes, [n], dtype: ScalarType.Int64, generator: g);
        return new TensorDataSet("random", x, y, classes);
    }

    /// <summary>A matrix from a float64 tensor.</summary>
    public static Matrix<double> ToMatrix(Tensor t)
    {
        var a = t.detach().cpu().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();
        return Matrix<double>.Build.DenseOfRowMajor((int)t.shape[0], (int)t.shape[1], a);
    }

    public static double[] ToArray(Tensor t) => t.detach().cpu().to_type(ScalarType.Float64).contiguous().reshape(-1).data<double>().ToArray();
}

/// <summary>
/// A "model" whose output is the quadratic ½(θ − θ*)ᵀA(θ − θ*) of its one parameter θ, in column 0 of a [batch, 2]
/// output (column 1 is 0), whatever the input. With <see cref="Loss"/> (the mean of column 0) the training loss is that
/// quadratic, so every probe can be checked against closed forms.
/// </summary>
internal sealed class QuadraticModel : Module<Tensor, Tensor>
{
    private readonly Parameter theta;
    private readonly Tensor a, thetaStar;

    public QuadraticModel(Matrix<double> A, Vector<double> star, Vector<double> start) : base("quadratic")
    {
        theta = new Parameter(ProbeTestModels.ToTensor(start));
        a = ProbeTestModels.ToTensor(A);
        thetaStar = ProbeTestModels.ToTensor(star);
        RegisterComponents();
    }

    public Parameter Theta => theta;

    public override Tensor forward(Tensor x)
    {
        var d = theta - thetaStar;
        var q = d.dot(a.mv(d)).mul(0.5);
        var col = q.expand(x.shape[0]);
        return stack([col, zeros_like(col)], 1);
    }

    /// <summary>The mean of column 0: the quadratic itself.</summary>
    public static Tensor Loss(Tensor output, Tensor y) => output.select(1, 0).mean();
}

/// <summary>The binary linear classifier with logits (0, h), h = x·w + b: its cross-entropy is the logistic loss
/// log(1 + e^{−y h}), whose Hessian (1/n) Σ p(1 − p) x̃x̃ᵀ (p = σ(h), x̃ = (x, 1)) is known in closed form.</summary>
internal sealed class LogisticModel : Module<Tensor, Tensor>
{
    private readonly Parameter w, b;

    public LogisticModel(double[] wv, double bv) : base("logistic")
    {
        w = new Parameter(tensor(wv));
        b = new Parameter(tensor(new[] { bv }));
        RegisterComponents();
    }

    public double[] W => ProbeTestModels.ToArray(w);
    public double B => ProbeTestModels.ToArray(b)[0];

    public override Tensor forward(Tensor x)
    {
        var h = x.matmul(w).add(b);
        return stack([zeros_like(h), h], 1);
    }

    /// <summary>The exact Hessian of the mean cross-entropy on <paramref name="set"/> over (w, b), in double precision.</summary>
    public Matrix<double> ExactHessian(TensorDataSet set)
    {
        var x = ProbeTestModels.ToMatrix(set.X);
        int n = x.RowCount, d = x.ColumnCount + 1;
        var wv = W; double bv = B;
        var h = Matrix<double>.Build.Dense(d, d);
        for (int mu = 0; mu < n; mu++)
        {
            var xt = new double[d];
            double z = bv;
            for (int j = 0; j < d - 1; j++) { xt[j] = x[mu, j]; z += wv[j] * x[mu, j]; }
            xt[d - 1] = 1;
            double p = 1 / (1 + Math.Exp(-z)), c = p * (1 - p) / n;
            for (int i = 0; i < d; i++) for (int j = 0; j < d; j++) h[i, j] += c * xt[i] * xt[j];
        }
        return h;
    }
}
