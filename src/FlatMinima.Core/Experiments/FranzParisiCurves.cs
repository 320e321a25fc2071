using FlatMinima.Flatness;
using FlatMinima.Mixture;

namespace FlatMinima.Experiments;

/// <summary>The replica-symmetric Franz–Parisi curve Φ(R) around references at one cosine with the BO direction.</summary>
public sealed record FranzParisiCurve(double ReferenceCosine, IReadOnlyList<FranzParisiPoint> Points);

/// <summary>Sampled Franz–Parisi excess at a few overlaps R for one reference cosine.</summary>
public sealed record FranzParisiSampling(double ReferenceCosine, int N, int Seeds, int Sweeps, IReadOnlyList<double> Overlaps, IReadOnlyList<FranzParisiSample> Samples);

/// <summary>
/// The Franz–Parisi local entropy of the error-counting loss (figure 5; derivation in docs/flatness.md) at α = 2, Δ = 1,
/// ρ = ½, β = 2, around references at cosine cos ψ = 1, 0.9, 0.8, 0.7 with the BO direction, against the squared distance
/// d = 2(1 − R): the replica-symmetric curves on 60 overlaps R in [0.25, 0.99], and Metropolis sampling with
/// thermodynamic integration at R = 0.3, 0.6, 0.9 for cos ψ = 1 and 0.8.
/// </summary>
public sealed record FranzParisiCurves(IReadOnlyList<FranzParisiCurve> Theory, IReadOnlyList<FranzParisiSampling> Sampling)
{
    public const double Alpha = 2, Delta = 1, Beta = 2;
    /// <summary>The reference cosines of the theory curves.</summary>
    public static IReadOnlyList<double> Cosines { get; } = [1, 0.9, 0.8, 0.7];
    /// <summary>The reference cosines that are also sampled.</summary>
    public static IReadOnlyList<double> SampledCosines { get; } = [1, 0.8];
    /// <summary>The sampled overlaps.</summary>
    public static IReadOnlyList<double> SampledOverlaps { get; } = [0.3, 0.6, 0.9];

    /// <summary>Computes the curves and the sampling (N = <paramref name="n"/>, <paramref name="seeds"/> datasets,
    /// <paramref name="sweeps"/> sweeps after <paramref name="sweeps"/>/2 of burn-in per β node).</summary>
    public static FranzParisiCurves Compute(int n = 120, int seeds = 6, int sweeps = 200, long seed = 0, int? threads = null, Action<double>? progress = null)
    {
        var model = new MixtureModel(Alpha, Delta, 0.5);
        var overlaps = Enumerable.Range(0, 60).Select(i => 0.25 + 0.74 * i / 59).ToArray();
        int done = 0, total = Cosines.Count + SampledCosines.Count * SampledOverlaps.Count;
        var theory = new List<FranzParisiCurve>();
        foreach (var cos in Cosines)
        {
            theory.Add(new(cos, FranzParisiLocalEntropy.Curve(new FranzParisiProblem(model, Beta, cos), overlaps)));
            progress?.Invoke(++done / (double)total);
        }
        var sampling = new List<FranzParisiSampling>();
        foreach (var cos in SampledCosines)
        {
            var samples = new List<FranzParisiSample>();
            foreach (var r in SampledOverlaps)
            {
                samples.Add(FranzParisiLocalEntropy.Sample(model.AtSize(n, seed), cos, r, Beta, seeds, sweeps, sweeps / 2, maxParallelism: threads));
                progress?.Invoke(++done / (double)total);
            }
            sampling.Add(new(cos, n, seeds, sweeps, SampledOverlaps, samples));
        }
        return new(theory, sampling);
    }

    /// <summary>Points of the theory curves that did not converge, and one warning per curve with points where replica
    /// symmetry is unstable (replicon Λ ≤ 0, docs/theory.md#rs-stability; drawn dotted).</summary>
    public IReadOnlyList<string> Warnings => Theory.SelectMany(c => c.Points.Where(p => !p.Converged)
            .Select(p => $"Franz-Parisi point cos={c.ReferenceCosine:G} R={p.R:G4} did not converge; marked in the CSV"))
        .Concat(Theory.Select(c => (c, bad: c.Points.Where(p => p.Converged && !p.RsStable).ToList())).Where(x => x.bad.Count > 0)
            .Select(x => $"Franz-Parisi curve cos={x.c.ReferenceCosine:G}: {x.bad.Count} of {x.c.Points.Count} points RS-unstable (replicon <= 0) " +
                         $"at R = {x.bad.Min(p => p.R):G3} ... {x.bad.Max(p => p.R):G3}; drawn dotted, marked in the CSV"))
        .ToArray();

    /// <summary>The replicon Λ of every converged theory point (docs/theory.md#rs-stability).</summary>
    public IEnumerable<double> Replicons => Theory.SelectMany(c => c.Points.Where(p => p.Converged).Select(p => p.Replicon));

    /// <summary>The table: columns distance, excess, excess_se, reference_cosine, overlap_r, replicon; the theory curves
    /// (points that did not converge, and points where RS is unstable, marked), then the sampling (no replicon).</summary>
    public SeriesTable ToTable()
    {
        var t = new SeriesTable("distance", "excess", "excess_se", "reference_cosine", "overlap_r", "replicon");
        foreach (var (cos, points) in Theory)
            foreach (var p in points)
                t.Add($"theory cos={cos:G}", [p.Distance, p.Excess, double.NaN, cos, p.R, p.Replicon],
                    !p.Converged ? "not converged" : p.RsStable ? "" : "RS unstable (replicon <= 0)");
        foreach (var s in Sampling)
            for (int i = 0; i < s.Overlaps.Count; i++)
            {
                double r = s.Overlaps[i];
                t.Add($"sampling cos={s.ReferenceCosine:G} n={s.N} seeds={s.Seeds} sweeps={s.Sweeps}",
                    [2 * (1 - r), s.Samples[i].Excess, s.Samples[i].StdError, s.ReferenceCosine, r, double.NaN]);
            }
        return t;
    }
}
