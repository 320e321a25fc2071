using FlatMinima.Replica;

namespace FlatMinima.Experiments;

/// <summary>
/// The snake_case rows of result records as the command line prints them (<c>--json</c>, <c>summary.json</c>) and the
/// CSV files of their runs (<c>per_seed.csv</c>): one shape per record, kept here beside the records.
/// </summary>
public static class ResultRows
{
    /// <summary>A fixed point: the problem, the errors, the order parameters and their conjugates, the solver's status;
    /// a fixed bias and a penalty other than the ridge add their entries (the norm replaces λ for the sphere).</summary>
    public static Dictionary<string, object?> ToRow(this ErmFixedPoint fp)
    {
        var row = new Dictionary<string, object?>
        {
            ["loss"] = fp.Problem.Loss.Name,
            ["alpha"] = fp.Problem.Alpha, ["delta"] = fp.Problem.Delta, ["lambda"] = fp.Problem.Lambda, ["rho"] = fp.Problem.Rho,
            ["test_error"] = fp.TestError, ["train_error"] = fp.TrainError, ["train_loss"] = fp.TrainLoss,
            ["m"] = fp.M, ["q"] = fp.Q, ["v"] = fp.V, ["bias"] = fp.Bias,
            ["m_hat"] = fp.MHat, ["q_hat"] = fp.QHat, ["v_hat"] = fp.VHat,
            ["iterations"] = fp.Iterations, ["converged"] = fp.Converged,
        };
        if (!fp.Problem.LearnBias) row["learn_bias"] = false;
        var penalty = fp.Problem.Penalty;
        if (penalty.Name == "ridge") return row; // the default penalty: lambda says it all
        row["penalty"] = penalty.Name;
        if (penalty.Norm is { } norm) { row["norm"] = norm; row["lambda"] = null; }
        row["multiplier"] = fp.Multiplier;
        return row;
    }

    /// <summary>The columns of a learning curve (<see cref="CurvePoint"/>).</summary>
    public static IReadOnlyList<string> CurveColumns { get; } =
        ["alpha", "lambda", "test_error", "train_error", "train_loss", "m", "q", "v", "bias", "iterations", "converged"];

    /// <summary>A point of a learning curve: the columns of <see cref="CurveColumns"/>.</summary>
    public static Dictionary<string, object?> CurvePoint(this ErmFixedPoint fp) => new()
    {
        ["alpha"] = fp.Problem.Alpha, ["lambda"] = fp.Problem.Lambda,
        ["test_error"] = fp.TestError, ["train_error"] = fp.TrainError, ["train_loss"] = fp.TrainLoss,
        ["m"] = fp.M, ["q"] = fp.Q, ["v"] = fp.V, ["bias"] = fp.Bias,
        ["iterations"] = fp.Iterations, ["converged"] = fp.Converged,
    };

    /// <summary>The inputs, then each observable's mean and standard error (<c>test_error</c>, <c>test_error_se</c>, …),
    /// then the linear algebra the run used (<c>linear_algebra</c>, <see cref="Numerics.LinearAlgebraUse"/>).</summary>
    public static Dictionary<string, object?> WithObservables(this IReadOnlyDictionary<string, object?> inputs, MonteCarloResult r)
    {
        var result = new Dictionary<string, object?>(inputs);
        foreach (var n in Observables.Names)
        {
            result[n] = r[n].Mean;
            result[n + "_se"] = r[n].StdError;
        }
        if (r.LinearAlgebra is { } la) result["linear_algebra"] = la.ToJson();
        return result;
    }

    /// <summary><c>per_seed.csv</c> of a Monte Carlo run: the seed and every observable, one row per dataset.</summary>
    public static string PerSeedCsv(this MonteCarloResult r) =>
        Csv.Text(["seed", .. Observables.Names], r.PerSeed.Select((o, k) => o.Values.Cast<object?>().Prepend(r.Seeds[k])));

    /// <summary>A check of theory against simulation: the inputs, the verdict, one entry per observable, and the linear
    /// algebra the simulations used.</summary>
    public static Dictionary<string, object?> ToRow(this TheoryCheckResult r, IReadOnlyDictionary<string, object?> inputs)
    {
        var o = new Dictionary<string, object?>(inputs) { ["verdict"] = r.Verdict, ["max_abs_z"] = r.MaxAbsZ };
        foreach (var row in r.Rows)
            o[row.Observable] = new Dictionary<string, object?>
            {
                ["theory"] = row.Theory, ["simulation"] = row.Simulation, ["se"] = row.StdError,
                ["z"] = row.Z, ["allowance"] = row.Allowance, ["agrees"] = row.Agrees,
            };
        if (r.Simulation.LinearAlgebra is { } la) o["linear_algebra"] = la.ToJson();
        return o;
    }

    /// <summary>A finite-size extrapolation: the inputs, the verdict, <paramref name="run"/> (e.g. the wall time), and per
    /// observable its ladder, fit and verdict.</summary>
    public static Dictionary<string, object?> ToRow(this FiniteSizeResult r, IReadOnlyDictionary<string, object?> inputs,
        IEnumerable<KeyValuePair<string, object?>>? run = null)
    {
        var result = new Dictionary<string, object?>(inputs) { ["verdict"] = r.Verdict };
        foreach (var (k, v) in run ?? []) result[k] = v;
        if (r.LinearAlgebra is { } la) result["linear_algebra"] = la.ToJson();
        foreach (var row in r.Rows)
        {
            var f = row.Fit;
            result[row.Observable] = new Dictionary<string, object?>
            {
                ["theory"] = row.Theory, ["form"] = f.Form.Name(),
                ["n"] = row.Sizes, ["mean"] = row.Values.Select(v => v.Mean).ToArray(), ["se"] = row.Values.Select(v => v.StdError).ToArray(),
                ["extrapolated"] = f.Intercept, ["extrapolated_se"] = f.InterceptStdError,
                ["interval"] = new[] { f.IntervalLow, f.IntervalHigh }, ["slope"] = f.Slope, ["slope_se"] = f.SlopeStdError,
                ["chi2"] = f.ChiSquare, ["dof"] = f.DegreesOfFreedom, ["p_value"] = f.PValue, ["inflation"] = f.Inflation,
                ["z"] = row.Z, ["verdict"] = row.Verdict,
            };
        }
        return result;
    }

    /// <summary><c>per_seed.csv</c> of a finite-size extrapolation: N, the seed and every observable, one row per dataset.</summary>
    public static string PerSeedCsv(this FiniteSizeResult r) =>
        Csv.Text(["n", "seed", .. Observables.Names],
            r.PerSize.SelectMany(mc => mc.PerSeed.Select((o, k) => o.Values.Cast<object?>().Prepend(mc.Seeds[k]).Prepend(mc.Spec.N))));
}
