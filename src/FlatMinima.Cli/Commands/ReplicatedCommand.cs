using FlatMinima.Cli.Infrastructure;
using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima replicated</c>: the replicated (robust-ensemble) square-loss ERM with a centre on the
/// sphere (docs/norms.md §3): zero-temperature saddle point, or finite-N coupled gradient descent.</summary>
public sealed class ReplicatedCommand : ICommand
{
    public string Name => "replicated";
    public string Summary => "y replicas coupled to a centre at fixed norm (robust ensemble, square loss): centre's errors and overlaps";
    public string Usage =>
        "usage: flatminima replicated --loss square --alpha A --delta D [--rho R] --y Y (--distance d | --gamma g)\n" +
        "                             [--norm Q] [--theory | --n N --seeds S [--seed K]] [--json]\n\n" +
        "  --loss NAME      square (the finite-N solver is for the square loss; the theory takes any shipped loss)\n" +
        CommonOptions.MixtureUsage +
        "  --y Y            number of replicas y >= 1\n" +
        "  --distance d     fixed squared distance per component |w^a - centre|^2/N > 0 (replicas outside the centre's sphere)\n" +
        "  --gamma g        coupling gamma > 0 (give exactly one of --distance and --gamma)\n" +
        "  --norm Q         the centre's squared norm per component, Q > 0 (default 1)\n" +
        "  --theory         zero-temperature replica-symmetric saddle point (default)\n" +
        "  --beta-y B       also the finite-temperature centre at beta*y = B > 0 (theory, with --gamma): the errors of its\n" +
        "                   thermal mean and of a sample, and the replicon eigenvalue of that RS solution ('replicon', 1 at\n" +
        "                   beta*y = 0; 'rs_stable' when > 0; docs/theory.md#rs-stability)\n" +
        "  --n N            finite-N coupled gradient descent instead, at input dimension N >= 10\n" +
        "  --seeds S        datasets S >= 2 (default 4)\n" +
        "  --seed K         first seed (default 0)\n" +
        "  --threads T      parallel workers over datasets (default: all cores; results do not depend on it)\n" +
        "  --json           print one JSON object\n";

