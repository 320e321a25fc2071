namespace FlatMinima.Estimators;

/// <summary>
/// Sequential minimal optimisation for the hinge-loss dual with an unpenalised bias (the C-SVM): minimise
/// ½ αᵀQα − Σα subject to 0 ≤ α ≤ C and Σ y α = 0, Q_μν = y_μ y_ν K_μν, with second-order working-set selection
/// (Fan, Chen and Lin, JMLR 2005). Stops when the maximal KKT violation m(α) − M(α) falls below the tolerance.
/// </summary>
internal static class HingeSmo
{
    public readonly record struct Result(double[] Alpha, double Bias, double Violation, int Iterations, bool Converged);

    /// <param name="k">Kernel (Gram) matrix K, row-major P × P.</param>
    /// <param name="y">Labels ±1.</param>
    /// <param name="c">Box bound C = 1/λ.</param>
    /// <param name="tolerance">Stop when the maximal KKT violation m − M is at most this.</param>
    /// <param name="maxIterations">Cap on pair updates.</param>
    public static Result Solve(double[] k, double[] y, double c, double tolerance, long maxIterations)
    {
        int p = y.Length;
        var alpha = new double[p];
        var grad = new double[p];            // G = Qα − e
        Array.Fill(grad, -1.0);
        var kd = new double[p];              // diagonal of K, contiguous for the selection loop
        for (int t = 0; t < p; t++) kd[t] = k[(long)t * p + t];
        const double tau = 1e-12;
        long it = 0;
        double violation = double.PositiveInfinity;
        // i: maximal −y_t G_t over I_up (after the first pass, found while G is updated).
        int i = -1; double gmax = double.NegativeInfinity;
        for (int t = 0; t < p; t++)
        {
            bool up = y[t] > 0 ? alpha[t] < c : alpha[t] > 0;
            if (!up) continue;
            double v = -y[t] * grad[t];
            if (v > gmax) { gmax = v; i = t; }
        }
        while (it < maxIterations)
        {
            // j: second-order choice over I_low; also M = min −y_t G_t over I_low.
            int j = -1; double gmin = double.PositiveInfinity, best = double.PositiveInfinity;
            if (i >= 0)
            {
                var ki = k.AsSpan(i * p, p);
                double kii = ki[i];
                for (int t = 0; t < p; t++)
                {
                    bool low = y[t] > 0 ? alpha[t] > 0 : alpha[t] < c;
                    if (!low) continue;
                    double v = -y[t] * grad[t];
                    if (v < gmin) gmin = v;
                    double bdiff = gmax - v;
                    if (bdiff > 0)
                    {
                        double a = kii + kd[t] - 2 * ki[t];
                        if (a <= 0) a = tau;
                        double obj = -(bdiff * bdiff) / a;
                        if (obj < best) { best = obj; j = t; }
                    }
                }
            }
            violation = gmax - gmin;
            if (i < 0 || j < 0 || violation <= tolerance) break;
            it++;

            // Analytic update of the pair (i, j) (LIBSVM's update, in terms of Q = yyK).
            double yi = y[i], yj = y[j];
            double quad = kd[i] + kd[j] - 2 * k[i * p + j];
            if (quad <= 0) quad = tau;
            double oldAi = alpha[i], oldAj = alpha[j];
            if (yi != yj)
            {
                double delta = (-grad[i] - grad[j]) / quad;
                double diff = alpha[i] - alpha[j];
                alpha[i] += delta; alpha[j] += delta;
                if (diff > 0) { if (alpha[j] < 0) { alpha[j] = 0; alpha[i] = diff; } }
                else { if (alpha[i] < 0) { alpha[i] = 0; alpha[j] = -diff; } }
                if (diff > 0) { if (alpha[i] > c) { alpha[i] = c; alpha[j] = c - diff; } }
                else { if (alpha[j] > c) { alpha[j] = c; alpha[i] = c + diff; } }
            }
            else
            {
                double delta = (grad[i] - grad[j]) / quad;
                double sum = alpha[i] + alpha[j];
                alpha[i] -= delta; alpha[j] += delta;
                if (sum > c) { if (alpha[i] > c) { alpha[i] = c; alpha[j] = sum - c; } }
                else { if (alpha[j] < 0) { alpha[j] = 0; alpha[i] = sum; } }
                if (sum > c) { if (alpha[j] > c) { alpha[j] = c; alpha[i] = sum - c; } }
                else { if (alpha[i] < 0) { alpha[i] = 0; alpha[j] = sum; } }
            }
            double dai = alpha[i] - oldAi, daj = alpha[j] - oldAj;
            var rowI = k.AsSpan(i * p, p); var rowJ = k.AsSpan(j * p, p);
            double ci = dai * yi, cj = daj * yj;
            // Update G and select the next i in the same pass.
            i = -1; gmax = double.NegativeInfinity;
            for (int t = 0; t < p; t++)
            {
                double gt = grad[t] + y[t] * (ci * rowI[t] + cj * rowJ[t]);
                grad[t] = gt;
                bool up = y[t] > 0 ? alpha[t] < c : alpha[t] > 0;
                if (!up) continue;
                double v = -y[t] * gt;
                if (v > gmax) { gmax = v; i = t; }
            }
        }

        // Bias: average of −y_t G_t over free support vectors, else the middle of the feasible interval.
        double sumFree = 0; int nFree = 0;
        double ub = double.PositiveInfinity, lb = double.NegativeInfinity;
        for (int t = 0; t < p; t++)
        {
            double yG = y[t] * grad[t];
            if (alpha[t] > 0 && alpha[t] < c) { sumFree += yG; nFree++; }
            else
            {
                bool atUpper = alpha[t] >= c;
                // From LIBSVM's calculate_rho: which side each bound variable constrains.
                if (atUpper == (y[t] < 0)) ub = Math.Min(ub, yG); else lb = Math.Max(lb, yG);
            }
        }
        double r = nFree > 0 ? sumFree / nFree : 0.5 * (ub + lb);
        return new Result(alpha, -r, violation, (int)Math.Min(it, int.MaxValue), violation <= tolerance);
    }
}
