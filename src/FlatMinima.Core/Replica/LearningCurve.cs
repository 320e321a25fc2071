using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Replica;

/// <summary>The control parameter a learning curve sweeps.</summary>
public enum SweepVariable
{
    /// <summary>Sample ratio α at fixed λ.</summary>
    Alpha,
    /// <summary>Ridge λ at fixed α.</summary>
    Lambda,
    /// <summary>The fixed norm Q = ‖w‖²/N at fixed α (the problem becomes fixed-norm ERM, docs/norms.md).</summary>
    Norm,
}

/// <summary>The optimal ridge at given (loss, α, Δ, ρ) and its distance to Bayes-optimal.</summary>
/// <param name="Lambda">λ* minimising ε_g on [λ_min, λ_max].</param>
/// <param name="FixedPoint">The fixed point at λ*.</param>
/// <param name="AtUpperBound">True when the minimum is at λ_max (the balanced case: λ* → ∞).</param>
/// <param name="BayesOptimalError">ε_BO(α, Δ, ρ).</param>
public sealed record OptimalLambda(double Lambda, ErmFixedPoint FixedPoint, bool AtUpperBound, double BayesOptimalError)
{
    /// <summary>ε_g(λ*) − ε_BO ≥ 0.</summary>
    public double GapToBayesOptimal => FixedPoint.TestError - BayesOptimalError;
}

/// <summary>
/// Learning curves from the ERM saddle point: sweeps over α or λ on linear or logarithmic grids, each point
/// warm-started from its converged neighbour (a point that fails from the warm start is retried from the default
/// initialisation), and the optimal λ at given α.
/// </summary>
public static class LearningCurve
{
    /// <summary>
    /// The most points of one curve (<see cref="Grid"/>). The sweep is sequential (each point starts from its
    /// neighbour) and keeps every point for the table, at about a millisecond per point and more near thresholds: a
    /// curve of 10⁵ points is already minutes of work and far more than a figure can show, and a larger request is far
    /// more likely a slip than a plan, so it is refused before any work instead of running for hours. A longer curve is
    /// several calls over adjacent ranges.
    /// </summary>
    public const int MaxPoints = 100_000;

    /// <summary>A grid of <paramref name="points"/> values (1 to <see cref="MaxPoints"/>) from <paramref name="from"/> to
    /// <paramref name="to"/>, equally spaced, or equally spaced in log when <paramref name="log"/> (then both ends must
    /// be &gt; 0).</summary>
    public static double[] Grid(double from, double to, int points, bool log = false)
    {
        Guard.Finite(from, "from");
        Guard.Finite(to, "to");
        Guard.AtLeast(points, 1, "points");
        if (points > MaxPoints)
            throw new ArgumentOutOfRangeException(nameof(points), points, $"points must be an integer in [1, {MaxPoints}] (got {points}); split a longer curve into several ranges.");
        if (log) { Guard.Positive(from, "from"); Guard.Positive(to, "to"); }
        var g = new double[points];
        for (int i = 0; i < points; i++)
        {
            double t = points == 1 ? 0 : (double)i / (points - 1);
            g[i] = log ? from * Math.Pow(to / from, t) : from + t * (to - from);
        }
        g[0] = from;
        if (points > 1) g[^1] = to;
        return g;
    }

