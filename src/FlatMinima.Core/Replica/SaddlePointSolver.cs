using FlatMinima.Numerics;

namespace FlatMinima.Replica;

/// <summary>
/// Options of the damped fixed-point iteration x ← (1 − d) F(x) + d x (docs/theory.md#erm-saddle-point numerics).
/// </summary>
/// <param name="Damping">Weight d of the old iterate, in [0, 1). Default 0: with Anderson acceleration (the default)
/// undamped mixing converged on all 184 ERM problems of the robustness scan in docs/replica.md, damped mixing missed
/// some. Without acceleration (<paramref name="AndersonDepth"/> = 0) use 0.5–0.8 (docs/theory.md#erm-numerics).</param>
/// <param name="Tolerance">Convergence when the residual Σ_i |F(x)_i − x_i| / max(1, |x_i|) falls below this.
/// Default 1e−11 (docs/theory.md#erm-saddle-point); for components of order one this is |Δm| + |Δq| + |ΔV|.</param>
/// <param name="MaxIterations">Cap on the number of evaluations of the map F, ≥ 1, over everything one solve does (the
/// accelerated run, the plain-damping retry, Newton's Jacobian columns and line-search trials, continuation stages).
/// Default 5000.</param>
/// <param name="AdaptiveDamping">If true (default), the damping is raised towards 1 (by halving 1 − d, at most to
/// <paramref name="MaxDamping"/>) whenever the residual has grown for <see cref="GrowthPatience"/> consecutive
/// iterations, which tames persistent oscillation or divergence without penalising transients.</param>
/// <param name="MaxDamping">Largest damping adaptive damping may reach, in [Damping, 1). Default 0.95.</param>
/// <param name="AndersonDepth">Anderson acceleration depth (number of previous residuals mixed), 0 = plain damped
/// iteration. Default 5. An accelerated step that leaves the admissible set (e.g. q ≤ 0), is not finite, or makes
/// the residual more than 10 times larger restarts the acceleration with a plain damped step; if the unscaled residual
/// ‖F(x) − x‖₁ more than doubles 6 times in a row (or after 200 restarts) the iteration returns to the best iterate with
/// more damping, after 5 such rescues continues without acceleration, and after 12 stops ("diverging") there. It converges in far fewer
/// iterations (which is what makes warm starts pay off in learning curves).</param>
public sealed record SaddlePointOptions(
    double Damping = 0,
    double Tolerance = 1e-11,
    int MaxIterations = 5000,
    bool AdaptiveDamping = true,
    double MaxDamping = 0.95,
    int AndersonDepth = 5)
{
    /// <summary>Consecutive residual increases that trigger adaptive damping. Default 4.</summary>
    public int GrowthPatience { get; init; } = 4;

    /// <summary>The defaults above.</summary>
    public static SaddlePointOptions Default { get; } = new();

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the bad option.</summary>
    public SaddlePointOptions Validate()
    {
        if (!(Damping >= 0 && Damping < 1)) throw new ArgumentOutOfRangeException(nameof(Damping), Damping, $"damping must lie in [0, 1) (got {Damping}).");
        Guard.Positive(Tolerance, "tolerance");
        Guard.AtLeast(MaxIterations, 1, "max-iterations");
        Guard.AtLeast(AndersonDepth, 0, "anderson-depth");
        if (!(MaxDamping >= Damping && MaxDamping < 1)) throw new ArgumentOutOfRangeException(nameof(MaxDamping), MaxDamping, $"max damping must lie in [damping, 1) (got {MaxDamping}).");
        return this;
    }
}

