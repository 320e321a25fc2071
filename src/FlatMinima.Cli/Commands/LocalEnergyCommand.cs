using System.Diagnostics;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Flatness;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima local-energy</c>: training error under multiplicative weight noise, theory (LE2/LE3) or finite N (LE1).</summary>
public sealed class LocalEnergyCommand : ICommand
{
    public string Name => "local-energy";
    public string Summary => "local energy E_sigma of BO, ERM or max-flatness estimators: theory (LE2, LE3) or exact finite N (LE1)";
    public string Usage =>
        "usage: flatminima local-energy --estimator bayes|square|logistic|hinge|maxflat --alpha A --delta D [--rho R]\n" +
        "                               [--lambda L] --sigma LIST [--theory | --n N --seeds S] [--perturb-bias] [--draws M]\n" +
        "                               [--json] [--out FILE.csv]\n\n" +
        "  --estimator E    bayes (E2), ERM with a loss (needs --lambda), or maxflat (see --flat-sigma and the maxflat options)\n" +
        CommonOptions.MixtureUsage +
        "  --lambda L       ridge lambda for ERM estimators\n" +
        "  --sigma LIST     multiplicative noise scales, e.g. 0,0.1,0.3,1\n" +
        "  --theory         N -> infinity: (LE2) for bayes, (LE3) from the replica fixed point for ERM\n" +
        "  --n N, --seeds S finite N (default 1000, 4 datasets): exact (LE1) on each training set, mean and s.e.\n" +
        "  --seed K         first dataset seed (default 0)\n" +
        "  --perturb-bias   also perturb the bias, b -> b(1 + sigma zeta_b) (finite N only)\n" +
        "  --draws M        also estimate by brute-force Monte Carlo over M noise draws per dataset (finite N only)\n" +
        "  --flat-sigma S   for --estimator maxflat: the flatness scale of the max-flatness fit (default 30)\n" +
        FlatnessOptions.MaxFlatUsage +
        "  --json           one JSON object: sigma, local_energy (aligned with sigma), delta_e, test_error, cosine_bo, ...\n" +
        "  --out FILE.csv   one row per sigma\n";

