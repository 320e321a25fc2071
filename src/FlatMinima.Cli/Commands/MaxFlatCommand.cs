using System.Diagnostics;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima maxflat</c>: max-flatness estimators against the BO estimator, as the flatness scale grows.</summary>
public sealed class MaxFlatCommand : ICommand
{
    public string Name => "maxflat";
    public string Summary => "replicated / entropic max-flatness estimators vs the flatness scale: cosine with BO, test error";
    public string Usage =>
        "usage: flatminima maxflat [--method replicated|entropic] [--objective classifier|loss] --alpha A --delta D [--rho R]\n" +
        "                          --sigma LIST [--n N] [--seeds S] [options] [--json] [--out FILE.csv]\n\n" +
        CommonOptions.MixtureUsage +
        "  --sigma LIST     flatness scales (multiplicative noise of the smoothed objective), e.g. 0.3,1,3,10,30\n" +
        "  --n N            input dimension (default 500)\n" +
        "  --seeds S        datasets (default 1); dataset k uses seed K + k (--seed K, default 0; also seeds the descent)\n" +
        "  --threads T      parallel workers over datasets (default: all cores)\n" +
        FlatnessOptions.MaxFlatUsage +
        "  --json           one JSON object: sigma and, aligned with it, cosine_bo, test_error, bo_test_error, train_error, bias, m\n" +
        "  --out FILE.csv   one row per sigma\n";

    public int Run(Args a, CommandContext ctx)
    {
        var model = CommonOptions.Model(a);
        double alpha = model.Alpha, delta = model.Delta, rho = model.Rho;
        var sig = FlatnessOptions.List(a, "sigma");
        int n = a.Int("n", 500);
        int seeds = CommonOptions.Seeds(a, 1);
        int? threads = CommonOptions.Threads(a);
        var baseOpt = FlatnessOptions.MaxFlat(a);
        long seed0 = a.Long("seed", 0);
        bool json = a.Flag("json");
        string? outFile = a.OptionalString("out");
        a.EnsureAllUsed();
        foreach (var s in sig) Guard.Positive(s, "sigma");
        var spec = new MixtureSpec(model, n, seed0);
        IReadOnlyList<MonteCarloResult<(MaxFlatnessFit Fit, double Seconds)>> runs;
        using (var progress = new Progress(ctx, $"maxflat N={n}", sig.Length * seeds))
            runs = MonteCarlo.Run(spec, seeds, sig, (sample, sigma) =>
            {
                var sw = Stopwatch.StartNew();
                var fit = MaxFlatness.Fit(sample, baseOpt with { Sigma = sigma });
                return (fit, sw.Elapsed.TotalSeconds);
            }, threads, progress.Tick);
        Statistic Col(int i, Func<MaxFlatnessFit, double> f) => runs[i].Of(r => f(r.Fit));
        var names = new (string Key, Func<MaxFlatnessFit, double> F)[]
        {
            ("cosine_bo", f => f.CosineBo), ("test_error", f => f.TestError), ("bo_test_error", f => f.BoTestError),
            ("train_error", f => f.TrainError), ("bias", f => f.BiasNormalised), ("m", f => f.M),
            ("oracle_bias_test_error", f => f.OracleBiasTestError), ("objective_value", f => f.Run.Objective),
        };
        var result = new Dictionary<string, object?>
        {
            ["method"] = baseOpt.Method.ToString().ToLowerInvariant(),
            ["objective"] = baseOpt.Loss is null ? "classifier" : "loss:" + baseOpt.Loss.Name,
            ["bias_policy"] = baseOpt.Bias switch { BiasPolicy.Learned => "learned", BiasPolicy.Zero => "zero", _ => "bayes" },
            ["alpha"] = alpha, ["delta"] = delta, ["rho"] = rho, ["n"] = n, ["p"] = spec.P, ["seeds"] = seeds, ["seed"] = seed0,
            ["sigma"] = sig,
            ["bo_theory_error"] = BayesOptimal.Error(model),
            ["linear_algebra"] = runs[0].LinearAlgebra?.ToJson(),
        };
        foreach (var (key, f) in names)
        {
            result[key] = Enumerable.Range(0, sig.Length).Select(i => Col(i, f).Mean).ToArray();
            if (seeds > 1) result[key + "_se"] = Enumerable.Range(0, sig.Length).Select(i => Col(i, f).StdError).ToArray();
        }
        result["seconds_per_fit"] = Enumerable.Range(0, sig.Length).Select(i => runs[i].PerSeed.Average(r => r.Seconds)).ToArray();
        if (outFile is not null)
            FlatnessOptions.WriteCsv(outFile, sig.Select((s, i) =>
            {
                var row = new Dictionary<string, object?> { ["sigma"] = s };
                foreach (var (key, f) in names) { var st = Col(i, f); row[key] = st.Mean; row[key + "_se"] = seeds > 1 ? st.StdError : null; }
                return (IReadOnlyDictionary<string, object?>)row;
            }).ToList());
        if (json) { Output.WriteJson(ctx.Out, result); return 0; }
        ctx.Out.WriteLine($"{result["method"]} descent on {result["objective"]}, alpha = {alpha:G6}, Delta = {delta:G6}, rho = {rho:G6}, N = {n}, " +
                          $"{seeds} dataset(s); bias {result["bias_policy"]}; eps_BO(theory) = {BayesOptimal.Error(model):F5}");
        ctx.Out.Write(Output.Table(["sigma", "cos(w, BO)", "test error", "BO on same data", "train error", "b", "s/fit"],
            sig.Select((s, i) => (IReadOnlyList<string>)[Output.Num(s), Output.Num(Col(i, f => f.CosineBo).Mean, "F4"),
                Output.Num(Col(i, f => f.TestError).Mean, "F5"), Output.Num(Col(i, f => f.BoTestError).Mean, "F5"),
                Output.Num(Col(i, f => f.TrainError).Mean, "F4"), Output.Num(Col(i, f => f.BiasNormalised).Mean, "F3"),
                Output.Num(((double[])result["seconds_per_fit"]!)[i], "F2")])));
        return 0;
    }
}
