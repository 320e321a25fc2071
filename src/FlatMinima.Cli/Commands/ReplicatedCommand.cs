using System.CommandLine;
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
public sealed class ReplicatedCommand : CliCommand
{
    private readonly Option<string> _loss = CommonOptions.Loss(description: "the loss (the finite-N solver is for the square loss; the theory takes any shipped loss)");
    private readonly ModelOptions _model = new();
    private readonly Option<int> _y = Opt.Int("--y", "Y", "number of replicas y", range: "[1, inf)");
    private readonly Option<double?> _distance = Opt.OptionalReal("--distance", "d",
        "fixed squared distance per component ‖w^a − centre‖²/N (replicas outside the centre's sphere)", "none (give --distance or --gamma)", "(0, inf)");
    private readonly Option<double?> _gamma = Opt.OptionalReal("--gamma", "g", "coupling γ", "none (give --distance or --gamma)", "(0, inf)");
    private readonly Option<double> _norm = Opt.Real("--norm", "Q", "the centre's squared norm per component", 1.0, "(0, inf)");
    private readonly Option<bool> _theory = Opt.Flag("--theory", "zero-temperature replica-symmetric saddle point (the default without --n)");
    private readonly Option<double?> _betaY = Opt.OptionalReal("--beta-y", "B",
        "also the finite-temperature centre at β·y = B (theory, with --gamma): the errors of its thermal mean and of a sample, and the " +
        "replicon eigenvalue of that RS solution ('replicon', 1 at β·y = 0; 'rs_stable' when > 0; docs/theory.md#rs-stability)", "none", "(0, inf)");
    private readonly Option<int?> _n = Opt.OptionalInt("--n", "N", "finite-N coupled gradient descent instead, at input dimension N", "none (theory)", "[10, inf)");
    private readonly Option<int> _seeds = CommonOptions.Seeds(4, min: 2, description: "datasets of the finite-N descent");
    private readonly Option<long> _seed = CommonOptions.Seed("first seed (finite N)");
    private readonly Option<int?> _threads = CommonOptions.Threads();
    private readonly Option<bool> _json = CommonOptions.Json();

    public ReplicatedCommand() : base("replicated", "y replicas coupled to a centre at fixed norm (robust ensemble, square loss): centre's errors and overlaps")
    {
        Add(_loss);
        Add(_model.All);
        Add(_y, _distance, _gamma, _norm, _theory, _betaY, _n, _seeds, _seed, _threads, _json);
        ExactlyOne(_distance, _gamma);
        Exclusive(_theory, _n);
    }

    public override IReadOnlyList<string> Usage =>
        ["--loss square --alpha A --delta D [--rho R] --y Y (--distance d | --gamma g) [--norm Q] [--theory | --n N --seeds S [--seed K]] [--json]"];

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        var loss = MarginLosses.Parse(p.Value(_loss));
        var model = _model.Read(p);
        int y = p.Value(_y);
        double? d = p.GetValue(_distance), g = p.GetValue(_gamma);
        double norm = p.Value(_norm);
        double? betaY = p.GetValue(_betaY);
        int? n = p.GetValue(_n);
        int seeds = p.Value(_seeds);
        long seed = p.Value(_seed);
        int? threads = p.GetValue(_threads);
        bool json = p.Value(_json);
        if (n is not null)
        {
            if (!ReplicatedSphereDescent.Supports(loss)) throw new UsageException("--n: the finite-N replicated solver supports --loss square only.");
            if (betaY is not null) throw new UsageException("--beta-y is a theory option; the finite-N solver is at zero temperature.");
        }
        else if (betaY is not null && g is null)
            throw new UsageException("--beta-y needs --gamma (the finite-temperature centre is parametrised by the coupling).");
        var problem = new ReplicatedProblem(loss, model, y, norm, g ?? double.NaN, d ?? double.NaN);
        return () =>
        {
            var fp = ReplicatedSaddlePoint.Solve(problem);
            var row = new Dictionary<string, object?>
            {
                ["loss"] = loss.Name, ["alpha"] = model.Alpha, ["delta"] = model.Delta, ["rho"] = model.Rho, ["y"] = y, ["norm"] = norm,
                ["gamma"] = fp.Gamma, ["distance"] = fp.Distance,
            };
            if (n is null)
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
                    var t = ThermalReplicatedSaddlePoint.Solve(model, by, norm, g!.Value);
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
                if (!(fp.Gamma > 0)) throw new UsageException($"the distance {d} needs a repulsive coupling (gamma = {fp.Gamma:G4}); choose a smaller distance.");
                var runs = ctx.WithProgress($"replicated N={n}", seeds, tick => MonteCarlo.Run(new MixtureSpec(model, n.Value, seed), seeds, s =>
                {
                    var r = ReplicatedSphereDescent.Fit(s, y, norm, fp.Gamma, seed: s.Spec.Seed);
                    var o = s.OverlapsOf(r.Center.W);
                    return (Eg: GeneralizationError.Of(o.M, o.Q, r.Center.B, model.Delta, model.Rho), Et: s.TrainError(r.Center.W, r.Center.B), o.M, o.Q, B: r.Center.B,
                        D: r.Distance, Ov: r.ReplicaOverlap, Ok: r.Converged);
                }, threads, tick));
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
            ctx.Out.WriteLine($"replicated {loss.Name}: alpha={model.Alpha:G6} delta={model.Delta:G6} rho={model.Rho:G6} y={y} Q={norm:G6} " +
                              (d is { } dd ? $"distance={dd:G6}" : $"gamma={g:G6}") + (n is { } nn ? $"; N = {nn}, {seeds} datasets" : "; theory (N -> infinity, T = 0)"));
            ctx.Table(["quantity", "value"], row
                .Where(kv => kv.Value is double or int or bool)
                .Select(kv => (IReadOnlyList<string>)[kv.Key, Output.Cell(kv.Value, "G6")]));
            return 0;
        };
    }
}
