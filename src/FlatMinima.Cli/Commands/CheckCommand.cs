using FlatMinima.Cli.Infrastructure;
using FlatMinima.Experiments;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima check</c>: replica theory against finite-N ERM simulations, with z-scores.</summary>
public sealed class CheckCommand : ICommand
{
    public string Name => "check";
    public string Summary => "replica theory vs finite-N ERM simulation: each observable with s.e., z-score, verdict";
    public string Usage =>
        "usage: flatminima check --loss square|logistic|hinge --alpha A --delta D (--lambda L | --penalty sphere --norm Q) [--rho R]\n" +
        "                        [--n N] [--seeds S] [--seed K] [--threads T] [--allowance C] [--json]\n" +
        "       flatminima check ... --finite-size N1,N2,N3[,...] [--seeds S] [--form 1/n|1/sqrt(n)] [--confidence C] [--out DIR] [--json]\n\n" +
        "  --loss NAME      square, logistic or hinge\n" +
        CommonOptions.MixtureUsage +
        ReplicaOptions.PenaltyUsage +
        "  --n N            input dimension N >= 10 (default 1000)\n" +
        "  --seeds S        datasets S >= 2 (default 8)\n" +
        "  --seed K         first seed (default 0)\n" +
        "  --threads T      parallel workers (default: all cores)\n" +
        "  --allowance C    finite-size allowance C*max(1,|theory|)/N added to 3 s.e. (default 2)\n" +
        "  --json           print one JSON object\n" +
        FiniteSizeCheck.Usage + "\n" +
        "Verdict 'agree' when every |sim - theory| <= 3 se + allowance (with --finite-size: when every extrapolated interval\n" +
        "contains the theory). Exit code 0 either way; 1 if a solver fails.\n";

    public int Run(Args a, CommandContext ctx)
    {
        var problem = ReplicaOptions.Problem(a);
        if (a.Has("finite-size")) return FiniteSizeCheck.Run(a, ctx, problem);
        int n = a.Int("n", 1000);
        if (n < 10) throw new UsageException($"--n must be an integer >= 10 (got {n}).");
        int seeds = a.Int("seeds", 8);
        if (seeds < 2) throw new UsageException($"--seeds must be an integer >= 2 (got {seeds}).");
        long seed = a.Long("seed", 0);
        int? threads = CommonOptions.Threads(a);
        double allowance = a.Double("allowance", TheoryCheck.DefaultAllowanceScale);
        if (!(allowance >= 0)) throw new UsageException($"--allowance must be >= 0 (got {allowance}).");
        bool json = a.Flag("json");
        a.EnsureAllUsed();

        TheoryCheckResult r;
        using (var progress = new Progress(ctx, $"check {problem.Loss.Name} N={n}", seeds))
            r = TheoryCheck.Erm(problem, n, seeds, seed, allowance, threads, progress.Tick);
        if (json)
        {
            var o = new Dictionary<string, object?>
            {
                ["loss"] = problem.Loss.Name, ["alpha"] = problem.Alpha, ["delta"] = problem.Delta, ["lambda"] = problem.Penalty.Strength,
                ["penalty"] = problem.Penalty.Name, ["norm"] = problem.Penalty.Norm,
                ["rho"] = problem.Rho, ["n"] = n, ["seeds"] = seeds, ["seed"] = seed, ["allowance_scale"] = allowance,
                ["verdict"] = r.Verdict, ["max_abs_z"] = r.MaxAbsZ,
                ["linear_algebra"] = r.Simulation.LinearAlgebra?.ToJson(),
            };
            foreach (var row in r.Rows)
                o[row.Observable] = new Dictionary<string, object?>
                {
                    ["theory"] = row.Theory, ["simulation"] = row.Simulation, ["se"] = row.StdError,
                    ["z"] = row.Z, ["allowance"] = row.Allowance, ["agrees"] = row.Agrees,
                };
            Output.WriteJson(ctx.Out, o);
            return 0;
        }
        ctx.Out.WriteLine($"{problem}; N = {n}, {seeds} datasets; allowance {allowance:G3}*max(1,|theory|)/N");
        ctx.Out.Write(Output.Table(["observable", "theory", "simulation ± s.e.", "z", "agrees"],
            r.Rows.Select(x => (IReadOnlyList<string>)[x.Observable, Output.Num(x.Theory, "G6"), Output.Pm(x.Simulation, x.StdError),
                Output.Num(x.Z, "F2"), x.Agrees ? "yes" : "NO"])));
        ctx.Out.WriteLine($"verdict: {r.Verdict}");
        return 0;
    }
}
