using FlatMinima.Estimators;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;

namespace FlatMinima.Experiments;

/// <summary>A theory curve of ERM fixed points (docs/theory.md#erm-saddle-point) against a control parameter x (α or λ). Points that
/// did not converge are kept — never NaN — and are marked in the table and reported in the warnings.</summary>
/// <param name="Series">The curve's name in the table.</param>
/// <param name="Loss">Loss name.</param>
/// <param name="X">The control parameter at each point.</param>
/// <param name="Points">The fixed points, in the order of <paramref name="X"/>.</param>
public sealed record ErmTheoryCurve(string Series, string Loss, IReadOnlyList<double> X, IReadOnlyList<ErmFixedPoint> Points)
{
    /// <summary>Whether the point <paramref name="i"/> can be drawn: converged, with a finite test error.</summary>
    public bool Drawable(int i) => Points[i].Converged && double.IsFinite(Points[i].TestError);

    /// <summary>Rows x, ε_g, (no s.e.), λ, ρ of each point; a point that cannot be drawn is marked "not converged: reason".</summary>
    internal void AddTo(SeriesTable table)
    {
        for (int i = 0; i < Points.Count; i++)
        {
            var fp = Points[i];
            table.Add(Series, [X[i], fp.TestError, double.NaN, fp.Problem.Lambda, fp.Problem.Rho], Drawable(i) ? "" : "not converged: " + fp.Reason);
        }
    }

    /// <summary>One warning per point that cannot be drawn.</summary>
    public IEnumerable<string> Warnings => Enumerable.Range(0, Points.Count).Where(i => !Drawable(i))
        .Select(i => $"{Series}: fixed point at x = {X[i]:G4} did not converge ({Points[i].Reason}); marked in the CSV");
}

/// <summary>Finite-N test errors of ERM (mean ± s.e. over datasets) at a few values x of the control parameter, and
/// where it is made the N → ∞ extrapolation of each (<see cref="ErmExtrapolation"/>).</summary>
/// <param name="Loss">Loss name.</param>
/// <param name="Lambda">Ridge λ (NaN when λ is the control parameter).</param>
/// <param name="N">Dimension of the plotted points.</param>
/// <param name="Seeds">Datasets per plotted point.</param>
/// <param name="X">The control parameter at each point.</param>
/// <param name="TestErrors">Mean ± s.e. of the test error at each point.</param>
/// <param name="Extrapolations">Per point, the extrapolation of the test error to N → ∞ from N/4, N/2 and N (its last
/// size is the plotted point), or null where none is made; null altogether when no point is extrapolated.</param>
public sealed record ErmSimulation(string Loss, double Lambda, int N, int Seeds, IReadOnlyList<double> X, IReadOnlyList<Statistic> TestErrors,
    IReadOnlyList<FiniteSizeRow?>? Extrapolations = null)
{
    /// <summary>The extrapolations that were made, with their x.</summary>
    public IEnumerable<(double X, FiniteSizeRow Row)> Extrapolated =>
        Extrapolations is null ? [] : Extrapolations.Select((r, i) => (X[i], r)).Where(p => p.r is not null).Select(p => (p.Item1, p.r!));

    /// <summary>Rows of the extrapolations: first the smaller sizes of every ladder (series "finite-size LABEL n=… seeds=…",
    /// marked "not drawn"), then one row per extrapolated point (series "extrapolation LABEL from n=N1/N2/N3": the value
    /// a, its interval half-width in the standard-error column, the verdict and fit in the note).</summary>
    /// <param name="table">The figure's table.</param>
    /// <param name="label">The curve, e.g. "square lambda=0.1".</param>
    /// <param name="row">The table row of a point from (x, value, error).</param>
    internal void AddExtrapolationRows(SeriesTable table, string label, Func<double, double, double, double[]> row)
    {
        var done = Extrapolated.ToList();
        if (done.Count == 0) return;
        var sizes = done[0].Row.Sizes;
        for (int s = 0; s < sizes.Count - 1; s++)
            foreach (var (x, r) in done)
                table.Add($"finite-size {label} n={r.Sizes[s]} seeds={r.Values[s].Count}", row(x, r.Values[s].Mean, r.Values[s].StdError),
                    "not drawn: a smaller size of the extrapolation");
        foreach (var (x, r) in done)
            table.Add($"extrapolation {label} from n={string.Join('/', r.Sizes)}", row(x, r.Fit.Intercept, r.HalfWidth), r.Note);
    }

    /// <summary>One warning per extrapolation whose verdict is not "agree".</summary>
    internal IEnumerable<string> ExtrapolationWarnings(string label) => Extrapolated.Where(p => p.Row.Verdict != FiniteSizeVerdict.Agree)
        .Select(p => $"extrapolation {label} at x = {p.X:G4}: {p.Row.Verdict} (N -> infinity {p.Row.Fit.Intercept:G5} ± {p.Row.HalfWidth:G3}, theory {p.Row.Theory:G5})");
}