/// <summary>Outcome of a fixed-point iteration.</summary>
/// <param name="State">The last iterate (the fixed point when <paramref name="Converged"/>). Always finite.</param>
/// <param name="Converged">True when the residual fell below the tolerance.</param>
/// <param name="Iterations">Number of evaluations of F performed (never more than <see cref="SaddlePointOptions.MaxIterations"/>).</param>
/// <param name="ResidualHistory">Residual Σ_i |F(x)_i − x_i| / max(1, |x_i|) at each iterate, in order (for Newton: at each
/// iterate and line-search trial, not at the Jacobian's difference points, so it can be shorter than
/// <paramref name="Iterations"/>).</param>
/// <param name="Reason">Why the iteration stopped ("converged", "iteration cap", "non-finite update", "diverging").</param>
public sealed record SaddlePointSolution(double[] State, bool Converged, int Iterations, IReadOnlyList<double> ResidualHistory, string Reason)
{
    /// <summary>The last residual (∞ when no iteration ran).</summary>
    public double FinalResidual => ResidualHistory.Count > 0 ? ResidualHistory[^1] : double.PositiveInfinity;
}

/// <summary>
/// A change of variables y = S(x) for <see cref="SaddlePointSolver.Newton"/>, chosen so that the solution's scaled
/// coordinates stay of order one (e.g. ln q instead of q when q diverges in a limit).
/// </summary>
/// <param name="ToScaled">S: original state to scaled coordinates.</param>
/// <param name="FromScaled">S⁻¹: scaled coordinates to the original state.</param>
public sealed record StateScaling(Func<double[], double[]> ToScaled, Func<double[], double[]> FromScaled);

/// <summary>
/// Raised by the throwing solver variants when a saddle point was not found. Carries the iteration count, the
/// residual history and the last finite iterate so the caller can see how it failed.
/// </summary>
public sealed class NonConvergenceException : Exception
{
    /// <summary>Iterations performed.</summary>
    public int Iterations { get; }
    /// <summary>Residual after each iteration.</summary>
    public IReadOnlyList<double> ResidualHistory { get; }
    /// <summary>The last finite iterate.</summary>
    public IReadOnlyList<double> LastState { get; }

    public NonConvergenceException(string message, int iterations, IReadOnlyList<double> residualHistory, IReadOnlyList<double> lastState)
        : base(message)
    {
        Iterations = iterations; ResidualHistory = residualHistory; LastState = lastState;
    }

    /// <summary>The last residual.</summary>
    public double FinalResidual => ResidualHistory.Count > 0 ? ResidualHistory[^1] : double.PositiveInfinity;
}

/// <summary>
/// Damped fixed-point iteration for saddle-point equations x = F(x) over a small real state (order parameters).
/// Generic: the ERM, Bayes-optimal and any future saddle point supply F. Never returns a non-finite state: when F
/// produces NaN or ±∞ the iteration stops with <c>Converged = false</c> and the last finite iterate.
/// </summary>
public static class SaddlePointSolver
{

    /// <summary>
    /// Iterates x ← (1 − d) F(x) + d x from <paramref name="initial"/> until the scale-aware residual
    /// Σ_i |F(x)_i − x_i| / max(1, |x_i|) is below the tolerance. Returns a solution whether or not it converged.
    /// </summary>
    /// <param name="update">F; must return a new array of the same length (it may throw for bad states).</param>
    /// <param name="initial">Starting point (not modified).</param>
    /// <param name="options">Defaults: <see cref="SaddlePointOptions.Default"/>.</param>
    /// <param name="admissible">Optional test of a state (e.g. V > 0); an inadmissible extrapolation is not accepted.</param>
    public static SaddlePointSolution Iterate(Func<double[], double[]> update, double[] initial, SaddlePointOptions? options = null,
                                              Func<double[], bool>? admissible = null)
    {
        var opt = (options ?? SaddlePointOptions.Default).Validate();
        ArgumentNullException.ThrowIfNull(update);
        foreach (var v in initial) Guard.Finite(v, "initial state");
        var first = IterateCore(update, initial, opt, admissible);
        if (first.Converged || opt.AndersonDepth == 0 || first.Iterations >= opt.MaxIterations) return first;
        // Safeguard: Anderson mixing can lock onto a spurious cycle where the plain damped map contracts (seen for the
        // square loss at α < 1 and λ = 1e-4, where the state grows to q ~ 1e7 instead of the closed-form q ≈ 0.33).
        // Retry from the same start with plain damping, within what is left of the cap; report both runs in the history.
        var second = IterateCore(update, initial, opt with { AndersonDepth = 0, MaxIterations = opt.MaxIterations - first.Iterations }, admissible);
        var history = first.ResidualHistory.Concat(second.ResidualHistory).ToList();
        return second with
        {
            Iterations = first.Iterations + second.Iterations,
            ResidualHistory = history,
            Reason = second.Converged ? $"converged (plain damping after Anderson: {first.Reason})" : second.Reason,
        };
    }

