using System.Diagnostics;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Estimators;
using FlatMinima.Flatness;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima local-entropy</c>: Franz–Parisi local entropy of the 0-1 loss (replica theory or sampling), or the
/// local free entropy (F1) around an estimator by Langevin/Metropolis sampling and thermodynamic integration.</summary>
public sealed class LocalEntropyCommand : ICommand
{
    public string Name => "local-entropy";
    public string Summary => "local entropy: Franz-Parisi (replica or sampling) vs distance, or local free entropy F(w; beta, gamma)";
    public string Usage =>
        "usage: flatminima local-entropy [--kind franz-parisi] --alpha A --delta D [--rho R] --beta B --reference-cosine LIST\n" +
        "                                --overlap LIST [--theory | --n N --seeds S --sweeps K] [--json] [--out FILE.csv]\n" +
        "       flatminima local-entropy --kind free-entropy --around bayes|square|logistic|hinge [--lambda L] --loss error|square|logistic\n" +
        "                                --alpha A --delta D [--rho R] --n N --beta B [--gamma LIST] [--chains C] [--sweeps K] [--json] [--out FILE.csv]\n\n" +
        CommonOptions.MixtureUsage +
        "  --kind K         franz-parisi (default): error-counting local entropy around references at cosine c with the BO direction,\n" +
        "                   on the sphere at overlap R (distance 2(1-R)); free-entropy: F1 around an estimator\n" +
        "  --beta B         inverse temperature (default 2 for franz-parisi, 1 for free-entropy)\n" +
        "  --reference-cosine LIST   cosines of the references with the BO direction (default 1)\n" +
        "  --overlap LIST   overlaps R in (-1, 1) with the reference\n" +
        "  --theory         replica-symmetric saddle point (franz-parisi), with its replicon eigenvalue ('replicon', normalised\n" +
        "                   to 1 at beta = 0) and 'rs_stable' (replicon > 0); otherwise also Monte Carlo on --seeds datasets of size --n\n" +
        "  --n N            input dimension (franz-parisi sampling default 120; free-entropy default 100)\n" +
        "  --seeds S        datasets (franz-parisi sampling, default 6)\n" +
        "  --sweeps K       measured Monte Carlo sweeps (default 150 franz-parisi, 200 free-entropy); burn-in = K/2\n" +
        "  --around E       free-entropy reference: bayes or an ERM estimator (needs --lambda)\n" +
        "  --loss L         free-entropy energy: error (0-1, Metropolis) | square | logistic (MALA) (default error)\n" +
        "  --ridge L        ridge of the free-entropy energy for smooth losses (default 0)\n" +
        "  --gamma LIST     coupling grid (default 13 points log-spaced 1..1000)\n" +
        "  --chains C       chains per gamma (default 4)\n" +
        "  --json, --out FILE.csv\n";

    public int Run(Args a, CommandContext ctx)
    {
        string kind = a.Choice("kind", ["franz-parisi", "free-entropy"], "franz-parisi");
        return kind == "franz-parisi" ? RunFranzParisi(a, ctx) : RunFreeEntropy(a, ctx);
    }

