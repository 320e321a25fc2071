using System.Globalization;
using System.Text;
using FlatMinima.Storage;

namespace FlatMinima.Experiments;

/// <summary>
/// One run of a deep-network sweep (a row of <c>sweep.csv</c>): the optimiser (with its <c>@tag</c>), the seed, the
/// values of the grid's listed options, the final metrics and the flatness measures of the final model. Missing
/// values (a probe not run, ε_BO of a data set other than the Gaussian mixture) are null.
/// </summary>
public sealed record SweepRun
{
    /// <summary>The run's identifier, also its folder name under <c>runs/</c>.</summary>
    public required string Id { get; init; }
    /// <summary>The optimiser as named in the grid, with its tag (<c>esgd@long</c>).</summary>
    public required string Optimizer { get; init; }
    public required long Seed { get; init; }
    /// <summary>Values of the grid's listed options, in the order of <see cref="SweepTable.Axes"/>, as written in the grid.</summary>
    public IReadOnlyList<string> GridValues { get; init; } = [];
    public required int Epochs { get; init; }
    public double? TrainLoss { get; init; }
    /// <summary>Training error (fraction) of the final model.</summary>
    public double? TrainError { get; init; }
    public double? TestLoss { get; init; }
    /// <summary>Test error (fraction) of the final model.</summary>
    public double? TestError { get; init; }
    /// <summary>Bayes-optimal error of the same (α, Δ, ρ) (Gaussian-mixture data only; docs/theory.md#e3).</summary>
    public double? EpsilonBo { get; init; }
    /// <summary>Local energy δE_train(σ) in percentage points, one per σ of <see cref="SweepTable.Sigmas"/> (docs/theory.md#le).</summary>
    public IReadOnlyList<double?> LocalEnergy { get; init; } = [];
    /// <summary>Top eigenvalue of the training-loss Hessian.</summary>
    public double? HessianTop { get; init; }
    /// <summary>Hutchinson estimate of the Hessian trace and its standard error.</summary>
    public double? HessianTrace { get; init; }
    public double? HessianTraceSe { get; init; }
    /// <summary>Worst-case adaptive sharpness (Kwon et al.; loss increase in the ball ‖T_w⁻¹δ‖₂ ≤ ρ, T_w = |w|).</summary>
    public double? AdaptiveSharpness { get; init; }
    /// <summary>The largest Ritz value of stochastic Lanczos quadrature (the SLQ estimate of λ_max).</summary>
    public double? SlqTop { get; init; }
    /// <summary>The SLQ estimate of the Hessian trace.</summary>
    public double? SlqTrace { get; init; }
    public double? TrainSeconds { get; init; }
    public double? ProbeSeconds { get; init; }

    /// <summary>Test minus training error: the generalisation gap (null when either is missing).</summary>
    public double? Gap => TestError is double te && TrainError is double tr ? te - tr : null;
}

/// <summary>
/// <c>sweep.csv</c>: one row per run, columns <c>id, optimizer, seed, &lt;grid axes&gt;, epochs, train_loss, train_error,
/// test_loss, test_error, epsilon_bo, le_delta_pct_sigma&lt;σ&gt;…, hessian_top, hessian_trace, hessian_trace_se,
/// [adaptive_sharpness, slq_top, slq_trace,] train_s, probe_s</c>; the bracketed probe columns are written when some run
/// has the probe (sweeps recorded before them keep their files). Numbers are written in shortest round-trip form, a missing value is an empty cell, so reading and writing
/// a file gives it back byte for byte.
/// </summary>
public sealed record SweepTable(IReadOnlyList<string> Axes, IReadOnlyList<double> Sigmas, IReadOnlyList<SweepRun> Runs)
{
    /// <summary>The file name inside a sweep directory.</summary>
    public const string FileName = "sweep.csv";
    private const string SigmaPrefix = "le_delta_pct_sigma";
    private static readonly string[] Head = ["id", "optimizer", "seed"];
    private static readonly string[] Metrics = ["epochs", "train_loss", "train_error", "test_loss", "test_error", "epsilon_bo"];
    private static readonly string[] Tail = ["hessian_top", "hessian_trace", "hessian_trace_se", "train_s", "probe_s"];

