using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Torch.Data;
using FlatMinima.Torch.Flatness;
using MathNet.Numerics.LinearAlgebra;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace FlatMinima.Torch.Tests.Flatness;

public class FlatnessTests
{
    public FlatnessTests() => TestRuntime.Init();

    [Fact]
    public void HvpOfQuarticIsThreeWSquaredTimesV()
    {
        // f(w) = Σ w⁴/4  ⇒  ∇f = w³, H = diag(3w²), H·v = 3 w² ⊙ v.
        var w = tensor(new double[] { 0.5, -1.5, 2, 0.1, -3 }).requires_grad_(true);
        var v = tensor(new double[] { 1, 2, -1, 0.5, 0.25 });
        var hv = Probes.Hvp(() => w.pow(4).sum().div(4), [w], [v]);
        var got = hv[0].data<double>().ToArray();
        var wd = w.detach().data<double>().ToArray(); var vd = v.data<double>().ToArray();
        for (int i = 0; i < 5; i++) Assert.Equal(3 * wd[i] * wd[i] * vd[i], got[i], 12);
    }

    /// <summary>A tiny tanh MLP in float64 on a fixed random batch, its parameters and the dense Hessian.</summary>
    private static (Module<Tensor, Tensor> Model, TensorDataSet Set, Matrix<double> H) TinyMlp()
    {
        var init = new Generator(3);
        Module<Tensor, Tensor> model = nn.Sequential(("fc0", Layers.Linear(3, 4, init)), ("act", nn.Tanh()), ("out", Layers.Linear(4, 2, init)));
        model.to(ScalarType.Float64);
        var gen = new Generator(7);
        var x = randn([16, 3], dtype: ScalarType.Float64, generator: gen);
        var y = randint(0, 2, [16], dtype: ScalarType.Int64, generator: gen);
        var set = new TensorDataSet("tiny", x, y, 2);
        var ps = model.parameters().Select(p => (Tensor)p).ToList();
        int n = (int)ps.Sum(p => p.numel());
        // Dense Hessian row by row: differentiate each gradient component once more.
        var loss = nn.functional.cross_entropy(model.forward(x), y);
        var g = autograd.grad([loss], ps, retain_graph: true, create_graph: true);
        var flat = cat(g.Select(t => t.reshape(-1)).ToList());
        var H = Matrix<double>.Build.Dense(n, n);
        for (int i = 0; i < n; i++)
        {
            var row = autograd.grad([flat[i]], ps, retain_graph: true);
            var r = cat(row.Select(t => t.reshape(-1)).ToList()).data<double>().ToArray();
            for (int j = 0; j < n; j++) H[i, j] = r[j];
        }
        return (model, set, H);
    }

    [Fact]
    public void PowerIterationMatchesDenseEigenvaluesOfTinyMlp()
    {
        var (model, set, H) = TinyMlp();
        Assert.True((H - H.Transpose()).FrobeniusNorm() < 1e-10 * (1 + H.FrobeniusNorm()));
        var ev = H.Evd(Symmetricity.Symmetric).EigenValues.Select(c => c.Real).OrderByDescending(Math.Abs).ToArray();
        var probes = new Probes(model, CPU);
        var top = probes.HessianTop(set, 2, seed: 1, maxIter: 2000, tol: 1e-12);
        Assert.All(top.Converged, Assert.True);
        Assert.Equal(ev[0], top.Values[0], 6);
        Assert.Equal(ev[1], top.Values[1], 6);
    }

    [Fact]
    public void HutchinsonMatchesDenseTraceOfTinyMlp()
    {
        var (model, set, H) = TinyMlp();
        double trace = H.Trace();
        var est = new Probes(model, CPU).HessianTrace(set, samples: 300, seed: 2);
        Assert.True(Math.Abs(est.Trace - trace) < 4 * est.StandardError, $"Hutchinson {est.Trace} ± {est.StandardError} vs dense trace {trace}");
        // The estimator's variance is 2 Σ_{i≠j} H_ij²: check the reported standard error has that size.
        double off = 0;
        for (int i = 0; i < H.RowCount; i++) for (int j = 0; j < H.ColumnCount; j++) if (i != j) off += H[i, j] * H[i, j];
        double se = Math.Sqrt(2 * off / 300);
        Assert.InRange(est.StandardError, 0.7 * se, 1.3 * se);
    }

