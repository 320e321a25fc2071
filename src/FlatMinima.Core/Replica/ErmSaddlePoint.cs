using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Penalties;

namespace FlatMinima.Replica;

/// <summary>
/// An ERM problem on the two-cluster mixture in the proportional limit (docs/theory.md#classifier, docs/theory.md#erm-saddle-point):
/// loss ℓ, data model (α, Δ, ρ) and a penalty on the weights (ridge λ by default; the bias is unpenalised). Validated on construction.
/// <code>var problem = new ErmProblem(LogisticLoss.Instance, new MixtureModel(Alpha: 2, Delta: 1), lambda: 0.1);</code>
/// </summary>
public sealed record ErmProblem
{
    /// <summary>The loss ℓ of the margin.</summary>
    public IMarginLoss Loss { get; }
    /// <summary>The data model (α, Δ, ρ).</summary>
    public MixtureModel Model { get; }
    /// <summary>α of <see cref="Model"/>.</summary>
    public double Alpha => Model.Alpha;
    /// <summary>Δ of <see cref="Model"/>.</summary>
    public double Delta => Model.Delta;
    /// <summary>ρ of <see cref="Model"/>.</summary>
    public double Rho => Model.Rho;
    /// <summary>The strength λ of the penalty (<see cref="IWeightPenalty.Strength"/>: ridge λ &gt; 0 — λ = 0 has no fixed
    /// point below the separability threshold, docs/theory.md#erm-saddle-point — or the L1 strength); 0 for a constraint such as the sphere.</summary>
    public double Lambda => Penalty.Strength ?? 0;
    /// <summary>The weight penalty (default <see cref="RidgePenalty"/> with <see cref="Lambda"/>).</summary>
    public IWeightPenalty Penalty { get; }

    /// <summary>ERM with the ridge penalty λ‖w‖²/2, λ &gt; 0.</summary>
    public ErmProblem(IMarginLoss loss, MixtureModel model, double lambda)
    {
        Loss = loss ?? throw new ArgumentNullException(nameof(loss));
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Penalty = new RidgePenalty(lambda);
    }

    /// <summary>ERM with any weight penalty or constraint (ridge, sphere ‖w‖² = NQ, L1, or a user's
    /// <see cref="IWeightPenalty"/>).</summary>
    public ErmProblem(IMarginLoss loss, MixtureModel model, IWeightPenalty penalty)
    {
        Loss = loss ?? throw new ArgumentNullException(nameof(loss));
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Penalty = penalty ?? throw new ArgumentNullException(nameof(penalty));
    }

    /// <summary>True when ρ = ½, where the bias vanishes by symmetry.</summary>
    public bool Balanced => Model.Balanced;
    /// <summary>Whether the bias is learned (default true). False: b = 0 and the bias condition is dropped (ERM
    /// without bias, docs/norms.md §2).</summary>
    public bool LearnBias { get; init; } = true;
    /// <summary>True when b = 0 at the fixed point: balanced, or the bias is not learned.</summary>
    public bool BiasFixedAtZero => Balanced || !LearnBias;

    /// <summary>The same problem with another α.</summary>
    public ErmProblem WithAlpha(double alpha) => new(Loss, Model with { Alpha = alpha }, Penalty) { LearnBias = LearnBias };
    /// <summary>The same problem with the penalty at another strength λ (<see cref="IWeightPenalty.WithStrength"/>).</summary>
    /// <exception cref="InvalidOperationException">For a penalty without a strength, e.g. the sphere (use <see cref="WithNorm"/>).</exception>
    public ErmProblem WithLambda(double lambda) => new(Loss, Model, Penalty.WithStrength(lambda)) { LearnBias = LearnBias };
    /// <summary>The same loss and data with the spherical constraint ‖w‖² = N Q.</summary>
    public ErmProblem WithNorm(double norm) => new(Loss, Model, new SpherePenalty(norm)) { LearnBias = LearnBias };

