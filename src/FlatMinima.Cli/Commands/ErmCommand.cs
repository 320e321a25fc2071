using System.CommandLine;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Penalties;
using FlatMinima.Replica;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima erm</c>: the replica (saddle-point) prediction for ERM, docs/theory.md#erm-saddle-point.</summary>
public sealed class ErmCommand : CliCommand
{
    private readonly ReplicaOptions.Problem _problem = new();
    private readonly ReplicaOptions.Solver _solver = new();
    private readonly Option<bool> _json = CommonOptions.Json();

    public ErmCommand() : base("erm", "replica fixed point of ERM (N -> infinity): errors, training loss, m, q, V, bias")
    {
        Add(_problem.All);
        Add(_solver.All);
        Add(_json);
    }

    public override IReadOnlyList<string> Usage =>
    [
        "--loss square|logistic|hinge --alpha A --delta D --lambda L [--penalty ridge|l1] [--rho R] [--no-bias] [--json]",
        "--loss square|logistic|hinge --alpha A --delta D --penalty sphere --norm Q [--rho R] [--no-bias] [--json]",
    ];

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        var problem = _problem.Read(p);
        var options = _solver.Read(p);
        bool json = p.Value(_json);
        return () =>
        {
            var fp = new ErmSaddlePoint(problem, options).TrySolve();
            if (!fp.Converged)
            {
                ctx.Err.WriteLine($"flatminima erm: error: saddle point did not converge ({fp.Reason}) after {fp.Iterations} iterations; " +
                                  $"last residuals {string.Join(", ", fp.ResidualHistory.TakeLast(3).Select(r => r.ToString("G3")))}.");
                if (json) Output.WriteJson(ctx.Out, fp.ToRow());
                return 1;
            }
            if (json) { Output.WriteJson(ctx.Out, fp.ToRow()); return 0; }
            ctx.Out.WriteLine($"ERM replica fixed point: {problem}");
            ctx.Table(["quantity", "value"], fp.ToRow()
                .Where(kv => kv.Value is double or int or bool)
                .Select(kv => (IReadOnlyList<string>)[kv.Key, Output.Cell(kv.Value, "G6")]));
            return 0;
        };
    }
}

/// <summary>Options shared by the replica commands.</summary>
internal static class ReplicaOptions
{
    /// <summary>An ERM problem: loss, data model, penalty with its parameter (the rule of
    /// <see cref="WeightPenalties.CheckParameters"/>), bias.</summary>
    public sealed class Problem
    {
        public CliOption<string> Loss { get; } = CommonOptions.Loss();
        public ModelOptions Model { get; } = new();
        public CliOption<double?> Lambda { get; } = Opt.OptionalReal("--lambda", "L", "ridge (or L1) strength λ; the bias is not penalised",
            "none (required by the ridge and l1 penalties)", "(0, inf)");
        public CliOption<string> Penalty { get; } = CommonOptions.Penalty();
        public CliOption<double?> Norm { get; } = CommonOptions.Norm();
        public CliOption<bool> NoBias { get; } = CommonOptions.NoBias();

        public Option[] All => [Loss, .. Model.All, Lambda, Penalty, Norm, NoBias];

        /// <summary>The validated problem; the penalty's rules (ridge and l1 take --lambda, sphere takes --norm) live in Core.</summary>
        public ErmProblem Read(ParseResult p)
        {
            var penalty = WeightPenalties.FromParameters(p.Value(Penalty), p.GetValue(Lambda), p.GetValue(Norm));
            var problem = new ErmProblem(MarginLosses.Parse(p.Value(Loss)), Model.Read(p), penalty);
            return p.Value(NoBias) ? problem with { LearnBias = false } : problem;
        }
    }

    /// <summary>The saddle-point solver's damping, tolerance and iteration cap, with Core's defaults.</summary>
    public sealed class Solver
    {
        private static readonly SaddlePointOptions Defaults = SaddlePointOptions.Default;

        public CliOption<double> Damping { get; } = Opt.Real("--damping", "D", "weight of the old iterate (Anderson-accelerated)", Defaults.Damping, "[0, 1)");
        public CliOption<double> Tolerance { get; } = Opt.Real("--tolerance", "T", "residual tolerance of the fixed point", Defaults.Tolerance, "(0, inf)");
        public CliOption<int> MaxIterations { get; } = Opt.Int("--max-iterations", "K", "cap on the evaluations of the fixed-point map in one solve, Newton and continuation in lambda included (reported as iterations)", Defaults.MaxIterations, "[1, inf)");

        public Option[] All => [Damping, Tolerance, MaxIterations];

        public ErmSaddlePointOptions Read(ParseResult p)
        {
            var s = Defaults with { Damping = p.Value(Damping), Tolerance = p.Value(Tolerance), MaxIterations = p.Value(MaxIterations) };
            s.Validate();
            return new ErmSaddlePointOptions(s);
        }
    }
}