/// <summary>
/// The N → ∞ extrapolation of ERM's test error at one plotted point of a figure (docs/replica.md, finite-size
/// extrapolation): the point's own statistic at N on S datasets, and new simulations at N/4 on 4S and N/2 on 2S datasets
/// (<see cref="FiniteSizeExtrapolation.LadderBelow"/>, datasets <see cref="FiniteSizeExtrapolation.DatasetSeed"/>, so
/// independent of the plotted point's), fitted with <see cref="FiniteSizeExtrapolation.DefaultForm"/> (a + b/N) and
/// judged at 99 % against the replica fixed point, the interval a Student-t one with the datasets of each size counted
/// (<see cref="FiniteSizeExtrapolation.Fit"/>: 8 datasets at the largest N are few).
/// </summary>
public static class ErmExtrapolation
{
    /// <summary>The extrapolated test error of ridge ERM with <paramref name="loss"/> at λ = <paramref name="lambda"/> on
    /// <paramref name="model"/> from its plotted statistic <paramref name="atN"/> (N = <paramref name="n"/>,
    /// <paramref name="seeds"/> datasets; the same estimator at the smaller sizes).</summary>
    /// <param name="loss">The loss.</param>
    /// <param name="model">The data model (α, Δ, ρ).</param>
    /// <param name="lambda">Ridge λ ≥ 0.</param>
    /// <param name="exactLabelCounts">Draw exactly round(ρP) positive labels at every size, as the plotted point did.</param>
    /// <param name="n">The plotted N ≥ 40.</param>
    /// <param name="seeds">The plotted point's datasets S.</param>
    /// <param name="atN">The plotted point: mean ± s.e. of the test error at N.</param>
    /// <param name="seed">Master seed of the smaller sizes (<see cref="FiniteSizeExtrapolation.DatasetSeed"/>).</param>
    /// <param name="threads">Workers (default: all cores).</param>
    public static FiniteSizeRow TestError(IMarginLoss loss, MixtureModel model, double lambda, bool exactLabelCounts, int n, int seeds, Statistic atN,
        long seed, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        var estimator = EstimatorKind.Erm(loss, lambda);
        var mixture = new MixtureSpec(model, ExactLabelCounts: exactLabelCounts);
        var ladder = FiniteSizeExtrapolation.LadderBelow(n, seeds);
        var stats = ladder.Select(l => FiniteSizeExtrapolation.SimulateAt(mixture, l.N, l.Seeds, seed, estimator.Measure, threads).Of(o => o.TestError))
            .Append(atN).ToArray();
        int[] sizes = [.. ladder.Select(l => l.N), n];
        const string observable = "test_error";
        return FiniteSizeExtrapolation.Row(observable, sizes, stats, ErmSaddlePoint.Solve(new ErmProblem(loss, model, lambda)).TestError,
            FiniteSizeExtrapolation.DefaultForm(loss, observable), countDatasets: true);
    }
}

