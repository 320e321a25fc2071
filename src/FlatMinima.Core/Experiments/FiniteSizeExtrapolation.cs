using System.Globalization;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;
using MathNet.Numerics.Distributions;

namespace FlatMinima.Experiments;

/// <summary>The leading finite-size correction assumed by an extrapolation N → ∞: E[O_N] = a + b·x(N).</summary>
public enum FiniteSizeForm
{
    /// <summary>x = 1/N: smooth observables of a problem whose fluctuations are O(1/√N) with zero mean (the bias of a
    /// smooth function of empirical averages is second order in the fluctuations).</summary>
    InverseN,
    /// <summary>x = 1/√N: corrections linear in the fluctuations, e.g. an observable with a kink exactly where the
    /// O(1/√N)-smeared quantity sits.</summary>
    InverseSqrtN,
}

/// <summary>Names and abscissae of <see cref="FiniteSizeForm"/>.</summary>
public static class FiniteSizeForms
{
    /// <summary>Names accepted by <see cref="Parse"/>: "1/n" and "1/sqrt(n)".</summary>
    public static IReadOnlyList<string> Names { get; } = ["1/n", "1/sqrt(n)"];

    /// <summary>"1/n" or "1/sqrt(n)".</summary>
    public static string Name(this FiniteSizeForm form) => form == FiniteSizeForm.InverseN ? "1/n" : "1/sqrt(n)";

    /// <summary>The abscissa x(N) of the form: 1/N or 1/√N.</summary>
    public static double X(this FiniteSizeForm form, double n) => form == FiniteSizeForm.InverseN ? 1 / n : 1 / Math.Sqrt(n);

    /// <summary>Parses "1/n" (also "inverse-n") or "1/sqrt(n)" (also "inverse-sqrt-n").</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static FiniteSizeForm Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "1/n" or "inverse-n" => FiniteSizeForm.InverseN,
        "1/sqrt(n)" or "1/sqrtn" or "inverse-sqrt-n" => FiniteSizeForm.InverseSqrtN,
        _ => throw new ArgumentException($"finite-size form must be one of {string.Join(", ", Names)} (got '{name}').", "form"),
    };
}

/// <summary>
/// A weighted least-squares fit y_i = a + b·x(N_i) with weights 1/se_i², and what it says about N → ∞.
/// </summary>
/// <param name="Form">The assumed correction.</param>
/// <param name="Intercept">a, the extrapolated value at N = ∞.</param>
/// <param name="InterceptStdError">Standard error of a from the fit's covariance (XᵀWX)⁻¹, multiplied by
/// <paramref name="Inflation"/>.</param>
/// <param name="Slope">b, the amplitude of the correction.</param>
/// <param name="SlopeStdError">Standard error of b (inflated likewise).</param>
/// <param name="ChiSquare">χ² = Σ_i (y_i − a − b x_i)²/se_i².</param>
/// <param name="DegreesOfFreedom">Number of sizes − 2.</param>
/// <param name="PValue">P(χ²_dof ≥ <paramref name="ChiSquare"/>): the goodness of fit of the form (NaN when dof = 0).</param>
/// <param name="Inflation">√max(1, χ²/dof): the Birge ratio by which the covariance is scaled when the scatter exceeds
/// the stated errors (1 when it does not, or when the fit is exact).</param>
/// <param name="Confidence">Confidence level of the interval.</param>
/// <param name="IntervalLow">a − z·se(a), z the two-sided normal quantile of <paramref name="Confidence"/>.</param>
/// <param name="IntervalHigh">a + z·se(a).</param>
/// <param name="ErrorDegreesOfFreedom">Degrees of freedom of se(a) when the datasets behind each standard error are
/// counted (Welch–Satterthwaite, and z is then the Student-t quantile); +∞ (z normal) when they are not.</param>
public sealed record FiniteSizeFit(FiniteSizeForm Form, double Intercept, double InterceptStdError, double Slope, double SlopeStdError,
    double ChiSquare, int DegreesOfFreedom, double PValue, double Inflation, double Confidence, double IntervalLow, double IntervalHigh,
    double ErrorDegreesOfFreedom = double.PositiveInfinity)
{
    /// <summary>The fitted law at size N.</summary>
    public double At(double n) => Intercept + Slope * Form.X(n);

    /// <summary>Whether the interval contains <paramref name="value"/>.</summary>
    public bool Contains(double value) => value >= IntervalLow && value <= IntervalHigh;
}