    public override string ToString() =>
        $"{Loss.Name} alpha={Alpha:G6} delta={Delta:G6} {Penalty} rho={Rho:G6}" + (LearnBias ? "" : " no-bias");
}

/// <summary>Order parameters (m, q, V) and bias b: the state of the ERM fixed-point iteration.</summary>
public readonly record struct ErmState(double M, double Q, double V, double Bias)
{
    /// <summary>The initialisation of docs/theory.md#erm-numerics, (m, q, V, b) = (0.5, 1, 1, 0).</summary>
    public static ErmState Default { get; } = new(0.5, 1, 1, 0);
}

/// <summary>Conjugate ("hat") order parameters m̂, q̂, V̂ (docs/theory.md#erm-saddle-point).</summary>
public readonly record struct ErmHats(double MHat, double QHat, double VHat);

/// <summary>Options of <see cref="ErmSaddlePoint"/>.</summary>
/// <param name="Solver">The fixed-point iteration; default <see cref="SaddlePointOptions.Default"/> (undamped Anderson
/// mixing, tolerance 1e−11, adaptive damping). Its <see cref="SaddlePointOptions.MaxIterations"/> (default 5000) caps the
/// evaluations of the fixed-point map over the whole solve: the accelerated iteration, Newton and every continuation stage.</param>
/// <param name="Quadrature">Quadrature of smooth-loss channels; default <see cref="ErmQuadrature.Default"/>.</param>
/// <param name="BiasTolerance">Absolute tolerance on the bias condition E[g](b) = 0. Default 1e−14.</param>
/// <param name="ExactBias">If true, solve the bias condition to <paramref name="BiasTolerance"/> at every iteration
/// (docs/theory.md#erm-saddle-point). If false (default), take one safeguarded Newton step per iteration, so that b converges together
/// with (m, q, V) to the same fixed point at a third of the cost; the bias condition then holds to the solver
/// tolerance.</param>
/// <param name="Rule">If set, every channel average uses this fixed quadrature rule instead of the default
/// (closed forms for hinge, split Gauss–Legendre for smooth losses). <c>GaussianMeasure.Trapezoid()</c> reproduces
/// the numerics of the independent reference solver (docs/theory.md#erm-numerics) exactly, including their O(h) grid error at the hinge kinks.</param>
/// <param name="Continuation">If true (default) and the solve from the initial point fails at a penalty strength
/// λ &lt; 1, solve again by continuation in λ: from λ = 1 down to λ in geometric steps (a factor √10 at first, doubled
/// in ln λ after a stage that needed at most 20 evaluations, halved after a stage that failed), each stage started from
/// the secant extrapolation in ln λ of the two previous stages in the scaled variables of <paramref name="Newton"/>.</param>
/// <param name="Newton">If true (default), a solve whose accelerated fixed-point iteration has not converged after
/// <paramref name="FixedPointIterations"/> evaluations continues with Newton's method (<see cref="SaddlePointSolver.Newton"/>)
/// from the same initial point, in the variables (m/√q, ln q, ln V, b/√q), which stay of order one as λ → 0 below the
/// separability threshold (docs/theory.md#erm-numerics). False: the fixed-point iteration alone, up to the cap.</param>
/// <param name="FixedPointIterations">Evaluations given to the accelerated fixed-point iteration before Newton takes
/// over (with <paramref name="Newton"/>), ≥ 1. Default 50: of 400 random problems away from the threshold 395 need fewer
/// (median 13) and so keep exactly the fixed point of the iteration alone, while near α_c the iterates drift to large q,
/// where each evaluation costs more quadrature panels (with 100 a hard logistic point took 1.1 s instead of 0.3 s;
/// docs/replica.md#near-threshold).</param>
public sealed record ErmSaddlePointOptions(SaddlePointOptions? Solver = null, ErmQuadrature? Quadrature = null, double BiasTolerance = 1e-14,
                                bool ExactBias = false, QuadratureRule? Rule = null, bool Continuation = true, bool Newton = true,
                                int FixedPointIterations = 50)
{
    /// <summary>The defaults.</summary>
    public static ErmSaddlePointOptions Default { get; } = new();
    internal SaddlePointOptions SolverOrDefault => Solver ?? SaddlePointOptions.Default;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the bad option.</summary>
    public ErmSaddlePointOptions Validate()
    {
        SolverOrDefault.Validate();
        Guard.AtLeast(FixedPointIterations, 1, "fixed-point-iterations");
        return this;
    }
}

