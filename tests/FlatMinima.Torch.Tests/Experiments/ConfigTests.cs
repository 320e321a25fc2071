using FlatMinima.Estimators;
using FlatMinima.Torch.Experiments;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Training;

namespace FlatMinima.Torch.Tests.Experiments;

public class ConfigTests
{
    private static RunConfig Bind(params string[] nameValue)
    {
        var d = new Dictionary<string, string?>();
        for (int i = 0; i < nameValue.Length; i += 2) d[nameValue[i]] = nameValue[i + 1];
        var source = new OptionDictionary(d);
        var c = ConfigBinder.Bind(source);
        Assert.Empty(source.Unused);
        return c;
    }

    // The defaults of `flatminima train` as its help stated them before the options became records (recorded CLI
    // baseline): GM data (α 2, Δ 1, ρ ½, N 100, 10 000 test samples), an MLP of width 128 and depth 2, SGD with lr 0.05,
    // momentum 0.9, no weight decay, 10 epochs of batches of 128, seed 0, constant rate, fp32, CPU.
    [Fact]
    public void DefaultsAreThoseOfTheCommandLine()
    {
        var c = RunConfig.Default;
        var gm = Assert.IsType<GmmDataConfig>(c.Data);
        Assert.Equal((2.0, 1.0, 0.5, 100, 10_000), (gm.Alpha, gm.Delta, gm.Rho, gm.N, gm.TestSize));
        var mlp = Assert.IsType<MlpConfig>(c.Model);
        Assert.Equal((128, 2), (mlp.Width, mlp.Depth));
        var sgd = Assert.IsType<SgdOptions>(c.Optimizer);
        Assert.Equal((0.05, 0.9, 0.0, false), (sgd.Lr, sgd.Momentum, sgd.WeightDecay, sgd.Nesterov));
        var t = c.Training;
        Assert.Equal((10, 128, 0L, LrScheduleKind.Constant, 0.0, Precision.Fp32, 0, 0.05, 10, DeviceChoice.Cpu),
            (t.Epochs, t.BatchSize, t.Seed, t.LrSchedule, t.LrMin, t.Precision, t.LeEvery, t.LeSigma, t.LeDraws, t.Device));
    }

    // Every optimiser's learning rate defaults to the command line's 0.05 except Entropy-SGD's outer η = 1 (Chaudhari et
    // al.'s codes; the earlier default 0.05 stays in EarlierDefaults), Nesterov to true for esgd and rsgd only; the
    // optimiser-specific defaults are those of docs/optim.md.
    [Fact]
    public void OptimiserDefaultsAreWrittenOnce()
    {
        foreach (var (name, _) in ExperimentOptions.Optimizer.Variants)
        {
            var o = (OptimizerConfig)ExperimentOptions.Optimizer.New(name);
            Assert.Equal(name == "esgd" ? 1 : 0.05, o.Lr);
            Assert.Equal(0.9, o.Momentum);
            Assert.Equal(0.0, o.WeightDecay);
            Assert.Equal(name is "esgd" or "rsgd", o.Nesterov);
        }
        var e = new EntropySgdOptions();
        Assert.Equal((5, 0.1, 1e-4, NoiseConvention.Langevin, 0.25, null, false, 0.0, false), (e.InnerSteps, e.SgldLr, e.Noise, e.Convention, e.EmaWeight, e.Gmax, e.GScale, e.OuterWeightDecay, e.Gamma0Auto));
        Assert.Equal((10.0, 10.0, 0.1, CouplingShape.Exponential), (e.EffectiveGammaCap, e.EffectiveGammaFinal, e.EffectiveGamma0!.Value, e.GammaSchedule));
        var old = EntropySgdOptions.EarlierDefaults();
        Assert.Equal((5, 0.1, 1e-4, NoiseConvention.Langevin, 0.25, 1e4, true), (old.InnerSteps, old.SgldLr, old.Noise, old.Convention, old.EmaWeight, old.Gmax, old.GScale));
        Assert.Equal((0.05, true, (double?)null), (old.Lr, old.Gamma0Auto, old.EffectiveGamma0));
        var r = new ReplicatedSgdOptions();
        Assert.Equal((3, CouplingShape.Exponential, null, 1, CentreKind.CentreOfMass), (r.Replicas, r.Schedule, r.Gmax, r.CouplingEvery, r.Centre));
        Assert.Equal((10.0, 10.0), (r.EffectiveGCap, r.EffectiveGFinal));
        var rOld = ReplicatedSgdOptions.EarlierDefaults();
        Assert.Equal((3, CouplingShape.Exponential, 1e4, 1, CentreKind.CentreOfMass), (rOld.Replicas, rOld.Schedule, rOld.Gmax, rOld.CouplingEvery, rOld.Centre));
        var s = new SamOptions();
        Assert.Equal((0.05, false, 0.01, SamBatchNormPolicy.FirstPass), (s.Rho, s.Adaptive, s.AdaptiveEta, s.BatchNorm));
        // Run-length defaults are derived when the run is known: swa_start ⌈0.75·E⌉ (SWA) or E (PSWA), pswa_start ⌈E/4⌉,
        // period ⌈E/8⌉.
        Assert.Equal(8, ((SwaOptions)new SwaOptions().ForRun(10, 0)).SwaStart);
        var p = (PeriodicSwaOptions)new PeriodicSwaOptions().ForRun(10, 0);
        Assert.Equal((10, 3, 2), (p.SwaStart!.Value, p.PswaStart!.Value, p.Period!.Value));
        Assert.Equal("true for esgd, rsgd; false otherwise", ExperimentOptions.Named("nesterov").Single().DefaultText);
        Assert.Equal("swa: ⌈0.75·epochs⌉; pswa: epochs", ExperimentOptions.Named("swa-start").Single().DefaultText);
    }

