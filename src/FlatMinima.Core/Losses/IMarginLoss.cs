using FlatMinima.Numerics;

namespace FlatMinima.Losses;

/// <summary>
/// A convex loss of the margin u = y (w·x/√N + b) (docs/theory.md#classifier). This is the toolkit's extension point: the finite-N
/// ERM solvers, the replica saddle point, the law of the training margins, learning curves, local energy and
/// theory-versus-simulation checks use only these members, so a new loss needs nothing else.
/// <para>Only <see cref="IConvexFunction.Value"/>, <see cref="IConvexFunction.Derivative"/> and
/// <see cref="IConvexFunction.SecondDerivative"/> (ℓ, ℓ', ℓ'') are required; a loss with kinks also lists them in
/// <see cref="IConvexFunction.Kinks"/>. Every other member has a default that is exact for any such loss; a loss
/// overrides one where it has a closed form or a faster method (the shipped losses do).</para>
/// </summary>
public interface IMarginLoss : IConvexFunction
{
    /// <summary>Name used on the command line and in results (lower case).</summary>
    string Name { get; }

    /// <summary>True when ℓ has no kinks (twice differentiable everywhere).</summary>
    bool IsSmooth => Kinks.Count == 0;

    /// <summary>
    /// Proximal margin u*(a, c) = argmin_u [ (u − a)²/(2c) + ℓ(u) ], c &gt; 0 (docs/theory.md#erm-saddle-point, with a = yω and c = ΔV).
    /// Default: <see cref="ScalarProx.Of"/> (exact at the kinks, safeguarded Newton between them).
    /// </summary>
    double Prox(double a, double c) => ScalarProx.Of(this, a, c);

    /// <summary>∂u*/∂a: 1/(1 + c ℓ''(u*)) by implicit differentiation, 0 where u* sits at a kink.</summary>
    double ProxDerivative(double a, double c) => ScalarProx.Slope(this, Prox(a, c), c);

    /// <summary>Moreau envelope min_u [ (u − a)²/(2c) + ℓ(u) ], the channel term of the free energy (docs/theory.md#erm-free-energy).</summary>
    double MoreauEnvelope(double a, double c)
    {
        double u = Prox(a, c);
        return (u - a) * (u - a) / (2 * c) + Value(u);
    }

    /// <summary>
    /// The proximal margin u* = u*(a, c) with G = (u* − a)/c (= −ℓ'(u*) off the kinks) and ∂u*/∂a, for a quadrature that
    /// visits increasing a: <paramref name="guess"/> is u* at the previous node (NaN at the first), which a loss without a
    /// closed-form prox may use to start its iteration. Default: <see cref="Prox"/> ignoring the guess; off the kinks
    /// G = −ℓ'(u*) and ∂u*/∂a = 1/(1 + c ℓ''(u*)), on a kink G = (u* − a)/c (the subgradient the prox selects) and 0.
    /// </summary>
    (double U, double G, double Slope) ProxPoint(double a, double c, double guess)
    {
        double u = Prox(a, c);
        return ScalarProx.AtKink(Kinks, u) ? (u, (u - a) / c, 0) : (u, -Derivative(u), 1.0 / (1.0 + c * SecondDerivative(u)));
    }

    /// <summary>
    /// The Gaussian averages of the proximal map that the ERM saddle point needs (the channel, docs/theory.md#erm-saddle-point).
    /// Default: split Gauss–Legendre quadrature with panel edges at the kinks of u*(a) (<see cref="ErmChannel.Quadrature"/>);
    /// a loss with closed forms returns its own channel (the hinge does).
    /// </summary>
    ErmChannel Channel(ErmQuadrature quadrature) => ErmChannel.Quadrature(this, quadrature);

    /// <summary>
    /// ℓ''(u) when it is the same constant κ for every u (a quadratic loss), else null (default). The loss under Gaussian
    /// margin noise of variance σ² is then exactly E ℓ(u + σt) = ℓ(u) + κσ²/2, which the smoothed objectives use instead of
    /// quadrature.
    /// </summary>
    double? ConstantCurvature => null;

    /// <summary>An upper bound of ℓ'' that scales the descent steps of the smoothed objectives: <see cref="ConstantCurvature"/>
    /// when there is one, else 1 unless the loss states a tighter bound (the logistic loss: ¼).</summary>
    double CurvatureBound => ConstantCurvature ?? 1;

    /// <summary>
    /// Picks the finite-N ERM algorithm the loss's structure allows (double dispatch, so that no solver tests for a
    /// concrete loss type): the square loss asks for the linear solve, the hinge for the SVM dual, and any other loss
    /// (the default) for the generic first-order method.
    /// </summary>
    T SelectAlgorithm<T>(IErmAlgorithms<T> algorithms) => algorithms.Generic(this);
}

/// <summary>
/// The finite-N ERM algorithms a loss can select through <see cref="IMarginLoss.SelectAlgorithm{T}"/>; implemented by
/// the solvers of FlatMinima.Estimators for each penalty (ridge, fixed norm).
/// </summary>
public interface IErmAlgorithms<out T>
{
    /// <summary>ℓ(u) = ½(1 − u)²: an exact linear solve (at fixed norm, the secular equation).</summary>
    T LeastSquares();
    /// <summary>ℓ(u) = max(0, 1 − u): the dual of the support-vector machine.</summary>
    T SupportVectorDual();
    /// <summary>Any loss: first-order minimisation of the objective (L-BFGS), which needs a smooth loss.</summary>
    T Generic(IMarginLoss loss);
}
