using FlatMinima.Flatness;
using FlatMinima.Numerics;

namespace FlatMinima.Estimators;

/// <summary>
/// Options of <see cref="EntropicDescent"/> (Entropy-SGD, docs/optim.md#entropy-sgd). Every constant of the reference codes is an
/// option here. Defaults in brackets.
/// </summary>
/// <param name="Steps">Outer steps ≥ 1 [60].</param>
/// <param name="InnerSteps">Inner Langevin steps L ≥ 1 [20].</param>
/// <param name="InnerLearningRate">η' &gt; 0 [0.05]: w' ← w' − η'(N∇_w L(w')/κ + γ(w' − w)) + √(2η'TN) ζ, κ the objective's curvature.</param>
/// <param name="OuterLearningRate">η &gt; 0 [1]: w ← w − η·γ·(w − μ) with <paramref name="ScaleOuterByGamma"/> (the papers' ηγ(x − μ)),
/// else w ← w − η(w − μ); the factor is clipped at 1 (never past μ).</param>
/// <param name="Temperature">T = ε² ≥ 0 of the inner Langevin chain [0]; ε = √T is the codes' noise scale in the paper-form
/// update (the Chaudhari code's extra √2 is not applied).</param>
/// <param name="EmaWeight">Weight on the old mean in μ ← a μ + (1 − a) w', in [0, 1) [0.75, the codes' alpha].</param>
/// <param name="ScaleOuterByGamma">gscale [true].</param>
/// <param name="OuterMomentum">Heavy-ball momentum of the outer step, [0, 1) [0].</param>
/// <param name="InnerMomentum">Heavy-ball momentum of the inner chain, [0, 1) [0.9].</param>
/// <param name="Coupling">Scoping schedule of γ over outer steps [exponential from γ0 = 0.3 to γmax = 10; an automatic γ0,
/// calibrated at the second inner step as f(w')/(½‖w − w'‖²/N) like the reference code, is available but tends to saturate at γmax
/// here because the inner chain has barely moved after two steps].</param>
/// <param name="LearnBias">If true [true] the bias is descended; otherwise it stays 0.</param>
/// <param name="Seed">Seed of the initial condition and the Langevin noise [0].</param>
/// <param name="HistoryEvery">History row every k outer steps [5].</param>
/// <param name="BatchSize">Minibatch size of each inner step (SGLD), or 0 for full batch [0].</param>
public sealed record EntropicOptions(int Steps = 60, int InnerSteps = 20, double InnerLearningRate = 0.05, double OuterLearningRate = 1,
    double Temperature = 0, double EmaWeight = 0.75, bool ScaleOuterByGamma = true, double OuterMomentum = 0, double InnerMomentum = 0.9,
    CouplingSchedule? Coupling = null, bool LearnBias = true, long Seed = 0, int HistoryEvery = 5, int BatchSize = 0)
{
    public int BatchSize { get; init; } = Guard.AtLeast(BatchSize, 0, "batch-size");
    public int Steps { get; init; } = Guard.AtLeast(Steps, 1, "steps");
    public int InnerSteps { get; init; } = Guard.AtLeast(InnerSteps, 1, "inner-steps");
    public double InnerLearningRate { get; init; } = Guard.Positive(InnerLearningRate, "inner-lr");
    public double OuterLearningRate { get; init; } = Guard.Positive(OuterLearningRate, "lr");
    public double Temperature { get; init; } = Guard.NonNegative(Temperature, "temperature");
    public double EmaWeight { get; init; } = EmaWeight >= 0 && EmaWeight < 1 ? EmaWeight
        : throw new ArgumentOutOfRangeException("ema", EmaWeight, $"ema must lie in [0, 1) (got {EmaWeight}).");
    public double OuterMomentum { get; init; } = OuterMomentum >= 0 && OuterMomentum < 1 ? OuterMomentum
        : throw new ArgumentOutOfRangeException("momentum", OuterMomentum, $"momentum must lie in [0, 1) (got {OuterMomentum}).");
    public double InnerMomentum { get; init; } = InnerMomentum >= 0 && InnerMomentum < 1 ? InnerMomentum
        : throw new ArgumentOutOfRangeException("inner-momentum", InnerMomentum, $"inner-momentum must lie in [0, 1) (got {InnerMomentum}).");
    public CouplingSchedule Coupling { get; init; } = Coupling ?? new CouplingSchedule(Initial: 0.3);
    public int HistoryEvery { get; init; } = Guard.AtLeast(HistoryEvery, 1, "history-every");
}

