using FlatMinima.Torch.Data;
using FlatMinima.Torch.Flatness;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Training;
using MathNet.Numerics.LinearAlgebra;
using TorchSharp;
using static TorchSharp.torch;

namespace FlatMinima.Torch.Tests.Flatness;

public class LossLandscapeTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private readonly int _init = TestRuntime.Init() is null ? 0 : 1;
    private const int Inputs = 5, Classes = 3;

    /// <summary>Square loss ½‖logits − onehot(y)‖² averaged over the batch: quadratic in a linear model's parameters.</summary>
    private static Tensor SquareLoss(Tensor logits, Tensor y) =>
        nn.functional.one_hot(y, logits.shape[1]).to_type(logits.dtype).sub(logits).pow(2).sum(1).mean().mul(0.5);

    private static nn.Module<Tensor, Tensor> Linear(int seed)
    {
        manual_seed(seed);
        var m = nn.Sequential(("fc", nn.Linear(Inputs, Classes)));
        m.to(ScalarType.Float64);
        return m;
    }

    /// <summary>Logits X Wᵀ + b of a linear model, in double precision from its weights.</summary>
    private static Matrix<double> Logits(Matrix<double> x, Matrix<double> w, Vector<double> b)
    {
        var f = x * w.Transpose();
        for (int i = 0; i < f.RowCount; i++) f.SetRow(i, f.Row(i) + b);
        return f;
    }

    private static (Matrix<double> W, Vector<double> B) Weights(nn.Module<Tensor, Tensor> m)
    {
        var ps = m.parameters().ToList();
        return (ProbeTestModels.ToMatrix(ps[0]), Vector<double>.Build.DenseOfArray(ProbeTestModels.ToArray(ps[1])));
    }

    private static Matrix<double> OneHot(TensorDataSet set)
    {
        var y = set.Y.data<long>().ToArray();
        return Matrix<double>.Build.Dense(y.Length, Classes, (i, c) => y[i] == c ? 1 : 0);
    }

    private static double Error(Matrix<double> f, TensorDataSet set)
    {
        var y = set.Y.data<long>().ToArray();
        return Enumerable.Range(0, f.RowCount).Count(i => f.Row(i).MaximumIndex() != y[i]) / (double)f.RowCount;
    }

    [Fact]
    public void SquareLossAlongTheLineIsTheExactQuadraticInT()
    {
        var train = ProbeTestModels.RandomSet(60, Inputs, Classes, 51);
        var test = ProbeTestModels.RandomSet(30, Inputs, Classes, 52);
        var a = Linear(1);
        var b = Linear(2);
        var (wa, ba) = Weights(a);
        var (wb, bb) = Weights(b);
        var r = new LossLandscape(a, CPU) { Loss = SquareLoss }.Interpolate(b, train, test, new InterpolationOptions());
        Assert.Equal("none", r.BatchNorm);
        Assert.Equal(41, r.Points.Count);
        Assert.Equal(-0.5, r.Points[0].T);
        Assert.Equal(1.5, r.Points[^1].T, 12);
        foreach (var (set, isTrain) in new[] { (train, true), (test, false) })
        {
            // Logits are linear in t: F(t) = F_A + t D, D = F_B − F_A, so L(t) = c + b t + a t² with
            // c = ‖F_A − Y‖²/(2n), b = ⟨F_A − Y, D⟩/n, a = ‖D‖²/(2n).
            var x = ProbeTestModels.ToMatrix(set.X);
            var fa = Logits(x, wa, ba);
            var d = Logits(x, wb, bb) - fa;
            var res = fa - OneHot(set);
            int n = x.RowCount;
            double c0 = res.PointwisePower(2).RowSums().Sum() / (2 * n);
            double c1 = res.PointwiseMultiply(d).RowSums().Sum() / n;
            double c2 = d.PointwisePower(2).RowSums().Sum() / (2 * n);
            foreach (var p in r.Points)
            {
                double exact = c0 + c1 * p.T + c2 * p.T * p.T;
                Assert.Equal(exact, isTrain ? p.TrainLoss : p.TestLoss, 1e-12 * (1 + exact));
                Assert.Equal(Error(fa + p.T * d, set), isTrain ? p.TrainError : p.TestError);
            }
        }
        // ‖w_B − w_A‖ over weights and biases.
        double dist = Math.Sqrt((wb - wa).PointwisePower(2).Enumerate().Sum() + (bb - ba).PointwisePower(2).Sum());
        Assert.Equal(dist, r.Distance, 1e-12);
        // The first model is restored exactly.
        var (wa2, ba2) = Weights(a);
        Assert.Equal(wa.ToRowMajorArray(), wa2.ToRowMajorArray());
        Assert.Equal(ba.ToArray(), ba2.ToArray());
        var csv = r.ToCsv().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("t,train_loss,train_error,test_loss,test_error", csv[0]);
        Assert.Equal(42, csv.Length);
    }

    [Fact]
    public void SurfaceOfAQuadraticEqualsItsClosedFormAndTheModelAtTheOrigin()
    {
        var train = ProbeTestModels.RandomSet(60, Inputs, Classes, 61);
        var model = Linear(3);
        var (w, bias) = Weights(model);
        var probe = new LossLandscape(model, CPU) { Loss = SquareLoss };
        var o = new SurfaceOptions { Extent = 0.8, Points = 7, Seed = 4 };
        var r = probe.Surface(train, o);
        // The documented directions: weight direction filter-normalised, bias direction zero.
        var d1 = probe.Direction(0, 4);
        var d2 = probe.Direction(1, 4);
        Assert.Equal(new double[Classes], ProbeTestModels.ToArray(d1[1]));
        var x = ProbeTestModels.ToMatrix(train.X);
        var y = OneHot(train);
        var m1 = ProbeTestModels.ToMatrix(d1[0]);
        var m2 = ProbeTestModels.ToMatrix(d2[0]);
        Assert.Equal(49, r.Points.Count);
        foreach (var p in r.Points)
        {
            var f = Logits(x, w + p.Alpha * m1 + p.Beta * m2, bias);
            double exact = (f - y).PointwisePower(2).RowSums().Sum() / (2 * x.RowCount);
            Assert.Equal(exact, p.Loss, 1e-12 * (1 + exact));
            Assert.Equal(Error(f, train), p.Error);
        }
        // The grid's centre is the model itself.
        var centre = r.Points.Single(p => p.Alpha == 0 && p.Beta == 0);
        var (l0, e0) = ProbeMath.Evaluate(model, train, CPU, 1024, SquareLoss);
        Assert.Equal(l0, centre.Loss);
        Assert.Equal(e0, centre.Error);
        // Same seed, same surface; the model is restored exactly.
        var again = probe.Surface(train, o);
        Assert.Equal(r.Points.Select(p => p.Loss), again.Points.Select(p => p.Loss));
        Assert.Equal(w.ToRowMajorArray(), Weights(model).W.ToRowMajorArray());
        Assert.Equal("alpha,beta,loss,error", r.ToCsv().Split('\n')[0]);
        Assert.InRange(Math.Abs(r.DirectionCosine), 0, 1);
    }

    [Fact]
    public void FilterNormalisationGivesEveryFilterTheNormOfTheModelsFilter()
    {
        manual_seed(7);
        var model = nn.Sequential(("conv", nn.Conv2d(2, 4, 3)), ("relu", nn.ReLU()), ("flat", nn.Flatten()), ("fc", nn.Linear(4 * 4 * 4, 3)));
        var probe = new LossLandscape(model, CPU);
        var ps = model.named_parameters().ToList();
        foreach (int a in new[] { 0, 1 })
        {
            var dir = probe.Direction(a, 9);
            for (int i = 0; i < ps.Count; i++)
            {
                var p = ps[i].parameter;
                if (p.dim() == 1) { Assert.All(dir[i].data<float>().ToArray(), v => Assert.Equal(0f, v)); continue; }
                for (long f = 0; f < p.shape[0]; f++)
                {
                    double wn = p[f].norm().item<float>(), dn = dir[i][f].norm().item<float>();
                    Assert.Equal(wn, dn, 1e-5 * wn);
                }
                // A direction, not a copy of the weights.
                Assert.True((dir[i] - p).abs().max().item<float>() > 1e-3);
            }
        }
        Assert.NotEqual(probe.Direction(0, 9)[0].data<float>().ToArray(), probe.Direction(1, 9)[0].data<float>().ToArray());
    }

    /// <summary>A tiny MLP with BatchNorm, trained a few steps so that its running statistics are not the defaults.</summary>
    private static nn.Module<Tensor, Tensor> BnMlp(int seed, TensorDataSet train)
    {
        manual_seed(seed);
        var m = nn.Sequential(("fc0", nn.Linear(Inputs, 8)), ("bn", nn.BatchNorm1d(8)), ("relu", nn.ReLU()), ("out", nn.Linear(8, Classes)));
        m.to(ScalarType.Float64);
        m.train();
        using var opt = optim.SGD(m.parameters(), 0.1);
        for (int s = 0; s < 5; s++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            Trainer.CrossEntropy(m.forward(train.X), train.Y).backward();
            opt.step();
        }
        return m;
    }

    /// <summary>Mean cross-entropy in eval mode (running statistics), the model's mode restored.</summary>
    private static double EvalLoss(nn.Module<Tensor, Tensor> m, TensorDataSet set)
    {
        bool t = m.training;
        m.eval();
        double l = ProbeMath.Evaluate(m, set, CPU, 1024, Trainer.CrossEntropy).Loss;
        if (t) m.train();
        return l;
    }

    [Fact]
    public void BatchNormPoliciesOfTheLineAreExplicitAndTheBuffersRestored()
    {
        var train = ProbeTestModels.RandomSet(64, Inputs, Classes, 71);
        var a = BnMlp(1, train);
        var b = BnMlp(2, train);
        var bufA = ModuleOps.Buffers(a).Select(t => ProbeTestModels.ToArray(t)).ToList();
        var probe = new LossLandscape(a, CPU);
        var o = new InterpolationOptions { From = 0, To = 1, Points = 3 };
        // Interpolate: the end points are the two models with their own statistics.
        var ri = probe.Interpolate(b, train, null, o with { BatchNorm = LandscapeBatchNorm.Interpolate });
        Assert.Equal("interpolate", ri.BatchNorm);
        Assert.Equal(EvalLoss(a, train), ri.Points[0].TrainLoss, 1e-10);
        Assert.Equal(EvalLoss(b, train), ri.Points[2].TrainLoss, 1e-10);
        Assert.True(double.IsNaN(ri.Points[0].TestLoss));
        // Recompute: the end points are the models after a BatchNorm pass over the training data.
        var rr = probe.Interpolate(b, train, null, o);
        Assert.Equal("recompute", rr.BatchNorm);
        var a2 = BnMlp(1, train);
        BatchNormUpdate.Run(a2, train, CPU);
        Assert.Equal(EvalLoss(a2, train), rr.Points[0].TrainLoss, 1e-10);
        Assert.NotEqual(ri.Points[0].TrainLoss, rr.Points[0].TrainLoss);
        // The probe's model keeps its weights and its running statistics bit for bit, and its mode.
        Assert.Equal(bufA.SelectMany(x => x), ModuleOps.Buffers(a).SelectMany(t => ProbeTestModels.ToArray(t)));
        Assert.True(a.training);
        // The surface keeps the statistics by default and says so.
        Assert.Equal("keep", probe.Surface(train, new SurfaceOptions { Points = 3 }).BatchNorm);
        Assert.Contains("recompute|interpolate", Assert.Throws<ArgumentOutOfRangeException>(() => new InterpolationOptions { BatchNorm = LandscapeBatchNorm.Keep }.Validate()).Message);
        Assert.Contains("keep|recompute", Assert.Throws<ArgumentOutOfRangeException>(() => new SurfaceOptions { BatchNorm = LandscapeBatchNorm.Interpolate }.Validate()).Message);
        Assert.Contains("points", Assert.Throws<ArgumentOutOfRangeException>(() => new SurfaceOptions { Points = 1 }.Validate()).Message);
        output.WriteLine($"line {ri.Seconds:F2} s, {rr.Seconds:F2} s");
    }
}