/// <summary>
/// A replica-symmetric ERM fixed point (docs/theory.md#erm-saddle-point) and its observables. Results are per sample or per component.
/// </summary>
public sealed record ErmFixedPoint
{
    /// <summary>The problem solved.</summary>
    public required ErmProblem Problem { get; init; }
    /// <summary>m = w·v/N.</summary>
    public required double M { get; init; }
    /// <summary>q = ‖w‖²/N.</summary>
    public required double Q { get; init; }
    /// <summary>Susceptibility V.</summary>
    public required double V { get; init; }
    /// <summary>Bias b (0 when balanced).</summary>
    public required double Bias { get; init; }
    /// <summary>m̂.</summary>
    public required double MHat { get; init; }
    /// <summary>q̂.</summary>
    public required double QHat { get; init; }
    /// <summary>V̂.</summary>
    public required double VHat { get; init; }
    /// <summary>Generalisation error ε_g (docs/theory.md#e1) at (m, q, b).</summary>
    public required double TestError { get; init; }
    /// <summary>Training error ε_t = P(u* &lt; 0).</summary>
    public required double TrainError { get; init; }
    /// <summary>Training loss per sample E[ℓ(u*)] (penalty excluded).</summary>
    public required double TrainLoss { get; init; }
    /// <summary>Evaluations of the fixed-point map F(m, q, V, b) over the whole solve: the accelerated iteration (and its
    /// plain-damping retry), Newton's Jacobian columns and line-search trials, and every continuation stage. Never more
    /// than <see cref="SaddlePointOptions.MaxIterations"/>.</summary>
    public required int Iterations { get; init; }
    /// <summary>Problems solved by continuation in λ (<see cref="ErmSaddlePointOptions.Continuation"/>), the start at
    /// λ = 1 and the final λ included; 0 when the problem was solved from the initial point.</summary>
    public int Stages { get; init; }
    /// <summary>Whether the iteration converged.</summary>
    public required bool Converged { get; init; }
    /// <summary>The residual Σ_i |F(x)_i − x_i| / max(1, |x_i|) at each iterate (<see cref="SaddlePointSolution.ResidualHistory"/>),
    /// over every phase and stage.</summary>
    public required IReadOnlyList<double> ResidualHistory { get; init; }
    /// <summary>Why the iteration stopped.</summary>
    public required string Reason { get; init; }

    /// <summary>The state, for warm starts.</summary>
    public ErmState State => new(M, Q, V, Bias);
    /// <summary>Cosine m/√q between w and the centroid.</summary>
    public double Cosine => Q > 0 ? M / Math.Sqrt(Q) : 0;
    /// <summary>Minimal training energy per N, (1/N) min [Σ_μ ℓ + Σ_j r(w_j)] = α E[ℓ(u*)] + the penalty's value
    /// (λq/2 for the ridge).</summary>
    public double Energy => Problem.Alpha * TrainLoss + Problem.Penalty.Value(new WeightSide(M, Q, V, Multiplier), MHat, QHat, VHat);
    /// <summary>The effective ridge of the weight side (<see cref="IWeightPenalty.Multiplier"/>): λ for ridge, the
    /// Lagrange multiplier λ̃ = 1/V − V̂ of the sphere, the threshold for L1.</summary>
    public double Multiplier => Problem.Penalty.Multiplier(V, VHat);
    /// <summary>The asymptotic law of the training margins u* (docs/theory.md#erm-saddle-point, docs/theory.md#le3).</summary>
    public TrainingMarginLaw MarginLaw => TrainingMarginLaw.AtFixedPoint(Problem, M, Q, V, Bias);
}

