using System.CommandLine;
using System.Diagnostics;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Flatness;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;
using FlatMinima.Storage;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima local-energy</c>: training error under multiplicative weight noise, theory (LE2/LE3) or finite N (LE1).</summary>
public sealed class LocalEnergyCommand : CliCommand
{
    private readonly Option<string> _estimator = Opt.Choice("--estimator",
        "bayes (E2), ERM with a loss (needs --lambda), or maxflat (see --flat-sigma and the max-flatness options)", [.. EstimatorKind.Names, "maxflat"]);
    private readonly ModelOptions _model = new();
    private readonly Option<double?> _lambda = Opt.OptionalReal("--lambda", "L", "ridge λ of the ERM estimators", "none (required by ERM estimators)", "[0, inf)");
    private readonly Option<double[]?> _sigma = Opt.Reals("--sigma", "LIST", "multiplicative noise scales, e.g. 0,0.1,0.3,1", null, "[0, inf)", required: true);
    private readonly Option<bool> _theory = Opt.Flag("--theory", "N -> infinity: (LE2) for bayes, (LE3) from the replica fixed point for ERM (docs/theory.md#le)");
    private readonly Option<int> _n = CommonOptions.N(1000, description: "input dimension N of the finite-N runs: exact (LE1) on each training set, mean and s.e.");
    private readonly Option<int> _seeds = CommonOptions.Seeds(4);
    private readonly Option<long> _seed = CommonOptions.Seed("first dataset seed");
    private readonly Option<bool> _perturbBias = Opt.Flag("--perturb-bias", "also perturb the bias, b -> b(1 + σ ζ_b) (finite N only)");
    private readonly Option<int> _draws = Opt.Int("--draws", "M", "also estimate by brute-force Monte Carlo over M >= 2 noise draws per dataset (finite N only; 0: no)", 0, "[0, inf)");
    private readonly Option<double> _flatSigma = Opt.Real("--flat-sigma", "S", "for --estimator maxflat: the flatness scale of the max-flatness fit", 30, "(0, inf)");
    private readonly MaxFlatOptions _maxflat = new();
    private readonly Option<int?> _threads = CommonOptions.Threads();
    private readonly Option<bool> _json = CommonOptions.Json("one JSON object: sigma, local_energy (aligned with sigma), delta_e, test_error, cosine_bo, ...");
    private readonly Option<string?> _out = Opt.Text("--out", "FILE.csv", "one row per sigma", defaultText: "none");

    public LocalEnergyCommand() : base("local-energy", "local energy E_sigma of BO, ERM or max-flatness estimators: theory (LE2, LE3) or exact finite N (LE1)")
    {
        Add(_estimator);
        Add(_model.All);
        Add(_lambda, _sigma, _theory, _n, _seeds, _seed, _perturbBias, _draws, _flatSigma, _threads);
        Add(_maxflat.All);
        Add(_json, _out);
    }

    private Option[] FiniteNOnly => [_n, _seeds, _seed, _perturbBias, _draws, _flatSigma, _threads, .. _maxflat.All];

    public override IReadOnlyList<string> Usage =>
        ["--estimator bayes|square|logistic|hinge|maxflat --alpha A --delta D [--rho R] [--lambda L] --sigma LIST [--theory | --n N --seeds S] [--perturb-bias] [--draws M] [--json] [--out FILE.csv]"];