    /// <summary>The probe columns written only when some run has a value, each with its accessor.</summary>
    private static readonly (string Column, Func<SweepRun, double?> Value)[] OptionalProbes =
    [
        ("adaptive_sharpness", r => r.AdaptiveSharpness),
        ("slq_top", r => r.SlqTop),
        ("slq_trace", r => r.SlqTrace),
    ];

    /// <summary>The optional probe columns this table has (those with a value in some run), in column order.</summary>
    public IReadOnlyList<(string Column, Func<SweepRun, double?> Value)> ProbeColumns =>
        OptionalProbes.Where(c => Runs.Any(r => c.Value(r) is not null)).ToList();

    /// <summary>The name of the local-energy measure at <paramref name="sigma"/> in correlation and summary tables.</summary>
    public static string LocalEnergyMeasure(double sigma) => "local_energy_sigma" + Csv.Number(sigma);

    /// <summary>The flatness measures of the table, in column order: local energy per σ, then the Hessian's top
    /// eigenvalue and trace, then the optional probes (adaptive sharpness, the SLQ top eigenvalue and trace) that the table
    /// has; each with the accessor of its value.</summary>
    public IReadOnlyList<(string Measure, Func<SweepRun, double?> Value)> Measures =>
    [
        .. Sigmas.Select((s, i) => (LocalEnergyMeasure(s), (Func<SweepRun, double?>)(r => i < r.LocalEnergy.Count ? r.LocalEnergy[i] : null))),
        ("hessian_top", r => r.HessianTop),
        ("hessian_trace", r => r.HessianTrace),
        .. ProbeColumns,
    ];

