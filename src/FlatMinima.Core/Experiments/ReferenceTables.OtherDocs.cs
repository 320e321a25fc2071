using FlatMinima.Estimators;
using FlatMinima.Flatness;
using FlatMinima.Losses;
using FlatMinima.Mixture;
using FlatMinima.Numerics;
using FlatMinima.Penalties;
using FlatMinima.Replica;
using static FlatMinima.Experiments.TableFormat;

namespace FlatMinima.Experiments;

public static partial class ReferenceTables
{
    /// <summary>Sizes of the simulations in the tables of docs/replica.md, docs/flatness.md and docs/norms.md.</summary>
    internal const int ErmCheckN = 400, ErmCheckSets = 8, FranzParisiN = 120, FranzParisiSets = 6,
        SphereCheckN = 500, SphereCheckSets = 6, ReplicatedCheckN = 300, ReplicatedCheckSets = 6,
        MaxFlatnessMethodsN = 300;

    private static IEnumerable<ReferenceTable> OtherDocTables() =>
    [
        new("erm-check", $"Replica theory against finite-N ERM (flatminima check) over (loss, alpha, Delta, lambda, rho): N = {ErmCheckN}, " +
            $"{ErmCheckSets} data sets (seeds 0-{ErmCheckSets - 1}); theory / mean ± s.e. (z) per observable and the verdict.", ErmCheck),
        new("local-energy-cosine", "Local energy at sigma = 0.5 and 1 and the cosine with the Bayes-optimal direction, N -> infinity, " +
            "alpha = 2, Delta = 1, rho = 1/2, estimators ordered by test error.", LocalEnergyCosine),
        new("max-flatness-balanced", $"Max-flatness estimators, alpha = 2, Delta = 1, rho = 1/2, N = {MaxFlatnessMethodsN}, one data set (seed 0), " +
            "defaults: cosine with sum_mu y^mu x^mu, test and training error, for replicated and entropic descent on the classifier " +
            "objective E_sigma and on smoothed losses.", MaxFlatnessBalanced),
        new("max-flatness-unbalanced", $"Max-flatness estimators, alpha = 2, Delta = 1, rho = 1/4, N = {MaxFlatnessMethodsN}, one data set (seed 0), " +
            "replicated descent, defaults: cosine with sum_mu y^mu x^mu, test error and the bias of the normalised estimator " +
            "(|w|^2 = N), with the bias learned or set by the Bayes rule.", MaxFlatnessUnbalanced),
        new("franz-parisi", "Replica-symmetric Franz-Parisi local entropy of the error-counting loss (beta = 2) around references at cosine cos psi " +
            "with the Bayes-optimal direction, alpha = 2, Delta = 1, rho = 1/2: excess Phi - ln(1 - R^2)/2 and the neighbours' training error.", FranzParisi),
        new("franz-parisi-simulation", $"Franz-Parisi excess: RS theory against Metropolis sampling on the constrained sphere, alpha = 2, Delta = 1, " +
            $"rho = 1/2, beta = 2, N = {FranzParisiN}, {FranzParisiSets} data sets (seeds 0-{FranzParisiSets - 1}), 150 sweeps per beta node.", FranzParisiSimulation),
        new("norm-balanced", "Fixed-norm ERM, square loss, alpha = 2, Delta = 1, rho = 1/2: the multiplier (effective ridge) and the test error against the norm Q.", NormBalanced),
        new("sphere-check", $"Fixed-norm ERM: theory against the finite-N constrained solvers, alpha = 2, Delta = 1, N = {SphereCheckN}, " +
            $"{SphereCheckSets} data sets (seeds 300-{300 + SphereCheckSets - 1}); theory / mean ± s.e.", SphereCheck),
        new("replicated-check", $"Replicated square-loss centre on the sphere: zero-temperature theory against coupled gradient descent, alpha = 2, " +
            $"Delta = 1, N = {ReplicatedCheckN}, {ReplicatedCheckSets} data sets (seeds 900-{900 + ReplicatedCheckSets - 1}); theory / mean ± s.e.", ReplicatedCheck),
        new("replicated-distance", "Replicated square-loss centre at fixed replica-centre distance d, zero temperature, alpha = 2, Delta = 1, rho = 1/4: " +
            "the centre's test error against the norm Q and d (y drops out), with fixed-norm ERM at the same Q.", ReplicatedDistance),
        new("replicated-thermal", "Replicated square-loss centre at finite temperature, alpha = 2, Delta = 1, rho = 1/4: test error of the centre's " +
            "thermal mean / of a sample of the centre, against beta*y (zero temperature in the first column).", ReplicatedThermal),
    ];