/// <summary>
/// ERM learning curves ε_g(α) (figure 2) at Δ = 1, ρ = ½ for the square, logistic and hinge losses: at λ = 0.1 with
/// finite-N simulations and their N → ∞ extrapolations (<see cref="ErmExtrapolation"/>), and at λ = 10⁻⁴, the λ → 0 limit whose interpolation peaks sit at α = 1 (square) and at the
/// separability threshold α_c (logistic, hinge); with ε_BO(α) and α_c.
/// </summary>
public sealed record ErmLearningCurves(IReadOnlyList<ErmTheoryCurve> Theory, IReadOnlyList<double> Alphas, IReadOnlyList<double> BayesOptimalErrors,
    double SeparabilityThreshold, IReadOnlyList<ErmSimulation> Simulations)
{
    public const double Delta = 1, Rho = 0.5, Lambda = 0.1, SmallLambda = 1e-4;
    /// <summary>The α of the simulations at λ = 0.1 (every loss).</summary>
    public static IReadOnlyList<double> SimulatedAlphas { get; } = [0.5, 1, 2, 3, 5, 8];
    /// <summary>The α of the simulations at λ = 10⁻⁴ (square and logistic, below α_c; the exact hinge solver is slow at
    /// tiny λ, see docs/core.md, so its λ → 0 curve is theory only).</summary>
    public static IReadOnlyList<double> SmallLambdaSimulatedAlphas { get; } = [0.5, 1.5, 2.5];

    /// <summary>Computes the curves on <paramref name="gridPoints"/> log-spaced α in [0.3, 12] (warm-started sweeps) and
    /// the simulations (N = <paramref name="n"/>, <paramref name="seeds"/> datasets from <paramref name="seed"/>).</summary>
    public static ErmLearningCurves Compute(int gridPoints = 241, int n = 400, int seeds = 8, long seed = 0, int? threads = null, Action<double>? progress = null)
    {
        var alphas = LearningCurve.Grid(0.3, 12, gridPoints, log: true);
        double alphaC = Replica.SeparabilityThreshold.Of(Delta, Rho, withBias: true);
        var theory = new List<ErmTheoryCurve>();
        foreach (var name in MarginLosses.Names)
            foreach (var lambda in new[] { Lambda, SmallLambda })
            {
                var fps = LearningCurve.OverAlpha(new ErmProblem(MarginLosses.Parse(name), new MixtureModel(alphas[0], Delta, Rho), lambda), alphas);
                theory.Add(new ErmTheoryCurve($"theory {name} lambda={lambda:G}", name, fps.Select(fp => fp.Problem.Alpha).ToArray(), fps));
            }
        var bo = alphas.Select(a => BayesOptimal.Error(new MixtureModel(a, Delta, Rho))).ToArray();
        var jobs = new List<(string Loss, double Alpha, double Lambda)>();
        foreach (var name in MarginLosses.Names) foreach (var a in SimulatedAlphas) jobs.Add((name, a, Lambda));
        foreach (var name in new[] { "square", "logistic" }) foreach (var a in SmallLambdaSimulatedAlphas) jobs.Add((name, a, SmallLambda));
        var sims = new List<ErmSimulation>();
        int done = 0;
        foreach (var group in jobs.GroupBy(j => (j.Loss, j.Lambda)))
        {
            var errors = new List<Statistic>();
            var extrapolations = new List<FiniteSizeRow?>();
            foreach (var j in group)
            {
                var model = new MixtureModel(j.Alpha, Delta, Rho);
                var loss = MarginLosses.Parse(j.Loss);
                var atN = MonteCarlo.Run(model.AtSize(n, seed), seeds, EstimatorKind.Erm(loss, j.Lambda), threads).TestError;
                errors.Add(atN);
                extrapolations.Add(Extrapolated(j.Lambda) ? ErmExtrapolation.TestError(loss, model, j.Lambda, false, n, seeds, atN, seed, threads) : null);
                progress?.Invoke(++done / (double)jobs.Count);
            }
            sims.Add(new ErmSimulation(group.Key.Loss, group.Key.Lambda, n, seeds, group.Select(j => j.Alpha).ToArray(), errors,
                extrapolations.Any(e => e is not null) ? extrapolations : null));
        }
        return new(theory, alphas, bo, alphaC, sims);
    }

    /// <summary>
    /// Whether the simulations at <paramref name="lambda"/> get an N → ∞ extrapolation: at λ = 0.1, yes (the figure
    /// compares them with the theory); at λ = 10⁻⁴, no: that curve is there to show the interpolation peaks (α = 1 for the
    /// square loss, α_c for logistic), near which the finite-size corrections grow and their form is not established (at
    /// finite N the separability transition is itself smeared over a window of α), so a + b/N would be an assumption.
    /// </summary>
    public static bool Extrapolated(double lambda) => lambda == Lambda;

    /// <summary>Points that did not converge, and extrapolations that do not agree with the theory.</summary>
    public IReadOnlyList<string> Warnings => Theory.SelectMany(c => c.Warnings)
        .Concat(Simulations.SelectMany(s => s.ExtrapolationWarnings($"{s.Loss} lambda={s.Lambda:G}"))).ToArray();

    /// <summary>The table: columns alpha, test_error, test_error_se, lambda, rho; the theory curves, ε_BO, α_c, the simulations,
    /// then the extrapolations (<see cref="ErmSimulation.AddExtrapolationRows"/>).</summary>
    public SeriesTable ToTable()
    {
        var t = new SeriesTable("alpha", "test_error", "test_error_se", "lambda", "rho");
        foreach (var c in Theory) c.AddTo(t);
        for (int i = 0; i < Alphas.Count; i++) t.Add("bayes-optimal", [Alphas[i], BayesOptimalErrors[i], double.NaN, double.NaN, Rho]);
        t.Add("separability threshold", [SeparabilityThreshold, double.NaN, double.NaN, double.NaN, Rho]);
        foreach (var s in Simulations)
            for (int i = 0; i < s.X.Count; i++)
                t.Add($"simulation {s.Loss} lambda={s.Lambda:G} n={s.N} seeds={s.Seeds}", [s.X[i], s.TestErrors[i].Mean, s.TestErrors[i].StdError, s.Lambda, Rho]);
        foreach (var s in Simulations)
            s.AddExtrapolationRows(t, $"{s.Loss} lambda={s.Lambda:G}", (x, y, e) => [x, y, e, s.Lambda, Rho]);
        return t;
    }
}