    /// <summary>The CSV text.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder();
        var optional = ProbeColumns;
        sb.Append(string.Join(',', [.. Head, .. Axes, .. Metrics, .. Sigmas.Select(s => SigmaPrefix + Csv.Number(s)), .. Tail[..3], .. optional.Select(c => c.Column), .. Tail[3..]])).Append('\n');
        foreach (var r in Runs)
        {
            if (r.GridValues.Count != Axes.Count) throw new ArgumentException($"run {r.Id} has {r.GridValues.Count} grid values for {Axes.Count} axes.");
            var cells = new List<string> { r.Id, r.Optimizer, r.Seed.ToString(CultureInfo.InvariantCulture) };
            cells.AddRange(r.GridValues);
            cells.AddRange([r.Epochs.ToString(CultureInfo.InvariantCulture), Csv.Number(r.TrainLoss), Csv.Number(r.TrainError), Csv.Number(r.TestLoss), Csv.Number(r.TestError), Csv.Number(r.EpsilonBo)]);
            for (int s = 0; s < Sigmas.Count; s++) cells.Add(Csv.Number(s < r.LocalEnergy.Count ? r.LocalEnergy[s] : null));
            cells.AddRange([Csv.Number(r.HessianTop), Csv.Number(r.HessianTrace), Csv.Number(r.HessianTraceSe)]);
            cells.AddRange(optional.Select(c => Csv.Number(c.Value(r))));
            cells.AddRange([Csv.Number(r.TrainSeconds), Csv.Number(r.ProbeSeconds)]);
            sb.Append(string.Join(',', cells)).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Writes the table atomically.</summary>
    public void Write(string path) => AtomicFile.WriteAllText(path, ToCsv());

    /// <summary>Reads a <c>sweep.csv</c>; a malformed file is an <see cref="InvalidDataException"/> naming it and the line.</summary>
    public static SweepTable Read(string path)
    {
        var t = Csv.Read(path);
        int seedCol = t.Column("seed"), epochsCol = t.Column("epochs");
        foreach (var h in Head) t.Column(h);
        var axes = t.Header.Skip(seedCol + 1).Take(epochsCol - seedCol - 1).ToList();
        var sigmaCols = t.Header.Select((h, i) => (h, i)).Where(p => p.h.StartsWith(SigmaPrefix, StringComparison.Ordinal)).ToList();
        var sigmas = sigmaCols.Select(p => t.ParseHeaderNumber(p.h[SigmaPrefix.Length..])).ToList();
        var runs = new List<SweepRun>();
        double? Optional(int i, string column) => t.Header.Contains(column) ? t.Double(i, column) : null;
        for (int i = 0; i < t.Rows.Count; i++)
        {
            var row = t.Rows[i];
            runs.Add(new SweepRun
            {
                Id = row[0], Optimizer = row[t.Column("optimizer")], Seed = t.Long(i, "seed"),
                GridValues = axes.Select(a => row[t.Column(a)]).ToList(), Epochs = (int)t.Long(i, "epochs"),
                TrainLoss = t.Double(i, "train_loss"), TrainError = t.Double(i, "train_error"), TestLoss = t.Double(i, "test_loss"),
                TestError = t.Double(i, "test_error"), EpsilonBo = t.Double(i, "epsilon_bo"),
                LocalEnergy = sigmaCols.Select(p => t.Double(i, p.h)).ToList(),
                HessianTop = t.Double(i, "hessian_top"), HessianTrace = t.Double(i, "hessian_trace"), HessianTraceSe = t.Double(i, "hessian_trace_se"),
                AdaptiveSharpness = Optional(i, "adaptive_sharpness"), SlqTop = Optional(i, "slq_top"), SlqTrace = Optional(i, "slq_trace"),
                TrainSeconds = t.Double(i, "train_s"), ProbeSeconds = t.Double(i, "probe_s"),
            });
        }
        return new SweepTable(axes, sigmas, runs);
    }
}

/// <summary>
/// One epoch of one run of a sweep, a row of <c>curves.csv</c>: the metrics of the trainer's model (for SWA and PSWA
/// the averaged model once averaging has started) and, for SWA/PSWA, the SGD iterate they train and their averaging
/// bookkeeping. Written by <c>sweep --collect</c> from every run's <c>metrics.csv</c> and <c>optim_log.csv</c>, so the
/// history of a sweep survives without its run directories.
/// </summary>
public sealed record EpochCurvePoint
{
    public required string Id { get; init; }
    public required string Optimizer { get; init; }
    public required long Seed { get; init; }
    public required int Epoch { get; init; }
    public double? Lr { get; init; }
    public double? TrainLoss { get; init; }
    public double? TrainError { get; init; }
    public double? TestLoss { get; init; }
    public double? TestError { get; init; }
    /// <summary>Test error of the SGD iterate that SWA/PSWA trains (the live model).</summary>
    public double? LiveTestError { get; init; }
    /// <summary>Models in the SWA/PSWA average after this epoch.</summary>
    public double? Averaged { get; init; }
    /// <summary>1 at a PSWA restart (the live model restarted from the average), 0 otherwise.</summary>
    public double? Restarted { get; init; }
}

/// <summary><c>curves.csv</c>: the per-epoch history of every run of a sweep (<see cref="EpochCurvePoint"/>).</summary>
public static class EpochCurves
{
    public const string FileName = "curves.csv";
    private const string Header = "id,optimizer,seed,epoch,lr,train_loss,train_error,test_loss,test_error,live_test_error,n_averaged,restarted";

    public static string ToCsv(IEnumerable<EpochCurvePoint> points)
    {
        var sb = new StringBuilder(Header).Append('\n');
        foreach (var p in points)
            sb.Append(string.Join(',', p.Id, p.Optimizer, p.Seed.ToString(CultureInfo.InvariantCulture), p.Epoch.ToString(CultureInfo.InvariantCulture),
                Csv.Number(p.Lr), Csv.Number(p.TrainLoss), Csv.Number(p.TrainError), Csv.Number(p.TestLoss), Csv.Number(p.TestError),
                Csv.Number(p.LiveTestError), Csv.Number(p.Averaged), Csv.Number(p.Restarted))).Append('\n');
        return sb.ToString();
    }

