using System.CommandLine;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Estimators;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima bayes</c>: the Bayes-optimal error and overlaps in closed form (docs/theory.md#e2, docs/theory.md#e3, docs/theory.md#e4).</summary>
public sealed class BayesCommand : CliCommand
{
    private readonly ModelOptions _model = new();
    private readonly Option<bool> _json = CommonOptions.Json("print one JSON object: test_error, oracle_error, m, q, bias");

    public BayesCommand() : base("bayes", "Bayes-optimal error, oracle error and overlaps in closed form (docs/theory.md#e3, docs/theory.md#e4)")
    {
        Add(_model.All);
        Add(_json);
    }

    public override IReadOnlyList<string> Usage => ["--alpha A --delta D [--rho R] [--json]"];

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        var model = _model.Read(p);
        bool json = p.Value(_json);
        return () =>
        {
            double m = BayesOptimal.Overlap(model);
            var result = new Dictionary<string, object?>
            {
                ["alpha"] = model.Alpha, ["delta"] = model.Delta, ["rho"] = model.Rho,
                ["test_error"] = BayesOptimal.Error(model),
                ["oracle_error"] = BayesOptimal.OracleError(model.Delta, model.Rho),
                ["m"] = m, ["q"] = m,
                ["bias"] = BayesOptimal.Bias(model.Delta, model.Rho),
            };
            if (json) { Output.WriteJson(ctx.Out, result); return 0; }
            ctx.Out.WriteLine($"Bayes-optimal classifier, alpha = {model.Alpha:G6}, Delta = {model.Delta:G6}, rho = {model.Rho:G6}");
            ctx.Table(["quantity", "value"],
            [
                ["test error eps_BO", Output.Num((double)result["test_error"]!, "F6")],
                ["oracle error (knows v)", Output.Num((double)result["oracle_error"]!, "F6")],
                ["m = q", Output.Num(m, "F6")],
                ["bias b_BO", Output.Num((double)result["bias"]!, "F6")],
            ]);
            return 0;
        };
    }
}
