using FlatMinima.Losses;
using FlatMinima.Numerics;

namespace FlatMinima.Estimators;

/// <summary>
/// The ERM objective f(w, b) = Σ_μ ℓ(u^μ) + (λ/2)‖w‖² with u^μ = y^μ (w·x^μ/√N + b), and its gradient, evaluated in
/// one pass over X: each row's margin and its contribution to the gradient are computed while the row is in cache.
/// Rows are split into a fixed number of blocks whose partial sums are added in a fixed order, so the result does
/// not depend on how many threads evaluate the blocks.
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

    public MarginObjective(double[] x, double[] y, int p, int n, IMarginLoss loss, double lambda, int threads)
    {
        _x = x; _y = y; _p = p; _n = n; _loss = loss; _lambda = lambda; _threads = threads;
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
        if (_threads > 1)
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
        var w = theta.AsSpan(0, _n);
        double b = theta[_n];
        var g = _partialGrad[k].AsSpan();
        g.Clear();
        double f = 0, gb = 0;
        for (int mu = start; mu < end; mu++)
        {
            var row = _x.AsSpan(mu * _n, _n);
            double y = _y[mu];
            double u = y * (Kernels.Dot(row, w) * _scale + b);
            f += _loss.Value(u);
            double d = _loss.Derivative(u) * y; // ∂ℓ/∂h with h = w·x/√N + b
            if (d != 0) Kernels.Axpy(d * _scale, row, g);
            gb += d;
        }
        _partialF[k] = f;
        _partialGb[k] = gb;
    }

    /// <summary>Margins u^μ at θ.</summary>
    public double[] Margins(double[] theta)
    {
        var u = new double[_p];
        var w = theta.AsSpan(0, _n);
        for (int mu = 0; mu < _p; mu++) u[mu] = _y[mu] * (Kernels.Dot(_x.AsSpan(mu * _n, _n), w) * _scale + theta[_n]);
        return u;
    }
}
