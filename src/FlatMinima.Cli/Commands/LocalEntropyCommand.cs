using System.CommandLine;
using System.Diagnostics;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Flatness;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Storage;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima local-entropy</c>: Franz–Parisi local entropy of the 0-1 loss (replica theory or sampling), or the
/// local free entropy (F1) around an estimator by Langevin/Metropolis sampling and thermodynamic integration.</summary>
public sealed class LocalEntropyCommand : CliCommand
{
    private static readonly LocalEntropyOptions FreeDefaults = new();

    private readonly Option<string> _kind = Opt.Choice("--kind",
        "franz-parisi: error-counting local entropy around references at cosine c with the BO direction, on the sphere at overlap R " +
        "(distance 2(1-R)); free-entropy: the local free entropy (F1) around an estimator (docs/theory.md#f1)", ["franz-parisi", "free-entropy"], "franz-parisi");
    private readonly ModelOptions _model = new();
    private readonly Option<double?> _beta = Opt.OptionalReal("--beta", "B", "inverse temperature",
        $"2 (franz-parisi), {FreeDefaults.Beta} (free-entropy)", "[0, inf)");
    private readonly Option<int?> _n = Opt.OptionalInt("--n", "N", "input dimension", "120 (franz-parisi sampling), 100 (free-entropy)", "[1, inf)");
    private readonly Option<int?> _sweeps = Opt.OptionalInt("--sweeps", "K", "measured Monte Carlo sweeps; burn-in = K/2",
        $"150 (franz-parisi), {FreeDefaults.Sweeps} (free-entropy)", "[1, inf)");
    private readonly Option<long> _seed = CommonOptions.Seed("first seed (franz-parisi) or the seed of the dataset and the chains (free-entropy)");
    private readonly Option<bool> _json = CommonOptions.Json();
    private readonly Option<string?> _out = Opt.Text("--out", "FILE.csv", "one row per (cosine, overlap), or per gamma with free-entropy", defaultText: "none");

    // franz-parisi
    private readonly Option<double[]?> _cosines = Opt.Reals("--reference-cosine", "LIST", "cosines of the references with the BO direction", "1", "[0, 1]");
    private readonly Option<double[]?> _overlaps = Opt.Reals("--overlap", "LIST", "overlaps R with the reference (required)", "none", "(-1, 1)");
    private readonly Option<bool> _theory = Opt.Flag("--theory",
        "replica-symmetric saddle point only, with its replicon eigenvalue ('replicon', normalised to 1 at beta = 0) and 'rs_stable' " +
        "(replicon > 0; docs/theory.md#rs-stability); without it also Monte Carlo on --seeds datasets of size --n");
    private readonly Option<int> _seeds = CommonOptions.Seeds(6, description: "datasets of the sampling");

    // free-entropy
    private readonly Option<string> _around = Opt.Choice("--around", "the reference: bayes or an ERM estimator (needs --lambda)", EstimatorKind.Names, defaultText: "none (required)");
    private readonly Option<double?> _lambda = Opt.OptionalReal("--lambda", "L", "ridge λ of an ERM reference", "none (required by ERM references)", "[0, inf)");
    private readonly Option<string> _loss = Opt.Choice("--loss", "energy: error (0-1, Metropolis), square or logistic (MALA)", ["error", "square", "logistic"], "error");
    private readonly Option<double> _ridge = Opt.Real("--ridge", "L", "ridge of the energy of a smooth loss", 0, "[0, inf)");
    private readonly Option<double[]?> _gamma = Opt.Reals("--gamma", "LIST", "coupling grid, increasing", "13 points log-spaced over 1 … 1000", "(0, inf)");
    private readonly Option<int?> _chains = Opt.OptionalInt("--chains", "C", "chains per gamma", FreeDefaults.Chains.ToString(System.Globalization.CultureInfo.InvariantCulture), "[2, inf)");
    private readonly Option<bool> _exactLabels = Opt.Flag("--exact-labels", "exactly round(ρP) labels +1 (by default labels are i.i.d.)");

    public LocalEntropyCommand() : base("local-entropy", "local entropy: Franz-Parisi (replica or sampling) vs distance, or local free entropy F(w; beta, gamma)")
    {
        Add(_kind);
        Add(_model.All);
        Add(_beta, _n, _sweeps, _seed, _json, _out);
        Add(FranzParisi);
        Add(FreeEntropy);
    }

    private Option[] FranzParisi => [_cosines, _overlaps, _theory, _seeds];
    private Option[] FreeEntropy => [_around, _lambda, _loss, _ridge, _gamma, _chains, _exactLabels];