/// <summary>Verdicts of a finite-size extrapolation against the theory.</summary>
public static class FiniteSizeVerdict
{
    /// <summary>The form fits and its N → ∞ interval contains the theory.</summary>
    public const string Agree = "agree";
    /// <summary>The form fits and its interval excludes the theory.</summary>
    public const string Disagree = "disagree";
    /// <summary>The goodness-of-fit test rejects the form (p below the threshold): no extrapolation is claimed.</summary>
    public const string FormDoesNotFit = "form-does-not-fit";
}

/// <summary>One observable: its means at each N, the fit, and the verdict.</summary>
/// <param name="Observable">snake_case name (<see cref="Observables.Names"/>).</param>
/// <param name="Sizes">N of each point.</param>
/// <param name="Values">Mean ± s.e. over datasets at each N.</param>
/// <param name="Fit">The fit of the stated form.</param>
/// <param name="Theory">Replica prediction (N → ∞).</param>
/// <param name="Z">(a − theory)/se(a).</param>
/// <param name="Verdict">One of <see cref="FiniteSizeVerdict"/>.</param>
public sealed record FiniteSizeRow(string Observable, IReadOnlyList<int> Sizes, IReadOnlyList<Statistic> Values, FiniteSizeFit Fit,
    double Theory, double Z, string Verdict)
{
    /// <summary>Half-width of the N → ∞ confidence interval.</summary>
    public double HalfWidth => 0.5 * (Fit.IntervalHigh - Fit.IntervalLow);

    /// <summary>One line for the note column of a table (no commas): the verdict, the theory, z, χ²/dof with its p-value,
    /// the form and the confidence of the half-width (with the degrees of freedom of its Student-t quantile when the
    /// datasets were counted), e.g. "agree; theory 0.266903; z +0.31; chi2 0.52/1 (p 0.47); form
    /// 1/n; error = 99% half-width (Student t 5.2 dof)".</summary>
    public string Note => string.Create(CultureInfo.InvariantCulture,
        $"{Verdict}; theory {Theory:G6}; z {(double.IsFinite(Z) ? Z.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture) : "undefined")}; " +
        $"chi2 {Fit.ChiSquare:G3}/{Fit.DegreesOfFreedom} (p {Fit.PValue:G2}); form {Fit.Form.Name()}; error = {Fit.Confidence * 100:G3}% half-width") +
        (double.IsFinite(Fit.ErrorDegreesOfFreedom) ? string.Create(CultureInfo.InvariantCulture, $" (Student t {Fit.ErrorDegreesOfFreedom:F1} dof)") : "");
}

/// <summary>A finite-size extrapolation of every observable of an ERM check.</summary>
/// <param name="Theory">The replica fixed point.</param>
/// <param name="Sizes">The ladder of N, ascending.</param>
/// <param name="Seeds">Datasets per size.</param>
/// <param name="Seed">Master seed: size N, dataset k uses <see cref="FiniteSizeExtrapolation.DatasetSeed"/>(seed, N, k).</param>
/// <param name="PerSize">The Monte Carlo at each size, in the order of <paramref name="Sizes"/>.</param>
/// <param name="Rows">One row per observable, in the order of <see cref="Observables.Names"/> (observables that are
/// undefined for the estimator, such as a training loss without a loss, are left out).</param>
/// <param name="FitThreshold">p-value below which a form is rejected.</param>
public sealed record FiniteSizeResult(ErmFixedPoint Theory, IReadOnlyList<int> Sizes, int Seeds, long Seed,
    IReadOnlyList<MonteCarloResult> PerSize, IReadOnlyList<FiniteSizeRow> Rows, double FitThreshold)
{
    /// <summary>The linear algebra the simulations ran on (one run for all sizes).</summary>
    public LinearAlgebraUse? LinearAlgebra => PerSize.Count > 0 ? PerSize[0].LinearAlgebra : null;

    /// <summary>"disagree" if any observable disagrees, else "form-does-not-fit" if any form is rejected, else "agree".</summary>
    public string Verdict =>
        Rows.Any(r => r.Verdict == FiniteSizeVerdict.Disagree) ? FiniteSizeVerdict.Disagree
        : Rows.Any(r => r.Verdict == FiniteSizeVerdict.FormDoesNotFit) ? FiniteSizeVerdict.FormDoesNotFit
        : FiniteSizeVerdict.Agree;
}