    public static void Write(string path, IEnumerable<EpochCurvePoint> points) => AtomicFile.WriteAllText(path, ToCsv(points));

    public static List<EpochCurvePoint> Read(string path)
    {
        var t = Csv.Read(path);
        foreach (var h in Header.Split(',')) t.Column(h);
        return Enumerable.Range(0, t.Rows.Count).Select(i => new EpochCurvePoint
        {
            Id = t.Rows[i][t.Column("id")], Optimizer = t.Rows[i][t.Column("optimizer")], Seed = t.Long(i, "seed"), Epoch = (int)t.Long(i, "epoch"),
            Lr = t.Double(i, "lr"), TrainLoss = t.Double(i, "train_loss"), TrainError = t.Double(i, "train_error"), TestLoss = t.Double(i, "test_loss"),
            TestError = t.Double(i, "test_error"), LiveTestError = t.Double(i, "live_test_error"), Averaged = t.Double(i, "n_averaged"),
            Restarted = t.Double(i, "restarted"),
        }).ToList();
    }
}

/// <summary>A rank correlation between a flatness measure and a target over the runs of a sweep (a row of
/// <c>correlation.csv</c> or <c>correlation_gap.csv</c>).</summary>
public sealed record SweepCorrelation(string Measure, string Method, double Value, double Lower, double Upper, int N, double Level = 0.95);

/// <summary><c>correlation*.csv</c>: <c>measure, method, value, lower95, upper95, n</c>.</summary>
public static class SweepCorrelations
{
    private const string Header = "measure,method,value,lower95,upper95,n";

    public static string ToCsv(IEnumerable<SweepCorrelation> rows)
    {
        var sb = new StringBuilder(Header).Append('\n');
        foreach (var c in rows)
            sb.Append($"{c.Measure},{c.Method},{Csv.Number(c.Value)},{Csv.Number(c.Lower)},{Csv.Number(c.Upper)},{c.N.ToString(CultureInfo.InvariantCulture)}\n");
        return sb.ToString();
    }

    public static List<SweepCorrelation> Read(string path)
    {
        var t = Csv.Read(path);
        foreach (var h in Header.Split(',')) t.Column(h);
        return Enumerable.Range(0, t.Rows.Count).Select(i => new SweepCorrelation(t.Rows[i][t.Column("measure")], t.Rows[i][t.Column("method")],
            t.Double(i, "value") ?? double.NaN, t.Double(i, "lower95") ?? double.NaN, t.Double(i, "upper95") ?? double.NaN, (int)t.Long(i, "n"))).ToList();
    }
}

/// <summary>
/// A recorded sweep as the figures read it: <c>sweep.csv</c> and, when present, <c>curves.csv</c>, from one directory.
/// </summary>
public sealed record SweepResults(string Directory, SweepTable Table, IReadOnlyList<EpochCurvePoint>? Curves)
{
    /// <summary>Reads the sweep directory <paramref name="directory"/> (it must hold <c>sweep.csv</c>).</summary>
    public static SweepResults Read(string directory)
    {
        string table = Path.Combine(directory, SweepTable.FileName);
        if (!File.Exists(table)) throw new FileNotFoundException($"{table} not found: not a sweep directory (run `flatminima sweep --collect --out {directory}`).", table);
        string curves = Path.Combine(directory, EpochCurves.FileName);
        return new SweepResults(directory, SweepTable.Read(table), File.Exists(curves) ? EpochCurves.Read(curves) : null);
    }