/// <summary>
/// The ERM saddle point of docs/theory.md#erm-saddle-point: accelerated fixed-point iteration on (m, q, V, b), Newton's
/// method in scaled variables where that stalls and continuation in λ (docs/theory.md#erm-numerics). The bias condition
/// E[g](b) = 0 takes one Newton step per iteration, sharing the cluster averages with the hats (a full safeguarded solve
/// only when that step is longer than 0.5), so b converges together with (m, q, V); <see cref="ErmSaddlePointOptions.ExactBias"/>
/// solves it to <see cref="ErmSaddlePointOptions.BiasTolerance"/> at every iteration instead. b = 0 by symmetry when ρ = ½.
/// <code>
/// var fp = ErmSaddlePoint.Solve(new ErmProblem(LogisticLoss.Instance, new MixtureModel(Alpha: 2, Delta: 1), lambda: 0.1));
/// </code>
/// </summary>
public sealed class ErmSaddlePoint
{
    private readonly ErmChannel _channel;
    /// <summary>The problem.</summary>
    public ErmProblem Problem { get; }
    /// <summary>The options.</summary>
    public ErmSaddlePointOptions Options { get; }

    public ErmSaddlePoint(ErmProblem problem, ErmSaddlePointOptions? options = null)
    {
        Problem = problem ?? throw new ArgumentNullException(nameof(problem));
        Options = options ?? ErmSaddlePointOptions.Default;
        _channel = Options.Rule is { } rule ? ErmChannel.WithRule(problem.Loss, rule) : ErmChannel.For(problem.Loss, Options.Quadrature);
    }

    /// <summary>The channel averages used by this saddle point (for the free energy and tests).</summary>
    public ErmChannel Channel => _channel;

    /// <summary>Solves and returns the fixed point; throws <see cref="NonConvergenceException"/> (with the
    /// residual history) if it does not converge.</summary>
    public static ErmFixedPoint Solve(ErmProblem problem, ErmSaddlePointOptions? options = null, ErmState? initial = null)
    {
        var fp = new ErmSaddlePoint(problem, options).TrySolve(initial);
        if (!fp.Converged)
            throw new NonConvergenceException(
                $"ERM saddle point ({problem}) did not converge ({fp.Reason}) after {fp.Iterations} iterations; last residual {fp.ResidualHistory[^1]:G3}.",
                fp.Iterations, fp.ResidualHistory, [fp.M, fp.Q, fp.V, fp.Bias]);
        return fp;
    }