/// <summary>
/// Finite-size extrapolation of theory-versus-simulation checks: simulate at a ladder of N, fit the leading correction
/// E[O_N] = a + b·x(N) (x = 1/N or 1/√N, <see cref="FiniteSizeForm"/>) by weighted least squares with the
/// Monte Carlo standard errors, and compare the extrapolated a and its confidence interval with the replica value
/// (docs/theory.md#erm-saddle-point). The interval is the normal interval of the fit's covariance, inflated by the
/// Birge ratio √(χ²/dof) when that exceeds 1; a χ² goodness-of-fit test with dof = sizes − 2 decides whether the form
/// fits at all (then no verdict on the theory is claimed).
/// </summary>
public static class FiniteSizeExtrapolation
{
    /// <summary>Default confidence of the N → ∞ interval: 0.99 (z = 2.58). Six observables are judged at once, so
    /// a 95 % interval would reject a correct theory on one of them in a quarter of the runs.</summary>
    public const double DefaultConfidence = 0.99;

    /// <summary>Default goodness-of-fit threshold: a form with P(χ²_dof ≥ χ²) &lt; 0.01 does not fit.</summary>
    public const double DefaultFitThreshold = 0.01;

    /// <summary>Seed of dataset <paramref name="k"/> at size <paramref name="n"/>: independent streams for every size, so
    /// that the points of the fit are independent (the same seed at two sizes would share the first components).</summary>
    public static long DatasetSeed(long seed, int n, int k) => Seeds.Mix(seed, n, k);

    /// <summary>
    /// The default form per loss and observable. Every ERM observable is a smooth function of the empirical overlaps
    /// and margin law, whose fluctuations are O(1/√N) with zero mean, so the bias of the dataset mean is O(1/N); this
    /// holds for the hinge as well (its margin law has an atom at u = 1, but at finite N the support vectors sit exactly
    /// at u = 1, so the atom is not smeared) and for the 0-1 training error (a count whose mean is the probability of a
    /// negative margin, smooth in the margin law). The measurements behind this choice are in docs/replica.md.
    /// </summary>
    public static FiniteSizeForm DefaultForm(IMarginLoss? loss, string observable)
    {
        if (!Observables.Names.Contains(observable))
            throw new ArgumentException($"unknown observable '{observable}'; valid: {string.Join(", ", Observables.Names)}.", nameof(observable));
        return FiniteSizeForm.InverseN;
    }