    private static readonly (string Loss, double Alpha, double Delta, double Lambda, double Rho)[] ErmCheckCases =
    [
        ("square", 2, 1, 0.1, 0.5), ("square", 3, 0.5, 1, 0.25),
        ("logistic", 2, 1, 0.1, 0.5), ("logistic", 4, 0.5, 0.05, 0.25), ("logistic", 2, 1, 1, 0.25),
        ("hinge", 2, 1, 1, 0.5), ("hinge", 2, 1, 0.5, 0.25), ("hinge", 1, 2, 0.1, 0.5),
    ];

    private static MarkdownTable ErmCheck()
    {
        var t = new MarkdownTable(["loss", "α", "Δ", "λ", "ρ", "test error", "train error", "m", "q", "bias", "verdict"]);
        foreach (var (loss, alpha, delta, lambda, rho) in ErmCheckCases)
        {
            var r = TheoryCheck.Erm(new ErmProblem(MarginLosses.Parse(loss), new MixtureModel(alpha, delta, rho), lambda), ErmCheckN, ErmCheckSets);
            string Cell(string name)
            {
                var row = r.Rows.First(x => x.Observable == name);
                string z = double.IsFinite(row.Z) ? $"z {Signed(row.Z, 1)}" : "z undef.";
                return $"{Fixed(row.Theory, 4)} / {Fixed(row.Simulation, 4)} ± {Fixed(row.StdError, 4)} ({z})";
            }
            t.Add(loss, Short(alpha), Short(delta), Lambda(lambda), Short(rho), Cell("test_error"), Cell("train_error"),
                Cell("m"), Cell("q"), Cell("bias"), r.Verdict);
        }
        return t;
    }

    private static MarkdownTable LocalEnergyCosine()
    {
        double[] sigmas = [0, 0.5, 1];
        var rows = LocalEnergyEstimators.Select(e => (e.Label, Theory: LocalEnergyTheory(e.Loss, e.Lambda, sigmas)))
            .OrderBy(r => Math.Round(r.Theory.TestError, 5)).ToList();
        var t = new MarkdownTable(["estimator", "ε_g", "cos with BO", "E_0", "δE(0.5)", "δE(1)"]);
        foreach (var (label, (eg, e, cos)) in rows)
            t.Add(label, Fixed(eg, 5), Fixed(cos, 4), Fixed(e[0], 5), Fixed(e[1] - e[0], 4), Fixed(e[2] - e[0], 4));
        return t;
    }

    private static readonly double[] MaxFlatnessScales = [0.3, 3, 30];

    /// <summary>One cell per (case, σ): the max-flatness estimator on one data set, and a last row for the BO estimator.</summary>
    private static MarkdownTable MaxFlatnessCases(double rho, (MaxFlatnessMethod Method, string Objective, BiasPolicy Bias)[] cases,
        Func<MaxFlatnessFit, string> cell, string cellHeader, Func<MixtureSample, LinearClassifier, string> boCell)
    {
        double[] sigmas = MaxFlatnessScales;
        var sample = MixtureSample.Sample(new MixtureModel(2, 1, rho).AtSize(MaxFlatnessMethodsN, 0));
        var cells = new string[cases.Length, sigmas.Length];
        Parallel.For(0, cases.Length * sigmas.Length, k =>
        {
            var (method, objective, bias) = cases[k / sigmas.Length];
            var loss = objective == "classifier" ? null : MarginLosses.Parse(objective);
            var fit = MaxFlatness.Fit(sample, new MaxFlatnessOptions(method, loss, Sigma: sigmas[k % sigmas.Length], Bias: bias));
            cells[k / sigmas.Length, k % sigmas.Length] = cell(fit);
        });
        var t = new MarkdownTable(["method", "objective", "bias", .. sigmas.Select(s => $"σ = {Short(s)}: {cellHeader}")]);
        for (int c = 0; c < cases.Length; c++)
        {
            var (method, objective, bias) = cases[c];
            t.Add([method == MaxFlatnessMethod.Replicated ? "replicated" : "entropic", objective == "classifier" ? "classifier E_σ" : $"{objective} loss",
                bias switch { BiasPolicy.Learned => "learned", BiasPolicy.Zero => "0", _ => "Bayes rule" },
                .. Enumerable.Range(0, sigmas.Length).Select(s => cells[c, s])]);
        }
        string bo = boCell(sample, BayesOptimal.Fit(sample));
        t.Add(["Bayes-optimal estimator, same data", "—", "(E2)", .. sigmas.Select(_ => bo)]);
        return t;
    }

