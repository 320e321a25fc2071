using FlatMinima.Mixture;
using FlatMinima.Numerics;

namespace FlatMinima.Flatness;

/// <summary>Monte Carlo estimate of the Franz–Parisi excess by parallel tempering (<see cref="FranzParisiLocalEntropy.SampleTempered"/>).</summary>
/// <param name="Excess">(1/N) ln ⟨e^{−βE}⟩ over the slice, mean over data sets.</param>
/// <param name="StdError">Standard error over data sets.</param>
/// <param name="TrainError">⟨E⟩/P at β (mean over data sets).</param>
/// <param name="ReferenceTrainError">Training error of the reference (mean over data sets).</param>
/// <param name="PerSeed">Excess of each data set.</param>
/// <param name="Betas">The temperature ladder β_k = kβ/(K − 1).</param>
/// <param name="MeanTrainError">⟨E⟩/P at each β_k (mean over data sets).</param>
/// <param name="MinSwapAcceptance">Smallest acceptance rate of the exchanges between neighbouring temperatures (mean over
/// data sets): near 0 means the ladder is too coarse for the chains to cross it.</param>
public sealed record FranzParisiTemperedSample(double Excess, double StdError, double TrainError, double ReferenceTrainError,
    IReadOnlyList<double> PerSeed, IReadOnlyList<double> Betas, IReadOnlyList<double> MeanTrainError, double MinSwapAcceptance);

public static partial class FranzParisiLocalEntropy
{
    /// <summary>
    /// The Franz–Parisi excess on finite training sets by parallel tempering: the same reference and slice chains as
    /// <see cref="Sample"/>, but K chains at β_k = kβ/(K − 1), k = 0 … K − 1, run side by side and exchange temperatures
    /// between neighbours after every sweep (accepted with min(1, e^{(β_{k+1} − β_k)(E_{k+1} − E_k))}), so that a chain
    /// trapped at low temperature can leave through the hot end; the rotation steps (adapted to ≈ 40 % during burn-in)
    /// travel with the temperatures. excess = −α ∫_0^β ⟨ε⟩_{β'} dβ' by the trapezoid rule with the end correction of
    /// Simpson's rule when K is odd. For checks where the annealed sampler does not equilibrate (low temperature, and
    /// where replica symmetry is broken, docs/theory.md#rs-stability).
    /// </summary>
    /// <param name="spec">Mixture; data set s uses seed spec.Seed + s (the same data as <see cref="Sample"/>).</param>
    /// <param name="referenceCosine">cos ψ ∈ [0, 1].</param>
    /// <param name="r">Overlap R ∈ (−1, 1).</param>
    /// <param name="beta">β &gt; 0.</param>
    /// <param name="seeds">Data sets ≥ 2.</param>
    /// <param name="temperatures">K ≥ 3 [33].</param>
    /// <param name="sweeps">Measured sweeps per chain [400].</param>
    /// <param name="burnIn">Discarded sweeps per chain [400].</param>
    /// <param name="bias">Bias b [0].</param>
    /// <param name="maxParallelism">Workers over data sets.</param>
    public static FranzParisiTemperedSample SampleTempered(MixtureSpec spec, double referenceCosine, double r, double beta, int seeds = 4,
        int temperatures = 33, int sweeps = 400, int burnIn = 400, double bias = 0, int? maxParallelism = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Guard.ClosedInterval(referenceCosine, 0, 1, "reference-cosine");
        Guard.OpenInterval(r, -1, 1, "R"); Guard.Positive(beta, "beta");
        Guard.AtLeast(seeds, 2, "seeds"); Guard.AtLeast(temperatures, 3, "temperatures");
        Guard.AtLeast(sweeps, 1, "sweeps"); Guard.AtLeast(burnIn, 0, "burn-in");
        int k = temperatures;
        var betas = Enumerable.Range(0, k).Select(i => beta * i / (k - 1)).ToArray();
        var per = new double[seeds]; var errs = new double[seeds]; var refErr = new double[seeds]; var minSwap = new double[seeds];
        var profiles = new double[seeds][];
        Parallel.For(0, seeds, new ParallelOptions { MaxDegreeOfParallelism = maxParallelism ?? Environment.ProcessorCount }, s =>
        {
            var sample = MixtureSample.Sample(spec.WithSeed(spec.Seed + s));
            var rng = Rng.ForStream(spec.Seed + s, 77);
            (var xt, refErr[s]) = Frame(sample, referenceCosine, bias, rng);
            var chains = Enumerable.Range(0, k).Select(_ => new SliceChain(sample, xt, r, bias, rng)).ToArray();
            var at = Enumerable.Range(0, k).ToArray();          // at[t] = the chain at temperature t
            var acc = new long[k]; var tried = new long[k];     // per temperature, for the step adaptation
            var swapAcc = new long[k - 1]; var swapTry = new long[k - 1];
            var sum = new double[k];
            var swapRng = Rng.ForStream(spec.Seed + s, 78);
            int p = sample.P;
            for (int sw = 0; sw < burnIn + sweeps; sw++)
            {
                for (int t = 0; t < k; t++) chains[at[t]].Sweep(betas[t], ref acc[t], ref tried[t]);
                if (sw < burnIn && sw % 10 == 9)
                    for (int t = 0; t < k; t++) chains[at[t]].Adapt(ref acc[t], ref tried[t]);
                // exchanges between neighbours, even pairs on even sweeps and odd pairs on odd sweeps
                for (int t = sw % 2; t + 1 < k; t += 2)
                {
                    var (ci, cj) = (chains[at[t]], chains[at[t + 1]]);
                    double logA = (betas[t + 1] - betas[t]) * (cj.Energy - ci.Energy);
                    if (sw >= burnIn) swapTry[t]++;
                    if (logA >= 0 || swapRng.NextDouble() < Math.Exp(logA))
                    {
                        (ci.Step, cj.Step) = (cj.Step, ci.Step); // the step belongs to the temperature
                        (at[t], at[t + 1]) = (at[t + 1], at[t]);
                        if (sw >= burnIn) swapAcc[t]++;
                    }
                }
                if (sw >= burnIn)
                    for (int t = 0; t < k; t++) sum[t] += (double)chains[at[t]].Energy / p;
            }
            var eps = sum.Select(v => v / sweeps).ToArray();
            profiles[s] = eps;
            errs[s] = eps[^1];
            minSwap[s] = Enumerable.Range(0, k - 1).Min(t => (double)swapAcc[t] / Math.Max(1, swapTry[t]));
            per[s] = -sample.Spec.Alpha * Integrate(betas, eps);
        });
        var st = Statistic.Of(per);
        var profile = Enumerable.Range(0, k).Select(t => profiles.Average(pr => pr[t])).ToArray();
        return new FranzParisiTemperedSample(st.Mean, st.StdError, errs.Average(), refErr.Average(), per, betas, profile, minSwap.Average());
    }

    // ∫ f dβ on a uniform grid: composite Simpson when the number of intervals is even, else trapezoid.
    private static double Integrate(double[] x, double[] f)
    {
        int m = x.Length - 1;
        double h = x[1] - x[0], s = 0;
        if (m % 2 == 0)
        {
            for (int i = 0; i <= m; i++) s += f[i] * (i == 0 || i == m ? 1 : i % 2 == 1 ? 4 : 2);
            return s * h / 3;
        }
        for (int i = 0; i <= m; i++) s += f[i] * (i == 0 || i == m ? 0.5 : 1);
        return s * h;
    }
}