/// <summary>
/// ERM test error against λ (figure 3) at α = 2, Δ = 1 for the square, logistic and hinge losses, with finite-N
/// simulations (exact label counts), their N → ∞ extrapolations (<see cref="Extrapolated"/>) and ε_BO. Balanced, every loss reaches ε_BO as λ → ∞; at ρ = ¼ a gap remains and
/// large λ tends to the majority-class error (docs/theory.md#reaching-bo, docs/theory.md#table-erm).
/// </summary>
public sealed record ErmLambdaCurves(double Rho, IReadOnlyList<ErmTheoryCurve> Theory, double BayesOptimalError, IReadOnlyList<ErmSimulation> Simulations)
{
    public const double Alpha = 2, Delta = 1;
    /// <summary>The λ of the simulations.</summary>
    public static IReadOnlyList<double> SimulatedLambdas { get; } = [1e-2, 0.1, 1, 10, 100];

    /// <summary>The majority-class error min(ρ, 1 − ρ), the λ → ∞ limit when unbalanced.</summary>
    public double MajorityClassError => Math.Min(Rho, 1 - Rho);

    /// <summary>Computes the curves on <paramref name="gridPoints"/> log-spaced λ in [10⁻³, 10³] and the simulations.</summary>
    public static ErmLambdaCurves Compute(double rho, int gridPoints = 121, int n = 400, int seeds = 8, long seed = 0, int? threads = null, Action<double>? progress = null)
    {
        var model = new MixtureModel(Alpha, Delta, rho);
        var lambdas = LearningCurve.Grid(1e-3, 1e3, gridPoints, log: true);
        var theory = MarginLosses.Names.Select(name =>
        {
            var fps = LearningCurve.OverLambda(new ErmProblem(MarginLosses.Parse(name), model, lambdas[0]), lambdas);
            return new ErmTheoryCurve($"theory {name}", name, fps.Select(fp => fp.Problem.Lambda).ToArray(), fps);
        }).ToArray();
        var sims = new List<ErmSimulation>();
        int done = 0, total = MarginLosses.Names.Count * SimulatedLambdas.Count;
        foreach (var name in MarginLosses.Names)
        {
            var errors = new List<Statistic>();
            var extrapolations = new List<FiniteSizeRow?>();
            var loss = MarginLosses.Parse(name);
            foreach (var lam in SimulatedLambdas)
            {
                var atN = MonteCarlo.Run(new MixtureSpec(model, n, seed, ExactLabelCounts: true), seeds, EstimatorKind.Erm(loss, lam), threads).TestError;
                errors.Add(atN);
                extrapolations.Add(Extrapolated(name, lam, rho) ? ErmExtrapolation.TestError(loss, model, lam, true, n, seeds, atN, seed, threads) : null);
                progress?.Invoke(++done / (double)total);
            }
            sims.Add(new ErmSimulation(name, double.NaN, n, seeds, SimulatedLambdas, errors, extrapolations));
        }
        return new(rho, theory, BayesOptimal.Error(model), sims);
    }