    private static MarkdownTable MaxFlatnessBalanced() => MaxFlatnessCases(0.5,
        [
            (MaxFlatnessMethod.Replicated, "classifier", BiasPolicy.BayesRule),
            (MaxFlatnessMethod.Replicated, "logistic", BiasPolicy.BayesRule),
            (MaxFlatnessMethod.Entropic, "classifier", BiasPolicy.BayesRule),
            (MaxFlatnessMethod.Entropic, "square", BiasPolicy.BayesRule),
        ],
        f => $"{Fixed(f.CosineBo, 4)} / {Fixed(f.TestError, 4)} / {Fixed(f.TrainError, 3)}", "cos / ε_g / ε_t",
        (s, c) => $"{Fixed(1, 4)} / {Fixed(s.TestError(c.W, c.B), 4)} / {Fixed(s.TrainError(c.W, c.B), 3)}");

    private static MarkdownTable MaxFlatnessUnbalanced() => MaxFlatnessCases(0.25,
        [
            (MaxFlatnessMethod.Replicated, "classifier", BiasPolicy.Learned),
            (MaxFlatnessMethod.Replicated, "classifier", BiasPolicy.BayesRule),
            (MaxFlatnessMethod.Replicated, "square", BiasPolicy.Learned),
            (MaxFlatnessMethod.Replicated, "square", BiasPolicy.BayesRule),
        ],
        f => $"{Fixed(f.CosineBo, 3)} / {Fixed(f.TestError, 4)} / {Significant(f.BiasNormalised, 2)}", "cos / ε_g / b",
        (s, c) =>
        {
            double nw = Math.Sqrt(Numerics.Kernels.Norm2(c.W) / s.N);
            return $"{Fixed(1, 3)} / {Fixed(s.TestError(c.W, c.B), 4)} / {Significant(c.B / nw, 2)}";
        });

    private static MarkdownTable FranzParisi()
    {
        double[] overlaps = [0.3, 0.5, 0.8, 0.9, 0.95, 0.99];
        var t = new MarkdownTable(["cos ψ", "ε_t(w̃)", "ε_g(w̃)", .. overlaps.Select(r => $"R = {Short(r)}")]);
        foreach (double cos in new[] { 1, 0.9, 0.8, 0.7 })
        {
            var p = new FranzParisiProblem(new MixtureModel(2, 1), 2, cos);
            var points = FranzParisiLocalEntropy.Curve(p, overlaps);
            t.Add([Short(cos), Fixed(FranzParisiLocalEntropy.ReferenceTrainError(p), 4), Fixed(FranzParisiLocalEntropy.ReferenceTestError(p), 4),
                .. points.Select(x => $"{Fixed(x.Excess, 4)} ({Fixed(x.TrainError, 3)})")]);
        }
        return t;
    }

    private static MarkdownTable FranzParisiSimulation()
    {
        var t = new MarkdownTable(["cos ψ", "R", "RS excess", "sampled excess", "z", "RS ⟨ε⟩", "sampled ⟨ε⟩"]);
        foreach (var (cos, r) in new[] { (1.0, 0.3), (1.0, 0.6), (1.0, 0.9), (0.8, 0.3), (0.8, 0.6), (0.8, 0.9) })
        {
            var model = new MixtureModel(2, 1);
            var th = FranzParisiLocalEntropy.Solve(new FranzParisiProblem(model, 2, cos), r);
            var sim = FranzParisiLocalEntropy.Sample(model.AtSize(FranzParisiN, 0), cos, r, 2, seeds: FranzParisiSets, sweeps: 150, burnIn: 75);
            double z = (sim.Excess - th.Excess) / sim.StdError;
            t.Add(Short(cos), Short(r), Fixed(th.Excess, 4), $"{Fixed(sim.Excess, 4)} ± {Fixed(sim.StdError, 4)}",
                Signed(z, 2), Fixed(th.TrainError, 4), Fixed(sim.TrainError, 4));
        }
        return t;
    }

