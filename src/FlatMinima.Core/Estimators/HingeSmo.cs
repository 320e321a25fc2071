using System.Numerics;
using System.Runtime.InteropServices;

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
        int i = SelectUp(grad, y, alpha, c, default, default, 0, 0, false, out double gmax);
        while (it < maxIterations)
        {
            // j: second-order choice over I_low; also M = min −y_t G_t over I_low.
            int j = -1; double gmin = double.PositiveInfinity;
            if (i >= 0) j = SelectLow(grad, y, alpha, kd, k.AsSpan(i * p, p), kd[i], c, gmax, tau, out gmin);
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
            i = SelectUp(grad, y, alpha, c, rowI, rowJ, ci, cj, true, out gmax);
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

    // The two O(P) passes of an iteration, vectorised. Each lane keeps the first index of its best value and the
    // lanes are merged by value, then by smallest index: the same choice (first index of the extremum) and the same
    // arithmetic as the scalar loops, so the iterates do not depend on the vector width.

    /// <summary>Optionally G_t ← G_t + y_t (c_i K_it + c_j K_jt); returns the first t of maximal −y_t G_t over
    /// I_up = {y_t = +1, α_t &lt; C} ∪ {y_t = −1, α_t &gt; 0} (−1 if empty), its value in <paramref name="gmax"/>.</summary>
    private static int SelectUp(Span<double> grad, ReadOnlySpan<double> y, ReadOnlySpan<double> alpha, double c,
        ReadOnlySpan<double> rowI, ReadOnlySpan<double> rowJ, double ci, double cj, bool update, out double gmax)
    {
        int p = grad.Length, t = 0, best = -1;
        double bestV = double.NegativeInfinity;
        int w = Vector<double>.Count;
        if (Vector.IsHardwareAccelerated && p >= w)
        {
            var G = MemoryMarshal.Cast<double, Vector<double>>(grad);
            var Y = MemoryMarshal.Cast<double, Vector<double>>(y);
            var A = MemoryMarshal.Cast<double, Vector<double>>(alpha);
            var RI = update ? MemoryMarshal.Cast<double, Vector<double>>(rowI) : default;
            var RJ = update ? MemoryMarshal.Cast<double, Vector<double>>(rowJ) : default;
            Vector<double> vc = new(c), vci = new(ci), vcj = new(cj), zero = Vector<double>.Zero;
            var laneV = new Vector<double>(double.NegativeInfinity);
            var laneI = new Vector<long>(-1);
            var idx = Indices();
            var step = new Vector<long>(w);
            int nv = p / w;
            for (int k = 0; k < nv; k++)
            {
                var g = G[k];
                if (update) { g += Y[k] * (vci * RI[k] + vcj * RJ[k]); G[k] = g; }
                var yPos = Vector.GreaterThan(Y[k], zero);
                var up = (yPos & Vector.LessThan(A[k], vc)) | Vector.AndNot(Vector.GreaterThan(A[k], zero), yPos);
                var v = -Y[k] * g;
                var better = up & Vector.GreaterThan(v, laneV);
                laneV = Vector.ConditionalSelect(better, v, laneV);
                laneI = Vector.ConditionalSelect(better, idx, laneI);
                idx += step;
            }
            for (int l = 0; l < w; l++)
                if (laneI[l] >= 0 && (laneV[l] > bestV || (laneV[l] == bestV && laneI[l] < best)))
                { bestV = laneV[l]; best = (int)laneI[l]; }
            t = nv * w;
        }
        for (; t < p; t++)
        {
            double gt = grad[t];
            if (update) { gt += y[t] * (ci * rowI[t] + cj * rowJ[t]); grad[t] = gt; }
            bool up = y[t] > 0 ? alpha[t] < c : alpha[t] > 0;
            if (!up) continue;
            double v = -y[t] * gt;
            if (v > bestV) { bestV = v; best = t; }
        }
        gmax = bestV;
        return best;
    }

    /// <summary>Over I_low = {y_t = +1, α_t &gt; 0} ∪ {y_t = −1, α_t &lt; C}: M = min −y_t G_t (into
    /// <paramref name="gmin"/>) and the first t minimising −b_t²/a_t with b_t = m − (−y_t G_t) &gt; 0 and
    /// a_t = K_ii + K_tt − 2K_it (τ if ≤ 0): the second-order working-set choice (−1 if none).</summary>
    private static int SelectLow(ReadOnlySpan<double> grad, ReadOnlySpan<double> y, ReadOnlySpan<double> alpha,
        ReadOnlySpan<double> kd, ReadOnlySpan<double> ki, double kii, double c, double gmax, double tau, out double gmin)
    {
        int p = grad.Length, t = 0, best = -1;
        double bestObj = double.PositiveInfinity, low = double.PositiveInfinity;
        int w = Vector<double>.Count;
        if (Vector.IsHardwareAccelerated && p >= w)
        {
            var G = MemoryMarshal.Cast<double, Vector<double>>(grad);
            var Y = MemoryMarshal.Cast<double, Vector<double>>(y);
            var A = MemoryMarshal.Cast<double, Vector<double>>(alpha);
            var KD = MemoryMarshal.Cast<double, Vector<double>>(kd);
            var KI = MemoryMarshal.Cast<double, Vector<double>>(ki);
            Vector<double> vc = new(c), vmax = new(gmax), vkii = new(kii), vtau = new(tau), two = new(2.0), zero = Vector<double>.Zero;
            var laneMin = new Vector<double>(double.PositiveInfinity);
            var laneObj = new Vector<double>(double.PositiveInfinity);
            var laneI = new Vector<long>(-1);
            var idx = Indices();
            var step = new Vector<long>(w);
            int nv = p / w;
            for (int k = 0; k < nv; k++)
            {
                var yPos = Vector.GreaterThan(Y[k], zero);
                var inLow = (yPos & Vector.GreaterThan(A[k], zero)) | Vector.AndNot(Vector.LessThan(A[k], vc), yPos);
                var v = -Y[k] * G[k];
                laneMin = Vector.ConditionalSelect(inLow & Vector.LessThan(v, laneMin), v, laneMin);
                var bdiff = vmax - v;
                var a = vkii + KD[k] - two * KI[k];
                a = Vector.ConditionalSelect(Vector.LessThanOrEqual(a, zero), vtau, a);
                var obj = -(bdiff * bdiff) / a;
                var better = inLow & Vector.GreaterThan(bdiff, zero) & Vector.LessThan(obj, laneObj);
                laneObj = Vector.ConditionalSelect(better, obj, laneObj);
                laneI = Vector.ConditionalSelect(better, idx, laneI);
                idx += step;
            }
            for (int l = 0; l < w; l++)
            {
                low = Math.Min(low, laneMin[l]);
                if (laneI[l] >= 0 && (laneObj[l] < bestObj || (laneObj[l] == bestObj && laneI[l] < best)))
                { bestObj = laneObj[l]; best = (int)laneI[l]; }
            }
            t = nv * w;
        }
        for (; t < p; t++)
        {
            bool inLow = y[t] > 0 ? alpha[t] > 0 : alpha[t] < c;
            if (!inLow) continue;
            double v = -y[t] * grad[t];
            if (v < low) low = v;
            double bdiff = gmax - v;
            if (bdiff > 0)
            {
                double a = kii + kd[t] - 2 * ki[t];
                if (a <= 0) a = tau;
                double obj = -(bdiff * bdiff) / a;
                if (obj < bestObj) { bestObj = obj; best = t; }
            }
        }
        gmin = low;
        return best;
    }

    private static Vector<long> Indices()
    {
        Span<long> v = stackalloc long[Vector<long>.Count];
        for (int l = 0; l < v.Length; l++) v[l] = l;
        return new Vector<long>(v);
    }
}