/// <summary>
/// Entropy-SGD on a linear classifier: gradient ascent on the local free entropy F(w; β, γ) of (F1), whose gradient
/// βγ(⟨w'⟩ − w) is estimated by an inner Langevin chain w' (started at w each outer step) and an exponential moving
/// average μ of it; γ is scoped upwards over outer steps. For a scale-invariant objective w and w' stay on ‖w‖² = N.
/// At T = 0 the inner chain is gradient descent on L(w') + (γ/2N)‖w' − w‖², i.e. the proximal/Moreau-envelope step.
/// </summary>
public static class EntropicDescent
{
    /// <summary>Runs Entropy-SGD on <paramref name="objective"/>; <paramref name="observe"/> sees each history row.</summary>
    public static MaxFlatnessResult Run(IFlatnessObjective objective, EntropicOptions? options = null, Action<FlatnessStep>? observe = null)
    {
        ArgumentNullException.ThrowIfNull(objective);
        var o = options ?? new EntropicOptions();
        int n = objective.N;
        var w = Param.RandomW(n, Rng.ForStream(o.Seed, 0), objective.InitialScale); double b = 0;
        var wp = new double[n]; double bp;
        var mu = new double[n]; double mub;
        var vin = new double[n]; double vinb;
        var vout = new double[n]; double voutb = 0;
        var g = new double[n];
        var noise = Rng.ForStream(o.Seed, 1_000_003);
        var batcher = new Minibatch(objective, o.BatchSize, Rng.ForStream(o.Seed, 2_000_003));
        double eta = o.InnerLearningRate, a = o.EmaWeight, im = o.InnerMomentum;
        double nw = Math.Sqrt(2 * eta * o.Temperature * n), nb = Math.Sqrt(2 * eta * o.Temperature);
        double curv = objective.Curvature, kObj = n / curv;
        long evals = 0;
        double gamma0 = o.Coupling.Initial ?? double.NaN;
        var history = new List<FlatnessStep>();
        double lastF = double.NaN;
        for (int t = 0; t < o.Steps; t++)
        {
            Array.Copy(w, wp, n); bp = b; Array.Copy(w, mu, n); mub = b;
            Array.Clear(vin); vinb = 0;
            double gamma = double.IsNaN(gamma0) ? 0 : o.Coupling.At(t, o.Steps, gamma0);
            for (int l = 0; l < o.InnerSteps; l++)
            {
                lastF = objective.Evaluate(wp, bp, g, out double gb, batcher.Next()); evals++;
                for (int j = 0; j < n; j++)
                {
                    vin[j] = im * vin[j] - eta * (kObj * g[j] + gamma * (wp[j] - w[j]));
                    wp[j] += vin[j];
                    if (nw > 0) wp[j] += nw * noise.NextGaussian();
                }
                if (o.LearnBias)
                {
                    vinb = im * vinb - eta * (gb / curv + gamma * (bp - b));
                    bp += vinb;
                    if (nb > 0) bp += nb * noise.NextGaussian();
                }
                if (objective.ScaleInvariant) Param.Normalise(wp, ref bp);
                for (int j = 0; j < n; j++) mu[j] = a * mu[j] + (1 - a) * wp[j];
                mub = a * mub + (1 - a) * bp;
                if (double.IsNaN(gamma0) && l == 1)
                {
                    // Automatic γ0 at the second inner step: f(w')/(½ ‖w − w'‖²/N), balancing loss and coupling.
                    gamma0 = o.Coupling.Calibrate(lastF, 0.5 * Param.Distance2(w, wp));
                    gamma = o.Coupling.At(t, o.Steps, gamma0);
                }
            }
            double factor = Math.Min(1, o.OuterLearningRate * (o.ScaleOuterByGamma ? gamma : 1));
            double dist = Math.Sqrt(Param.Distance2(w, mu));
            for (int j = 0; j < n; j++)
            {
                vout[j] = o.OuterMomentum * vout[j] - factor * (w[j] - mu[j]);
                w[j] += vout[j];
            }
            if (o.LearnBias) { voutb = o.OuterMomentum * voutb - factor * (b - mub); b += voutb; }
            if (objective.ScaleInvariant) Param.Normalise(w, ref b);
            if (t % o.HistoryEvery == 0 || t == o.Steps - 1)
            {
                var row = new FlatnessStep(t, gamma, double.NaN, lastF, dist);
                history.Add(row); observe?.Invoke(row);
            }
        }
        double fc = objective.Evaluate(w, b, g, out _); evals++;
        if (history.Count > 0) history[^1] = history[^1] with { CenterObjective = fc };
        return new MaxFlatnessResult(new LinearClassifier(w, b), fc, o.Steps, evals, gamma0, history);
    }
}