    /// <summary>
    /// Newton's method on the fixed-point equations x = F(x), solved as R(y) = S(F(S⁻¹(y))) − y = 0 in scaled variables
    /// y = S(x) (<paramref name="scaling"/>; default the identity) in which the solution stays of order one, e.g. logarithms
    /// of order parameters that diverge in some limit. The Jacobian of R is taken by forward differences (step 10⁻⁷ max(1, |y_j|),
    /// one evaluation of F per component); the Newton step is capped at <see cref="NewtonMaxStep"/> in every scaled
    /// component and shortened by halving (at most 10 times) until the Euclidean norm of R decreases (Armijo factor 1 − 10⁻⁴ t).
    /// Convergence is judged exactly as in <see cref="Iterate"/>: the scale-aware residual Σ_i |F(x)_i − x_i| / max(1, |x_i|)
    /// in the original variables below the tolerance, and the solution returned is F(x) there. <see cref="SaddlePointOptions.MaxIterations"/>
    /// caps the evaluations of F; the damping and Anderson options do not apply. Stops with <c>Converged = false</c> when
    /// the Jacobian is singular ("singular Jacobian"), no shortened step decreases the residual ("line search failed"),
    /// F is not finite at the start ("non-finite update"), or the cap is reached ("iteration cap").
    /// </summary>
    /// <param name="update">F, in the original variables.</param>
    /// <param name="initial">Starting point in the original variables (not modified).</param>
    /// <param name="options">Tolerance and evaluation cap; default <see cref="SaddlePointOptions.Default"/>.</param>
    /// <param name="scaling">The change of variables S and its inverse; null for the identity.</param>
    /// <param name="admissible">Optional test of a state in the original variables; trial points that fail it are shortened.</param>
    public static SaddlePointSolution Newton(Func<double[], double[]> update, double[] initial, SaddlePointOptions? options = null,
                                             StateScaling? scaling = null, Func<double[], bool>? admissible = null)
    {
        var opt = (options ?? SaddlePointOptions.Default).Validate();
        ArgumentNullException.ThrowIfNull(update);
        foreach (var v in initial) Guard.Finite(v, "initial state");
        Func<double[], double[]> toScaled = scaling is null ? x => (double[])x.Clone() : scaling.ToScaled;
        Func<double[], double[]> fromScaled = scaling is null ? y => (double[])y.Clone() : scaling.FromScaled;
        int n = initial.Length, evaluations = 0;
        var history = new List<double>();

        // F at the point with scaled coordinates y: the original state, F there, R(y) and the scale-aware residual
        (double[] X, double[] G, double[] R, double Residual)? Evaluate(double[] y, bool probe)
        {
            var x = fromScaled(y);
            if (!x.All(double.IsFinite) || (admissible is not null && !admissible(x))) return null;
            evaluations++;
            double[] g;
            try { g = update(x); }
            catch (ArithmeticException) { return null; }
            if (g.Length != n) throw new InvalidOperationException("The saddle-point update changed the state length.");
            if (!g.All(double.IsFinite)) return null;
            double res = 0;
            for (int i = 0; i < n; i++) res += Math.Abs(g[i] - x[i]) / Math.Max(1, Math.Abs(x[i]));
            var gy = toScaled(g);
            var r = new double[n];
            for (int i = 0; i < n; i++) r[i] = gy[i] - y[i];
            if (!r.All(double.IsFinite)) return null;
            if (!probe) history.Add(res);
            return (x, g, r, res);
        }

        var y = toScaled(initial);
        var current = Evaluate(y, probe: false);
        if (current is null)
        {
            history.Add(double.NaN);
            return new SaddlePointSolution((double[])initial.Clone(), false, evaluations, history, "non-finite update");
        }
        while (true)
        {
            var (x, g, r, res) = current.Value;
            if (res < opt.Tolerance) return new SaddlePointSolution(g, true, evaluations, history, "converged");
            // room for the Jacobian (n evaluations, 2n if forward points must be mirrored) and one trial step
            if (evaluations + 2 * n + 1 > opt.MaxIterations) return new SaddlePointSolution(x, false, evaluations, history, "iteration cap");
            // forward-difference Jacobian of R
            var jac = new double[n, n];
            for (int j = 0; j < n; j++)
            {
                double h = 1e-7 * Math.Max(1, Math.Abs(y[j]));
                var yp = (double[])y.Clone();
                yp[j] += h;
                var probe = Evaluate(yp, probe: true);
                if (probe is null)
                {
                    yp[j] = y[j] - h; h = -h;
                    probe = Evaluate(yp, probe: true);
                    if (probe is null) return new SaddlePointSolution(x, false, evaluations, history, "non-finite update");
                }
                for (int i = 0; i < n; i++) jac[i, j] = (probe.Value.R[i] - r[i]) / h;
            }
            var step = SolveLinear(jac, r.Select(v => -v).ToArray());
            if (step is null) return new SaddlePointSolution(x, false, evaluations, history, "singular Jacobian");
            double longest = step.Max(Math.Abs);
            if (longest > NewtonMaxStep) for (int i = 0; i < n; i++) step[i] *= NewtonMaxStep / longest;
            // backtracking on ‖R‖₂
            double norm = Norm(r), t = 1;
            (double[] X, double[] G, double[] R, double Residual)? accepted = null;
            double[] yNext = y;
            for (int halving = 0; halving <= 10 && evaluations < opt.MaxIterations; halving++, t *= 0.5)
            {
                var trial = new double[n];
                for (int i = 0; i < n; i++) trial[i] = y[i] + t * step[i];
                var e = Evaluate(trial, probe: false);
                if (e is { } ok && Norm(ok.R) <= (1 - 1e-4 * t) * norm) { accepted = e; yNext = trial; break; }
            }
            if (accepted is null)
                return new SaddlePointSolution(x, false, evaluations, history, evaluations >= opt.MaxIterations ? "iteration cap" : "line search failed");
            y = yNext;
            current = accepted;
        }
    }

