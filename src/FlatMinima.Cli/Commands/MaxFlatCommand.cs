using System.CommandLine;
using System.Diagnostics;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Estimators;
using FlatMinima.Experiments;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Storage;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima maxflat</c>: max-flatness estimators against the BO estimator, as the flatness scale grows.</summary>
public sealed class MaxFlatCommand : CliCommand
{
    private readonly ModelOptions _model = new();
    private readonly Option<double[]?> _sigma = Opt.Reals("--sigma", "LIST", "flatness scales (multiplicative noise of the smoothed objective), e.g. 0.3,1,3,10,30",
        null, "(0, inf)", required: true);
    private readonly Option<int> _n = CommonOptions.N(500);
    private readonly Option<int> _seeds = CommonOptions.Seeds(1);
    private readonly Option<long> _seed = CommonOptions.Seed("first seed; dataset k uses seed K + k, which also seeds its descent");
    private readonly Option<int?> _threads = CommonOptions.Threads();
    private readonly MaxFlatOptions _maxflat = new();
    private readonly Option<bool> _json = CommonOptions.Json("one JSON object: sigma and, aligned with it, cosine_bo, test_error, bo_test_error, train_error, bias, m");
    private readonly Option<string?> _out = Opt.Text("--out", "FILE.csv", "one row per sigma", defaultText: "none");

    public MaxFlatCommand() : base("maxflat", "replicated / entropic max-flatness estimators vs the flatness scale: cosine with BO, test error")
    {
        Add(_model.All);
        Add(_sigma, _n, _seeds, _seed, _threads);
        Add(_maxflat.All);
        Add(_json, _out);
    }

    public override IReadOnlyList<string> Usage =>
        ["[--method replicated|entropic] [--objective classifier|loss] --alpha A --delta D [--rho R] --sigma LIST [--n N] [--seeds S] [options] [--json] [--out FILE.csv]"];

    public override IReadOnlyList<OptionGroup> HelpGroups =>
    [
        new(null, [.. _model.All, _sigma, _n, _seeds, _seed, _threads, _json, _out]),
        new("Max-flatness descent", _maxflat.All),
    ];

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        var model = _model.Read(p);
        var sig = p.GetValue(_sigma)!;
        int n = p.Value(_n), seeds = p.Value(_seeds);
        int? threads = p.GetValue(_threads);
        long seed0 = p.Value(_seed);
        var baseOpt = _maxflat.Read(p, seed0);
        bool json = p.Value(_json);
        string? outFile = p.GetValue(_out);
        var spec = new MixtureSpec(model, n, seed0);
        return () =>
        {
            var runs = ctx.WithProgress($"maxflat N={n}", sig.Length * seeds, tick => MonteCarlo.Run(spec, seeds, sig, (sample, sigma) =>
            {
                var sw = Stopwatch.StartNew();
                var fit = MaxFlatness.Fit(sample, baseOpt with { Sigma = sigma });
                return (Fit: fit, Seconds: sw.Elapsed.TotalSeconds);
            }, threads, tick));
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
                ["alpha"] = model.Alpha, ["delta"] = model.Delta, ["rho"] = model.Rho, ["n"] = n, ["p"] = spec.P, ["seeds"] = seeds, ["seed"] = seed0,
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
                AtomicFile.WriteAllText(outFile, Csv.Text(sig.Select((s, i) =>
                {
                    var row = new Dictionary<string, object?> { ["sigma"] = s };
                    foreach (var (key, f) in names) { var st = Col(i, f); row[key] = st.Mean; row[key + "_se"] = seeds > 1 ? st.StdError : null; }
                    return (IReadOnlyDictionary<string, object?>)row;
                }).ToList()));
            if (json) { Output.WriteJson(ctx.Out, result); return 0; }
            ctx.Out.WriteLine($"{result["method"]} descent on {result["objective"]}, alpha = {model.Alpha:G6}, Delta = {model.Delta:G6}, rho = {model.Rho:G6}, N = {n}, " +
                              $"{seeds} dataset(s); bias {result["bias_policy"]}; eps_BO(theory) = {BayesOptimal.Error(model):F5}");
            ctx.Table(["sigma", "cos(w, BO)", "test error", "BO on same data", "train error", "b", "s/fit"],
                sig.Select((s, i) => (IReadOnlyList<string>)[Output.Num(s), Output.Num(Col(i, f => f.CosineBo).Mean, "F4"),
                    Output.Num(Col(i, f => f.TestError).Mean, "F5"), Output.Num(Col(i, f => f.BoTestError).Mean, "F5"),
                    Output.Num(Col(i, f => f.TrainError).Mean, "F4"), Output.Num(Col(i, f => f.BiasNormalised).Mean, "F3"),
                    Output.Num(((double[])result["seconds_per_fit"]!)[i], "F2")]));
            return 0;
        };
    }
}