    /// <summary>Solves from <paramref name="initial"/> (default <see cref="ErmState.Default"/>) and returns the
    /// result whether or not it converged (check <see cref="ErmFixedPoint.Converged"/>). Never returns NaN: a
    /// diverging iteration stops at its last finite iterate. The solve: the accelerated fixed-point iteration; if it
    /// has not converged after <see cref="ErmSaddlePointOptions.FixedPointIterations"/> evaluations, Newton's method from
    /// the same initial point; if that fails too at λ &lt; 1, continuation in λ; as a last resort the fixed-point iteration
    /// alone from the initial point (docs/theory.md#erm-numerics). The cap <see cref="SaddlePointOptions.MaxIterations"/>
    /// bounds the evaluations of all of it together (<see cref="ErmFixedPoint.Iterations"/>).</summary>
    public ErmFixedPoint TrySolve(ErmState? initial = null)
    {
        var init = initial ?? ErmState.Default;
        if (!(init.Q > 0 && init.V > 0) || !double.IsFinite(init.M) || !double.IsFinite(init.Q) || !double.IsFinite(init.V) || !double.IsFinite(init.Bias))
            throw new ArgumentOutOfRangeException(nameof(initial), init, "initial state needs finite m, b and q > 0, V > 0.");
        Options.Validate();
        int cap = Options.SolverOrDefault.MaxIterations;
        bool canContinue = Options.Continuation && Problem.Penalty.Strength is < 1;
        // with continuation ahead, a failed Newton goes to it rather than spending the budget on the plain iteration
        var fp = SolveFrom(init, cap, fallback: !canContinue);
        if (fp.Converged || !canContinue || fp.Iterations >= cap) return fp;
        var continued = Continue(fp, init, Problem.Penalty.Strength!.Value, cap);
        if (continued.Converged || !Options.Newton || continued.Iterations >= cap) return continued;
        // the last resort: the fixed-point iteration alone from the initial point with what is left of the cap
        var alone = SolveFrom(init, cap - continued.Iterations, fallback: false, alone: true);
        return alone with
        {
            Iterations = continued.Iterations + alone.Iterations, Stages = continued.Stages,
            ResidualHistory = [.. continued.ResidualHistory, .. alone.ResidualHistory],
            Reason = alone.Converged ? $"converged (fixed-point iteration alone, after {continued.Reason})" : $"{alone.Reason} (fixed-point iteration alone, after {continued.Reason})",
        };
    }

    // Continuation in λ: small strengths (max-margin regime, V ∝ 1/λ, near α_c) can be far from the initial point; solve
    // at λ = 1 and walk down in ln λ, each stage started from the secant extrapolation of the last two in the scaled
    // variables, the step adapted to the work the last stage needed.
    private ErmFixedPoint Continue(ErmFixedPoint failed, ErmState init, double strength, int cap)
    {
        int used = failed.Iterations, stages = 0; // stages: the problems solved on the way, λ = 1 and the final λ included
        var history = new List<double>(failed.ResidualHistory);
        ErmFixedPoint Fail(ErmFixedPoint at, string why) => failed with
        {
            Iterations = used, Stages = stages, ResidualHistory = history,
            Reason = $"{failed.Reason}; continuation in lambda stopped at lambda = {at.Problem.Lambda:G3}: {why}",
        };
        var first = new ErmSaddlePoint(Problem.WithLambda(1), Options).SolveFrom(init, cap - used, fallback: false);
        used += first.Iterations; history.AddRange(first.ResidualHistory);
        if (!first.Converged) return Fail(first, first.Reason);
        stages = 1;
        double target = Math.Log(strength), step = 0.5 * Math.Log(10), minStep = Math.Log(10) / 64;
        double lPrev = 0, lBefore = double.NaN;
        double[] yPrev = ToScaled(first.State), yBefore = yPrev;
        ErmFixedPoint last = first;
        while (lPrev > target)
        {
            double l = Math.Max(target, lPrev - step);
            double t = double.IsNaN(lBefore) ? 0 : (l - lPrev) / (lPrev - lBefore);
            var y = new double[yPrev.Length];
            for (int i = 0; i < y.Length; i++) y[i] = yPrev[i] + t * (yPrev[i] - yBefore[i]);
            var stage = l == target ? this : new ErmSaddlePoint(Problem.WithLambda(Math.Exp(l)), Options);
            var fp = stage.SolveFrom(FromScaled(y), cap - used, fallback: false);
            used += fp.Iterations; history.AddRange(fp.ResidualHistory);
            if (fp.Converged)
            {
                stages++;
                lBefore = lPrev; yBefore = yPrev; lPrev = l; yPrev = ToScaled(fp.State); last = fp;
                if (fp.Iterations <= 20) step *= 2;
            }
            else
            {
                if (used >= cap) return Fail(fp, "iteration cap");
                step *= 0.5;
                if (step < minStep) return Fail(fp, fp.Reason);
            }
        }
        // the last stage is the problem itself
        return last with
        {
            Iterations = used, Stages = stages, ResidualHistory = history,
            Reason = $"converged (continuation in lambda, {stages} stages, after {failed.Reason})",
        };
    }