    // Every option carries its metadata once: a name, a description, a type, the variants it applies to; enum options
    // list their values as the command line and JSON write them; ranges are intervals.
    [Fact]
    public void MetadataDescribesEveryOption()
    {
        foreach (var family in ExperimentOptions.Families.Append(ExperimentOptions.Flatness))
            foreach (var o in family.Options)
            {
                Assert.Matches("^[a-z][a-z0-9-]*$", o.Name);
                Assert.False(string.IsNullOrWhiteSpace(o.Description), o.Name);
                Assert.NotEmpty(o.Variants);
                Assert.Equal(o.Name.Replace('-', '_'), o.Key);
            }
        Assert.Equal(["exp", "lin", "cosine", "const"], ExperimentOptions.Named("coupling-schedule").Single().Choices);
        Assert.Equal(["recompute", "average", "copy"], ExperimentOptions.Named("swa-buffers").Single().Choices);
        var ema = ExperimentOptions.Named("ema-weight").Single();
        Assert.Equal(["esgd"], ema.Variants);
        Assert.Equal("(0, 1]", ema.Range!.ToString());
        Assert.Equal("α", ema.Symbol);
        Assert.Equal(0.25, ema.DefaultFor("esgd"));
        Assert.Equal(["swa", "pswa"], ExperimentOptions.Named("swa-lr").Single().Variants);
        Assert.Equal(["pswa"], ExperimentOptions.Named("pswa-period").Single().Variants);
        // One name, two meanings (the growth of γ for Entropy-SGD, of g for replicated SGD): declared by each.
        Assert.Equal(2, ExperimentOptions.Named("gmax").Count);
        Assert.Equal("applies to --optimizer esgd", ExperimentOptions.WhereApplies("inner-steps"));
        Assert.Equal(["gmm", "fashion-mnist", "mnist", "cifar10"], ExperimentOptions.Data.Variants.Select(v => v.Name));
        Assert.Equal("sgd", ExperimentOptions.Optimizer.Default);
    }

    [Fact]
    public void TheBinderFillsTheChosenVariantsFromText()
    {
        var c = Bind("data", "gmm", "alpha", "3", "n", "20", "model", "mlp", "width", "8", "optimizer", "esgd", "lr", "0.1", "inner-steps", "2",
            "noise-convention", "paper", "gamma0", "auto", "nesterov", "false", "epochs", "4", "lr-schedule", "cosine", "device", "cpu");
        var e = Assert.IsType<EntropySgdOptions>(c.Optimizer);
        Assert.Equal((0.1, 2, NoiseConvention.Paper, (double?)null, false), (e.Lr, e.InnerSteps, e.Convention, e.Gamma0, e.Nesterov));
        Assert.Equal(3.0, ((GmmDataConfig)c.Data).Alpha);
        Assert.Equal(8, ((MlpConfig)c.Model).Width);
        Assert.Equal((4, LrScheduleKind.Cosine), (c.Training.Epochs, c.Training.LrSchedule));
        // A switch without a value is true.
        Assert.True(((SamOptions)Bind("optimizer", "sam", "adaptive", null!).Optimizer).Adaptive);
        // Options of another optimiser are not read: the caller sees them as unused.
        var source = new OptionDictionary(new Dictionary<string, string?> { ["optimizer"] = "sgd", ["inner-steps"] = "3" });
        ConfigBinder.Bind(source);
        Assert.Equal(["inner-steps"], source.Unused);
    }

