using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Penalties;

namespace FlatMinima.Replica;

/// <summary>
/// The replicated (robust-ensemble) ERM of docs/norms.md §3, at zero temperature: y replicas (w^a, b^a) with free
/// weights and unpenalised biases, coupled to a centre w̃ on the sphere ‖w̃‖² = N Q by (γ/2) Σ_a ‖w^a − w̃‖²:
/// <code>
/// E = Σ_a [ Σ_μ ℓ(y^μ(w^a·x^μ/√N + b^a)) + (γ/2)‖w^a − w̃‖² ],   ‖w̃‖² = N Q,   b̃ = (1/y) Σ_a b^a.
/// </code>
/// The centre (w̃, b̃) is the estimator. Either the coupling γ &gt; 0 is given, or the distance
/// d = ‖w^a − w̃‖²/N (then γ is its multiplier; the branch with the replicas outside the centre's sphere, γ &gt; 0).
/// </summary>
/// <param name="Loss">Loss ℓ (the papers' case is the square loss).</param>
/// <param name="Model">The data model (α, Δ, ρ).</param>
/// <param name="Y">Number of replicas y ≥ 1 (it drops out at zero temperature; kept for the finite-N system).</param>
/// <param name="Norm">Q &gt; 0, the centre's squared norm per component.</param>
/// <param name="Gamma">Coupling γ &gt; 0, or NaN when <paramref name="Distance"/> is given.</param>
/// <param name="Distance">d &gt; 0, or NaN when <paramref name="Gamma"/> is given.</param>
public sealed record ReplicatedProblem(IMarginLoss Loss, MixtureModel Model, int Y, double Norm, double Gamma, double Distance)
{
    public IMarginLoss Loss { get; init; } = Loss ?? throw new ArgumentNullException(nameof(Loss));
    public MixtureModel Model { get; init; } = Model ?? throw new ArgumentNullException(nameof(Model));
    /// <summary>α of <see cref="Model"/>.</summary>
    public double Alpha => Model.Alpha;
    /// <summary>Δ of <see cref="Model"/>.</summary>
    public double Delta => Model.Delta;
    /// <summary>ρ of <see cref="Model"/>.</summary>
    public double Rho => Model.Rho;
    public int Y { get; init; } = Guard.AtLeast(Y, 1, "y");
    public double Norm { get; init; } = Guard.Positive(Norm, "norm");
    public double Gamma { get; init; } = double.IsNaN(Gamma) ? (double.IsNaN(Distance)
        ? throw new ArgumentException("give exactly one of gamma and distance.", "gamma") : double.NaN) : Guard.Positive(Gamma, "gamma");
    public double Distance { get; init; } = double.IsNaN(Distance) ? double.NaN
        : (!double.IsNaN(Gamma) ? throw new ArgumentException("give exactly one of gamma and distance.", "distance") : Guard.Positive(Distance, "distance"));

    /// <summary>True when the distance is fixed (γ is then a multiplier).</summary>
    public bool FixedDistance => !double.IsNaN(Distance);
}

/// <summary>The zero-temperature replicated fixed point: the centre's and the replicas' order parameters.</summary>
public sealed record ReplicatedFixedPoint
{
    public required ReplicatedProblem Problem { get; init; }
    /// <summary>The replicas' fixed point: ERM on the sphere ‖w^a‖² = N q_r with multiplier λ̃ (all replicas equal).</summary>
    public required ErmFixedPoint Replica { get; init; }
    /// <summary>Coupling γ (given, or the distance multiplier).</summary>
    public required double Gamma { get; init; }
    /// <summary>d = ‖w^a − w̃‖²/N = (√q_r − √Q)².</summary>
    public required double Distance { get; init; }
    /// <summary>Centre m̃ = w̃·v/N = κ m_r, κ = √(Q/q_r).</summary>
    public required double CenterM { get; init; }
    /// <summary>Centre q̃ = Q.</summary>
    public required double CenterQ { get; init; }
    /// <summary>Centre bias b̃ = b_r.</summary>
    public required double CenterBias { get; init; }
    /// <summary>Centre's generalisation error (docs/theory.md#e1).</summary>
    public required double TestError { get; init; }
    /// <summary>Centre's training error.</summary>
    public required double TrainError { get; init; }
    /// <summary>Overlap of a replica with the centre, w^a·w̃/N = √(q_r Q).</summary>
    public double ReplicaCenterOverlap => Math.Sqrt(Replica.Q * CenterQ);
    /// <summary>Overlap between two replicas, w^a·w^b/N = q_r (replicas coincide at zero temperature).</summary>
    public double ReplicaReplicaOverlap => Replica.Q;
    /// <summary>Whether every inner solve converged.</summary>
    public required bool Converged { get; init; }
}