    // The accelerated fixed-point iteration from init for FixedPointIterations evaluations; if it has not converged,
    // Newton from init; if Newton fails too and `fallback`, the fixed-point iteration alone from init with what is left
    // of the budget (so a problem the iteration solves slowly but Newton does not still gets the iteration's answer).
    // `alone` (or Options.Newton false): the fixed-point iteration alone with the whole budget. Iterations: the
    // evaluations of all of it.
    private ErmFixedPoint SolveFrom(ErmState init, int budget, bool fallback, bool alone = false)
    {
        if (Problem.BiasFixedAtZero) init = init with { Bias = 0 };
        var solver = Options.SolverOrDefault;
        double[] x0 = [init.M, init.Q, init.V, init.Bias];
        Func<double[], bool> admissible = x => x[1] > 0 && x[2] > 0;
        SaddlePointSolution Iterate(int evaluations) =>
            SaddlePointSolver.Iterate(Update, x0, solver with { MaxIterations = evaluations }, admissible);
        if (!Options.Newton || alone) { var only = Iterate(budget); return Build(Unpack(only.State), only); }
        var probe = Iterate(Math.Min(budget, Options.FixedPointIterations));
        if (probe.Converged || budget - probe.Iterations < 1) return Build(Unpack(probe.State), probe);
        int used = probe.Iterations;
        SaddlePointSolution Join(SaddlePointSolution s, string reason) => s with
        {
            Iterations = used + s.Iterations, ResidualHistory = [.. probe.ResidualHistory, .. s.ResidualHistory], Reason = reason,
        };
        // Newton on (m/√q, ln q, ln V, b/√q); b is left out when it is fixed at 0 (its equation would be b = b)
        int n = Problem.BiasFixedAtZero ? 3 : 4;
        double[] Map(double[] x) => Update(n == 4 ? x : [x[0], x[1], x[2], 0], smooth: true)[..n];
        var scaling = new StateScaling(x => ToScaled(Unpack(x)), y =>
        {
            var e = FromScaled(y);
            return n == 4 ? [e.M, e.Q, e.V, e.Bias] : [e.M, e.Q, e.V];
        });
        var newton = SaddlePointSolver.Newton(Map, x0[..n], solver with { MaxIterations = Math.Min(budget - used, NewtonEvaluations) }, scaling, admissible);
        if (newton.Converged || !fallback || budget - used - newton.Iterations < 1)
        {
            var joined = Join(newton with { State = n == 4 ? newton.State : [.. newton.State, 0] },
                newton.Converged ? $"converged (Newton after {used} fixed-point iterations)" : $"Newton: {newton.Reason} (after {used} fixed-point iterations)");
            return Build(Unpack(joined.State), joined);
        }
        used += newton.Iterations;
        var rest = Iterate(budget - used);
        var last = Join(rest with { ResidualHistory = [.. newton.ResidualHistory, .. rest.ResidualHistory] }, rest.Converged ? $"converged (fixed-point iteration after Newton: {newton.Reason})" : $"{rest.Reason} (after Newton: {newton.Reason})");
        return Build(Unpack(last.State), last);
    }

    /// <summary>Evaluations of F given to Newton's method in one solve (or continuation stage): 500. Where it converges
    /// it needs 33–191 (576 points just below α_c, docs/replica.md#near-threshold); a Newton run that creeps along without
    /// converging (seen for hinge at λ ≈ 2, α ≈ 16) must leave the rest of the cap to the plain iteration.</summary>
    public const int NewtonEvaluations = 500;

    private static ErmState Unpack(double[] x) => new(x[0], x[1], x[2], x.Length > 3 ? x[3] : 0);