    /// <summary>
    /// Weighted least-squares fit of y = a + b·x(N) to means <paramref name="values"/> with standard errors
    /// <paramref name="stdErrors"/> at sizes <paramref name="sizes"/> (at least 3 distinct sizes, so that dof ≥ 1).
    /// A standard error ≤ 1e−12·max(1, |y|) (an observable constant across datasets at that size) is replaced by the
    /// smallest positive one of the other sizes; if all are zero the fit is unweighted and exact (interval of zero width
    /// unless the points scatter, in which case the unweighted residual variance is used).
    /// </summary>
    /// <param name="sizes">N_i ≥ 1.</param>
    /// <param name="values">Means y_i (finite).</param>
    /// <param name="stdErrors">Standard errors se_i ≥ 0.</param>
    /// <param name="form">The correction x(N).</param>
    /// <param name="confidence">Confidence level in (0, 1) [0.99].</param>
    /// <param name="datasets">The number of datasets (≥ 2) behind each standard error, or null. When given, each se_i is
    /// treated as an estimate with n_i − 1 degrees of freedom: a = Σ c_i y_i is linear in the means, its variance
    /// Σ c_i² se_i² has ν = (Σ c_i² se_i²)² / Σ (c_i² se_i²)²/(n_i − 1) degrees of freedom (Welch–Satterthwaite), and the
    /// interval uses the Student-t quantile with ν instead of the normal one. This matters when a size has few datasets
    /// (with 4, a ±2.576 se interval covers 92 %, not 99 %); null keeps the normal quantile (many datasets).</param>
    public static FiniteSizeFit Fit(IReadOnlyList<double> sizes, IReadOnlyList<double> values, IReadOnlyList<double> stdErrors,
        FiniteSizeForm form, double confidence = DefaultConfidence, IReadOnlyList<int>? datasets = null)
    {
        ArgumentNullException.ThrowIfNull(sizes); ArgumentNullException.ThrowIfNull(values); ArgumentNullException.ThrowIfNull(stdErrors);
        int k = sizes.Count;
        if (values.Count != k || stdErrors.Count != k)
            throw new ArgumentException($"sizes, values and standard errors must have the same length (got {k}, {values.Count}, {stdErrors.Count}).", "values");
        if (sizes.Distinct().Count() < 3)
            throw new ArgumentOutOfRangeException("finite-size", k, "the extrapolation needs at least 3 distinct sizes N (dof >= 1).");
        Guard.OpenInterval(confidence, 0, 1, "confidence");
        if (datasets is not null && datasets.Count != k)
            throw new ArgumentException($"one dataset count per size is needed (got {datasets.Count} for {k} sizes).", nameof(datasets));
        for (int i = 0; i < k; i++)
        {
            if (datasets is not null) Guard.AtLeast(datasets[i], 2, "datasets");
            Guard.Positive(sizes[i], "n");
            Guard.Finite(values[i], "value");
            Guard.NonNegative(stdErrors[i], "standard error");
        }
        var se = stdErrors.ToArray();
        bool Tiny(int i) => se[i] <= 1e-12 * Math.Max(1, Math.Abs(values[i]));
        bool exact = Enumerable.Range(0, k).All(Tiny);
        if (!exact)
        {
            double floor = Enumerable.Range(0, k).Where(i => !Tiny(i)).Min(i => se[i]);
            for (int i = 0; i < k; i++) if (Tiny(i)) se[i] = floor;
        }
        // normal equations of the weighted fit
        double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
        var x = new double[k];
        for (int i = 0; i < k; i++)
        {
            x[i] = form.X(sizes[i]);
            double w = exact ? 1 : 1 / (se[i] * se[i]);
            sw += w; sx += w * x[i]; sy += w * values[i]; sxx += w * x[i] * x[i]; sxy += w * x[i] * values[i];
        }
        double det = sw * sxx - sx * sx;
        double a = (sxx * sy - sx * sxy) / det, b = (sw * sxy - sx * sy) / det;
        double varA = sxx / det, varB = sw / det;
        double chi2 = 0;
        for (int i = 0; i < k; i++)
        {
            double r = values[i] - a - b * x[i];
            chi2 += exact ? r * r : r * r / (se[i] * se[i]);
        }
        int dof = k - 2;
        double p, inflation;
        if (exact)
        {
            // no stated errors: the residual variance is the only error estimate (0 for points exactly on a line)
            p = double.NaN;
            inflation = Math.Sqrt(chi2 / dof);
        }
        else
        {
            p = 1 - ChiSquared.CDF(dof, chi2);
            inflation = Math.Sqrt(Math.Max(1, chi2 / dof));
        }
        double seA = Math.Sqrt(varA) * inflation, seB = Math.Sqrt(varB) * inflation;
        double nu = double.PositiveInfinity;
        if (datasets is not null && !exact)
        {
            // a = Σ c_i y_i with c_i = w_i (Sxx − Sx x_i)/det; its variance terms c_i² se_i², each with n_i − 1 dof
            double num = 0, den = 0;
            for (int i = 0; i < k; i++)
            {
                double c = (sxx - sx * x[i]) / det / (se[i] * se[i]);
                double v = c * c * se[i] * se[i];
                num += v; den += v * v / (datasets[i] - 1);
            }
            if (den > 0) nu = num * num / den;
        }
        double z = double.IsPositiveInfinity(nu) ? Normal.InvCDF(0, 1, 0.5 + confidence / 2) : StudentT.InvCDF(0, 1, nu, 0.5 + confidence / 2);
        return new FiniteSizeFit(form, a, seA, b, seB, chi2, dof, p, inflation, confidence, a - z * seA, a + z * seA, nu);
    }