    public override IReadOnlyList<string> Usage =>
    [
        "[--kind franz-parisi] --alpha A --delta D [--rho R] --beta B [--reference-cosine LIST] --overlap LIST [--theory | --n N --seeds S --sweeps K] [--json] [--out FILE.csv]",
        "--kind free-entropy --around bayes|square|logistic|hinge [--lambda L] [--loss error|square|logistic] --alpha A --delta D [--rho R] [--n N] [--beta B] [--gamma LIST] [--chains C] [--sweeps K] [--json] [--out FILE.csv]",
    ];

    public override IReadOnlyList<OptionGroup> HelpGroups =>
    [
        new(null, [_kind, .. _model.All, _beta, _n, _sweeps, _seed, _json, _out]),
        new("--kind franz-parisi", FranzParisi),
        new("--kind free-entropy", FreeEntropy),
    ];

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        bool franzParisi = p.Value(_kind) == "franz-parisi";
        foreach (var o in franzParisi ? FreeEntropy : FranzParisi)
            if (p.Given(o)) throw new UsageException($"{o.Name} applies to --kind {(franzParisi ? "free-entropy" : "franz-parisi")}.");
        return franzParisi ? ConfigureFranzParisi(p, ctx) : ConfigureFreeEntropy(p, ctx);
    }

    private Execution ConfigureFranzParisi(ParseResult p, CommandContext ctx)
    {
        var model = _model.Read(p);
        double beta = p.GetValue(_beta) ?? 2;
        var cosines = p.ListOrNull(_cosines) ?? [1.0];
        var overlaps = p.ListOrNull(_overlaps) ?? throw new UsageException("--overlap is required (comma-separated list).");
        bool theory = p.Value(_theory);
        int n = p.GetValue(_n) ?? 120, seeds = p.Value(_seeds), sweeps = p.GetValue(_sweeps) ?? 150;
        long seed0 = p.Value(_seed);
        bool json = p.Value(_json);
        string? outFile = p.GetValue(_out);
        var problems = cosines.Select(c => new FranzParisiProblem(model, beta, c)).ToList();
        return () =>
        {
            var rows = new List<IReadOnlyDictionary<string, object?>>();
            var clock = Stopwatch.StartNew();
            ctx.WithProgress($"local-entropy franz-parisi{(theory ? "" : $" N={n}")}", problems.Count * overlaps.Length, tick =>
            {
                foreach (var pr in problems)
                    foreach (var r in overlaps)
                    {
                        var pt = FranzParisiLocalEntropy.Solve(pr, r);
                        var row = new Dictionary<string, object?>
                        {
                            ["reference_cosine"] = pr.ReferenceCosine, ["overlap"] = r, ["distance"] = 2 * (1 - r),
                            ["theory_excess"] = pt.Excess, ["theory_free_entropy"] = pt.FreeEntropy, ["volume"] = pt.Volume,
                            ["theory_train_error"] = pt.TrainError, ["converged"] = pt.Converged,
                            ["replicon"] = pt.Replicon, ["rs_stable"] = pt.RsStable,
                            ["reference_train_error"] = FranzParisiLocalEntropy.ReferenceTrainError(pr),
                            ["reference_test_error"] = FranzParisiLocalEntropy.ReferenceTestError(pr),
                        };
                        if (!theory)
                        {
                            var sim = FranzParisiLocalEntropy.Sample(new MixtureSpec(model, n, seed0), pr.ReferenceCosine, r, beta, seeds, sweeps, sweeps / 2);
                            row["sim_excess"] = sim.Excess; row["sim_excess_se"] = sim.StdError; row["sim_train_error"] = sim.TrainError;
                            row["sim_reference_train_error"] = sim.ReferenceTrainError;
                        }
                        rows.Add(row);
                        tick();
                    }
            });
            var result = new Dictionary<string, object?>
            {
                ["kind"] = "franz-parisi", ["alpha"] = model.Alpha, ["delta"] = model.Delta, ["rho"] = model.Rho, ["beta"] = beta,
                ["mode"] = theory ? "theory" : "theory+simulation", ["n"] = theory ? null : n, ["seeds"] = theory ? null : seeds,
                ["rows"] = rows, ["wall_seconds"] = clock.Elapsed.TotalSeconds,
            };
            if (outFile is not null) AtomicFile.WriteAllText(outFile, Csv.Text(rows));
            if (json) { Output.WriteJson(ctx.Out, result); return 0; }
            ctx.Out.WriteLine($"Franz-Parisi local entropy of the 0-1 loss, alpha = {model.Alpha:G6}, Delta = {model.Delta:G6}, rho = {model.Rho:G6}, beta = {beta:G6}");
            ctx.Out.WriteLine("excess = Phi(R) - (1/2) ln(1 - R^2) = (1/N) ln <exp(-beta E)> on the slice at overlap R (0 = perfectly flat)");
            ctx.Out.WriteLine("replicon = de Almeida-Thouless eigenvalue of the RS solution, normalised to 1 at beta = 0 (RS stable iff > 0; docs/theory.md#rs-stability)");
            ctx.Table(["cos ref", "R", "excess (RS)", "excess (MC)", "train err (RS)", "ref train err", "replicon"],
                rows.Select(r => (IReadOnlyList<string>)[Output.Num((double)r["reference_cosine"]!), Output.Num((double)r["overlap"]!),
                    Output.Num((double)r["theory_excess"]!, "F4"),
                    r.ContainsKey("sim_excess") ? Output.Pm((double)r["sim_excess"]!, (double)r["sim_excess_se"]!) : "—",
                    Output.Num((double)r["theory_train_error"]!, "F4"), Output.Num((double)r["reference_train_error"]!, "F4"),
                    Output.Num((double)r["replicon"]!, "F3") + ((double)r["replicon"]! <= 0 ? " (RS unstable)" : "")]));
            return 0;
        };
    }

    private Execution ConfigureFreeEntropy(ParseResult p, CommandContext ctx)
    {
        string around = p.GetValue(_around) ?? throw new UsageException("--around is required with --kind free-entropy.");
        if (around == "bayes" && p.Given(_lambda)) throw new UsageException("--lambda applies to ERM references, not to bayes.");
        double? lambda = around == "bayes" ? null : p.GetValue(_lambda) ?? throw new UsageException("--lambda is required for an ERM reference.");
        string lossName = p.Value(_loss);
        double ridge = p.Value(_ridge);
        var spec = new MixtureSpec(_model.Read(p), p.GetValue(_n) ?? 100, p.Value(_seed), ExactLabelCounts: p.Value(_exactLabels));
        double beta = p.GetValue(_beta) ?? FreeDefaults.Beta;
        int sweeps = p.GetValue(_sweeps) ?? FreeDefaults.Sweeps;
        var opt = new LocalEntropyOptions(beta, p.ListOrNull(_gamma), p.GetValue(_chains) ?? FreeDefaults.Chains, sweeps, sweeps / 2, spec.Seed);
        bool json = p.Value(_json);
        string? outFile = p.GetValue(_out);
        return () =>
        {
            var sample = MixtureSample.Sample(spec);
            LinearClassifier c = around == "bayes" ? BayesOptimal.Fit(sample) : Erm.Fit(sample, MarginLosses.Parse(around), lambda!.Value).Classifier;
            var clock = Stopwatch.StartNew();
            var res = LocalEntropy.Estimate(sample, c.W, c.B, lossName == "error" ? null : MarginLosses.Parse(lossName), ridge, opt);
            var result = new Dictionary<string, object?>
            {
                ["kind"] = "free-entropy", ["around"] = around, ["lambda"] = lambda, ["loss"] = lossName, ["ridge"] = ridge,
                ["alpha"] = spec.Alpha, ["delta"] = spec.Delta, ["rho"] = spec.Rho, ["n"] = spec.N, ["seed"] = spec.Seed, ["beta"] = beta,
                ["local_entropy"] = res.Value, ["local_entropy_se"] = res.StdError,
                ["gamma"] = res.Gammas, ["profile"] = res.Profile, ["profile_se"] = res.ProfileStdError,
                ["mean_distance2"] = res.MeanDistance2, ["reference_energy"] = res.ReferenceEnergy, ["tail"] = res.Tail,
                ["acceptance"] = res.Acceptance, ["test_error"] = sample.TestError(c.W, c.B), ["wall_seconds"] = clock.Elapsed.TotalSeconds,
            };
            if (outFile is not null)
                AtomicFile.WriteAllText(outFile, Csv.Text(res.Gammas.Select((g, i) => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?>
                { ["gamma"] = g, ["psi"] = res.Profile[i], ["psi_se"] = res.ProfileStdError[i], ["mean_distance2"] = res.MeanDistance2[i] }).ToList()));
            if (json) { Output.WriteJson(ctx.Out, result); return 0; }
            ctx.Out.WriteLine($"local free entropy psi(gamma) = F/N - (1/2) ln(2 pi/(beta gamma)) around {around}, loss {lossName}, beta = {beta:G6}, N = {spec.N}");
            ctx.Table(["gamma", "psi", "<|w - w~|^2>/N"], res.Gammas.Select((g, i) => (IReadOnlyList<string>)
                [Output.Num(g), Output.Pm(res.Profile[i], res.ProfileStdError[i]), Output.Num(res.MeanDistance2[i])]));
            return 0;
        };
    }
}