    /// <summary>Largest Newton step in any scaled component (<see cref="Newton"/>): 2, i.e. a factor e² ≈ 7.4 in a
    /// logarithmic variable.</summary>
    public const double NewtonMaxStep = 2;

    private static double Norm(double[] v)
    {
        double s = 0;
        foreach (var x in v) s += x * x;
        return Math.Sqrt(s);
    }

    // Gaussian elimination with partial pivoting; null when singular to working precision.
    private static double[]? SolveLinear(double[,] a0, double[] b0)
    {
        int n = b0.Length;
        var a = (double[,])a0.Clone();
        var b = (double[])b0.Clone();
        double scale = 0;
        foreach (var v in a) scale = Math.Max(scale, Math.Abs(v));
        if (!(scale > 0) || !double.IsFinite(scale)) return null;
        for (int col = 0; col < n; col++)
        {
            int piv = col;
            for (int row = col + 1; row < n; row++) if (Math.Abs(a[row, col]) > Math.Abs(a[piv, col])) piv = row;
            if (!(Math.Abs(a[piv, col]) > 1e-13 * scale)) return null;
            if (piv != col)
            {
                for (int k = 0; k < n; k++) (a[col, k], a[piv, k]) = (a[piv, k], a[col, k]);
                (b[col], b[piv]) = (b[piv], b[col]);
            }
            for (int row = col + 1; row < n; row++)
            {
                double f = a[row, col] / a[col, col];
                for (int k = col; k < n; k++) a[row, k] -= f * a[col, k];
                b[row] -= f * b[col];
            }
        }
        var x = new double[n];
        for (int row = n - 1; row >= 0; row--)
        {
            double s = b[row];
            for (int k = row + 1; k < n; k++) s -= a[row, k] * x[k];
            x[row] = s / a[row, row];
        }
        return x.All(double.IsFinite) ? x : null;
    }