    private static MarkdownTable NormBalanced()
    {
        double[] norms = [0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5];
        var fps = norms.Select(q => ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, new MixtureModel(2, 1, 0.5), new SpherePenalty(q)))).ToArray();
        var t = new MarkdownTable(["Q", .. norms.Select(Short)]);
        t.Add(["λ̃", .. fps.Select(f => Fixed(f.Multiplier, 3))]);
        t.Add(["ε_g", .. fps.Select(f => Fixed(f.TestError, 5))]);
        return t;
    }

    private static MarkdownTable SphereCheck()
    {
        var t = new MarkdownTable(["loss", "ρ", "Q", "λ̃", "ε_g", "ε_t", "m", "b", "verdict"]);
        foreach (var (loss, rho, norm) in new[] { ("square", 0.5, 0.5), ("square", 0.25, 0.5), ("square", 0.25, 1.2), ("logistic", 0.5, 1.0), ("logistic", 0.25, 1.5) })
        {
            var r = TheoryCheck.Erm(new ErmProblem(MarginLosses.Parse(loss), new MixtureModel(2, 1, rho), new SpherePenalty(norm)), SphereCheckN, SphereCheckSets, seed: 300);
            string Cell(string name)
            {
                var row = r.Rows.First(x => x.Observable == name);
                return $"{Fixed(row.Theory, 4)} / {Fixed(row.Simulation, 4)} ± {Fixed(row.StdError, 4)}";
            }
            t.Add(loss, Short(rho), Short(norm), Fixed(r.Theory.Multiplier, 3), Cell("test_error"), Cell("train_error"), Cell("m"), Cell("bias"), r.Verdict);
        }
        return t;
    }

    private static MarkdownTable ReplicatedCheck()
    {
        var t = new MarkdownTable(["ρ", "y", "Q", "γ", "centre ε_g", "centre m", "centre b", "d", "replica–replica overlap"]);
        foreach (var (rho, y, norm, gamma) in new[] { (0.25, 3, 0.5, 1.0), (0.25, 2, 0.05, 2.0), (0.5, 3, 0.3, 0.5) })
        {
            var model = new MixtureModel(2, 1, rho);
            var th = ReplicatedSaddlePoint.Solve(new ReplicatedProblem(SquareLoss.Instance, model, y, norm, gamma, double.NaN));
            var runs = MonteCarlo.Run(model.AtSize(ReplicatedCheckN, 900), ReplicatedCheckSets, s =>
            {
                long seed = s.Spec.Seed;
                var r = ReplicatedSphereDescent.Fit(s, y, norm, gamma, seed: seed);
                if (!r.Converged) throw new InvalidOperationException($"coupled gradient descent did not converge on seed {seed}.");
                var o = s.OverlapsOf(r.Center.W);
                return (Eg: GeneralizationError.Of(o.M, o.Q, r.Center.B, 1, rho), o.M, r.Center.B, D: r.Distance, Ov: r.ReplicaOverlap);
            });
            string Cell(double theory, Func<(double Eg, double M, double B, double D, double Ov), double> f) =>
                $"{Fixed(theory, 4)} / {MeanSe(runs.Of(f), 4)}";
            t.Add(Short(rho), y.ToString(), Short(norm), Short(gamma), Cell(th.TestError, r => r.Eg), Cell(th.CenterM, r => r.M),
                Cell(th.CenterBias, r => r.B), Cell(th.Distance, r => r.D), Cell(th.ReplicaReplicaOverlap, r => r.Ov));
        }
        return t;
    }

    private static MarkdownTable ReplicatedDistance()
    {
        double[] distances = [1e-4, 1e-3, 1e-2, 0.05, 0.2];
        var t = new MarkdownTable(["Q", .. distances.Select(d => $"d = {Lambda(d)}"), "ERM at Q"]);
        foreach (double norm in new[] { 0.1, 0.15, 0.3 })
            t.Add([Short(norm), .. distances.Select(d =>
                    Fixed(ReplicatedSaddlePoint.Solve(new ReplicatedProblem(SquareLoss.Instance, new MixtureModel(2, 1, 0.25), 1, norm, double.NaN, d)).TestError, 5)),
                Fixed(ErmSaddlePoint.Solve(new ErmProblem(SquareLoss.Instance, new MixtureModel(2, 1, 0.25), new SpherePenalty(norm))).TestError, 5)]);
        return t;
    }

    private static MarkdownTable ReplicatedThermal()
    {
        double[] betaY = [100, 10, 3, 1];
        var t = new MarkdownTable(["Q", "γ", "T = 0", .. betaY.Select(b => $"βy = {Short(b)}")]);
        var model = new MixtureModel(2, 1, 0.25);
        foreach (var (norm, gamma) in new[] { (0.15, 10.0), (0.3, 10.0), (1.0, 2.0) })
        {
            var zero = ReplicatedSaddlePoint.Solve(new ReplicatedProblem(SquareLoss.Instance, model, 1, norm, gamma, double.NaN));
            t.Add([Short(norm), Short(gamma), Fixed(zero.TestError, 5), .. betaY.Select(b =>
            {
                var r = ThermalReplicatedSaddlePoint.Solve(model, b, norm, gamma);
                return $"{Fixed(r.MeanTestError, 5)} / {Fixed(r.SampleTestError, 5)}";
            })]);
        }
        return t;
    }
}