    /// <summary>
    /// Solves the fixed point at every value of <paramref name="over"/> in <paramref name="values"/>, the other
    /// parameters taken from <paramref name="problem"/>. Non-converged points are returned with
    /// <see cref="ErmFixedPoint.Converged"/> false (never NaN); the caller decides.
    /// </summary>
    /// <param name="problem">Loss, penalty and the fixed parameters of the mixture.</param>
    /// <param name="over">The swept parameter (α, λ, Δ or ρ).</param>
    /// <param name="values">Its values, in sweep order.</param>
    /// <param name="options">Solver options (defaults when null).</param>
    /// <param name="warmStart">Start each point from its neighbours' fixed points, linearly extrapolated (default true).</param>
    /// <param name="onPoint">Called after each point (index, fixed point), e.g. for progress.</param>
    public static IReadOnlyList<ErmFixedPoint> Sweep(ErmProblem problem, SweepVariable over, IReadOnlyList<double> values,
        ErmSaddlePointOptions? options = null, bool warmStart = true, Action<int, ErmFixedPoint>? onPoint = null)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var result = new List<ErmFixedPoint>(values.Count);
        ErmState? previous = null, beforePrevious = null;
        double xPrev = double.NaN, xBefore = double.NaN;
        for (int i = 0; i < values.Count; i++)
        {
            var p = over switch
            {
                SweepVariable.Alpha => problem.WithAlpha(values[i]),
                SweepVariable.Norm => problem.WithNorm(values[i]),
                _ => problem.WithLambda(values[i]),
            };
            var sp = new ErmSaddlePoint(p, options);
            ErmState? start = warmStart ? Predict(previous, beforePrevious, xPrev, xBefore, values[i]) : null;
            var fp = sp.TrySolve(start);
            if (!fp.Converged && warmStart && previous is not null)
            {
                var cold = sp.TrySolve();
                if (cold.Converged) fp = cold with { Iterations = fp.Iterations + cold.Iterations };
            }
            if (fp.Converged)
            {
                beforePrevious = previous; xBefore = xPrev;
                previous = fp.State; xPrev = values[i];
            }
            result.Add(fp);
            onPoint?.Invoke(i, fp);
        }
        return result;
    }

    // Warm start: the neighbour's fixed point, linearly extrapolated from the two previous converged points (a secant
    // predictor, second-order accurate in the grid step) when that keeps q and V positive.
    private static ErmState? Predict(ErmState? prev, ErmState? before, double xPrev, double xBefore, double x)
    {
        if (prev is not { } p) return null;
        if (before is not { } b || !(Math.Abs(xPrev - xBefore) > 0)) return p;
        double t = (x - xPrev) / (xPrev - xBefore);
        if (!(Math.Abs(t) <= 4)) return p;
        var e = new ErmState(p.M + t * (p.M - b.M), p.Q + t * (p.Q - b.Q), p.V + t * (p.V - b.V), p.Bias + t * (p.Bias - b.Bias));
        return e.Q > 0 && e.V > 0 && double.IsFinite(e.M) && double.IsFinite(e.Bias) ? e : p;
    }

    /// <summary>Sweep over α of <paramref name="problem"/> (its own α is replaced by each value).</summary>
    public static IReadOnlyList<ErmFixedPoint> OverAlpha(ErmProblem problem, IReadOnlyList<double> alphas,
        ErmSaddlePointOptions? options = null, bool warmStart = true) =>
        Sweep(problem, SweepVariable.Alpha, alphas, options, warmStart);

    /// <summary>Sweep over λ of <paramref name="problem"/> (its own λ is replaced by each value).</summary>
    public static IReadOnlyList<ErmFixedPoint> OverLambda(ErmProblem problem, IReadOnlyList<double> lambdas,
        ErmSaddlePointOptions? options = null, bool warmStart = true) =>
        Sweep(problem, SweepVariable.Lambda, lambdas, options, warmStart);

    /// <summary>
    /// The λ minimising ε_g on [<paramref name="lambdaMin"/>, <paramref name="lambdaMax"/>] (defaults 1e−3, 1e4):
    /// a warm-started scan with <paramref name="pointsPerDecade"/> points per decade (default 8), then golden-section
    /// refinement in ln λ around the best grid point to relative precision 1e−6. When balanced the minimum is
    /// at the upper bound (λ* → ∞, where ERM reaches ε_BO, docs/theory.md#reaching-bo).
    /// </summary>
    public static OptimalLambda Optimize(IMarginLoss loss, MixtureModel model,
        double lambdaMin = 1e-3, double lambdaMax = 1e4, int pointsPerDecade = 8, ErmSaddlePointOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Guard.Positive(lambdaMin, "lambda-min");
        Guard.Positive(lambdaMax, "lambda-max");
        if (!(lambdaMax > lambdaMin)) throw new ArgumentOutOfRangeException(nameof(lambdaMax), lambdaMax, "lambda-max must be > lambda-min.");
        Guard.AtLeast(pointsPerDecade, 1, "points-per-decade");
        int n = Math.Max(3, (int)Math.Ceiling(Math.Log10(lambdaMax / lambdaMin) * pointsPerDecade) + 1);
        var grid = Grid(lambdaMax, lambdaMin, n, log: true); // from large λ (easy) to small λ
        var curve = Sweep(new ErmProblem(loss, model, lambdaMax), SweepVariable.Lambda, grid, options);
        int best = -1;
        for (int i = 0; i < curve.Count; i++)
            // a smaller λ must beat the incumbent by more than rounding (1e−10) — the balanced curve is flat at large λ
            if (curve[i].Converged && (best < 0 || curve[i].TestError < curve[best].TestError - 1e-10)) best = i;
        if (best < 0) throw new NonConvergenceException($"no converged point while optimising lambda for {loss.Name}.", 0, [], []);
        double bo = BayesOptimalSaddlePoint.ClosedForm(model).TestError;
        if (best == 0 || best == curve.Count - 1)
            return new OptimalLambda(grid[best], curve[best], best == 0, bo);
        // golden section on ln λ in [grid[best+1], grid[best-1]]
        double lo = Math.Log(grid[best + 1]), hi = Math.Log(grid[best - 1]), gr = (Math.Sqrt(5) - 1) / 2;
        ErmState warm = curve[best].State;
        ErmFixedPoint Eval(double logLambda)
        {
            var fp = new ErmSaddlePoint(new ErmProblem(loss, model, Math.Exp(logLambda)), options).TrySolve(warm);
            if (fp.Converged) warm = fp.State;
            return fp;
        }
        double x1 = hi - gr * (hi - lo), x2 = lo + gr * (hi - lo);
        var f1 = Eval(x1); var f2 = Eval(x2);
        while (hi - lo > 1e-6)
        {
            if (f1.TestError < f2.TestError) { hi = x2; x2 = x1; f2 = f1; x1 = hi - gr * (hi - lo); f1 = Eval(x1); }
            else { lo = x1; x1 = x2; f1 = f2; x2 = lo + gr * (hi - lo); f2 = Eval(x2); }
        }
        var fpStar = f1.TestError < f2.TestError ? f1 : f2;
        return new OptimalLambda(fpStar.Problem.Lambda, fpStar, false, bo);
    }
}