    /// <summary>Judges a fit against the theory: <see cref="FiniteSizeVerdict.FormDoesNotFit"/> when p &lt;
    /// <paramref name="fitThreshold"/>, otherwise agree/disagree by whether the interval contains the theory (for an
    /// exact fit of zero width, within 1e−9·max(1, |theory|)).</summary>
    public static string Judge(FiniteSizeFit fit, double theory, double fitThreshold = DefaultFitThreshold)
    {
        ArgumentNullException.ThrowIfNull(fit);
        if (double.IsFinite(fit.PValue) && fit.PValue < fitThreshold) return FiniteSizeVerdict.FormDoesNotFit;
        double slack = fit.InterceptStdError == 0 ? 1e-9 * Math.Max(1, Math.Abs(theory)) : 0;
        return theory >= fit.IntervalLow - slack && theory <= fit.IntervalHigh + slack ? FiniteSizeVerdict.Agree : FiniteSizeVerdict.Disagree;
    }

    /// <summary>
    /// Simulates ERM at every size of <paramref name="sizes"/> (S datasets each; all (N, dataset) pairs run in parallel,
    /// largest N first, results stored by index so a parallel run equals a sequential one), fits each observable with its
    /// form (<paramref name="form"/>, or <see cref="DefaultForm"/> per observable) and judges it against the replica fixed
    /// point of <paramref name="problem"/>.
    /// </summary>
    /// <param name="problem">Loss, α, Δ, penalty, ρ (as <see cref="TheoryCheck.Erm"/>).</param>
    /// <param name="sizes">At least 3 distinct N ≥ 10.</param>
    /// <param name="seeds">Datasets per size, S ≥ 2.</param>
    /// <param name="seed">Master seed (<see cref="DatasetSeed"/>).</param>
    /// <param name="form">One form for every observable, or null for the default per observable.</param>
    /// <param name="confidence">Interval confidence [0.99].</param>
    /// <param name="fitThreshold">Goodness-of-fit threshold [0.01].</param>
    /// <param name="maxParallelism">Workers (default: all cores).</param>
    /// <param name="onJobDone">Called after each (N, dataset) job (from worker threads).</param>
    /// <param name="exactLabelCounts">Draw exactly round(ρP) positive labels per dataset (<see cref="MixtureSpec.ExactLabelCounts"/>).</param>
    public static FiniteSizeResult Erm(ErmProblem problem, IReadOnlyList<int> sizes, int seeds, long seed = 0, FiniteSizeForm? form = null,
        double confidence = DefaultConfidence, double fitThreshold = DefaultFitThreshold, int? maxParallelism = null, Action? onJobDone = null,
        bool exactLabelCounts = false)
    {
        ArgumentNullException.ThrowIfNull(problem);
        ArgumentNullException.ThrowIfNull(sizes);
        var ns = sizes.Distinct().OrderBy(n => n).ToArray();
        if (ns.Length < 3) throw new ArgumentOutOfRangeException("finite-size", sizes.Count, "the extrapolation needs at least 3 distinct sizes N (dof >= 1).");
        foreach (var n in ns) Guard.AtLeast(n, 10, "n");
        Guard.AtLeast(seeds, 2, "seeds");
        Guard.OpenInterval(confidence, 0, 1, "confidence");
        Guard.OpenInterval(fitThreshold, 0, 1, "fit-threshold");
        var theory = ErmSaddlePoint.Solve(problem);
        var estimator = EstimatorKind.Erm(problem.Loss, problem.Penalty, problem.LearnBias ? null : new Estimators.ErmOptions(FitBias: false));
        var perSize = Simulate(new MixtureSpec(problem.Model, ExactLabelCounts: exactLabelCounts), ns, seeds, seed,
            estimator.Measure, maxParallelism, onJobDone);
        double[] th = [theory.TestError, theory.TrainError, theory.TrainLoss, theory.M, theory.Q, theory.Bias];
        var rows = new List<FiniteSizeRow>();
        for (int o = 0; o < Observables.Names.Count; o++)
        {
            string name = Observables.Names[o];
            var stats = perSize.Select(r => r[name]).ToArray();
            if (stats.Any(s => !double.IsFinite(s.Mean)) || !double.IsFinite(th[o])) continue;
            rows.Add(Row(name, ns, stats, th[o], form ?? DefaultForm(problem.Loss, name), confidence, fitThreshold));
        }
        return new FiniteSizeResult(theory, ns, seeds, seed, perSize, rows, fitThreshold);
    }

