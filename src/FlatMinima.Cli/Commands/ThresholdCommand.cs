using FlatMinima.Cli.Infrastructure;
using FlatMinima.Replica;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima threshold</c>: the separability threshold α_c(Δ, ρ) of docs/theory.md#separability-threshold.</summary>
public sealed class ThresholdCommand : ICommand
{
    public string Name => "threshold";
    public string Summary => "linear separability threshold alpha_c(Delta, rho), with or without bias";
    public string Usage =>
        "usage: flatminima threshold --delta D [--rho R] [--bias] [--json]\n\n" +
        "  --delta D        noise variance Delta > 0\n" +
        "  --rho R          fraction of the +1 cluster, in (0,1) (default 0.5)\n" +
        "  --bias           allow a bias (default: homogeneous classifier, b = 0)\n" +
        "  --json           print one JSON object\n";

    public int Run(Args a, CommandContext ctx)
    {
        double delta = a.Double("delta"), rho = a.Double("rho", 0.5);
        bool bias = a.Flag("bias");
        bool json = a.Flag("json");
        a.EnsureAllUsed();
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
    }
}