    /// <summary>
    /// Whether the simulation of <paramref name="loss"/> at <paramref name="lambda"/> gets an N → ∞ extrapolation: every
    /// point but the hinge at ρ = ½ and λ ≥ 10. There the weights are O(1/λ), no training margin reaches 1 (the theory
    /// puts a fraction 2·10⁻³ of them there at λ = 10, about one sample at N = 400, and none at λ = 100), so the loss is
    /// linear in b with slope −Σ_μ y^μ = 0 (exact label counts) and every bias of an interval is a minimiser. The solver
    /// returns the interval's midpoint −(max_{y=+1} s + min_{y=−1} s)/2 of the training scores s: an extreme-value
    /// statistic whose spread relative to √(Δq) shrinks like 1/√(ln P), not like 1/√N, so the excess test error decays
    /// like 1/ln P and a + b/N does not describe it (docs/replica.md, finite-size extrapolation of the figures). At ρ = ¼
    /// the slope −Σ_μ y^μ is not zero and the bias is pinned at a quantile of the scores: no such degeneracy.
    /// </summary>
    public static bool Extrapolated(string loss, double lambda, double rho) => !(loss == "hinge" && rho == 0.5 && lambda >= 10);

    /// <summary>Points that did not converge, and extrapolations that do not agree with the theory.</summary>
    public IReadOnlyList<string> Warnings => Theory.SelectMany(c => c.Warnings)
        .Concat(Simulations.SelectMany(s => s.ExtrapolationWarnings(s.Loss))).ToArray();

    /// <summary>The table: columns lambda, test_error, test_error_se, lambda_again, rho; the theory curves, ε_BO, the
    /// majority-class error when unbalanced, the simulations, then the extrapolations (<see cref="ErmSimulation.AddExtrapolationRows"/>).</summary>
    public SeriesTable ToTable()
    {
        var t = new SeriesTable("lambda", "test_error", "test_error_se", "lambda_again", "rho");
        foreach (var c in Theory) c.AddTo(t);
        t.Add("bayes-optimal", [double.NaN, BayesOptimalError, double.NaN, double.NaN, Rho]);
        if (Rho != 0.5) t.Add("majority class", [double.NaN, MajorityClassError, double.NaN, double.NaN, Rho]);
        foreach (var s in Simulations)
            for (int i = 0; i < s.X.Count; i++)
                t.Add($"simulation {s.Loss} n={s.N} seeds={s.Seeds}", [s.X[i], s.TestErrors[i].Mean, s.TestErrors[i].StdError, s.X[i], Rho]);
        foreach (var s in Simulations)
            s.AddExtrapolationRows(t, s.Loss, (x, y, e) => [x, y, e, x, Rho]);
        return t;
    }
}
