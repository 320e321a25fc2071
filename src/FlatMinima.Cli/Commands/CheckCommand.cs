using System.CommandLine;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Experiments;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima check</c>: replica theory against finite-N ERM simulations, with z-scores; with
/// <c>--finite-size</c> the N → ∞ extrapolation (<see cref="FiniteSizeCheck"/>).</summary>
public sealed class CheckCommand : CliCommand
{
    private readonly ReplicaOptions.Problem _problem = new();
    private readonly Option<int> _n = CommonOptions.N(1000, min: 10);
    private readonly Option<int> _seeds = CommonOptions.Seeds(8, min: 2, description: "datasets (per size with --finite-size)");
    private readonly Option<long> _seed = CommonOptions.Seed("first seed (with --finite-size the master seed of every size)");
    private readonly Option<int?> _threads = CommonOptions.Threads();
    private readonly Option<double> _allowance = Opt.Real("--allowance", "C", "finite-size allowance C·max(1, |theory|)/N added to 3 s.e.",
        TheoryCheck.DefaultAllowanceScale, "[0, inf)");
    private readonly FiniteSizeCheck.Options _finite = new();
    private readonly Option<bool> _json = CommonOptions.Json();

    public CheckCommand() : base("check", "replica theory vs finite-N ERM simulation: each observable with s.e., z-score, verdict")
    {
        Add(_problem.All);
        Add(_n, _seeds, _seed, _threads, _allowance);
        Add(_finite.All);
        Add(_json);
        Exclusive(_finite.Sizes, _n, "the sizes are the ladder");
        Exclusive(_finite.Sizes, _allowance, "the extrapolation replaces it");
    }

    public override IReadOnlyList<string> Usage =>
    [
        "--loss square|logistic|hinge --alpha A --delta D (--lambda L | --penalty sphere --norm Q) [--rho R] [--n N] [--seeds S] [--seed K] [--threads T] [--allowance C] [--json]",
        "--loss ... --alpha A --delta D ... --finite-size N1,N2,N3[,...] [--seeds S] [--form 1/n|1/sqrt(n)] [--confidence C] [--out DIR] [--json]",
    ];

    public override IReadOnlyList<OptionGroup> HelpGroups =>
    [
        new(null, [.. _problem.All, _n, _seeds, _seed, _threads, _allowance, _json]),
        new("Finite-size extrapolation", _finite.All, "--finite-size replaces --n and --allowance; the other options apply to it only."),
    ];

    public override string Notes =>
        "Verdict 'agree' when every |sim - theory| <= 3 se + allowance (with --finite-size: when every extrapolated interval contains\n" +
        "the theory). Exit code 0 either way; 1 if a solver fails.";

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        var problem = _problem.Read(p);
        int seeds = p.Value(_seeds);
        long seed = p.Value(_seed);
        int? threads = p.GetValue(_threads);
        bool json = p.Value(_json);
        if (p.Given(_finite.Sizes)) return FiniteSizeCheck.Configure(p, _finite, ctx, problem, seeds, seed, threads, json);
        _finite.RejectWithoutSizes(p);
        int n = p.Value(_n);
        double allowance = p.Value(_allowance);
        return () =>
        {
            var r = ctx.WithProgress($"check {problem.Loss.Name} N={n}", seeds, tick => TheoryCheck.Erm(problem, n, seeds, seed, allowance, threads, tick));
            if (json)
            {
                var inputs = new Dictionary<string, object?>
                {
                    ["loss"] = problem.Loss.Name, ["alpha"] = problem.Alpha, ["delta"] = problem.Delta, ["lambda"] = problem.Penalty.Strength,
                    ["penalty"] = problem.Penalty.Name, ["norm"] = problem.Penalty.Norm,
                    ["rho"] = problem.Rho, ["n"] = n, ["seeds"] = seeds, ["seed"] = seed, ["allowance_scale"] = allowance,
                };
                Output.WriteJson(ctx.Out, r.ToRow(inputs));
                return 0;
            }
            ctx.Out.WriteLine($"{problem}; N = {n}, {seeds} datasets; allowance {allowance:G3}*max(1,|theory|)/N");
            ctx.Table(["observable", "theory", "simulation ± s.e.", "z", "agrees"],
                r.Rows.Select(x => (IReadOnlyList<string>)[x.Observable, Output.Num(x.Theory, "G6"), Output.Pm(x.Simulation, x.StdError),
                    Output.Num(x.Z, "F2"), x.Agrees ? "yes" : "NO"]));
            ctx.Out.WriteLine($"verdict: {r.Verdict}");
            return 0;
        };
    }
}
