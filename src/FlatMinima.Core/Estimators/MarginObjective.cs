using FlatMinima.Losses;
using FlatMinima.Numerics;

namespace FlatMinima.Estimators;

/// <summary>
/// The ERM objective f(w, b) = Σ_μ ℓ(u^μ) + (λ/2)‖w‖² with u^μ = y^μ (w·x^μ/√N + b), and its gradient, evaluated in
/// one pass over X (<see cref="ILinearAlgebraProvider.RowSweep"/>: each row's margin and its contribution to the
/// gradient are computed while the row is in cache). Rows are split into a fixed number of blocks whose partial sums
/// are added in a fixed order, so the result does not depend on how many threads evaluate the blocks.
/// </summary>
internal sealed class MarginObjective
{
    private const int Blocks = 8;
    private readonly double[] _x, _y;
    private readonly int _p, _n, _threads;
    private readonly double _scale, _lambda;
    private readonly IMarginLoss _loss;
    private readonly double[][] _partialGrad;
    private readonly double[] _partialF, _partialGb;
    private readonly int _blocks;
    private readonly ILinearAlgebraProvider _la;

    public MarginObjective(double[] x, double[] y, int p, int n, IMarginLoss loss, double lambda, int threads)
    {
        _x = x; _y = y; _p = p; _n = n; _loss = loss; _lambda = lambda; _threads = threads;
        _la = LinearAlgebra.Current;
        _scale = 1 / Math.Sqrt(n);
        _blocks = Math.Min(Blocks, p);
        _partialGrad = new double[_blocks][];
        for (int k = 0; k < _blocks; k++) _partialGrad[k] = new double[n];
        _partialF = new double[_blocks];
        _partialGb = new double[_blocks];
    }

    /// <summary>Number of parameters (N weights and the bias, stored last).</summary>
    public int Dimension => _n + 1;

    /// <summary>Evaluates f and writes ∇f into <paramref name="grad"/>; θ = (w, b).</summary>
    public double Evaluate(double[] theta, double[] grad)
    {
        // Small problems stay on one thread: a parallel loop costs more than a pass over a few thousand values.
        if (_threads > 1 && (long)_p * _n >= 1 << 15)
            Parallel.For(0, _blocks, new ParallelOptions { MaxDegreeOfParallelism = _threads }, k => Block(k, theta));
        else
            for (int k = 0; k < _blocks; k++) Block(k, theta);

        var gw = grad.AsSpan(0, _n);
        gw.Clear();
        double f = 0, gb = 0;
        for (int k = 0; k < _blocks; k++)
        {
            f += _partialF[k]; gb += _partialGb[k];
            Kernels.Axpy(1.0, _partialGrad[k], gw);
        }
        var w = theta.AsSpan(0, _n);
        Kernels.Axpy(_lambda, w, gw);
        f += 0.5 * _lambda * Kernels.Norm2(w);
        grad[_n] = gb;
        return f;
    }

    private void Block(int k, double[] theta)
    {
        int start = (int)((long)_p * k / _blocks), end = (int)((long)_p * (k + 1) / _blocks);
        var g = _partialGrad[k].AsSpan();
        g.Clear();
        var row = new RowTerm(_loss, _y, start, _scale, theta[_n]);
        _la.RowSweep(_x.AsSpan(start * _n, (end - start) * _n), end - start, _n, theta.AsSpan(0, _n), ref row, g);
        _partialF[k] = row.F;
        _partialGb[k] = row.Gb;
    }

    /// <summary>One row's loss and gradient coefficient: u = y(h/√N + b), f += ℓ(u), ∂ℓ/∂h = ℓ'(u)·y, and the row
    /// enters ∇_w with coefficient (∂ℓ/∂h)/√N.</summary>
    private struct RowTerm(IMarginLoss loss, double[] y, int start, double scale, double b) : IRowCoefficient
    {
        public double F, Gb;

        public double Coefficient(int row, double h)
        {
            double yi = y[start + row];
            double u = yi * (h * scale + b);
            F += loss.Value(u);
            double d = loss.Derivative(u) * yi; // ∂ℓ/∂h with h = w·x/√N + b
            Gb += d;
            return d * scale;
        }
    }

    /// <summary>Margins u^μ at θ.</summary>
    public double[] Margins(double[] theta) => Margins(theta, new double[_p]);

    /// <summary>Margins u^μ at θ, written into <paramref name="u"/> (length P) and returned.</summary>
    public double[] Margins(double[] theta, double[] u)
    {
        _la.Gemv(false, _p, _n, 1.0, _x, theta.AsSpan(0, _n), 0.0, u);
        for (int mu = 0; mu < _p; mu++) u[mu] = _y[mu] * (u[mu] * _scale + theta[_n]);
        return u;
    }
}