    // The scaled variables of Newton and of the continuation predictor: (m/√q, ln q, ln V, b/√q), of order one in the
    // max-margin regime where q and V diverge as λ → 0 (the cosine and the bias per norm tend to those of the max-margin
    // classifier); the bias component is dropped when b is fixed at 0.
    private double[] ToScaled(ErmState s)
    {
        double r = Math.Sqrt(s.Q);
        return Problem.BiasFixedAtZero ? [s.M / r, Math.Log(s.Q), Math.Log(s.V)] : [s.M / r, Math.Log(s.Q), Math.Log(s.V), s.Bias / r];
    }

    private ErmState FromScaled(double[] y)
    {
        double q = Math.Exp(y[1]), r = Math.Sqrt(q);
        return new ErmState(y[0] * r, q, Math.Exp(y[2]), Problem.BiasFixedAtZero ? 0 : y[3] * r);
    }

    /// <summary>One undamped step of the fixed-point map F(m, q, V, b).</summary>
    public ErmState Step(ErmState s)
    {
        var r = Update([s.M, s.Q, s.V, s.Bias]);
        return new ErmState(r[0], r[1], r[2], r[3]);
    }

    private double[] Update(double[] x) => Update(x, smooth: false);

    // F. With smooth = true (for Newton) the bias always takes the one Newton step, without the fallback to the full
    // solve for long steps: the fallback makes F jump where the step crosses 0.5, which a difference Jacobian and a
    // line search cannot cope with, whereas Newton on F(x) = x only needs F to vanish where the bias condition holds
    // (b = F_b(x) ⇔ E[g](b) = 0). A non-finite step (E[g] flat in b) is reported as a non-finite update.
    private double[] Update(double[] x, bool smooth)
    {
        double m = x[0], q = x[1], v = x[2], b = x[3];
        ErmHats h;
        if (Problem.BiasFixedAtZero) h = Hats(m, q, v, 0);
        else if (Options.ExactBias) { b = SolveBias(m, q, v, b); h = Hats(m, q, v, b); }
        else
        {
            // one Newton step on the bias condition, sharing the cluster averages with the hats (b and the order
            // parameters then converge together); a step longer than 0.5 falls back to the full bias solve
            var (pm, nm) = ClusterMoments(m, q, v, b);
            double c = Problem.Delta * v, rho = Problem.Rho;
            double f = rho * pm.G - (1 - rho) * nm.G;
            double fp = (rho * (pm.DU - 1) + (1 - rho) * (nm.DU - 1)) / c;
            double next = b - f / fp;
            if (smooth) { h = HatsOf(pm, nm, c); b = fp < 0 ? next : double.NaN; }
            else if (fp < 0 && double.IsFinite(next) && Math.Abs(next - b) <= 0.5) { h = HatsOf(pm, nm, c); b = next; }
            else { b = SolveBias(m, q, v, b); h = Hats(m, q, v, b); }
        }
        var ws = Problem.Penalty.Update(h.MHat, h.QHat, h.VHat);
        return [ws.M, ws.Q, ws.V, b];
    }

    private (ClusterMoments Plus, ClusterMoments Minus) ClusterMoments(double m, double q, double v, double bias)
    {
        double s = Math.Sqrt(Problem.Delta * Math.Max(q, 0)), c = Problem.Delta * v;
        var p = _channel.Moments(m + bias, s, c);
        var n = Problem.Balanced && bias == 0 ? p : _channel.Moments(m - bias, s, c);
        return (p, n);
    }

    private ErmHats HatsOf(ClusterMoments p, ClusterMoments n, double c)
    {
        double a = Problem.Alpha, d = Problem.Delta, rho = Problem.Rho;
        double eg = rho * p.G + (1 - rho) * n.G;
        double eg2 = rho * p.G2 + (1 - rho) * n.G2;
        double edg = (rho * (p.DU - 1) + (1 - rho) * (n.DU - 1)) / c;
        return new ErmHats(a * eg, a * d * eg2, -a * d * edg);
    }