    /// <summary>
    /// Fits and judges one observable given its Monte Carlo statistic at each size, however it was simulated (any
    /// observable, any seeds, e.g. a local energy at one σ or points already computed for a figure).
    /// </summary>
    /// <param name="observable">Name carried into the row.</param>
    /// <param name="sizes">N of each statistic (≥ 3 distinct).</param>
    /// <param name="values">Mean ± s.e. at each N.</param>
    /// <param name="theory">The N → ∞ value to judge against (finite).</param>
    /// <param name="form">The correction.</param>
    /// <param name="confidence">Interval confidence [0.99].</param>
    /// <param name="fitThreshold">Goodness-of-fit threshold [0.01].</param>
    /// <param name="countDatasets">Use the datasets behind each statistic (<see cref="Statistic.Count"/>) for a Student-t
    /// interval (<see cref="Fit"/>): for few datasets per size, as in the figures.</param>
    public static FiniteSizeRow Row(string observable, IReadOnlyList<int> sizes, IReadOnlyList<Statistic> values, double theory,
        FiniteSizeForm form, double confidence = DefaultConfidence, double fitThreshold = DefaultFitThreshold, bool countDatasets = false)
    {
        ArgumentNullException.ThrowIfNull(sizes); ArgumentNullException.ThrowIfNull(values);
        Guard.OpenInterval(fitThreshold, 0, 1, "fit-threshold");
        Guard.Finite(theory, "theory");
        var fit = Fit(sizes.Select(n => (double)n).ToArray(), values.Select(v => v.Mean).ToArray(), values.Select(v => v.StdError).ToArray(), form, confidence,
            countDatasets ? values.Select(v => v.Count).ToArray() : null);
        double z = fit.InterceptStdError > 0 ? (fit.Intercept - theory) / fit.InterceptStdError : (fit.Intercept == theory ? 0 : double.NaN);
        return new FiniteSizeRow(observable, sizes, values, fit, theory, z, Judge(fit, theory, fitThreshold));
    }

    /// <summary>
    /// The two smaller sizes of a figure's extrapolation ladder below its size <paramref name="n"/> with
    /// <paramref name="seeds"/> datasets: N/4 with 4S and N/2 with 2S datasets. The dataset-to-dataset spread of a
    /// self-averaging observable falls like 1/√N, so the three sizes get about the same standard error, and for a solver
    /// whose cost grows like N² the two cost ¼ and ½ of the N point.
    /// </summary>
    /// <param name="n">The figure's N ≥ 40 (so that N/4 ≥ 10).</param>
    /// <param name="seeds">Its datasets S ≥ 1.</param>
    public static IReadOnlyList<(int N, int Seeds)> LadderBelow(int n, int seeds)
    {
        Guard.AtLeast(n, 40, "n");
        Guard.AtLeast(seeds, 1, "seeds");
        return [(n / 4, 4 * seeds), (n / 2, 2 * seeds)];
    }