    public int Run(Args a, CommandContext ctx)
    {
        string est = a.Choice("estimator", ["bayes", "square", "logistic", "hinge", "maxflat"]);
        var model = CommonOptions.Model(a);
        double alpha = model.Alpha, delta = model.Delta, rho = model.Rho;
        var sig = FlatnessOptions.List(a, "sigma");
        foreach (var s in sig) Guard.NonNegative(s, "sigma");
        bool theory = a.Flag("theory");
        bool json = a.Flag("json");
        string? outFile = a.OptionalString("out");
        double? lambda = est is "bayes" or "maxflat" ? null : a.Double("lambda");
        if (est is "bayes" or "maxflat" && a.Has("lambda")) throw new UsageException("--lambda applies to ERM estimators.");
        var result = new Dictionary<string, object?> { ["estimator"] = est, ["alpha"] = alpha, ["delta"] = delta, ["rho"] = rho, ["lambda"] = lambda, ["sigma"] = sig };
        var clock = Stopwatch.StartNew();
        double[] le;
        double[]? se = null, mc = null, mcse = null;
        if (theory)
        {
            foreach (var o in new[] { "n", "seeds", "perturb-bias", "draws", "flat-sigma" })
                if (a.Has(o)) throw new UsageException($"--{o} applies to finite-N runs, not to --theory.");
            a.EnsureAllUsed();
            result["mode"] = "theory";
            if (est == "bayes")
            {
                le = LocalEnergy.BayesOptimalTheory(model, sig);
                result["test_error"] = BayesOptimal.Error(model);
                result["cosine_bo"] = 1.0;
            }
            else if (est == "maxflat") throw new UsageException("--theory is not available for maxflat (its large-scale limit is the bayes estimator; docs/theory.md#max-flatness).");
            else
            {
                var fp = ErmSaddlePoint.Solve(new ErmProblem(Losses.MarginLosses.Parse(est), model, lambda!.Value));
                le = LocalEnergy.ErmTheory(fp, sig);
                result["test_error"] = fp.TestError;
                result["cosine_bo"] = HebbianOverlap.ErmCosine(fp);
                result["m"] = fp.M; result["q"] = fp.Q; result["bias"] = fp.Bias;
            }
        }
        else
        {
            int n = a.Int("n", 1000);
            int seeds = CommonOptions.Seeds(a, 4);
            long seed0 = a.Long("seed", 0);
            bool pb = a.Flag("perturb-bias");
            int draws = a.Int("draws", 0);
            double flatSigma = a.Double("flat-sigma", 30);
            var mf = est == "maxflat" ? FlatnessOptions.MaxFlat(a) with { Sigma = flatSigma } : null;
            int? threads = CommonOptions.Threads(a);
            a.EnsureAllUsed();
            var spec = new MixtureSpec(model, n, seed0);
            MonteCarloResult<(double[] Exact, double[]? Sampled, double TestError, double CosineBo)> runs;
            using (var progress = new Progress(ctx, $"local-energy {est} N={n}", seeds))
                runs = MonteCarlo.Run(spec, seeds, sample =>
                {
                    LinearClassifier c = est switch
                    {
                        "bayes" => BayesOptimal.Fit(sample),
                        "maxflat" => MaxFlatness.Fit(sample, mf).Classifier,
                        _ => Erm.Fit(sample, Losses.MarginLosses.Parse(est), lambda!.Value).Classifier,
                    };
                    var h = sample.Hebbian();
                    return (LocalEnergy.Exact(sample, c.W, c.B, sig, pb),
                        draws >= 2 ? sig.Select(s => LocalEnergy.MonteCarlo(sample, c.W, c.B, s, draws, sample.Spec.Seed, pb).Mean).ToArray() : null,
                        sample.TestError(c.W, c.B),
                        Kernels.Dot(c.W, h) / Math.Sqrt(Kernels.Norm2(c.W) * Kernels.Norm2(h)));
                }, threads, progress.Tick);
            var exact = runs.OfEach(r => r.Exact);
            le = exact.Select(st => st.Mean).ToArray(); se = exact.Select(st => st.StdError).ToArray();
            if (draws >= 2)
            {
                var sampled = runs.OfEach(r => r.Sampled!);
                mc = sampled.Select(st => st.Mean).ToArray(); mcse = sampled.Select(st => st.StdError).ToArray();
            }
            result["mode"] = "simulation"; result["n"] = n; result["seeds"] = seeds; result["seed"] = seed0; result["perturb_bias"] = pb;
            result["linear_algebra"] = runs.LinearAlgebra?.ToJson();
            var tst = runs.Of(r => r.TestError); var cst = runs.Of(r => r.CosineBo);
            result["test_error"] = tst.Mean; result["test_error_se"] = tst.StdError;
            result["cosine_bo"] = cst.Mean; result["cosine_bo_se"] = cst.StdError;
        }
        clock.Stop();
        result["local_energy"] = le;
        if (se is not null) result["local_energy_se"] = se;
        if (mc is not null) { result["local_energy_mc"] = mc; result["local_energy_mc_se"] = mcse; }
        double e0 = sig.Contains(0) ? le[Array.IndexOf(sig, 0.0)] : double.NaN;
        result["delta_e"] = double.IsNaN(e0) ? null : le.Select(x => x - e0).ToArray();
        result["wall_seconds"] = clock.Elapsed.TotalSeconds;
        if (outFile is not null)
            FlatnessOptions.WriteCsv(outFile, sig.Select((s, i) => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?>
            {
                ["sigma"] = s, ["local_energy"] = le[i], ["local_energy_se"] = se?[i], ["delta_e"] = double.IsNaN(e0) ? null : le[i] - e0,
                ["local_energy_mc"] = mc?[i], ["test_error"] = result["test_error"], ["cosine_bo"] = result["cosine_bo"],
            }).ToList());
        if (json) { Output.WriteJson(ctx.Out, result); return 0; }
        ctx.Out.WriteLine($"local energy of {est}, alpha = {alpha:G6}, Delta = {delta:G6}, rho = {rho:G6} ({result["mode"]}); " +
                          $"test error {Output.Num((double)result["test_error"]!, "F5")}, cos with BO {Output.Num((double)result["cosine_bo"]!, "F4")}");
        ctx.Out.Write(Output.Table(["sigma", "E_sigma", "delta E"], sig.Select((s, i) => (IReadOnlyList<string>)
            [Output.Num(s), se is null ? Output.Num(le[i], "F5") : Output.Pm(le[i], se[i]), double.IsNaN(e0) ? "—" : Output.Num(le[i] - e0, "F5")])));
        return 0;
    }
}