    [Fact]
    public void ProbeVectorsAreDeterministic()
    {
        var (model, set, _) = TinyMlp();
        var p = new Probes(model, CPU);
        Assert.Equal(p.HessianTrace(set, 5, seed: 9).Trace, p.HessianTrace(set, 5, seed: 9).Trace);
        Assert.NotEqual(p.HessianTrace(set, 5, seed: 9).Trace, p.HessianTrace(set, 5, seed: 10).Trace);
    }

    /// <summary>The linear GM classifier sign(w·x/√N + b) as a module: logits (0, h), h = w·x/√N + b.</summary>
    private sealed class LinearGm : Module<Tensor, Tensor>
    {
        private readonly Parameter w, b;
        private readonly double invSqrtN;
        public LinearGm(double[] wv, double bv) : base("linear_gm")
        {
            w = new Parameter(tensor(wv.Select(t => (float)t).ToArray()));
            b = new Parameter(tensor(new[] { (float)bv }));
            invSqrtN = 1 / Math.Sqrt(wv.Length);
            RegisterComponents();
        }
        public override Tensor forward(Tensor x)
        {
            var h = x.matmul(w).mul(invSqrtN).add(b);
            return stack([zeros_like(h), h], 1);
        }
    }

    [Fact]
    public void LocalEnergyOfLinearModelMatchesExactLE1()
    {
        // docs/theory.md#le1: with only w perturbed, E_σ = (1/P) Σ_μ H(u^μ/(σ s_μ)), s_μ² = (1/N) Σ_j w_j² (x_j^μ)².
        var spec = new MixtureSpec(new MixtureModel(4, 1, 0.5), N: 40, Seed: 11);
        var sample = MixtureSample.Sample(spec);
        var w = sample.Hebbian();
        double b = 0.05;
        using var data = GmmData.Create(spec, testSize: 1);
        var model = new LinearGm(w, b);
        // Restriction to a parameter group: the bias is a parameter but not perturbed, as in (LE1).
        var probes = new Probes(model, CPU) { Groups = ["w"] };
        Assert.Equal(["w"], probes.Selected().Select(p => p.Name));
        var sigmas = new[] { 0.0, 0.3, 1.0 };
        var le = probes.LocalEnergy(data.Train, sigmas, draws: 400, seed: 4);
        var u = sample.Margins(w, b);
        double n = spec.N;
        for (int k = 0; k < sigmas.Length; k++)
        {
            double exact = 0;
            for (int mu = 0; mu < sample.P; mu++)
            {
                double s2 = 0;
                var row = sample.Row(mu);
                for (int j = 0; j < spec.N; j++) s2 += w[j] * w[j] * row[j] * row[j];
                double s = Math.Sqrt(s2 / n);
                exact += sigmas[k] == 0 ? (u[mu] < 0 ? 1 : 0) : Gaussian.H(u[mu] / (sigmas[k] * s));
            }
            exact = 100 * exact / sample.P;
            var p = le[k];
            // Monte Carlo over 400 draws: within 4 standard errors, plus float32 rounding of margins near 0.
            double tol = 4 * p.SemError + 0.01;
            Assert.True(Math.Abs(p.MeanError - exact) <= tol, $"σ = {sigmas[k]}: MC {p.MeanError} ± {p.SemError} vs LE1 {exact}");
        }
        Assert.Equal(0, le[0].DeltaError);
        Assert.True(le[2].MeanError > le[1].MeanError);
        // Parameters are restored exactly.
        Assert.Equal(w.Select(t => (float)t).ToArray(), model.parameters().First().data<float>().ToArray());
    }
}
