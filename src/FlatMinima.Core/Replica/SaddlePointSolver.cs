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
/// <param name="MaxIterations">Iteration cap, ≥ 1. Default 5000.</param>
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
/// <param name="Iterations">Number of evaluations of F performed.</param>
/// <param name="ResidualHistory">Residual after each iteration.</param>
/// <param name="Reason">Why the iteration stopped ("converged", "iteration cap", "non-finite update", "diverging").</param>
public sealed record SaddlePointSolution(double[] State, bool Converged, int Iterations, IReadOnlyList<double> ResidualHistory, string Reason)
{
    /// <summary>The last residual (∞ when no iteration ran).</summary>
    public double FinalResidual => ResidualHistory.Count > 0 ? ResidualHistory[^1] : double.PositiveInfinity;
}

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
        if (first.Converged || opt.AndersonDepth == 0) return first;
        // Safeguard: Anderson mixing can lock onto a spurious cycle where the plain damped map contracts (seen for the
        // square loss at α < 1 and λ = 1e-4, where the state grows to q ~ 1e7 instead of the closed-form q ≈ 0.33).
        // Retry from the same start with plain damping; report both runs in the history.
        var second = IterateCore(update, initial, opt with { AndersonDepth = 0 }, admissible);
        var history = first.ResidualHistory.Concat(second.ResidualHistory).ToList();
        return second with
        {
            Iterations = first.Iterations + second.Iterations,
            ResidualHistory = history,
            Reason = second.Converged ? $"converged (plain damping after Anderson: {first.Reason})" : second.Reason,
        };
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
