using System.Diagnostics;
using FlatMinima.Estimators;
using FlatMinima.Flatness;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Replica;

namespace FlatMinima.Benchmarks;

/// <summary>
/// Flatness speed: local-energy theory curves (50 σ), one evaluation of the smoothed objectives against the baseline of one
/// P×N matrix–vector product in the same run (the ideal is ≈ 2: two streaming passes), and max-flatness runs at N = 1000,
/// α = 2 (targets: theory curves in milliseconds, a max-flatness run in seconds on 2 cores).
/// </summary>
internal static class FlatnessBenchmark
{
    public static void Run()
    {
        var sig = Enumerable.Range(0, 50).Select(i => 0.04 * i).ToArray();
        Console.WriteLine($"LE2, 50 sigma:                     {Best(() => LocalEnergy.BayesOptimalTheory(new MixtureModel(2, 1, 0.5), sig)) * 1e3,9:F3} ms");
        foreach (var l in new[] { "square", "logistic", "hinge" })
        {
            var fp = ErmSaddlePoint.Solve(new ErmProblem(MarginLosses.Parse(l), new MixtureModel(2, 1), 0.1));
            Console.WriteLine($"LE3 {l,-8}, 50 sigma (given fp): {Best(() => LocalEnergy.ErmTheory(fp, sig)) * 1e3,9:F3} ms");
        }
        var sample = MixtureSample.Sample(new MixtureSpec(new MixtureModel(2, 1, 0.5), 1000, 0));
        var w = BayesOptimal.Fit(sample).W;
        var h = new double[sample.P]; var g = new double[sample.N];
        double baseline = Best(() => Kernels.MatVec(sample.X, sample.P, sample.N, w, h));
        Console.WriteLine($"baseline: one {sample.P}x{sample.N} MatVec:     {baseline * 1e3,9:F3} ms");
        foreach (var (name, obj) in new (string, IFlatnessObjective)[]
                 {
                     ("E_sigma (classifier)", new SmoothedErrorObjective(sample, 3)),
                     ("smoothed square", new SmoothedLossObjective(sample, SquareLoss.Instance, 3)),
                     ("smoothed logistic", new SmoothedLossObjective(sample, LogisticLoss.Instance, 3)),
                 })
        {
            double t = Best(() => obj.Evaluate(w, 0, g, out _));
            Console.WriteLine($"{name,-22} value+gradient: {t * 1e3,9:F3} ms  ratio to MatVec {t / baseline:F2}");
        }
        Console.WriteLine($"LE1 exact, N=1000, 50 sigma:       {Best(() => LocalEnergy.Exact(sample, w, 0, sig)) * 1e3,9:F3} ms");
        foreach (var m in new[] { MaxFlatnessMethod.Replicated, MaxFlatnessMethod.Entropic })
            foreach (IMarginLoss? l in new IMarginLoss?[] { null, SquareLoss.Instance, LogisticLoss.Instance })
            {
                var sw = Stopwatch.StartNew();
                var f = MaxFlatness.Fit(sample, new MaxFlatnessOptions(m, l, 30));
                Console.WriteLine($"maxflat N=1000 alpha=2 {m,-10} {l?.Name ?? "classifier",-10}: {sw.Elapsed.TotalSeconds,6:F2} s " +
                                  $"({f.Run.GradientEvaluations} evaluations, cos {f.CosineBo:F4}, test error {f.TestError:F5} vs BO {f.BoTestError:F5})");
            }
    }

    private static double Best(Action f)
    {
        f();
        double best = double.PositiveInfinity;
        for (int i = 0; i < 5; i++)
        {
            var sw = Stopwatch.StartNew();
            f();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }
}