    private static SaddlePointSolution IterateCore(Func<double[], double[]> update, double[] initial, SaddlePointOptions opt,
                                                   Func<double[], bool>? admissible)
    {
        int n = initial.Length, depth = opt.AndersonDepth;
        var x = (double[])initial.Clone();
        var history = new List<double>();
        double d = opt.Damping, previous = double.PositiveInfinity, previousRaw = double.PositiveInfinity;
        int blowup = 0;
        var weights = new double[n];
        int growth = 0;
        // Anderson memory: differences of residuals (scaled) and of updates
        var dF = new List<double[]>(); var dG = new List<double[]>(); var dX = new List<double[]>();
        double[]? lastF = null, lastG = null, lastX = null;
        double bestR = double.PositiveInfinity;
        double[] bestX = (double[])x.Clone();
        int restarts = 0, rescues = 0;
        bool lastWasAccelerated = false;
        for (int it = 1; it <= opt.MaxIterations; it++)
        {
            var g = update(x);
            if (g.Length != n) throw new InvalidOperationException("The saddle-point update changed the state length.");
            double r = 0, raw = 0;
            bool finite = true;
            // Anderson keeps the raw residuals F(x) − x and solves its least-squares problem with the current weights
            // 1/max(1, |x_i|) applied to both the residual and the stored differences (a consistent weighted problem)
            var f = new double[n];
            for (int i = 0; i < n; i++)
            {
                if (!double.IsFinite(g[i])) { finite = false; break; }
                f[i] = g[i] - x[i];
                weights[i] = 1 / Math.Max(1, Math.Abs(x[i]));
                raw += Math.Abs(f[i]);
                r += Math.Abs(f[i]) * weights[i];
            }
            if (!finite)
            {
                history.Add(double.NaN);
                return new SaddlePointSolution(x, false, it, history, "non-finite update");
            }
            history.Add(r);
            if (r < opt.Tolerance)
                return new SaddlePointSolution(g, true, it, history, "converged");
            // divergence is judged on the unscaled residual: the scaled one stays flat when the state grows geometrically
            blowup = raw > 2 * previousRaw ? blowup + 1 : 0;
            previousRaw = raw;
            if (raw < bestR) { bestR = raw; Array.Copy(x, bestX, n); }
            else if (blowup >= 6 || (depth > 0 && restarts > 200))
            {
                // the accelerated iteration is running away (or keeps restarting): go back to the best iterate seen
                // with more damping; after 5 such rescues finish with the plain damped iteration
                rescues++;
                if (rescues > 5) depth = 0;
                if (rescues > 12) return new SaddlePointSolution(bestX, false, it, history, "diverging");
                d = Math.Min(opt.MaxDamping, 1 - 0.5 * (1 - d));
                dF.Clear(); dG.Clear(); dX.Clear(); lastF = null; restarts = 0;
                Array.Copy(bestX, x, n);
                previous = double.PositiveInfinity; previousRaw = double.PositiveInfinity; growth = 0; blowup = 0;
                continue;
            }
            growth = r > previous ? growth + 1 : 0;
            if (opt.AdaptiveDamping && growth >= opt.GrowthPatience)
            {
                d = Math.Min(opt.MaxDamping, 1 - 0.5 * (1 - d));
                growth = 0;
            }
            // restart only when an accelerated step made things worse: a plain step of an expanding map (e.g. the square
            // loss at small Δ, whose plain iteration has slope ≈ −αV/(1+ΔV)) is what Anderson must learn from
            // a residual that does not move at all means the mixing has stagnated (singular history): restart too
            bool restart = depth > 0 && lastWasAccelerated && (r > 10 * previous || Math.Abs(r - previous) <= 1e-10 * r);
            previous = r;
            // plain damped step
            var plain = new double[n];
            for (int i = 0; i < n; i++) plain[i] = (1 - d) * g[i] + d * x[i];
            double[] next = plain;
            if (depth > 0)
            {
                if (restart) { dF.Clear(); dG.Clear(); dX.Clear(); restarts++; }
                else if (lastF is not null)
                {
                    dF.Add(Sub(f, lastF)); dG.Add(Sub(g, lastG!)); dX.Add(Sub(x, lastX!));
                    if (dF.Count > depth) { dF.RemoveAt(0); dG.RemoveAt(0); dX.RemoveAt(0); }
                }
                lastF = f; lastG = g; lastX = (double[])x.Clone();
                if (dF.Count > 0)
                {
                    var gamma = LeastSquares(dF, f, weights);
                    if (gamma is not null)
                    {
                        var acc = new double[n];
                        for (int i = 0; i < n; i++)
                        {
                            double gi = g[i], xi = x[i];
                            for (int k = 0; k < dF.Count; k++)
                            {
                                gi -= gamma[k] * dG[k][i];
                                xi -= gamma[k] * dX[k][i];
                            }
                            acc[i] = (1 - d) * gi + d * xi;
                        }
                        if (acc.All(double.IsFinite) && (admissible is null || admissible(acc))) { next = acc; }
                        else { dF.Clear(); dG.Clear(); dX.Clear(); restarts++; }
                    }
                }
            }
            if (admissible is not null && !admissible(next)) next = plain;
            lastWasAccelerated = !ReferenceEquals(next, plain);
            x = next;
        }
        return new SaddlePointSolution(x, false, opt.MaxIterations, history, "iteration cap");
    }