    public int Run(Args a, CommandContext ctx)
    {
        var loss = MarginLosses.Parse(a.Choice("loss", MarginLosses.Names));
        var model = CommonOptions.Model(a);
        double alpha = model.Alpha, delta = model.Delta, rho = model.Rho;
        int y = a.Int("y");
        if (y < 1) throw new UsageException($"--y must be an integer >= 1 (got {y}).");
        bool hasD = a.Has("distance"), hasG = a.Has("gamma");
        if (hasD == hasG) throw new UsageException("give exactly one of --distance d and --gamma g.");
        double d = hasD ? a.Double("distance") : double.NaN, g = hasG ? a.Double("gamma") : double.NaN;
        double norm = a.Double("norm", 1.0);
        bool theory = a.Flag("theory");
        double? betaY = a.OptionalDouble("beta-y");
        bool sim = a.Has("n");
        if (theory && sim) throw new UsageException("give --theory or --n N, not both.");
        int n = sim ? a.Int("n") : 0;
        int seeds = a.Int("seeds", 4);
        long seed = a.Long("seed", 0);
        int? threads = CommonOptions.Threads(a);
        bool json = a.Flag("json");
        a.EnsureAllUsed();
        if (sim && n < 10) throw new UsageException($"--n must be an integer >= 10 (got {n}).");
        if (sim && seeds < 2) throw new UsageException($"--seeds must be an integer >= 2 (got {seeds}).");
        var problem = new ReplicatedProblem(loss, model, y, norm, g, d);
        var fp = ReplicatedSaddlePoint.Solve(problem);
        var row = new Dictionary<string, object?>
        {
            ["loss"] = loss.Name, ["alpha"] = alpha, ["delta"] = delta, ["rho"] = rho, ["y"] = y, ["norm"] = norm,
            ["gamma"] = fp.Gamma, ["distance"] = fp.Distance,
        };
        if (!sim)
        {
            row["mode"] = "theory";
            row["test_error"] = fp.TestError; row["train_error"] = fp.TrainError;
            row["m"] = fp.CenterM; row["q"] = fp.CenterQ; row["bias"] = fp.CenterBias;
            row["replica_m"] = fp.Replica.M; row["replica_q"] = fp.Replica.Q; row["replica_bias"] = fp.Replica.Bias;
            row["replica_center_overlap"] = fp.ReplicaCenterOverlap; row["replica_replica_overlap"] = fp.ReplicaReplicaOverlap;
            row["multiplier"] = fp.Replica.Multiplier;
            row["erm_same_norm_test_error"] = ErmSaddlePoint.Solve(new ErmProblem(loss, model, new FlatMinima.Penalties.SpherePenalty(norm))).TestError;
            row["bayes_optimal_error"] = BayesOptimal.Error(model);
            if (betaY is { } by)
            {
                if (!hasG) throw new UsageException("--beta-y needs --gamma (the finite-temperature centre is parametrised by the coupling).");
                var t = ThermalReplicatedSaddlePoint.Solve(model, by, norm, g);
                row["beta_y"] = by;
                row["thermal_mean_test_error"] = t.MeanTestError; row["thermal_sample_test_error"] = t.SampleTestError;
                row["thermal_kappa"] = t.Kappa; row["thermal_lambda"] = t.Replica.Multiplier;
                row["thermal_mean_m"] = t.MeanM; row["thermal_mean_q"] = t.MeanQ; row["thermal_bias"] = t.Bias;
                row["replicon"] = t.Replicon; row["rs_stable"] = t.RsStable;
            }
            row["converged"] = fp.Converged;
        }
        else
        {
            if (!ReplicatedSphereDescent.Supports(loss)) throw new UsageException("--n: the finite-N replicated solver supports --loss square only.");
            if (betaY is not null) throw new UsageException("--beta-y is a theory option; the finite-N solver is at zero temperature.");
            if (!(fp.Gamma > 0)) throw new UsageException($"the distance {d} needs a repulsive coupling (gamma = {fp.Gamma:G4}); choose a smaller distance.");
            var runs = MonteCarlo.Run(new MixtureSpec(model, n, seed), seeds, s =>
            {
                var r = ReplicatedSphereDescent.Fit(s, y, norm, fp.Gamma, seed: s.Spec.Seed);
                var o = s.OverlapsOf(r.Center.W);
                return (Eg: GeneralizationError.Of(o.M, o.Q, r.Center.B, delta, rho), Et: s.TrainError(r.Center.W, r.Center.B), o.M, o.Q, B: r.Center.B,
                    D: r.Distance, Ov: r.ReplicaOverlap, Ok: r.Converged);
            }, threads);
            Statistic St(Func<(double Eg, double Et, double M, double Q, double B, double D, double Ov, bool Ok), double> f) => runs.Of(f);
            row["mode"] = "simulation"; row["n"] = n; row["seeds"] = seeds; row["seed"] = seed;
            row["linear_algebra"] = runs.LinearAlgebra?.ToJson();
            void Put(string key, Statistic st, double th) { row[key] = st.Mean; row[key + "_se"] = st.StdError; row[key + "_theory"] = th; }
            Put("test_error", St(r => r.Eg), fp.TestError);
            Put("train_error", St(r => r.Et), fp.TrainError);
            Put("m", St(r => r.M), fp.CenterM);
            Put("q", St(r => r.Q), fp.CenterQ);
            Put("bias", St(r => r.B), fp.CenterBias);
            Put("distance_sim", St(r => r.D), fp.Distance);
            Put("replica_replica_overlap", St(r => r.Ov), fp.ReplicaReplicaOverlap);
            row["converged"] = runs.PerSeed.All(r => r.Ok);
        }
        if (json) { Output.WriteJson(ctx.Out, row); return 0; }
        ctx.Out.WriteLine($"replicated {loss.Name}: alpha={alpha:G6} delta={delta:G6} rho={rho:G6} y={y} Q={norm:G6} " +
                          (hasD ? $"distance={d:G6}" : $"gamma={g:G6}") + (sim ? $"; N = {n}, {seeds} datasets" : "; theory (N -> infinity, T = 0)"));
        ctx.Out.Write(Output.Table(["quantity", "value"], row
            .Where(kv => kv.Value is double or int or bool)
            .Select(kv => (IReadOnlyList<string>)[kv.Key, kv.Value is double dd ? Output.Num(dd, "G6") : kv.Value is bool bb ? (bb ? "true" : "false") : kv.Value!.ToString()!])));
        return 0;
    }
}