    /// <summary>
    /// Runs <paramref name="measure"/> on <paramref name="seeds"/> datasets of size <paramref name="n"/> (the mixture of
    /// <paramref name="mixture"/> with N and the seed replaced; dataset k uses <see cref="DatasetSeed"/>(seed, N, k)), in
    /// parallel, results stored by index so a parallel run equals a sequential one. For observables other than the six
    /// of <see cref="Observables"/> (e.g. a local energy at several σ), one size at a time.
    /// </summary>
    public static MonteCarloResult<T> SimulateAt<T>(MixtureSpec mixture, int n, int seeds, long seed, Func<MixtureSample, T> measure,
        int? maxParallelism = null)
    {
        ArgumentNullException.ThrowIfNull(mixture); ArgumentNullException.ThrowIfNull(measure);
        Guard.AtLeast(n, 1, "n");
        Guard.AtLeast(seeds, 1, "seeds");
        var ids = Enumerable.Range(0, seeds).Select(k => DatasetSeed(seed, n, k)).ToArray();
        var results = new T[seeds];
        var spec = mixture with { N = n, Seed = ids[0] };
        var plan = ParallelPlan.For(seeds, MonteCarlo.Workers(maxParallelism), MixtureSample.Bytes(spec),
            $"n = {n}, alpha = {spec.Alpha:G6} (P = {spec.P})");
        using (LinearAlgebra.UseSolveThreads(plan.ThreadsPerSolve))
            Parallel.For(0, seeds, new ParallelOptions { MaxDegreeOfParallelism = plan.Workers },
                k => results[k] = measure(MixtureSample.Sample(mixture with { N = n, Seed = ids[k] })));
        return new MonteCarloResult<T>(spec, ids, results) { Plan = plan, LinearAlgebra = LinearAlgebra.InUse(plan) };
    }

    /// <summary>
    /// Runs <paramref name="measure"/> on S datasets at each size (the mixture of <paramref name="mixture"/> with N and
    /// the seed replaced; dataset k at size N uses <see cref="DatasetSeed"/>(seed, N, k)). The (N, k) jobs run in one
    /// parallel loop, largest N first so that the long jobs do not end up last; results are stored by index.
    /// </summary>
    public static IReadOnlyList<MonteCarloResult> Simulate(MixtureSpec mixture, IReadOnlyList<int> sizes, int seeds, long seed,
        Func<MixtureSample, Observables> measure, int? maxParallelism = null, Action? onJobDone = null)
    {
        ArgumentNullException.ThrowIfNull(mixture); ArgumentNullException.ThrowIfNull(measure);
        Guard.AtLeast(seeds, 1, "seeds");
        var jobs = Enumerable.Range(0, sizes.Count).SelectMany(i => Enumerable.Range(0, seeds).Select(k => (I: i, K: k)))
            .OrderByDescending(j => sizes[j.I]).ThenBy(j => j.K).ToArray();
        var results = sizes.Select(_ => new Observables[seeds]).ToArray();
        // The cores are shared as in MonteCarlo.Run, sized by the largest dataset (the jobs that run first).
        var largest = mixture with { N = sizes.Max() };
        var plan = ParallelPlan.For(jobs.Length, MonteCarlo.Workers(maxParallelism), MixtureSample.Bytes(largest),
            $"n = {largest.N}, alpha = {largest.Alpha:G6} (P = {largest.P})");
        using (LinearAlgebra.UseSolveThreads(plan.ThreadsPerSolve))
            Parallel.For(0, jobs.Length, new ParallelOptions { MaxDegreeOfParallelism = plan.Workers }, j =>
            {
                var (i, k) = jobs[j];
                var spec = mixture with { N = sizes[i], Seed = DatasetSeed(seed, sizes[i], k) };
                results[i][k] = measure(MixtureSample.Sample(spec));
                onJobDone?.Invoke();
            });
        var used = LinearAlgebra.InUse(plan);
        return sizes.Select((n, i) => new MonteCarloResult(mixture with { N = n, Seed = DatasetSeed(seed, n, 0) },
            Enumerable.Range(0, seeds).Select(k => DatasetSeed(seed, n, k)).ToArray(), results[i]) { Plan = plan, LinearAlgebra = used }).ToArray();
    }
}
