using System.CommandLine;
using System.Globalization;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Torch.Experiments;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima train</c>: trains a network with TorchSharp into a run directory.</summary>
public sealed class Train : CliCommand
{
    private readonly SectionOptions _run = new([.. ExperimentOptions.Families]);
    private readonly Option<string?> _out = Opt.Text("--out", "RUN_DIR", "run directory: config.json, manifest.json, metrics.csv, checkpoints/ (new or empty)",
        defaultText: "none (required unless --resume)");
    private readonly Option<bool> _overwrite = Opt.Flag("--overwrite", "with --out: replace the run already in RUN_DIR (its files are removed first)");
    private readonly Option<string?> _resume = Opt.Text("--resume", "RUN_DIR",
        "continue the run from its last checkpoint with its stored config.json (bit for bit on CPU); the configuration, the checkpoint's checksums and the histories are verified first; only --epochs and --device may change", defaultText: "none");
    private readonly Option<bool> _json = CommonOptions.Json("print one JSON object with the final metrics");

    public Train() : base("train", "train a network (MLP, LeNet, ResNet-18) on GM / Fashion-MNIST / CIFAR-10 with TorchSharp")
    {
        Add(_out, _overwrite, _resume, _json);
        Add([.. _run.All]);
        Exclusive(_out, _resume);
    }

    public override IReadOnlyList<string> Usage =>
    [
        "--out RUN_DIR [--overwrite] [--data ...] [--model ...] [--optimizer ...] [options] [--json]",
        "--resume RUN_DIR [--epochs E] [--device cpu|cuda|auto] [--json]",
    ];

    public override IReadOnlyList<OptionGroup> HelpGroups => [new(null, [_out, _overwrite, _resume, _json]), .. _run.HelpGroups()];

    public override string Notes => "Each option applies to the data set, model or optimiser under which it is listed (docs/optim.md).";

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        bool json = p.Value(_json);
        Func<CliReporter, TrainingOutcome> train;
        if (p.GetValue(_resume) is { } resume)
        {
            if (p.Given(_overwrite)) throw new UsageException("--overwrite applies with --out, not with --resume (a resumed run keeps its files).");
            foreach (var o in _run.Given(p))
                if (o.Name is not ("--epochs" or "--device"))
                    throw new UsageException($"{o.Name} does not apply with --resume (the run's config.json holds it; only --epochs and --device may change).");
            int? epochs = p.GetValue((Option<int?>)_run["epochs"]);
            var device = p.GetValue((Option<DeviceChoice?>)_run["device"]);
            train = reporter => reporter.Run(r => Experiment.Resume(resume, epochs, device, ctx.Argv, r));
        }
        else
        {
            string outDir = p.GetValue(_out) ?? throw new UsageException("--out RUN_DIR is required (or --resume RUN_DIR).");
            var config = TorchCli.Bind(_run, p);
            bool overwrite = p.Value(_overwrite);
            train = reporter => reporter.Run(r => Experiment.Train(outDir, config, ctx.Argv, r, overwrite));
        }
        return () =>
        {
            var outcome = train(new CliReporter(ctx));
            if (!outcome.Completed)
            {
                ctx.Err.WriteLine($"flatminima train: {outcome.Error}");
                return 1;
            }
            if (json) Output.WriteJson(ctx.Out, outcome.Summary());
            else
            {
                ctx.Table(["epoch", "train loss", "train err", "test loss", "test err", "lr", "s"],
                    outcome.Epochs.Select(r => (IReadOnlyList<string>)[r.Epoch.ToString(CultureInfo.InvariantCulture), Output.Num(r.TrainLoss), Output.Num(r.TrainError), Output.Num(r.TestLoss), Output.Num(r.TestError), Output.Num(r.Lr), Output.Num(r.Seconds, "F1")]));
                if (outcome.Gm is { } gm)
                    ctx.Out.WriteLine($"GM: test error {Output.Pm(gm.TestError, gm.TestErrorSe)}  vs  ε_BO = {Output.Num(gm.EpsilonBo)} (Bayes floor)  vs  replica logistic ERM (λ = {GmReference.ErmLambda}): {(gm.EpsilonErm is double er ? Output.Num(er) : "n/a (" + gm.ErmNote + ")")}");
                ctx.Out.WriteLine($"run directory: {outcome.Run.Path}");
            }
            return 0;
        };
    }
}
