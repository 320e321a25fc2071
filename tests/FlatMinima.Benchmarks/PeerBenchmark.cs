using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Benchmarks;

/// <summary>
/// Finite-N ERM at scale against numpy and scikit-learn, on the same data, measured in the same run:
/// square (numpy: centring and linalg.solve), logistic (scikit-learn lbfgs) and hinge (scikit-learn LinearSVC, dual),
/// at α = 2, Δ = 1, ρ = ½, λ = 0.1 and S = 2 datasets per side, each side a whole process (start, data, solves).
/// <para>The datasets are sampled once and written as .npy files (inputs already divided by √N); the peer reads
/// them, this side samples them itself as `flatminima simulate` does (sampling is part of its time). Accuracy is
/// matched and reported with one piece of code for both sides: for square and logistic the largest component of
/// the gradient of the per-sample objective (1/P)[Σ ℓ + (λ/2)‖w‖²] with respect to (w, b); ours is run to the
/// logistic gradient scikit-learn reached. For hinge the relative duality gap (f − D)/f, f the primal objective of
/// each side's (w, b) and D the dual objective of this side's dual coefficients (a lower bound on the minimum).</para>
/// usage: peers [--n 1000,2000,4000,8000] [--estimators square,logistic,hinge] [--repeats R] [--seeds S]
///              [--logistic-tol T] [--hinge-tol T] [--hinge-scaling s]
/// </summary>
internal static class PeerBenchmark
{
    private const double Alpha = 2, Delta = 1, Rho = 0.5, Lambda = 0.1;
    private const string Python = "/usr/bin/python3";

    public static void Run(string[] args)
    {
        var o = Options.Parse(args);
        string root = Path.Combine(Path.GetTempPath(), "fm-peers-" + Environment.ProcessId);
        Directory.CreateDirectory(root);
        var rows = new List<string>();
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {MemoryBudget.Format(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes)}, " +
                          $"{Environment.OSVersion}; load before: {Load()}");
        Console.WriteLine($"flatminima: {LinearAlgebra.Current.Name}: {LinearAlgebra.Current.Library}");
        try
        {
            foreach (int n in o.Ns)
            {
                string dir = Path.Combine(root, "n" + n);
                Directory.CreateDirectory(dir);
                var sw = Stopwatch.StartNew();
                for (int k = 0; k < o.Seeds; k++)
                {
                    var s = MixtureSample.Sample(Spec(n, k));
                    double scale = 1 / Math.Sqrt(n);
                    Npy.Write(Path.Combine(dir, $"a{k}.npy"), s.X, s.P, s.N, scale);
                    Npy.Write(Path.Combine(dir, $"y{k}.npy"), s.Y, s.P, 0, 1);
                }
                Console.WriteLine($"N = {n}: {o.Seeds} datasets written in {sw.Elapsed.TotalSeconds:F1} s");
                foreach (var est in o.Estimators)
                    for (int rep = 0; rep < o.Repeats; rep++)
                        rows.Add(Compare(est, n, dir, o, rep));
                foreach (var f in Directory.GetFiles(dir)) File.Delete(f);
            }
        }
        finally { Directory.Delete(root, true); }
        Console.WriteLine($"load after: {Load()}");
        Console.WriteLine();
        Console.WriteLine("| N | estimator | rep | flatminima (s) | peer (s) | ratio | CPU-time ratio | residual flatminima | residual peer | peak RSS flatminima | peak RSS peer |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows) Console.WriteLine(r);
    }

    private static MixtureSpec Spec(int n, int seed) => new MixtureModel(Alpha, Delta, Rho).AtSize(n, seed);

