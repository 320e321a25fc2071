using System.CommandLine;
using FlatMinima.Cli.Infrastructure;
using FlatMinima.Torch.Experiments;

namespace FlatMinima.Cli.Commands;

/// <summary><c>flatminima flatness</c>: flatness probes on a trained run.</summary>
public sealed class FlatnessCommand : CliCommand
{
    private readonly Option<string?> _run = Opt.Text("--run", "RUN_DIR", "the trained run (a train run directory)");
    private readonly SectionOptions _probes = new(ExperimentOptions.Flatness);
    private readonly Option _device = SectionOptions.Make([ExperimentOptions.Training.Options.First(o => o.Name == "device")], "the run's");
    private readonly Option<bool> _json = CommonOptions.Json("print one JSON object with every probe's result");

    public FlatnessCommand() : base("flatness", "flatness probes of a trained run: local energy, Hessian top eigenvalues and trace, ε-sharpness, adaptive sharpness, spectral density, loss landscape")
    {
        Add(_run);
        Add([.. _probes.All]);
        Add(_device, _json);
    }

    public override IReadOnlyList<string> Usage => ["--run RUN_DIR [options] [--device cpu|cuda|auto] [--json]"];

    public override IReadOnlyList<OptionGroup> HelpGroups => [new(null, [_run, _device, _json]), .. _probes.HelpGroups()];

    public override string Notes =>
        "The run's data and network come from its config.json, the weights from its last checkpoint.\n" +
        "Prints the results, then writes flatness.json (atomically) into the run directory, and the curves of slq, line\n" +
        "and surface beside it (hessian_density.csv, landscape_line.csv, landscape_surface.csv; figure 8 of `flatminima\n" +
        "figures` draws them when copied to docs/optim/probes/ as hessian_density_LABEL.csv, landscape_line_LABEL.csv,\n" +
        "landscape_surface_LABEL.csv).";

    protected internal override Execution Configure(ParseResult p, CommandContext ctx)
    {
        string runDir = p.GetValue(_run)!;
        var config = ((FlatnessConfig)ConfigBinder.BindFamily(ExperimentOptions.Flatness, _probes.Values(p))).Validate();
        var device = p.GetValue((Option<DeviceChoice?>)_device);
        bool json = p.Value(_json);
        return () =>
        {
            var run = TrainingRun.Open(runDir);
            var reporter = new CliReporter(ctx);
            using var trained = TrainedModel.Load(run, device, reporter);
            var report = ctx.WithStatus($"flatness probes of {run.Path}", () => FlatnessProbing.Run(trained, config));
            if (report.LocalEnergy is { } le)
                ctx.Err.Write(Output.Table(["σ", "E_train % (mean ± sd)", "δE %", "loss"], le.Select(q => (IReadOnlyList<string>)[Output.Num(q.Sigma), Output.Pm(q.MeanError, q.StdError), Output.Num(q.DeltaError), Output.Num(q.MeanLoss)])));
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
        };
    }
}
