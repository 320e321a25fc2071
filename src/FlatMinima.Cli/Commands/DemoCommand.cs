using System.CommandLine;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Losses;
using FlatMinima.Mixture;

namespace FlatMinima.Cli.Commands;

/// <summary>
/// <c>flatminima demo</c>: the built-in demonstration — the Bayes-optimal error in closed form beside finite-N
/// simulations of the BO estimator and of ERM with each loss, at α = 2, Δ = 1, ρ = ½ by default.
/// </summary>
public sealed class DemoCommand : CliCommand
{
    private readonly ModelOptions _model = new(alpha: 2, delta: 1);
    private readonly Option<double> _lambda = Opt.Real("--lambda", "L", "ridge strength λ of the three ERM estimators", 1, "[0, inf)");
    private readonly Option<int> _n = CommonOptions.N(1000);
    private readonly Option<int> _seeds = CommonOptions.Seeds(8);
    private readonly Option<long> _seed = CommonOptions.Seed();
    private readonly Option<int?> _threads = CommonOptions.Threads();
    private readonly Option<bool> _json = CommonOptions.Json();

    public DemoCommand() : base("demo", "built-in demonstration: BO error in closed form vs simulated BO and ERM errors")
    {
        Add(_model.All);
        Add(_lambda, _n, _seeds, _seed, _threads, _json);
    }

    public override IReadOnlyList<string> Usage => ["[--alpha 2] [--delta 1] [--rho 0.5] [--lambda 1] [--n 1000] [--seeds 8] [--json]"];

    public override string Notes =>
        "Prints the closed-form Bayes-optimal error (docs/theory.md#e3) and the oracle error next to finite-N simulations of the\n" +
        "BO estimator and of ridge ERM with the square, logistic and hinge losses at the same lambda.";

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        var spec = new MixtureSpec(_model.Read(p), p.Value(_n), p.Value(_seed));
        double lambda = p.Value(_lambda);
        int seeds = p.Value(_seeds);
        int? threads = p.GetValue(_threads);
        bool json = p.Value(_json);
        var estimators = new List<EstimatorKind> { EstimatorKind.Bayes };
        estimators.AddRange(MarginLosses.Names.Select(n => EstimatorKind.Erm(MarginLosses.Parse(n), lambda)));
        return () =>
        {
            var rows = ctx.WithProgress($"demo N={spec.N}", seeds * estimators.Count,
                tick => estimators.Select(e => (Est: e, R: MonteCarlo.Run(spec, seeds, e, threads, tick))).ToList());
            double bo = BayesOptimal.Error(spec.Model);
            double oracle = BayesOptimal.OracleError(spec.Delta, spec.Rho);
            if (json)
            {
                Output.WriteJson(ctx.Out, new Dictionary<string, object?>
                {
                    ["alpha"] = spec.Alpha, ["delta"] = spec.Delta, ["rho"] = spec.Rho, ["lambda"] = lambda,
                    ["n"] = spec.N, ["seeds"] = seeds,
                    ["bayes_error_theory"] = bo, ["oracle_error"] = oracle,
                    ["simulations"] = rows.Select(t => new Dictionary<string, object?> { ["estimator"] = t.Est.Name }.WithObservables(t.R)).ToList(),
                });
                return 0;
            }
            ctx.Out.WriteLine($"Gaussian mixture: alpha = {spec.Alpha:G4}, Delta = {spec.Delta:G4}, rho = {spec.Rho:G4}; " +
                              $"simulations at N = {spec.N}, {seeds} datasets each");
            ctx.Out.WriteLine($"Bayes-optimal error (closed form, docs/theory.md#e3): {bo:F5}    oracle error (knows v): {oracle:F5}");
            ctx.Out.WriteLine();
            ctx.Table(["estimator", "test error (sim)", "minus eps_BO", "train error", "m", "q"],
                rows.Select(t => (IReadOnlyList<string>)
                [
                    t.Est.Name == "bayes" ? "Bayes-optimal" : $"ERM {t.Est.Name}, lambda={lambda:G3}",
                    Output.Pm(t.R.TestError.Mean, t.R.TestError.StdError),
                    (t.R.TestError.Mean - bo).ToString("+0.0000;-0.0000", System.Globalization.CultureInfo.InvariantCulture),
                    Output.Pm(t.R.TrainError.Mean, t.R.TrainError.StdError),
                    Output.Num(t.R.M.Mean, "F4"),
                    Output.Num(t.R.Q.Mean, "F4"),
                ]));
            ctx.Out.WriteLine();
            ctx.Out.WriteLine("No classifier beats eps_BO on average: the simulated BO estimator sits on it within its error bar.");
            return 0;
        };
    }
}
