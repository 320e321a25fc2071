using System.Diagnostics;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Replica;

namespace FlatMinima.Benchmarks;

/// <summary>
/// Replica learning curves: 100 values of α (log grid 0.1..10) for the logistic loss at λ = 0.1, Δ = 1, with warm
/// starts and with cold starts, measured in the same run (after a JIT warm-up), for ρ = ½ and ρ = 0.25.
/// Prints wall time per curve and the warm/cold ratio.
/// </summary>
public static class ReplicaBenchmark
{
    public static void Run()
    {
        var alphas = LearningCurve.Grid(0.1, 10, 100, log: true);
        var loss = LogisticLoss.Instance;
        LearningCurve.OverAlpha(new ErmProblem(loss, new MixtureModel(alphas[..10][0], 1), 0.1), alphas[..10]); // JIT warm-up
        foreach (var rho in new[] { 0.5, 0.25 })
        {
            const int reps = 7; // interleaved, best of: the 2 cores are shared, single timings are noisy
            double warm = double.MaxValue, cold = double.MaxValue;
            int itWarm = 0, itCold = 0;
            for (int r = 0; r < reps; r++)
            {
                var sw = Stopwatch.StartNew();
                var w = LearningCurve.OverAlpha(new ErmProblem(loss, new MixtureModel(alphas[0], 1, rho), 0.1), alphas, warmStart: true);
                warm = Math.Min(warm, sw.Elapsed.TotalSeconds);
                sw.Restart();
                var c = LearningCurve.OverAlpha(new ErmProblem(loss, new MixtureModel(alphas[0], 1, rho), 0.1), alphas, warmStart: false);
                cold = Math.Min(cold, sw.Elapsed.TotalSeconds);
                itWarm = w.Sum(f => f.Iterations); itCold = c.Sum(f => f.Iterations);
                if (!w.All(f => f.Converged) || !c.All(f => f.Converged)) Console.WriteLine("  warning: some points did not converge");
            }
            Console.WriteLine($"logistic, 100 alphas in [0.1, 10], lambda = 0.1, rho = {rho}: warm {warm * 1e3:F0} ms ({itWarm} iterations), " +
                              $"cold {cold * 1e3:F0} ms ({itCold} iterations), warm/cold = {warm / cold:F2} (best of {reps})");
        }
        foreach (var name in new[] { "square", "hinge" })
        {
            var sw = Stopwatch.StartNew();
            var c = LearningCurve.OverAlpha(new ErmProblem(MarginLosses.Parse(name), new MixtureModel(alphas[0], 1, 0.25), 0.1), alphas);
            Console.WriteLine($"{name}, 100 alphas, rho = 0.25, warm: {sw.Elapsed.TotalMilliseconds:F1} ms ({c.Sum(f => f.Iterations)} iterations)");
        }
    }
}