/// <summary>
/// Zero-temperature RS saddle point of <see cref="ReplicatedProblem"/> (docs/norms.md §3). Minimising over the centre
/// for given replicas puts w̃ = √(NQ) w̄/‖w̄‖; at β → ∞ all replicas sit at the same minimiser w, whose problem is ERM
/// with the norm-dependent penalty (γ/2) N (√q − √Q)², a ridge with multiplier λ̃ = γ(1 − √(Q/q)) at large N. So the
/// replicas are the fixed point of ERM on the sphere q = q_r (<see cref="SpherePenalty"/>), with q_r fixed by
/// λ̃_sphere(q_r) = γ(1 − √(Q/q_r)) (or q_r = (√Q + √d)² at fixed distance), and the centre is the rescaled replica:
/// m̃ = √(Q/q_r) m_r, q̃ = Q, b̃ = b_r. The number of replicas y drops out.
/// </summary>
public static class ReplicatedSaddlePoint
{
    /// <summary>Solves; the result's <see cref="ReplicatedFixedPoint.Converged"/> says whether every inner solve converged.</summary>
    public static ReplicatedFixedPoint Solve(ReplicatedProblem p, ErmSaddlePointOptions? options = null)
    {
        double sqQ = Math.Sqrt(p.Norm);
        ErmFixedPoint Rep(double qr) => new ErmSaddlePoint(new ErmProblem(p.Loss, p.Model, new SpherePenalty(qr)), options).TrySolve();
        ErmFixedPoint fp;
        double gamma;
        if (p.FixedDistance)
        {
            double qr = Math.Pow(sqQ + Math.Sqrt(p.Distance), 2);
            fp = Rep(qr);
            gamma = fp.Multiplier / (1 - sqQ / Math.Sqrt(qr));
        }
        else
        {
            // g(q_r) = λ̃(q_r) − γ(1 − √(Q/q_r)) is decreasing in q_r: bisection in ln q_r
            double lo = Math.Log(p.Norm * 1e-6), hi = Math.Log(p.Norm * 1e6);
            ErmFixedPoint? last = null;
            double G(double lq) { last = Rep(Math.Exp(lq)); return last.Multiplier - p.Gamma * (1 - sqQ / Math.Sqrt(Math.Exp(lq))); }
            double glo = G(lo), ghi = G(hi);
            if (!(glo > 0 && ghi < 0))
                throw new NonConvergenceException($"replicated saddle point: no replica norm in [1e-6 Q, 1e6 Q] matches gamma = {p.Gamma:G4}.", 0, [], []);
            for (int it = 0; it < 80 && hi - lo > 1e-13; it++)
            {
                double mid = 0.5 * (lo + hi);
                if (G(mid) > 0) lo = mid; else hi = mid;
            }
            fp = Rep(Math.Exp(0.5 * (lo + hi)));
            gamma = p.Gamma;
        }
        double kappa = sqQ / Math.Sqrt(fp.Q);
        double mc = kappa * fp.M, bc = fp.Bias;
        return new ReplicatedFixedPoint
        {
            Problem = p, Replica = fp, Gamma = gamma,
            Distance = Math.Pow(Math.Sqrt(fp.Q) - sqQ, 2),
            CenterM = mc, CenterQ = p.Norm, CenterBias = bc,
            TestError = GeneralizationError.Of(mc, p.Norm, bc, p.Delta, p.Rho),
            TrainError = CenterTrainError(p, fp, kappa),
            Converged = fp.Converged,
        };
    }

    // u_c = κ u* + (1 − κ) y b; u_c < 0 ⇔ u* < t_y = −(1 − κ) y b/κ ⇔ a < t_y + ΔV ℓ'(t_y) (the proximal map is monotone)
    private static double CenterTrainError(ReplicatedProblem p, ErmFixedPoint fp, double kappa)
    {
        double s = Math.Sqrt(p.Delta * fp.Q), c = p.Delta * fp.V, e = 0;
        foreach (var (y, w) in new[] { (1.0, p.Rho), (-1.0, 1 - p.Rho) })
        {
            double t = -(1 - kappa) * y * fp.Bias / kappa;
            double a = t + c * p.Loss.Derivative(t);
            e += w * Gaussian.Cdf((a - fp.M - y * fp.Bias) / s);
        }
        return e;
    }
}
