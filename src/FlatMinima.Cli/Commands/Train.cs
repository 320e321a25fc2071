using System.Globalization;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Torch.Experiments;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima train</c>: trains a network with TorchSharp into a run directory.</summary>
public sealed class Train : ICommand
{
    public string Name => "train";
    public string Summary => "train a network (MLP, LeNet, ResNet-18) on GM / Fashion-MNIST / CIFAR-10 with TorchSharp";
    public string Usage =>
        "usage: flatminima train --out RUN_DIR [options]\n" +
        "       flatminima train --resume RUN_DIR [--epochs E] [--device cpu|cuda|auto]\n\n" +
        TorchCli.Help(ExperimentOptions.Families.ToArray()) +
        "  --out RUN_DIR       run directory: config.json, manifest.json, metrics.csv, checkpoints/ (new or empty)\n" +
        "  --overwrite         with --out: replace the run already in RUN_DIR (its files are removed first)\n" +
        "  --resume RUN_DIR    continue the run from its last checkpoint with its stored config.json (bit for bit on CPU);\n" +
        "                      the configuration, the checkpoint's checksums and the histories are verified first\n" +
        "  --json              print one JSON object with the final metrics\n";

    public int Run(Args a, CommandContext ctx)
    {
        string? resume = a.OptionalString("resume");
        bool json = a.Flag("json");
        using var reporter = new CliReporter(ctx);
        TrainingOutcome outcome;
        if (resume is not null)
        {
            int? epochs = TorchCli.Single<int>(a, ExperimentOptions.Training, "epochs");
            var device = TorchCli.Single<DeviceChoice>(a, ExperimentOptions.Training, "device");
            a.EnsureAllUsed();
            outcome = Experiment.Resume(resume, epochs, device, ctx.Argv, reporter);
        }
        else
        {
            string outDir = a.String("out");
            bool overwrite = a.Flag("overwrite");
            outcome = Experiment.Train(outDir, TorchCli.Bind(a), ctx.Argv, reporter, overwrite);
        }
        reporter.Dispose();
        if (!outcome.Completed)
        {
            ctx.Err.WriteLine($"flatminima train: {outcome.Error}");
            return 1;
        }
        if (json) Output.WriteJson(ctx.Out, outcome.Summary());
        else
        {
            ctx.Out.Write(Output.Table(["epoch", "train loss", "train err", "test loss", "test err", "lr", "s"],
                outcome.Epochs.Select(r => (IReadOnlyList<string>)[r.Epoch.ToString(CultureInfo.InvariantCulture), Output.Num(r.TrainLoss), Output.Num(r.TrainError), Output.Num(r.TestLoss), Output.Num(r.TestError), Output.Num(r.Lr), Output.Num(r.Seconds, "F1")])));
            if (outcome.Gm is { } gm)
                ctx.Out.WriteLine($"GM: test error {Output.Pm(gm.TestError, gm.TestErrorSe)}  vs  ε_BO = {Output.Num(gm.EpsilonBo)} (Bayes floor)  vs  replica logistic ERM (λ = {GmReference.ErmLambda}): {(gm.EpsilonErm is double er ? Output.Num(er) : "n/a (" + gm.ErmNote + ")")}");
            ctx.Out.WriteLine($"run directory: {outcome.Run.Path}");
        }
        return 0;
    }
}