    /// <summary>
    /// Reads a list of recorded sweeps, a JSON object mapping a data-set label to a sweep directory relative to the
    /// list's folder, e.g. <c>{"gm": "gpu/gm", "fashion-mnist": "cpu_fmnist"}</c>. The labels name the figures.
    /// </summary>
    public static IReadOnlyList<(string Dataset, string Directory)> ReadList(string path)
    {
        System.Text.Json.Nodes.JsonNode? root;
        try { root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path)); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{path}: invalid JSON {FlatMinima.Storage.JsonText.Where(e)}", e); }
        if (root is not System.Text.Json.Nodes.JsonObject o) throw new InvalidDataException($"{path}: expected a JSON object of data set → sweep directory.");
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var list = new List<(string, string)>();
        foreach (var (k, v) in o)
        {
            if (v is not System.Text.Json.Nodes.JsonValue jv || !jv.TryGetValue<string>(out var rel))
                throw new InvalidDataException($"{path}: the value of \"{k}\" must be a directory (a string).");
            list.Add((k, Path.GetFullPath(Path.Combine(dir, rel))));
        }
        return list;
    }
}

/// <summary>Plain CSV as the toolkit writes it: a header, comma-separated cells, no quoting.</summary>
public sealed class Csv
{
    public required string Path { get; init; }
    public required string[] Header { get; init; }
    public required List<string[]> Rows { get; init; }
    private Dictionary<string, int>? _index;

    /// <summary>Shortest round-trip text of a finite number; empty for null or non-finite.</summary>
    public static string Number(double? v) => v is double d && double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "";

    /// <summary>A cell of a result file: empty for null, a number in shortest round-trip form (NaN as <c>NaN</c>, so that an
    /// undefined value stays visible), <c>true</c>/<c>false</c>, other values in invariant text.</summary>
    public static string Cell(object? v) => v switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    /// <summary>CSV text: the header, then one line of <see cref="Cell"/>s per row.</summary>
    public static string Text(IReadOnlyList<string> header, IEnumerable<IEnumerable<object?>> rows)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine(string.Join(",", header));
        foreach (var r in rows) sb.AppendLine(string.Join(",", r.Select(Cell)));
        return sb.ToString();
    }

    /// <summary>CSV text of rows that share their keys (the first row's keys are the header); empty without rows.</summary>
    public static string Text(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows) =>
        rows.Count == 0 ? "" : Text(rows[0].Keys.ToList(), rows.Select(r => r.Values));

    public static Csv Read(string path)
    {
        string[] lines;
        try { lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray(); }
        catch (FileNotFoundException) { throw new FileNotFoundException($"{path} not found.", path); }
        if (lines.Length == 0) throw new InvalidDataException($"{path}: empty file (expected a CSV header).");
        var header = lines[0].TrimEnd('\r').Split(',');
        var rows = new List<string[]>();
        for (int i = 1; i < lines.Length; i++)
        {
            var cells = lines[i].TrimEnd('\r').Split(',');
            if (cells.Length != header.Length)
                throw new InvalidDataException($"{path}: line {i + 1} has {cells.Length} fields, the header has {header.Length}.");
            rows.Add(cells);
        }
        return new Csv { Path = path, Header = header, Rows = rows };
    }

    public int Column(string name)
    {
        _index ??= Header.Select((h, i) => (h, i)).GroupBy(p => p.h).ToDictionary(g => g.Key, g => g.First().i);
        return _index.TryGetValue(name, out int c) ? c : throw new InvalidDataException($"{Path}: no column '{name}' in the header.");
    }

    public double? Double(int row, string column)
    {
        string s = Rows[row][Column(column)];
        if (s.Length == 0) return null;
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
            ? v : throw new InvalidDataException($"{Path}: line {row + 2}, column '{column}': '{s}' is not a number.");
    }

    public long Long(int row, string column)
    {
        string s = Rows[row][Column(column)];
        return long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v)
            ? v : throw new InvalidDataException($"{Path}: line {row + 2}, column '{column}': '{s}' is not an integer.");
    }

    public double ParseHeaderNumber(string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : throw new InvalidDataException($"{Path}: header: '{s}' is not a number.");
}