    /// <summary>
    /// The measurement behind <see cref="ParallelPlan"/>: S datasets with seeds in parallel (one thread per solve)
    /// against one seed after another with every core inside each solve, whole processes, interleaved.
    /// usage: plans [--n 2000,4000] [--estimators ...] [--repeats R] [--seeds S]
    /// </summary>
    public static void Plans(string[] args)
    {
        var o = Options.Parse(args.Length == 0 ? ["--n", "2000,4000"] : args);
        string dir = Path.Combine(Path.GetTempPath(), "fm-plans-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        string self = typeof(PeerBenchmark).Assembly.Location;
        Console.WriteLine($"{Environment.ProcessorCount} cores; load before: {Load()}");
        Console.WriteLine("| N | estimator | seeds | seeds in parallel (s) | seeds in sequence, threads inside (s) | ratio |");
        Console.WriteLine("|---|---|---|---|---|---|");
        try
        {
            foreach (int n in o.Ns)
                foreach (var est in o.Estimators)
                    for (int rep = 0; rep < o.Repeats; rep++)
                    {
                        string tol = est == "square" ? "1e-10" : est == "logistic" ? "1e-8" : "1e-6";
                        string[] a = [self, "peers-child", est, Str(n), Str(o.Seeds), Str(Lambda), tol, dir];
                        var (par, _) = RunProcess("dotnet", a, null);
                        var (seq, _) = RunProcess("dotnet", a, new() { ["FM_BENCH_PLAN"] = "inside" });
                        Console.WriteLine($"| {n} | {est} | {o.Seeds} | {par:F2} | {seq:F2} | {par / seq:F2} |");
                    }
        }
        finally { Directory.Delete(dir, true); }
        Console.WriteLine($"load after: {Load()}");
    }

    private static string Compare(string est, int n, string dir, Options o, int rep)
    {
        // Peer first: this side is then run to the logistic gradient the peer reached.
        double peerTol = est switch { "logistic" => o.LogisticTol, "hinge" => o.HingeTol, _ => 0 };
        var env = new Dictionary<string, string?>();
        // The peer's numpy gets OpenBLAS's own choice of kernel (reported below), whatever this shell forces.
        env["OPENBLAS_CORETYPE"] = null; env["OPENBLAS_L2_SIZE"] = null;
        string script = Path.Combine(AppContext.BaseDirectory, "python", "peers.py");
        var (peerWall, peerOut) = RunProcess(Python, [script, est, dir, Str(o.Seeds), Str(Lambda), Str(peerTol), Str(o.HingeScaling)], env);
        var peer = JsonDocument.Parse(peerOut).RootElement;
        var peerW = Enumerable.Range(0, o.Seeds).Select(k => Npy.Read(Path.Combine(dir, $"peer_w{k}.npy"))).ToArray();

        string self = typeof(PeerBenchmark).Assembly.Location;
        double[] peerRes = new double[o.Seeds];
        double[][]? refBeta = null;
        if (est == "hinge")
        {
            // The lower bound D for both sides comes from a tight reference solve (tolerance 1e-10, not timed).
            if (!File.Exists(Path.Combine(dir, "ref_beta0.npy")))
            {
                RunProcess("dotnet", [self, "peers-child", est, Str(n), Str(o.Seeds), Str(Lambda), Str(1e-10), dir], null);
                for (int k = 0; k < o.Seeds; k++) File.Move(Path.Combine(dir, $"our_beta{k}.npy"), Path.Combine(dir, $"ref_beta{k}.npy"), true);
            }
            refBeta = Enumerable.Range(0, o.Seeds).Select(k => Npy.Read(Path.Combine(dir, $"ref_beta{k}.npy"))).ToArray();
        }
        for (int k = 0; k < o.Seeds; k++) peerRes[k] = Residual(est, n, dir, k, peerW[k], refBeta?[k]);
        // This side runs, dataset by dataset, to the accuracy the peer reached: the logistic gradient; for hinge an
        // SMO tolerance equal to the peer's relative gap (SMO's relative gap ends near a third of its tolerance).
        var ourTol = peerRes.Select(r => est == "square" ? 1e-10 : Math.Max(1e-10, r)).ToArray();
        var (ourWall, ourOut) = RunProcess("dotnet", [self, "peers-child", est, Str(n), Str(o.Seeds), Str(Lambda),
            string.Join(",", ourTol.Select(Str)), dir], null);
        var ours = JsonDocument.Parse(ourOut).RootElement;
        var ourRes = new double[o.Seeds];
        for (int k = 0; k < o.Seeds; k++)
            ourRes[k] = Residual(est, n, dir, k, Npy.Read(Path.Combine(dir, $"our_w{k}.npy")), refBeta?[k]);
        string kind = est == "hinge" ? "duality gap" : "gradient";
        Console.WriteLine($"N = {n} {est} rep {rep}: flatminima {ourWall:F2} s (tol {Join(ourTol)}; {ours.GetProperty("plan").GetString()}; " +
                          $"dataset ready at {Join(ours.GetProperty("sample_seconds"))} s, solve {Join(ours.GetProperty("solve_seconds"))} s, " +
                          $"iterations {Join(ours.GetProperty("iterations"))}), {kind} {Join(ourRes)}, peak {MemoryBudget.Format(ours.GetProperty("peak_rss_bytes").GetInt64())}");
        Console.WriteLine($"    peer {peerWall:F2} s (tol {peerTol:G3}; import {peer.GetProperty("import_seconds").GetDouble():F2} s, " +
                          $"load {Join(peer.GetProperty("load_seconds"))} s, fit {Join(peer.GetProperty("fit_seconds"))} s, " +
                          $"iterations {Join(peer.GetProperty("iterations"))}), {kind} {Join(peerRes)}, peak {MemoryBudget.Format(peer.GetProperty("peak_rss_bytes").GetInt64())}");
        if (rep == 0)
            Console.WriteLine($"    peer BLAS: numpy {peer.GetProperty("numpy")}, {string.Join("; ", peer.GetProperty("numpy_blas").EnumerateArray().Select(e => e.GetString()).Distinct())}; " +
                              $"threadpoolctl: {peer.GetProperty("threadpoolctl")}");
        double ourCpu = ours.GetProperty("cpu_seconds").GetDouble(), peerCpu = peer.GetProperty("cpu_seconds").GetDouble();
        Console.WriteLine($"    ratio flatminima/peer = {ourWall / peerWall:F2} (wall), {ourCpu / peerCpu:F2} (CPU: {ourCpu:F2} s / {peerCpu:F2} s)");
        return $"| {n} | {est} | {rep} | {ourWall:F2} | {peerWall:F2} | {ourWall / peerWall:F2} | {ourCpu / peerCpu:F2} | {ourRes.Max():G2} | {peerRes.Max():G2} | " +
               $"{MemoryBudget.Format(ours.GetProperty("peak_rss_bytes").GetInt64())} | {MemoryBudget.Format(peer.GetProperty("peak_rss_bytes").GetInt64())} |";
    }

    /// <summary>
    /// The accuracy of (w, b) on dataset k, the same code for both sides. Square and logistic: ‖∇(f/P)‖_∞ of
    /// f = Σ ℓ(u) + (λ/2)‖w‖², u = y(w·a + b). Hinge: (f − D)/f with D = Σβ − (λ/2)‖w_β‖², w_β = Σ β y a / λ.
    /// </summary>
    private static double Residual(string est, int n, string dir, int k, double[] theta, double[]? beta)
    {
        var a = Npy.Read(Path.Combine(dir, $"a{k}.npy"));
        var y = Npy.Read(Path.Combine(dir, $"y{k}.npy"));
        int p = y.Length;
        var la = LinearAlgebra.Current;
        var w = theta.AsSpan(0, n);
        double b = theta[n];
        var u = new double[p];
        la.Gemv(false, p, n, 1, a, w, 0, u);
        for (int mu = 0; mu < p; mu++) u[mu] = y[mu] * (u[mu] + b);
        double ww = Kernels.Dot(w, w);
        if (est == "hinge")
        {
            double f = 0.5 * Lambda * ww;
            foreach (var v in u) f += Math.Max(0, 1 - v);
            var coef = new double[p];
            for (int mu = 0; mu < p; mu++) coef[mu] = beta![mu] * y[mu] / Lambda;
            var wb = new double[n];
            la.Gemv(true, p, n, 1, a, coef, 0, wb);
            double d = beta!.Sum() - 0.5 * Lambda * Kernels.Dot(wb, wb);
            return (f - d) / f;
        }
        var c = new double[p];
        double gb = 0;
        for (int mu = 0; mu < p; mu++)
        {
            double d = est == "square" ? u[mu] - 1 : -1 / (1 + Math.Exp(u[mu])); // ℓ'(u) for ½(1 − u)² and log(1 + e^−u)
            c[mu] = d * y[mu];
            gb += c[mu];
        }
        var g = new double[n];
        la.Gemv(true, p, n, 1, a, c, 0, g);
        double r = Math.Abs(gb);
        for (int j = 0; j < n; j++) r = Math.Max(r, Math.Abs(g[j] + Lambda * w[j]));
        return r / p;
    }

    /// <summary>This side, as a child process: sample and solve S datasets through the Monte Carlo runner (as
    /// `flatminima simulate` does), write each (w, b) and print timings, the plan and the peak memory.</summary>
    public static int Child(string[] args)
    {
        string est = args[0];
        int n = int.Parse(args[1], CultureInfo.InvariantCulture), seeds = int.Parse(args[2], CultureInfo.InvariantCulture);
        double lambda = double.Parse(args[3], CultureInfo.InvariantCulture);
        var tol = args[4].Split(',').Select(t => double.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        string dir = args[5];
        var loss = MarginLosses.Parse(est);
        var kind = EstimatorKind.Erm(loss, lambda);
        var spec = Spec(n, 0);
        var sample = new double[seeds]; var solve = new double[seeds]; var iterations = new int[seeds];
        var plan = ParallelPlan.For(seeds, null, MixtureSample.Bytes(spec) + kind.WorkspaceBytes(spec), "benchmark");
        var clock = Stopwatch.StartNew();
        // "inside": one seed after another, every core inside each solve (the alternative the plan was chosen against).
        bool inside = Environment.GetEnvironmentVariable("FM_BENCH_PLAN") == "inside";
        if (inside) plan = new ParallelPlan(1, Environment.ProcessorCount);
        Observables Measure(MixtureSample s)
        {
            int k = (int)s.Spec.Seed;
            sample[k] = clock.Elapsed.TotalSeconds; // when the worker got its dataset
            var sw = Stopwatch.StartNew();
            var sol = Erm.Fit(s, loss, lambda, new ErmOptions(Tolerance: tol[k % tol.Length]));
            solve[k] = sw.Elapsed.TotalSeconds; iterations[k] = sol.Iterations;
            Npy.Write(Path.Combine(dir, $"our_w{k}.npy"), [.. sol.Classifier.W, sol.Classifier.B], n + 1, 0, 1);
            if (sol.DualCoefficients is { } beta) Npy.Write(Path.Combine(dir, $"our_beta{k}.npy"), beta, beta.Length, 0, 1);
            var o = s.OverlapsOf(sol.Classifier.W);
            var u = s.Margins(sol.Classifier.W, sol.Classifier.B);
            return new Observables(GeneralizationError.Of(o.M, o.Q, sol.Classifier.B, Delta, Rho), MixtureSample.TrainErrorOfMargins(u),
                u.Average(loss.Value), o.M, o.Q, sol.Classifier.B);
        }
        MonteCarloResult result;
        if (inside)
            using (LinearAlgebra.UseSolveThreads(Environment.ProcessorCount))
                result = new MonteCarloResult(spec, [], Enumerable.Range(0, seeds).Select(k => Measure(MixtureSample.Sample(Spec(n, k)))).ToArray());
        else
            result = MonteCarlo.Run(spec, seeds, Measure, workspaceBytes: kind.WorkspaceBytes(spec));
        plan = result.Plan ?? plan; // the plan the runner used
        var json = new Dictionary<string, object?>
        {
            ["provider"] = LinearAlgebra.Current.Name, ["library"] = LinearAlgebra.Current.Library,
            ["plan"] = $"{plan.Workers} seeds at once x {plan.ThreadsPerSolve} threads",
            ["sample_seconds"] = sample, ["total_seconds"] = clock.Elapsed.TotalSeconds, ["solve_seconds"] = solve, ["iterations"] = iterations,
            ["test_error"] = result.TestError.Mean, ["peak_rss_bytes"] = PeakRss(),
            ["cpu_seconds"] = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds,
        };
        Console.WriteLine(JsonSerializer.Serialize(json));
        return 0;
    }

    private static long PeakRss()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return -1;
    }

    private static (double Seconds, string Stdout) RunProcess(string file, string[] args, Dictionary<string, string?>? env)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null)
            foreach (var (k, v) in env)
                if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var errTask = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        double seconds = sw.Elapsed.TotalSeconds;
        string err = errTask.Result;
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {err.Trim()}");
        return (seconds, output.Trim().Split('\n').Last());
    }

    private static string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";
    private static string Str(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    private static string Join(JsonElement e) => string.Join(", ", e.EnumerateArray().Select(v => v.GetDouble().ToString("G3", CultureInfo.InvariantCulture)));
    private static string Join(double[] v) => string.Join(", ", v.Select(x => x.ToString("G2", CultureInfo.InvariantCulture)));

    private sealed record Options(int[] Ns, string[] Estimators, int Repeats, int Seeds, double LogisticTol, double HingeTol,
        double HingeScaling)
    {
        public static Options Parse(string[] args)
        {
            var o = new Options([1000, 2000, 4000, 8000], ["square", "logistic", "hinge"], 1, 2, 1e-8, 1e-6, 1);
            for (int i = 0; i + 1 < args.Length; i += 2)
            {
                string v = args[i + 1];
                double D() => double.Parse(v, CultureInfo.InvariantCulture);
                o = args[i] switch
                {
                    "--n" => o with { Ns = v.Split(',').Select(int.Parse).ToArray() },
                    "--estimators" => o with { Estimators = v.Split(',') },
                    "--repeats" => o with { Repeats = int.Parse(v, CultureInfo.InvariantCulture) },
                    "--seeds" => o with { Seeds = int.Parse(v, CultureInfo.InvariantCulture) },
                    "--logistic-tol" => o with { LogisticTol = D() },
                    "--hinge-tol" => o with { HingeTol = D() },
                    "--hinge-scaling" => o with { HingeScaling = D() },
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }
            return o;
        }
    }
}

/// <summary>Minimal .npy (version 1.0, little-endian float64, C order) reader and writer.</summary>
internal static class Npy
{
    /// <summary>Writes rows × cols values (cols = 0: a vector of length rows), each multiplied by <paramref name="scale"/>.</summary>
    public static void Write(string path, double[] data, int rows, int cols, double scale)
    {
        string shape = cols == 0 ? $"({rows},)" : $"({rows}, {cols})";
        string header = $"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        fs.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        fs.Write(BitConverter.GetBytes((ushort)header.Length));
        fs.Write(Encoding.ASCII.GetBytes(header));
        long count = cols == 0 ? rows : (long)rows * cols;
        var buf = new byte[1 << 20];
        for (long i = 0; i < count;)
        {
            int m = (int)Math.Min(buf.Length / 8, count - i);
            for (int j = 0; j < m; j++) BitConverter.TryWriteBytes(buf.AsSpan(8 * j), data[i + j] * scale);
            fs.Write(buf, 0, 8 * m);
            i += m;
        }
    }

    /// <summary>Reads all values of a float64 .npy file.</summary>
    public static double[] Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int headerLen = BitConverter.ToUInt16(bytes, 8);
        string header = Encoding.ASCII.GetString(bytes, 10, headerLen);
        if (!header.Contains("'<f8'") || header.Contains("'fortran_order': True"))
            throw new InvalidDataException($"{path}: expected little-endian float64 in C order, header {header.Trim()}");
        int start = 10 + headerLen;
        var data = new double[(bytes.Length - start) / 8];
        Buffer.BlockCopy(bytes, start, data, 0, data.Length * 8);
        return data;
    }
}
