using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;

namespace FlatMinima.Experiments;

/// <summary>One observable of a theory-versus-simulation check.</summary>
/// <param name="Observable">snake_case name (as in <see cref="Observables.Names"/>).</param>
/// <param name="Theory">Replica prediction (N → ∞).</param>
/// <param name="Simulation">Mean over datasets at finite N.</param>
/// <param name="StdError">Standard error of <paramref name="Simulation"/>.</param>
/// <param name="Allowance">Finite-size allowance: the O(1/N) bias tolerated on top of the statistical error.</param>
/// <param name="Z">z = (simulation − theory)/se; NaN when se ≤ 1e−9 (constant across datasets) and the two differ.</param>
/// <param name="Agrees">|simulation − theory| ≤ 3 se + allowance.</param>
public sealed record CheckRow(string Observable, double Theory, double Simulation, double StdError, double Allowance, double Z, bool Agrees);

/// <summary>Theory and simulation side by side.</summary>
public sealed record TheoryCheckResult(ErmFixedPoint Theory, MonteCarloResult Simulation, IReadOnlyList<CheckRow> Rows, double AllowanceScale)
{
    /// <summary>True when every observable agrees.</summary>
    public bool Agree => Rows.All(r => r.Agrees);
    /// <summary>"agree" or "disagree".</summary>
    public string Verdict => Agree ? "agree" : "disagree";
    /// <summary>Largest |z| over the observables with a defined z (0 if none).</summary>
    public double MaxAbsZ => Rows.Where(r => double.IsFinite(r.Z)).Select(r => Math.Abs(r.Z)).DefaultIfEmpty(0).Max();

    /// <summary>One line: every observable as "name: th T sim S ± se z Z" (for logs and failure messages).</summary>
    public string Describe() => string.Join("; ", Rows.Select(x =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{x.Observable}: th {x.Theory:G5} sim {x.Simulation:G5} ± {x.StdError:G2} z {x.Z:F2}")));
}

/// <summary>
/// Runs the ERM replica fixed point (docs/theory.md#erm-saddle-point) and a finite-N Monte Carlo of the exact ERM solver on the same
/// (loss, α, Δ, ρ, λ), and compares every observable: test error, training error, training loss, m, q and bias.
/// Agreement means |sim − theory| ≤ 3 se + a, with the stated finite-size allowance
/// a = <c>allowanceScale</c> · max(1, |theory|)/N (default scale 2): finite-N corrections to the overlaps and
/// errors of ERM are O(1/N), while the statistical error is O(1/√(N S)).
/// </summary>
public static class TheoryCheck
{
    /// <summary>Default allowance scale: a = 2 · max(1, |theory|)/N.</summary>
    public const double DefaultAllowanceScale = 2;

    /// <param name="problem">Loss, α, Δ, λ, ρ.</param>
    /// <param name="n">Input dimension N ≥ 10.</param>
    /// <param name="seeds">Datasets S ≥ 2 (a standard error needs two).</param>
    /// <param name="seed">First seed (dataset k uses seed + k).</param>
    /// <param name="allowanceScale">Finite-size allowance scale ≥ 0.</param>
    /// <param name="maxParallelism">Workers for the Monte Carlo (default: all cores).</param>
    /// <param name="onSeedDone">Progress callback.</param>
    public static TheoryCheckResult Erm(ErmProblem problem, int n, int seeds, long seed = 0, double allowanceScale = DefaultAllowanceScale,
        int? maxParallelism = null, Action? onSeedDone = null)
    {
        ArgumentNullException.ThrowIfNull(problem);
        Guard.AtLeast(n, 10, "n");
        Guard.AtLeast(seeds, 2, "seeds");
        Guard.NonNegative(allowanceScale, "allowance");
        var theory = ErmSaddlePoint.Solve(problem);
        var spec = new MixtureSpec(problem.Model, n, seed);
        var sim = MonteCarlo.Run(spec, seeds, EstimatorKind.Erm(problem.Loss, problem.Penalty, problem.LearnBias ? null : new Estimators.ErmOptions(FitBias: false)), maxParallelism, onSeedDone);
        var th = new Observables(theory.TestError, theory.TrainError, theory.TrainLoss, theory.M, theory.Q, theory.Bias);
        return new TheoryCheckResult(theory, sim, Compare(th, sim, allowanceScale), allowanceScale);
    }

    /// <summary>
    /// The verdict rule, for any theory and simulation: each observable agrees when |sim − theory| ≤ 3 se + a, with the
    /// allowance a = <paramref name="allowanceScale"/> · max(1, |theory|)/N (N of the simulation's spec).
    /// </summary>
    public static IReadOnlyList<CheckRow> Compare(Observables theory, MonteCarloResult simulation, double allowanceScale = DefaultAllowanceScale)
    {
        ArgumentNullException.ThrowIfNull(theory);
        ArgumentNullException.ThrowIfNull(simulation);
        Guard.NonNegative(allowanceScale, "allowance");
        int n = simulation.Spec.N;
        double[] th = theory.Values;
        var rows = new List<CheckRow>();
        for (int i = 0; i < Observables.Names.Count; i++)
        {
            string name = Observables.Names[i];
            var st = simulation[name];
            double allowance = allowanceScale * Math.Max(1, Math.Abs(th[i])) / n;
            double diff = st.Mean - th[i];
            double se = st.StdError;
            // an observable constant across datasets to solver precision (se ≤ 1e−9, e.g. ε_t = 0 and a hinge loss of
            // 1e−12 on separable data) has no meaningful z: NaN unless the difference is 0 too; agreement then rests
            // on the allowance alone
            double z = se > 1e-9 ? diff / se : (diff == 0 ? 0 : double.NaN);
            bool ok = Math.Abs(diff) <= 3 * (double.IsFinite(se) ? se : 0) + allowance;
            rows.Add(new CheckRow(name, th[i], st.Mean, se, allowance, z, ok));
        }
        return rows;
    }
}
