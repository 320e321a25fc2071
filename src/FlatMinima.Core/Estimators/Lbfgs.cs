using FlatMinima.Numerics;

namespace FlatMinima.Estimators;

/// <summary>
/// Limited-memory BFGS for smooth convex objectives, with a backtracking line search that accepts either the Armijo
/// condition or, near the optimum where f is dominated by round-off, the approximate Wolfe condition of Hager and
/// Zhang (2005). This lets it drive the gradient to ~1e-12 of its initial scale instead of stalling when f can no
/// longer resolve the decrease.
/// </summary>
internal static class Lbfgs
{
    public readonly record struct Result(double[] X, double F, double GradInfNorm, int Iterations, bool Converged);

    /// <param name="evaluate">Computes f(x) and writes ∇f(x) into its second argument.</param>
    /// <param name="x0">Start (not modified).</param>
    /// <param name="gradTolerance">Stop when ‖∇f‖_∞ ≤ this.</param>
    /// <param name="memory">Number of stored correction pairs.</param>
    /// <param name="maxIterations">Iteration cap.</param>
    /// <param name="onIterate">Called after each accepted step with (x, f); may throw to abort.</param>
    /// <param name="gradientNorm">The measure of the gradient compared with <paramref name="gradTolerance"/> and
    /// reported (default ‖∇f‖_∞; a rescaled problem reports the gradient in its original variables).</param>
    public static Result Minimize(Func<double[], double[], double> evaluate, double[] x0, double gradTolerance,
        int memory, int maxIterations, Action<double[], double>? onIterate = null, Func<double[], double>? gradientNorm = null)
    {
        gradientNorm ??= InfNorm;
        int n = x0.Length;
        var x = (double[])x0.Clone();
        var g = new double[n];
        double f = evaluate(x, g);
        var s = new double[memory][]; var yv = new double[memory][]; var rho = new double[memory];
        for (int i = 0; i < memory; i++) { s[i] = new double[n]; yv[i] = new double[n]; }
        var alphaBuf = new double[memory];
        int stored = 0, head = 0;
        var d = new double[n]; var xNew = new double[n]; var gNew = new double[n];
        int it = 0;
        double gInf = gradientNorm(g);
        int failures = 0;
        while (gInf > gradTolerance && it < maxIterations)
        {
            // Two-loop recursion: d = −H g.
            Array.Copy(g, d, n);
            for (int k = 0; k < stored; k++)
            {
                int idx = (head - 1 - k + memory) % memory;
                alphaBuf[idx] = rho[idx] * Kernels.Dot(s[idx], d);
                Kernels.Axpy(-alphaBuf[idx], yv[idx], d);
            }
            double gamma = 1;
            if (stored > 0)
            {
                int last = (head - 1 + memory) % memory;
                gamma = Kernels.Dot(s[last], yv[last]) / Kernels.Dot(yv[last], yv[last]);
            }
            else gamma = 1 / Math.Max(1, Math.Sqrt(Kernels.Norm2(g)));
            for (int i = 0; i < n; i++) d[i] *= gamma;
            for (int k = stored - 1; k >= 0; k--)
            {
                int idx = (head - 1 - k + memory) % memory;
                double beta = rho[idx] * Kernels.Dot(yv[idx], d);
                Kernels.Axpy(alphaBuf[idx] - beta, s[idx], d);
            }
            for (int i = 0; i < n; i++) d[i] = -d[i];

            double dphi0 = Kernels.Dot(g, d);
            if (!(dphi0 < 0))
            {
                // Not a descent direction (numerical breakdown): restart from steepest descent.
                for (int i = 0; i < n; i++) d[i] = -g[i] / Math.Max(1, Math.Sqrt(Kernels.Norm2(g)));
                dphi0 = Kernels.Dot(g, d);
                stored = 0;
            }

            double step = 1, fNew = double.NaN;
            bool accepted = false;
            double epsF = 1e-12 * Math.Abs(f) + 1e-300;
            for (int ls = 0; ls < 60; ls++)
            {
                for (int i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
                fNew = evaluate(xNew, gNew);
                if (double.IsFinite(fNew))
                {
                    double dphi = Kernels.Dot(gNew, d);
                    bool armijo = fNew <= f + 1e-4 * step * dphi0;
                    bool approxWolfe = fNew <= f + epsF && dphi <= (2 * 1e-4 - 1) * dphi0 && dphi >= 0.9 * dphi0;
                    if (armijo || approxWolfe) { accepted = true; break; }
                }
                step *= 0.5;
            }
            if (!accepted)
            {
                if (stored == 0 || ++failures > 2) break;
                stored = 0; // forget curvature and retry with steepest descent
                continue;
            }
            failures = 0;
            // Curvature pair.
            var sNew = s[head]; var yNew = yv[head];
            double sy = 0;
            for (int i = 0; i < n; i++) { sNew[i] = xNew[i] - x[i]; yNew[i] = gNew[i] - g[i]; }
            sy = Kernels.Dot(sNew, yNew);
            if (sy > 1e-16 * Math.Sqrt(Kernels.Norm2(sNew) * Kernels.Norm2(yNew)))
            {
                rho[head] = 1 / sy;
                head = (head + 1) % memory;
                stored = Math.Min(stored + 1, memory);
            }
            Array.Copy(xNew, x, n); Array.Copy(gNew, g, n); f = fNew;
            gInf = gradientNorm(g);
            it++;
            onIterate?.Invoke(x, f);
        }
        return new Result(x, f, gInf, it, gInf <= gradTolerance);
    }

    private static double InfNorm(double[] v)
    {
        double m = 0;
        foreach (var t in v) m = Math.Max(m, Math.Abs(t));
        return m;
    }
}