    private static int RunFranzParisi(Args a, CommandContext ctx)
    {
        var model = CommonOptions.Model(a);
        double alpha = model.Alpha, delta = model.Delta, rho = model.Rho;
        double beta = Guard.NonNegative(a.Double("beta", 2), "beta");
        var cosines = a.DoubleList("reference-cosine") ?? [1.0];
        var overlaps = FlatnessOptions.List(a, "overlap");
        bool theory = a.Flag("theory");
        int n = a.Int("n", 120), seeds = CommonOptions.Seeds(a, 6), sweeps = a.Int("sweeps", 150);
        long seed0 = a.Long("seed", 0);
        bool json = a.Flag("json");
        string? outFile = a.OptionalString("out");
        a.EnsureAllUsed();
        var rows = new List<IReadOnlyDictionary<string, object?>>();
        var clock = Stopwatch.StartNew();
        foreach (var c in cosines)
        {
            var pr = new FranzParisiProblem(model, beta, c);
            foreach (var r in overlaps)
            {
                var pt = FranzParisiLocalEntropy.Solve(pr, r);
                var row = new Dictionary<string, object?>
                {
                    ["reference_cosine"] = c, ["overlap"] = r, ["distance"] = 2 * (1 - r),
                    ["theory_excess"] = pt.Excess, ["theory_free_entropy"] = pt.FreeEntropy, ["volume"] = pt.Volume,
                    ["theory_train_error"] = pt.TrainError, ["converged"] = pt.Converged,
                    ["replicon"] = pt.Replicon, ["rs_stable"] = pt.RsStable,
                    ["reference_train_error"] = FranzParisiLocalEntropy.ReferenceTrainError(pr),
                    ["reference_test_error"] = FranzParisiLocalEntropy.ReferenceTestError(pr),
                };
                if (!theory)
                {
                    var sim = FranzParisiLocalEntropy.Sample(new MixtureSpec(model, n, seed0), c, r, beta, seeds, sweeps, sweeps / 2);
                    row["sim_excess"] = sim.Excess; row["sim_excess_se"] = sim.StdError; row["sim_train_error"] = sim.TrainError;
                    row["sim_reference_train_error"] = sim.ReferenceTrainError;
                }
                rows.Add(row);
            }
        }
        var result = new Dictionary<string, object?>
        {
            ["kind"] = "franz-parisi", ["alpha"] = alpha, ["delta"] = delta, ["rho"] = rho, ["beta"] = beta,
            ["mode"] = theory ? "theory" : "theory+simulation", ["n"] = theory ? null : n, ["seeds"] = theory ? null : seeds,
            ["rows"] = rows, ["wall_seconds"] = clock.Elapsed.TotalSeconds,
        };
        if (outFile is not null) FlatnessOptions.WriteCsv(outFile, rows);
        if (json) { Output.WriteJson(ctx.Out, result); return 0; }
        ctx.Out.WriteLine($"Franz-Parisi local entropy of the 0-1 loss, alpha = {alpha:G6}, Delta = {delta:G6}, rho = {rho:G6}, beta = {beta:G6}");
        ctx.Out.WriteLine("excess = Phi(R) - (1/2) ln(1 - R^2) = (1/N) ln <exp(-beta E)> on the slice at overlap R (0 = perfectly flat)");
        ctx.Out.WriteLine("replicon = de Almeida-Thouless eigenvalue of the RS solution, normalised to 1 at beta = 0 (RS stable iff > 0; docs/theory.md#rs-stability)");
        ctx.Out.Write(Output.Table(["cos ref", "R", "excess (RS)", "excess (MC)", "train err (RS)", "ref train err", "replicon"],
            rows.Select(r => (IReadOnlyList<string>)[Output.Num((double)r["reference_cosine"]!), Output.Num((double)r["overlap"]!),
                Output.Num((double)r["theory_excess"]!, "F4"),
                r.ContainsKey("sim_excess") ? Output.Pm((double)r["sim_excess"]!, (double)r["sim_excess_se"]!) : "—",
                Output.Num((double)r["theory_train_error"]!, "F4"), Output.Num((double)r["reference_train_error"]!, "F4"),
                Output.Num((double)r["replicon"]!, "F3") + ((double)r["replicon"]! <= 0 ? " (RS unstable)" : "")])));
        return 0;
    }

    private static int RunFreeEntropy(Args a, CommandContext ctx)
    {
        string around = a.Choice("around", ["bayes", "square", "logistic", "hinge"]);
        double? lambda = around == "bayes" ? null : a.Double("lambda");
        string lossName = a.Choice("loss", ["error", "square", "logistic"], "error");
        double ridge = a.Double("ridge", 0);
        var spec = CommonOptions.Mixture(a, 100);
        double beta = a.Double("beta", 1);
        var gammas = a.DoubleList("gamma");
        int chains = a.Int("chains", 4), sweeps = a.Int("sweeps", 200);
        bool json = a.Flag("json");
        string? outFile = a.OptionalString("out");
        a.EnsureAllUsed();
        var sample = MixtureSample.Sample(spec);
        LinearClassifier c = around == "bayes" ? BayesOptimal.Fit(sample) : Erm.Fit(sample, MarginLosses.Parse(around), lambda!.Value).Classifier;
        var opt = new LocalEntropyOptions(beta, gammas, chains, sweeps, sweeps / 2, spec.Seed);
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
            FlatnessOptions.WriteCsv(outFile, res.Gammas.Select((g, i) => (IReadOnlyDictionary<string, object?>)new Dictionary<string, object?>
            { ["gamma"] = g, ["psi"] = res.Profile[i], ["psi_se"] = res.ProfileStdError[i], ["mean_distance2"] = res.MeanDistance2[i] }).ToList());
        if (json) { Output.WriteJson(ctx.Out, result); return 0; }
        ctx.Out.WriteLine($"local free entropy psi(gamma) = F/N - (1/2) ln(2 pi/(beta gamma)) around {around}, loss {lossName}, beta = {beta:G6}, N = {spec.N}");
        ctx.Out.Write(Output.Table(["gamma", "psi", "<|w - w~|^2>/N"], res.Gammas.Select((g, i) => (IReadOnlyList<string>)
            [Output.Num(g), Output.Pm(res.Profile[i], res.ProfileStdError[i]), Output.Num(res.MeanDistance2[i])])));
        return 0;
    }
}