    /// <summary>The conjugates (m̂, q̂, V̂) at given (m, q, V, b) — the channel side of docs/theory.md#erm-saddle-point.</summary>
    public ErmHats Hats(double m, double q, double v, double bias)
    {
        var (p, n) = ClusterMoments(m, q, v, bias);
        return HatsOf(p, n, Problem.Delta * v);
    }

    /// <summary>E_{y,ξ}[g] at bias b, and its derivative in b (≤ 0): the bias condition of docs/theory.md#erm-saddle-point.</summary>
    public (double Value, double Derivative) BiasCondition(double m, double q, double v, double bias)
    {
        double rho = Problem.Rho, s = Math.Sqrt(Problem.Delta * Math.Max(q, 0)), c = Problem.Delta * v;
        var p = _channel.Moments(m + bias, s, c);
        var n = _channel.Moments(m - bias, s, c);
        return (rho * p.G - (1 - rho) * n.G, (rho * (p.DU - 1) + (1 - rho) * (n.DU - 1)) / c);
    }

    /// <summary>
    /// Solves E[g](b) = 0 for b at given (m, q, V), starting from <paramref name="start"/>: safeguarded Newton inside
    /// a bracket grown geometrically until the sign changes (E[g] is non-increasing in b). Returns 0 when balanced.
    /// </summary>
    public double SolveBias(double m, double q, double v, double start = 0)
    {
        if (Problem.BiasFixedAtZero) return 0;
        double lo = double.NegativeInfinity, hi = double.PositiveInfinity, b = double.IsFinite(start) ? start : 0, step = 1;
        for (int it = 0; it < 300; it++)
        {
            var (f, fp) = BiasCondition(m, q, v, b);
            if (!double.IsFinite(f)) throw new ArithmeticException($"bias condition is not finite at b = {b}.");
            if (Math.Abs(f) <= Options.BiasTolerance) return b;
            if (f > 0) lo = b; else hi = b;
            double next = fp < 0 ? b - f / fp : double.NaN;
            if (!(next > lo && next < hi))
            {
                if (double.IsFinite(lo) && double.IsFinite(hi)) next = 0.5 * (lo + hi);
                else { next = double.IsFinite(lo) ? lo + step : hi - step; step *= 2; }
            }
            if (Math.Abs(next - b) <= 1e-15 * Math.Max(1, Math.Abs(b))) return next;
            if (double.IsFinite(lo) && double.IsFinite(hi) && hi - lo <= 1e-15 * Math.Max(1, Math.Abs(b))) return 0.5 * (lo + hi);
            b = next;
        }
        return b;
    }

    private ErmFixedPoint Build(ErmState st, SaddlePointSolution sol)
    {
        var h = Hats(st.M, st.Q, st.V, st.Bias);
        double d = Problem.Delta, rho = Problem.Rho;
        double s = Math.Sqrt(d * st.Q), c = d * st.V;
        double loss = rho * _channel.TrainingLoss(st.M + st.Bias, s, c) + (1 - rho) * _channel.TrainingLoss(st.M - st.Bias, s, c);
        var law = TrainingMarginLaw.AtFixedPoint(Problem, st.M, st.Q, st.V, st.Bias);
        return new ErmFixedPoint
        {
            Problem = Problem, M = st.M, Q = st.Q, V = st.V, Bias = st.Bias,
            MHat = h.MHat, QHat = h.QHat, VHat = h.VHat,
            TestError = GeneralizationError.Of(st.M, st.Q, st.Bias, d, rho),
            TrainError = law.TrainError,
            TrainLoss = loss,
            Iterations = sol.Iterations, Converged = sol.Converged, ResidualHistory = sol.ResidualHistory, Reason = sol.Reason,
        };
    }
}
