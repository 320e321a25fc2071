using FlatMinima.Numerics;

namespace FlatMinima.Tests.Numerics;

/// <summary>
/// The linear-algebra providers against naive triple loops written here (independent of both), their independence
/// of the thread count and of memory placement, and the managed provider's bit-identity with the kernels it wraps.
/// OpenBLAS is exercised where it can be loaded (CI installs libopenblas0-pthread); the managed provider always.
/// </summary>
public class LinearAlgebraTests
{
    public static IEnumerable<object[]> Providers()
    {
        yield return ["managed"];
        if (LinearAlgebra.OpenBlas is not null) yield return ["openblas"];
    }

    private static ILinearAlgebraProvider Get(string name) => name == "managed" ? LinearAlgebra.Managed : LinearAlgebra.OpenBlas!;

    private static double[] Gaussian(int count, ulong seed)
    {
        var a = new double[count];
        new Rng(seed).FillGaussian(a);
        return a;
    }

    private static void AssertClose(double[] expected, ReadOnlySpan<double> actual, double relTol)
    {
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relTol * scale, $"entry {i}: {actual[i]:R} vs {expected[i]:R}");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void KernelsMatchNaiveLoops(string name)
    {
        var la = Get(name);
        const int p = 37, n = 23;
        const double s = 0.3;
        var x = Gaussian(p * n, 1);
        var mean = Gaussian(n, 2).Select(v => 0.1 * v).ToArray();
        var r = Gaussian(p, 3);
        var w = Gaussian(n, 4);
        double Ac(int mu, int j) => s * x[mu * n + j] - mean[j];

        // y = 2 A w + 0.5 y0 and g = 2 Aᵀ r + 0.5 g0.
        var y0 = Gaussian(p, 5); var g0 = Gaussian(n, 6);
        var y = (double[])y0.Clone(); var g = (double[])g0.Clone();
        la.Gemv(false, p, n, 2, x, w, 0.5, y);
        la.Gemv(true, p, n, 2, x, r, 0.5, g);
        AssertClose(Enumerable.Range(0, p).Select(mu => 2 * Enumerable.Range(0, n).Sum(j => x[mu * n + j] * w[j]) + 0.5 * y0[mu]).ToArray(), y, 1e-14);
        AssertClose(Enumerable.Range(0, n).Select(j => 2 * Enumerable.Range(0, p).Sum(mu => x[mu * n + j] * r[mu]) + 0.5 * g0[j]).ToArray(), g, 1e-14);

        var k = new double[p * p];
        la.RowGram(x, p, n, 0.25, k, 2);
        AssertClose(Enumerable.Range(0, p * p).Select(i => 0.25 * Enumerable.Range(0, n).Sum(j => x[i / p * n + j] * x[i % p * n + j])).ToArray(), k, 1e-14);

        var gc = new double[n * n]; var c = new double[n];
        la.CentredColumnGram(x, p, n, s, mean, r, gc, c, 2);
        AssertClose(Enumerable.Range(0, n * n).Select(i => Enumerable.Range(0, p).Sum(mu => Ac(mu, i / n) * Ac(mu, i % n))).ToArray(), gc, 1e-14);
        AssertClose(Enumerable.Range(0, n).Select(j => Enumerable.Range(0, p).Sum(mu => Ac(mu, j) * r[mu])).ToArray(), c, 1e-14);

        var gr = new double[p * p];
        la.CentredRowGram(x, p, n, s, mean, gr, 2);
        AssertClose(Enumerable.Range(0, p * p).Select(i => Enumerable.Range(0, n).Sum(j => Ac(i / p, j) * Ac(i % p, j))).ToArray(), gr, 1e-14);

        var t = new double[n];
        la.CentredTransposeTimes(x, p, n, s, mean, r, t);
        AssertClose(Enumerable.Range(0, n).Select(j => Enumerable.Range(0, p).Sum(mu => Ac(mu, j) * r[mu])).ToArray(), t, 1e-13);

        // Row sweep: h = x·w, coefficient tanh(h), g = Σ tanh(h_μ) x_μ.
        var sweep = new double[n];
        var term = new Tanh();
        la.RowSweep(x, p, n, w, ref term, sweep);
        var h = Enumerable.Range(0, p).Select(mu => Enumerable.Range(0, n).Sum(j => x[mu * n + j] * w[j])).ToArray();
        AssertClose(Enumerable.Range(0, n).Select(j => Enumerable.Range(0, p).Sum(mu => Math.Tanh(h[mu]) * x[mu * n + j])).ToArray(), sweep, 1e-13);
        Assert.Equal(p, term.Rows);

        // Cholesky and the centred ridge solve against the residual of the system itself.
        var a = (double[])gc.Clone();
        for (int j = 0; j < n; j++) a[j * n + j] += 0.5;
        var z = (double[])c.Clone();
        Assert.True(la.CholeskySolve((double[])a.Clone(), n, z, 2));
        var ridge = new double[n];
        Assert.True(la.SolveCentredRidge(x, p, n, s, mean, r, 0.5, ridge, 2));
        foreach (var sol in new[] { z, ridge })
            AssertClose(c, Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Sum(j => a[i * n + j] * sol[j])).ToArray(), 1e-13);
        // Not positive definite: reported, not thrown.
        var indefinite = new double[] { 1, 2, 2, 1 };
        Assert.False(la.CholeskySolve(indefinite, 2, new double[2], 1));
    }

    private struct Tanh : IRowCoefficient
    {
        public int Rows;
        public double Coefficient(int row, double h) { Rows++; return Math.Tanh(h); }
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void ResultsDoNotDependOnThreadsOrPlacement(string name)
    {
        // Sizes past the tiles (512) and panels (256) of the native kernels, so that threads share real work.
        var la = Get(name);
        int p = name == "managed" ? 300 : 1100, n = name == "managed" ? 260 : 700;
        var x = Gaussian(p * n, 11);
        var mean = Gaussian(n, 12).Select(v => 0.01 * v).ToArray();
        var r = Gaussian(p, 13);
        double[] Run(int threads, int offset)
        {
            var xs = new double[p * n + offset];
            Array.Copy(x, 0, xs, offset, x.Length);
            var xv = xs.AsSpan(offset, p * n);
            var g = new double[n * n]; var c = new double[n];
            la.CentredColumnGram(xv, p, n, 0.05, mean, r, g, c, threads);
            var k = new double[p * p];
            la.RowGram(xv, p, n, 1.0 / n, k, threads);
            for (int j = 0; j < n; j++) g[j * n + j] += 0.1;
            var z = (double[])c.Clone();
            Assert.True(la.CholeskySolve(g, n, z, threads));
            var ridge = new double[n];
            Assert.True(la.SolveCentredRidge(xv, p, n, 0.05, mean, r, 0.1, ridge, threads));
            return [.. c, .. k, .. z, .. ridge];
        }
        var reference = Run(1, 0);
        foreach (var (threads, offset) in new[] { (2, 0), (3, 1), (1, 3), (2, 1) })
            Assert.True(reference.SequenceEqual(Run(threads, offset)), $"threads {threads}, offset {offset}");
    }

    [Fact]
    public void ManagedProviderIsTheFormerKernelsBitForBit()
    {
        const int p = 90, n = 70;
        var x = Gaussian(p * n, 21); var w = Gaussian(n, 22); var r = Gaussian(p, 23);
        var mean = Gaussian(n, 24).Select(v => 0.1 * v).ToArray();
        var la = LinearAlgebra.Managed;
        var y1 = new double[p]; var y2 = new double[p];
        Kernels.MatVec(x, p, n, w, y1);
        la.Gemv(false, p, n, 1, x, w, 0, y2);
        Assert.Equal(y1, y2);
        var g1 = new double[n]; var g2 = new double[n];
        Kernels.MatTVec(x, p, n, r, g1);
        la.Gemv(true, p, n, 1, x, r, 0, g2);
        Assert.Equal(g1, g2);
        // The centred normal equations as the square-loss solver formed them: a transposed, centred copy of X.
        var xt = Kernels.Transpose(x, p, n);
        for (int j = 0; j < n; j++)
            for (int mu = 0; mu < p; mu++) xt[j * p + mu] = xt[j * p + mu] * 0.2 - mean[j];
        var gram = Kernels.RowGram(xt, n, p);
        var rhs = new double[n];
        Kernels.MatVec(xt, n, p, r, rhs);
        var g = new double[n * n]; var c = new double[n];
        la.CentredColumnGram(x, p, n, 0.2, mean, r, g, c, 3);
        Assert.Equal(gram, g);
        Assert.Equal(rhs, c);
    }

    [Fact]
    public void EnvironmentVariableSelectsTheProvider()
    {
        Assert.Same(LinearAlgebra.Managed, LinearAlgebra.Select("managed"));
        Assert.Same(LinearAlgebra.Managed, LinearAlgebra.Select(" Managed "));
        var auto = LinearAlgebra.OpenBlas ?? LinearAlgebra.Managed;
        Assert.Same(auto, LinearAlgebra.Select(null));
        Assert.Same(auto, LinearAlgebra.Select(""));
        Assert.Same(auto, LinearAlgebra.Select("auto"));
        if (LinearAlgebra.OpenBlas is { } blas) Assert.Same(blas, LinearAlgebra.Select("openblas"));
        else Assert.Contains("libopenblas0-pthread", Assert.Throws<InvalidOperationException>(() => LinearAlgebra.Select("openblas")).Message);
        var e = Assert.Throws<ArgumentException>(() => LinearAlgebra.Select("mkl"));
        Assert.Equal("FLATMINIMA_BLAS", e.ParamName);
        Assert.Contains("managed, openblas or auto", e.Message);
        // What manifests record.
        using (LinearAlgebra.Use(LinearAlgebra.Managed))
        {
            var d = LinearAlgebra.Describe(new ParallelPlan(2, 1));
            Assert.Equal("managed", d["provider"]);
            Assert.Equal(2, d["seeds_at_once"]);
            Assert.Equal(1, d["threads_per_solve"]);
            using (LinearAlgebra.UseSolveThreads(3)) Assert.Equal(3, LinearAlgebra.Describe()["threads_per_solve"]);
        }
    }

    [Fact]
    public void NativeRidgeSolveFallsBackToDoublePrecisionWhenSingleCannotResolveIt()
    {
        if (LinearAlgebra.OpenBlas is not { } blas) return; // managed only: nothing to fall back from
        // Nearly collinear columns: κ ≈ 1e10, beyond single precision (ε ≈ 6e-8), fine in double (ε ≈ 1e-16).
        const int p = 400, n = 40;
        var x = Gaussian(p * n, 31);
        for (int mu = 0; mu < p; mu++) x[mu * n + 1] = x[mu * n] + 1e-5 * x[mu * n + 1];
        var mean = new double[n]; var r = Gaussian(p, 32);
        var native = new double[n]; var managed = new double[n];
        Assert.True(blas.SolveCentredRidge(x, p, n, 1, mean, r, 0, native, 1));
        Assert.True(LinearAlgebra.Managed.SolveCentredRidge(x, p, n, 1, mean, r, 0, managed, 1));
        AssertClose(managed, native, 1e-5); // both carry the κε error of a double-precision Cholesky solve
    }
}