    public override IReadOnlyList<OptionGroup> HelpGroups =>
    [
        new(null, [_estimator, .. _model.All, _lambda, _sigma, _theory, _n, _seeds, _seed, _perturbBias, _draws, _flatSigma, _threads, _json, _out]),
        new("Max-flatness estimator (--estimator maxflat)", _maxflat.All),
    ];

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        string est = p.Value(_estimator);
        var model = _model.Read(p);
        var sig = p.GetValue(_sigma)!;
        bool theory = p.Value(_theory), json = p.Value(_json);
        string? outFile = p.GetValue(_out);
        bool erm = est is not ("bayes" or "maxflat");
        if (!erm && p.Given(_lambda)) throw new UsageException("--lambda applies to ERM estimators.");
        double? lambda = erm ? p.GetValue(_lambda) ?? throw new UsageException("--lambda is required for ERM estimators.") : null;
        var result = new Dictionary<string, object?> { ["estimator"] = est, ["alpha"] = model.Alpha, ["delta"] = model.Delta, ["rho"] = model.Rho, ["lambda"] = lambda, ["sigma"] = sig };
        Func<(double[] Le, double[]? Se, double[]? Mc, double[]? McSe)> compute;
        if (theory)
        {
            foreach (var o in FiniteNOnly)
                if (p.Given(o)) throw new UsageException($"{o.Name} applies to finite-N runs, not to --theory.");
            if (est == "maxflat") throw new UsageException("--theory is not available for maxflat (its large-scale limit is the bayes estimator; docs/theory.md#max-flatness).");
            var problem = erm ? new ErmProblem(Losses.MarginLosses.Parse(est), model, lambda!.Value) : null;
            compute = () =>
            {
                result["mode"] = "theory";
                if (problem is null)
                {
                    result["test_error"] = BayesOptimal.Error(model);
                    result["cosine_bo"] = 1.0;
                    return (LocalEnergy.BayesOptimalTheory(model, sig), null, null, null);
                }
                var fp = ErmSaddlePoint.Solve(problem);
                result["test_error"] = fp.TestError;
                result["cosine_bo"] = HebbianOverlap.ErmCosine(fp);
                result["m"] = fp.M; result["q"] = fp.Q; result["bias"] = fp.Bias;
                return (LocalEnergy.ErmTheory(fp, sig), null, null, null);
            };
        }
        else
        {
            int seeds = p.Value(_seeds);
            long seed0 = p.Value(_seed);
            bool pb = p.Value(_perturbBias);
            int draws = p.Value(_draws);
            if (est != "maxflat")
                foreach (var o in _maxflat.All.Append(_flatSigma))
                    if (p.Given(o)) throw new UsageException($"{o.Name} applies to --estimator maxflat.");
            var mf = est == "maxflat" ? _maxflat.Read(p, seed0) with { Sigma = p.Value(_flatSigma) } : null;
            var loss = erm ? Losses.MarginLosses.Parse(est) : null;
            int? threads = p.GetValue(_threads);
            var spec = new MixtureSpec(model, p.Value(_n), seed0);
            compute = () =>
            {
                var runs = ctx.WithProgress($"local-energy {est} N={spec.N}", seeds, tick => MonteCarlo.Run(spec, seeds, sample =>
                {
                    LinearClassifier c = est switch
                    {
                        "bayes" => BayesOptimal.Fit(sample),
                        "maxflat" => MaxFlatness.Fit(sample, mf).Classifier,
                        _ => Erm.Fit(sample, loss!, lambda!.Value).Classifier,
                    };
                    var h = sample.Hebbian();
                    return (LocalEnergy.Exact(sample, c.W, c.B, sig, pb),
                        draws >= 2 ? sig.Select(s => LocalEnergy.MonteCarlo(sample, c.W, c.B, s, draws, sample.Spec.Seed, pb).Mean).ToArray() : null,
                        sample.TestError(c.W, c.B),
                        Kernels.Dot(c.W, h) / Math.Sqrt(Kernels.Norm2(c.W) * Kernels.Norm2(h)));
                }, threads, tick));
                var exact = runs.OfEach(r => r.Item1);
                double[]? mc = null, mcse = null;
                if (draws >= 2)
                {
                    var sampled = runs.OfEach(r => r.Item2!);
                    mc = sampled.Select(st => st.Mean).ToArray(); mcse = sampled.Select(st => st.StdError).ToArray();
                }
                result["mode"] = "simulation"; result["n"] = spec.N; result["seeds"] = seeds; result["seed"] = seed0; result["perturb_bias"] = pb;
                result["linear_algebra"] = runs.LinearAlgebra?.ToJson();
                var tst = runs.Of(r => r.Item3); var cst = runs.Of(r => r.Item4);
                result["test_error"] = tst.Mean; result["test_error_se"] = tst.StdError;
                result["cosine_bo"] = cst.Mean; result["cosine_bo_se"] = cst.StdError;
                return (exact.Select(st => st.Mean).ToArray(), exact.Select(st => st.StdError).ToArray(), mc, mcse);
            };
        }
        return () =>
        {
            var clock = Stopwatch.StartNew();
            var (le, se, mc, mcse) = compute();
            clock.Stop();
            result["local_energy"] = le;
            if (se is not null) result["local_energy_se"] = se;
            if (mc is not null) { result["local_energy_mc"] = mc; result["local_energy_mc_se"] = mcse; }
            double e0 = sig.Contains(0) ? le[Array.IndexOf(sig, 0.0)] : double.NaN;
            result["delta_e"] = double.IsNaN(e0) ? null : le.Select(x => x - e0).ToArray();
            result["wall_seconds"] = clock.Elapsed.TotalSeconds;
            if (outFile is not null)
                AtomicFile.WriteAllText(outFile, Csv.Text(sig.Select((s, i) => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?>
                {
                    ["sigma"] = s, ["local_energy"] = le[i], ["local_energy_se"] = se?[i], ["delta_e"] = double.IsNaN(e0) ? null : le[i] - e0,
                    ["local_energy_mc"] = mc?[i], ["test_error"] = result["test_error"], ["cosine_bo"] = result["cosine_bo"],
                }).ToList()));
            if (json) { Output.WriteJson(ctx.Out, result); return 0; }
            ctx.Out.WriteLine($"local energy of {est}, alpha = {model.Alpha:G6}, Delta = {model.Delta:G6}, rho = {model.Rho:G6} ({result["mode"]}); " +
                              $"test error {Output.Num((double)result["test_error"]!, "F5")}, cos with BO {Output.Num((double)result["cosine_bo"]!, "F4")}");
            ctx.Table(["sigma", "E_sigma", "delta E"], sig.Select((s, i) => (IReadOnlyList<string>)
                [Output.Num(s), se is null ? Output.Num(le[i], "F5") : Output.Pm(le[i], se[i]), double.IsNaN(e0) ? "—" : Output.Num(le[i] - e0, "F5")]));
            return 0;
        };
    }
}
