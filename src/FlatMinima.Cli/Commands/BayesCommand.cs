using FlatMinima.Cli.Infrastructure;
using FlatMinima.Estimators;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima bayes</c>: the Bayes-optimal error and overlaps in closed form (docs/theory.md#e2, docs/theory.md#e3, docs/theory.md#e4).</summary>
public sealed class BayesCommand : ICommand
{
    public string Name => "bayes";
    public string Summary => "Bayes-optimal error, oracle error and overlaps in closed form (docs/theory.md#e3, docs/theory.md#e4)";
    public string Usage =>
        "usage: flatminima bayes --alpha A --delta D [--rho R] [--json]\n\n" + CommonOptions.MixtureUsage +
        "  --json           print one JSON object: test_error, oracle_error, m, q, bias\n";

    public int Run(Args a, CommandContext ctx)
    {
        var model = CommonOptions.Model(a);
        double alpha = model.Alpha, delta = model.Delta, rho = model.Rho;
        bool json = a.Flag("json");
        a.EnsureAllUsed();

        double m = BayesOptimal.Overlap(model);
        var result = new Dictionary<string, object?>
        {
            ["alpha"] = alpha, ["delta"] = delta, ["rho"] = rho,
            ["test_error"] = BayesOptimal.Error(model),
            ["oracle_error"] = BayesOptimal.OracleError(delta, rho),
            ["m"] = m, ["q"] = m,
            ["bias"] = BayesOptimal.Bias(delta, rho),
        };
        if (json) { Output.WriteJson(ctx.Out, result); return 0; }
        ctx.Out.WriteLine($"Bayes-optimal classifier, alpha = {alpha:G6}, Delta = {delta:G6}, rho = {rho:G6}");
        ctx.Out.Write(Output.Table(["quantity", "value"],
        [
            ["test error eps_BO", Output.Num((double)result["test_error"]!, "F6")],
            ["oracle error (knows v)", Output.Num((double)result["oracle_error"]!, "F6")],
            ["m = q", Output.Num(m, "F6")],
            ["bias b_BO", Output.Num((double)result["bias"]!, "F6")],
        ]));
        return 0;
    }
}
