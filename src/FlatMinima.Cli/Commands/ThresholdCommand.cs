using System.CommandLine;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Replica;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima threshold</c>: the separability threshold α_c(Δ, ρ) of docs/theory.md#separability-threshold.</summary>
public sealed class ThresholdCommand : CliCommand
{
    private readonly ModelOptions _model = new();
    private readonly Option<bool> _bias = Opt.Flag("--bias", "allow a bias (by default the classifier is homogeneous, b = 0)");
    private readonly Option<bool> _json = CommonOptions.Json();

    public ThresholdCommand() : base("threshold", "linear separability threshold alpha_c(Delta, rho), with or without bias")
    {
        Add(_model.Delta, _model.Rho, _bias, _json);
    }

    public override IReadOnlyList<string> Usage => ["--delta D [--rho R] [--bias] [--json]"];

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        double delta = p.Value(_model.Delta), rho = p.Value(_model.Rho);
        bool bias = p.Value(_bias), json = p.Value(_json);
        return () =>
        {
            var r = SeparabilityThreshold.Solve(delta, rho, bias);
            if (json)
            {
                Output.WriteJson(ctx.Out, new Dictionary<string, object?>
                {
                    ["delta"] = delta, ["rho"] = rho, ["bias"] = bias, ["alpha_c"] = r.AlphaC, ["m_star"] = r.M, ["b_star"] = r.Bias,
                });
                return 0;
            }
            ctx.Out.WriteLine($"alpha_c = {r.AlphaC:G8}  (Delta = {delta:G6}, rho = {rho:G6}, {(bias ? "with" : "without")} bias; m* = {r.M:G6}, b* = {r.Bias:G6})");
            return 0;
        };
    }
}
