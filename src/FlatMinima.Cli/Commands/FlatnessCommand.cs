using FlatMinima.Cli.Infrastructure;
using FlatMinima.Torch.Experiments;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima flatness</c>: flatness probes on a trained run.</summary>
public sealed class FlatnessCommand : ICommand
{
    public string Name => "flatness";
    public string Summary => "flatness probes of a trained run: local energy, Hessian top eigenvalues and trace, ε-sharpness, adaptive sharpness, spectral density, loss landscape";
    public string Usage =>
        "usage: flatminima flatness --run RUN_DIR [options]\n\n" +
        TorchCli.Help(ExperimentOptions.Flatness) +
        "  --device cpu|cuda|auto   (default: the run's)   --json\n" +
        "The run's data and network come from its config.json, the weights from its last checkpoint.\n" +
        "Prints the results, then writes flatness.json (atomically) into the run directory, and the curves of slq, line\n" +
        "and surface beside it (hessian_density.csv, landscape_line.csv, landscape_surface.csv; figure 8 of `flatminima\n" +
        "figures` draws them when copied to docs/optim/probes/ as hessian_density_LABEL.csv, landscape_line_LABEL.csv,\n" +
        "landscape_surface_LABEL.csv).\n";

    public int Run(Args a, CommandContext ctx)
    {
        string runDir = a.String("run");
        var config = (FlatnessConfig)ConfigBinder.BindFamily(ExperimentOptions.Flatness, a);
        var device = TorchCli.Single<DeviceChoice>(a, ExperimentOptions.Training, "device");
        bool json = a.Flag("json");
        a.EnsureAllUsed();
        config.Validate();
        var run = TrainingRun.Open(runDir);
        using var reporter = new CliReporter(ctx);
        using var trained = TrainedModel.Load(run, device, reporter);
        var report = FlatnessProbing.Run(trained, config);
        if (report.LocalEnergy is { } le)
            ctx.Err.Write(Output.Table(["σ", "E_train % (mean ± sd)", "δE %", "loss"], le.Select(p => (IReadOnlyList<string>)[Output.Num(p.Sigma), Output.Pm(p.MeanError, p.StdError), Output.Num(p.DeltaError), Output.Num(p.MeanLoss)])));
        if (report.HessianTop is var (h, _)) ctx.Err.WriteLine($"Hessian top eigenvalues: {string.Join(", ", h.Values.Select(v => Output.Num(v)))}");
        if (report.HessianTrace is var (t, _)) ctx.Err.WriteLine($"Hessian trace (Hutchinson): {Output.Pm(t.Trace, t.StandardError)}");
        if (report.Sharpness is var (s, _)) ctx.Err.WriteLine($"ε-sharpness (ε = {Output.Num(s.Epsilon)}): {Output.Num(s.Value)} %");
        if (report.Adaptive is { } ad) ctx.Err.WriteLine($"adaptive sharpness (ρ = {Output.Num(ad.Rho)}): {Output.Num(ad.Sharpness)}");
        if (report.Spectrum is { } sp) ctx.Err.WriteLine($"Hessian density (SLQ): top Ritz value {Output.Num(sp.TopRitz)}, trace {Output.Num(sp.Trace)}; curve in {run.File(FlatnessReport.DensityFile)}");
        if (report.Line is { } line) ctx.Err.WriteLine($"line to {config.Other}: distance {Output.Num(line.Distance)}; curve in {run.File(FlatnessReport.LineFile)}");
        if (report.Surface is not null) ctx.Err.WriteLine($"loss surface in {run.File(FlatnessReport.SurfaceFile)}");
        // The results are printed before flatness.json is written: a run directory that cannot be written (read-only,
        // full) then fails the command (exit 1, naming the file) without losing what was computed.
        if (json) Output.WriteJson(ctx.Out, report.ToDictionary(trained, ctx.Argv));
        report.Write(trained, ctx.Argv);
        if (!json) ctx.Out.WriteLine($"wrote {run.File(TrainingRun.FlatnessFile)}");
        return 0;
    }
}