    private static double[] Sub(double[] a, double[] b)
    {
        var r = new double[a.Length];
        for (int i = 0; i < a.Length; i++) r[i] = a[i] - b[i];
        return r;
    }

    // γ = argmin ‖f − Σ_k γ_k ΔF_k‖₂ by the normal equations with a small Tikhonov shift; null if singular.
    private static double[]? LeastSquares(List<double[]> dF, double[] f, double[] w)
    {
        int m = dF.Count;
        var a = new double[m, m + 1];
        double trace = 0;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int t = 0; t < f.Length; t++) s += dF[i][t] * dF[j][t] * w[t] * w[t];
                a[i, j] = s;
            }
            double rhs = 0;
            for (int t = 0; t < f.Length; t++) rhs += dF[i][t] * f[t] * w[t] * w[t];
            a[i, m] = rhs;
            trace += a[i, i];
        }
        if (!(trace > 0)) return null;
        for (int i = 0; i < m; i++) a[i, i] += 1e-10 * trace;
        for (int col = 0; col < m; col++)
        {
            int piv = col;
            for (int row = col + 1; row < m; row++) if (Math.Abs(a[row, col]) > Math.Abs(a[piv, col])) piv = row;
            if (a[piv, col] == 0) return null;
            if (piv != col) for (int k = 0; k <= m; k++) (a[col, k], a[piv, k]) = (a[piv, k], a[col, k]);
            for (int row = 0; row < m; row++)
            {
                if (row == col) continue;
                double factor = a[row, col] / a[col, col];
                for (int k = col; k <= m; k++) a[row, k] -= factor * a[col, k];
            }
        }
        var gamma = new double[m];
        for (int i = 0; i < m; i++) gamma[i] = a[i, m] / a[i, i];
        return gamma.All(double.IsFinite) ? gamma : null;
    }

    /// <summary>As <see cref="Iterate"/>, but throws <see cref="NonConvergenceException"/> when it does not converge.</summary>
    public static double[] Solve(Func<double[], double[]> update, double[] initial, SaddlePointOptions? options = null)
    {
        var s = Iterate(update, initial, options);
        if (!s.Converged) throw NonConvergence("saddle point", s);
        return s.State;
    }

    /// <summary>Builds the typed error for a failed solution.</summary>
    public static NonConvergenceException NonConvergence(string what, SaddlePointSolution s) =>
        new($"{what} did not converge ({s.Reason}) after {s.Iterations} iterations; last residual {s.FinalResidual:G3}.",
            s.Iterations, s.ResidualHistory, s.State);
}