    // Bad values are errors naming the option (its key, and the symbol of the docs) and the valid range, through Guard.
    [Theory]
    [InlineData("esgd", "ema-weight", "2", "ema_weight (α) must lie in (0, 1] (got 2)")]
    [InlineData("esgd", "inner-steps", "0", "inner_steps (L) must be an integer >= 1 (got 0)")]
    [InlineData("rsgd", "replicas", "0", "replicas (y) must be an integer >= 1 (got 0)")]
    [InlineData("sam", "sam-rho", "-0.1", "sam_rho (ρ) must be a finite number > 0 (got -0.1)")]
    [InlineData("sgd", "momentum", "1", "momentum (μ) must lie in [0, 1) (got 1)")]
    [InlineData("sgd", "lr", "0", "lr (η) must be a finite number > 0 (got 0)")]
    [InlineData("sgd", "rho", "1", "rho (ρ) must lie in (0, 1) (got 1)")]
    [InlineData("sgd", "epochs", "0", "epochs must be an integer >= 1 (got 0)")]
    [InlineData("rsgd", "gmax", "0.5", "gmax must be a finite number >= 1 (got 0.5)")]
    [InlineData("pswa", "pswa-start", "12", "pswa_start must lie in [0, swa_start = 10) (got 12)")]
    [InlineData("esgd", "noise-convention", "wrong", "--noise-convention must be one of langevin|paper (got 'wrong')")]
    [InlineData("sgd", "lr", "abc", "--lr must be a real number (got 'abc')")]
    [InlineData("sgd-flat", "nesterov", "true", "--nesterov applies to sgd, not sgd-flat")]
    [InlineData("swa", "lr-schedule", "cosine", "--lr-schedule cosine does not apply to --optimizer swa: it has its own schedule")]
    [InlineData("sgd", "lr-min", "0.01", "--lr-min needs --lr-schedule cosine")]
    [InlineData("esgd", "precision", "bf16", "--precision bf16 supports --optimizer sgd, sgd-flat and adam (got 'esgd')")]
    public void BadValuesNameTheOptionAndItsRange(string optimizer, string option, string value, string message)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => (option == "epochs" ? Bind("optimizer", optimizer, option, value) : Bind("optimizer", optimizer, option, value, "epochs", "10")).Validate());
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void CosineFloorMustLieBelowTheLearningRate()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Bind("lr-schedule", "cosine", "lr", "0.05", "lr-min", "0.05").Validate());
        Assert.Contains("--lr-min must lie in [0, --lr) = [0, 0.05) (got 0.05)", e.Message);
        Assert.Equal(0.2, Bind("lr-schedule", "cosine", "lr", "0.05", "lr-min", "0.01").Validate().LrSchedule.MinFactor, 15);
    }

    // config.json: every option under its key, each section naming its variant; reading it back gives the same records.
    [Fact]
    public void JsonRoundTripsEverySection()
    {
        var configs = new[]
        {
            Bind("optimizer", "esgd", "inner-steps", "3", "gamma0", "0.01", "noise-convention", "paper", "gscale", "false", "seed", "5"),
            Bind("optimizer", "rsgd", "replicas", "2", "coupling-schedule", "cosine", "centre", "explicit", "model", "lenet", "data", "fashion-mnist", "train-limit", "64"),
            Bind("optimizer", "pswa", "pswa-start", "1", "pswa-period", "2", "swa-buffers", "copy", "model", "resnet18", "data", "cifar10", "data-dir", "/tmp/cifar"),
            Bind("optimizer", "sam", "adaptive", "true", "sam-bn", "both", "precision", "fp32", "lr-schedule", "cosine", "lr-min", "0.001", "le-every", "2"),
            Bind("optimizer", "adam", "momentum", "0.8", "precision", "bf16", "data", "mnist", "data-dir", "/tmp/mnist", "device", "auto"),
            RunConfig.Default,
        };
        foreach (var c in configs)
        {
            string json = c.ToJson();
            var back = RunConfig.FromJson(json, "config.json");
            Assert.Equal(c, back);
            Assert.Equal(json, back.ToJson());
            Assert.Equal(c.Hash(), back.Hash());
        }
        string esgd = configs[0].ToJson();
        Assert.Contains("\"name\": \"esgd\"", esgd);
        Assert.Contains("\"inner_steps\": 3", esgd);
        Assert.Contains("\"noise_convention\": \"paper\"", esgd);
        Assert.Contains("\"gamma0\": 0.01", esgd);
        Assert.DoesNotContain("scoping_steps", esgd);
        Assert.NotEqual(configs[0].Hash(), RunConfig.Default.Hash());
    }

    [Fact]
    public void ABadConfigFileIsAnErrorNamingTheFileAndTheKey()
    {
        string json = RunConfig.Default.ToJson().Replace("\"width\": 128", "\"widht\": 128");
        var e = Assert.Throws<InvalidDataException>(() => RunConfig.FromJson(json, "/runs/r/config.json"));
        Assert.Contains("/runs/r/config.json", e.Message);
        Assert.Contains("widht", e.Message);
        var bad = Assert.Throws<InvalidDataException>(() => RunConfig.FromJson(RunConfig.Default.ToJson().Replace("\"epochs\": 10", "\"epochs\": 0"), "c.json"));
        Assert.Contains("c.json: epochs must be an integer >= 1", bad.Message);
        Assert.Throws<InvalidDataException>(() => RunConfig.FromJson("{\"data\": {\"name\": \"imagenet\"}}", "c.json"));
    }
}
