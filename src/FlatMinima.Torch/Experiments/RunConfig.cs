using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using FlatMinima.Torch.Optim;
using FlatMinima.Torch.Training;

namespace FlatMinima.Torch.Experiments;

/// <summary>
/// Everything that defines a training run: data, model, optimiser and training settings. A run directory stores it as
/// <c>config.json</c>; <c>train --resume</c> and <c>flatness --run</c> read it back (never the command line). In JSON
/// every option is written under its key (<see cref="ExperimentOption.Key"/>) and each section names its variant,
/// e.g. <c>{"optimizer": {"name": "esgd", "lr": 0.1, "inner_steps": 5, ...}}</c>; unknown keys are an error.
/// </summary>
public sealed record RunConfig(DataConfig Data, ModelConfig Model, OptimizerConfig Optimizer, TrainingConfig Training)
{
    /// <summary>The defaults of every section (GM data, MLP, SGD, 10 epochs).</summary>
    public static RunConfig Default { get; } = ConfigBinder.Bind(new OptionDictionary(new Dictionary<string, string?>()));

    /// <summary>
    /// Checks every option against its range and the rules that tie sections together; returns this. Errors are
    /// <see cref="ArgumentException"/>s naming the option and its valid range (exit code 2 in the CLI).
    /// </summary>
    public RunConfig Validate()
    {
        ExperimentOptions.CheckRanges(Data);
        Data.Validate();
        ExperimentOptions.CheckRanges(Model);
        ExperimentOptions.CheckRanges(Training);
        Optimizer.ForRun(Training.Epochs, Training.Seed);
        string opt = Optimizer.Name;
        if (Training.LrSchedule == LrScheduleKind.Constant)
        {
            if (Training.LrMin != 0) throw new ConfigException("--lr-min needs --lr-schedule cosine.");
        }
        else
        {
            if (!Optimizer.TakesLrSchedule)
                throw new ConfigException($"--lr-schedule cosine does not apply to --optimizer {opt}: it has its own schedule (--swa-lr, --swa-schedule).");
            if (!(Training.LrMin >= 0 && Training.LrMin < Optimizer.Lr))
                throw new ConfigException($"--lr-min must lie in [0, --lr) = [0, {Show(Optimizer.Lr)}) (got {Show(Training.LrMin)}).");
        }
        if (Training.Precision == Precision.Bf16 && !Optimizer.SupportsBf16)
            throw new ConfigException($"--precision bf16 supports --optimizer sgd, sgd-flat and adam (got '{opt}').");
        return this;
    }

    private static string Show(double v) => v.ToString("G5", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The trainer's schedule: the cosine's floor as a fraction of the base learning rate.</summary>
    [JsonIgnore] public LrSchedule LrSchedule => Training.LrSchedule == LrScheduleKind.Constant
        ? LrSchedule.Constant : new LrSchedule(LrScheduleKind.Cosine, Training.LrMin / Optimizer.Lr);

    /// <summary>The configuration as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ConfigJson.Options);

    /// <summary>SHA-256 of the compact JSON of the configuration (hex): identifies it in manifests.</summary>
    public string Hash() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(this, ConfigJson.Compact))));

    /// <summary>The fields (<c>section.key</c>) that <c>train --resume</c> may change: the run's length and its device.
    /// They do not change the trajectory up to a checkpoint, so the identity of a run leaves exactly them out.</summary>
    public static readonly IReadOnlyList<string> ResumableFields = ["training.epochs", "training.device"];

    /// <summary>
    /// The identity of the run this configuration defines: the configuration without <see cref="ResumableFields"/>, and
    /// the SHA-256 of its compact JSON (<c>config_identity_sha256</c>). Every checkpoint and the manifest record it;
    /// a resume and the flatness probes verify <c>config.json</c> against both, so an edited configuration is an error
    /// naming the field instead of a run on other data.
    /// </summary>
    public RunIdentity Identity() => IdentityOf((JsonObject)JsonNode.Parse(JsonSerializer.Serialize(this, ConfigJson.Compact))!);

    /// <summary>The identity of a configuration given as JSON (e.g. as a manifest records it), with
    /// <see cref="ResumableFields"/> removed.</summary>
    public static RunIdentity IdentityOf(JsonObject config)
    {
        var node = (JsonObject)config.DeepClone();
        foreach (var field in ResumableFields)
        {
            var parts = field.Split('.');
            (node[parts[0]] as JsonObject)?.Remove(parts[1]);
        }
        return new RunIdentity(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(node.ToJsonString(ConfigJson.Compact)))), node);
    }

    /// <summary>Parses <paramref name="json"/> (<paramref name="source"/> names it in errors) and validates it. A file
    /// that is not a configuration is an <see cref="InvalidDataException"/> naming it.</summary>
    public static RunConfig FromJson(string json, string source)
    {
        RunConfig? c;
        try { c = JsonSerializer.Deserialize<RunConfig>(json, ConfigJson.Options); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not a run configuration: {FlatMinima.Storage.JsonText.Where(e)}", e); }
        catch (NotSupportedException e) { throw new InvalidDataException($"{source}: not a run configuration ({e.Message})", e); }
        if (c is null || c.Data is null || c.Model is null || c.Optimizer is null || c.Training is null)
            throw new InvalidDataException($"{source}: not a run configuration (the sections data, model, optimizer and training are required).");
        try { return c.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{source}: {e.Message}"); }
    }

    /// <summary>Reads <c>config.json</c> at <paramref name="path"/>.</summary>
    public static RunConfig Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} not found.", path);
        return FromJson(File.ReadAllText(path), path);
    }
}

/// <summary>The JSON form of the configuration records: option properties under their keys, nothing else; enums by
/// their option names; unknown keys refused.</summary>
public static class ConfigJson
{
    public static JsonSerializerOptions Options { get; } = Make(indented: true);
    public static JsonSerializerOptions Compact { get; } = Make(indented: false);

    private static JsonSerializerOptions Make(bool indented)
    {
        var resolver = new DefaultJsonTypeInfoResolver();
        resolver.Modifiers.Add(OptionsOnly);
        var o = new JsonSerializerOptions
        {
            WriteIndented = indented,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            TypeInfoResolver = resolver,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            AllowOutOfOrderMetadataProperties = true,
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        };
        o.Converters.Add(new JsonStringEnumConverter());
        o.MakeReadOnly(populateMissingResolver: false);
        return o;
    }

    // Configuration records serialise their options only (under the option's key); the section records of RunConfig
    // keep their property names (data, model, optimizer, training).
    private static void OptionsOnly(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object || info.Type == typeof(RunConfig)) return;
        bool isConfig = ExperimentOptions.Families.Any(f => f.BaseType.IsAssignableFrom(info.Type));
        if (!isConfig) return;
        for (int i = info.Properties.Count - 1; i >= 0; i--)
        {
            var p = info.Properties[i];
            var attr = (p.AttributeProvider as PropertyInfo)?.GetCustomAttribute<OptionAttribute>();
            if (attr is null) info.Properties.RemoveAt(i);
            else p.Name = attr.Name.Replace('-', '_');
        }
    }
}
