using FlatMinima.Estimators;

namespace FlatMinima.Tests.Estimators;

/// <summary>Coupling schedules (docs/optim.md#coupling-schedules) in both forms, against their closed forms.</summary>
public class CouplingScheduleTests
{
    [Fact]
    public void CouplingSchedulesHitBothEnds()
    {
        foreach (var shape in new[] { CouplingShape.Exponential, CouplingShape.Linear, CouplingShape.Cosine })
        {
            var s = new CouplingSchedule(shape, 0.1, 10);
            Assert.Equal(0.1, s.At(0, 50, 0.1), 1e-12);
            Assert.Equal(10, s.At(49, 50, 0.1), 1e-12);
        }
        Assert.Equal(1.0, new CouplingSchedule(CouplingShape.Exponential, 0.1, 10).At(25, 51, 0.1), 1e-12); // geometric midpoint
        Assert.Equal(5.05, new CouplingSchedule(CouplingShape.Cosine, 0.1, 10).At(25, 51, 0.1), 1e-12);
        Assert.Equal(CouplingShape.Cosine, CouplingSchedule.ParseShape("cos"));
    }

    [Fact]
    public void ByAFactorTheScheduleGrowsByGmaxOverTheHorizonAndStaysThere()
    {
        // γ0 = 0.02, gmax = 1e4 over T = 10 epochs: γ0 at e = 0, γ0 gmax at e = T and after, and at e = T/2 the geometric
        // mean γ0 √gmax (exponential) or the arithmetic mean γ0 (1 + gmax)/2 (linear and cosine)
        const double g0 = 0.02, gmax = 1e4;
        foreach (var shape in new[] { CouplingShape.Exponential, CouplingShape.Linear, CouplingShape.Cosine })
        {
            var s = CouplingSchedule.ByFactor(shape, gmax);
            Assert.Equal(g0, s.At(0, 10, g0), 1e-15);
            Assert.Equal(g0 * gmax, s.At(10, 10, g0), 1e-9);
            Assert.Equal(g0 * gmax, s.At(25, 10, g0), 1e-9);
            Assert.Equal(shape == CouplingShape.Exponential ? g0 * 100 : g0 * (1 + gmax) / 2, s.At(5, 10, g0), 1e-9);
        }
        // the per-step factor of the Entropy-SGD code: γ_t = γ0 (1 + g1)^t with 1 + g1 = gmax^{1/T}
        var esgd = CouplingSchedule.ByFactor(CouplingShape.Exponential, 1e3);
        double g1 = Math.Pow(1e3, 1.0 / 600) - 1;
        for (int t = 0; t < 600; t += 37) Assert.Equal(0.3 * Math.Pow(1 + g1, t), esgd.At(t, 600, 0.3));
        // no growth: a zero horizon, gmax = 1 or the constant shape
        Assert.Equal(g0, CouplingSchedule.ByFactor(CouplingShape.Exponential, gmax).At(7, 0, g0));
        Assert.Equal(g0, CouplingSchedule.ByFactor(CouplingShape.Cosine, 1).At(7, 10, g0));
        Assert.Equal(g0, CouplingSchedule.ByFactor(CouplingShape.Constant, gmax).At(7, 10, g0));
    }

    [Fact]
    public void TheCapBoundsEitherForm()
    {
        // rSGD caps g at 1/(2η): the step (1 − 2ηg) would overshoot beyond it
        var capped = CouplingSchedule.ByFactor(CouplingShape.Exponential, 1e4, cap: 10);
        Assert.Equal(10, capped.At(10, 10, 0.02));
        Assert.Equal(0.02 * 100, capped.At(5, 10, 0.02), 1e-12);
        Assert.Equal(2, (new CouplingSchedule(CouplingShape.Linear, 0.1, 10) with { Cap = 2 }).At(49, 50, 0.1));
    }

    [Fact]
    public void AutomaticInitialCouplingBalancesObjectiveAndDistance()
    {
        // γ0 = factor · f / d (f the objective, d the coupling per unit γ); absolute schedules never start above γmax
        var s = new CouplingSchedule(Final: 10, AutoFactor: 2);
        Assert.Equal(2 * 0.3 / 0.5, s.Calibrate(0.3, 0.5));
        Assert.Equal(10, s.Calibrate(30, 0.5));
        Assert.Equal(10 * 1e-3, s.Calibrate(0.3, 0));       // nothing to measure: γmax·10⁻³
        Assert.Equal(10 * 1e-3, s.Calibrate(0, 0.5));
        var byFactor = CouplingSchedule.ByFactor(CouplingShape.Exponential, 1e4, autoFallback: 1e-4);
        Assert.Equal(300.0 / 0.5, byFactor.Calibrate(300, 0.5)); // no γmax bound; the cap applies in At
        Assert.Equal(1e-4, byFactor.Calibrate(1, 0));
        Assert.Equal(1e-3, CouplingSchedule.ByFactor(CouplingShape.Exponential, 1e4).Calibrate(1, 0));
    }

    [Fact]
    public void InvalidSchedulesNameTheParameter()
    {
        Assert.Equal("gmax", Assert.Throws<ArgumentOutOfRangeException>(() => CouplingSchedule.ByFactor(CouplingShape.Linear, 0.5)).ParamName);
        Assert.Equal("gamma-cap", Assert.Throws<ArgumentOutOfRangeException>(() => new CouplingSchedule() with { Cap = 0 }).ParamName);
        Assert.Equal("gamma0-fallback", Assert.Throws<ArgumentOutOfRangeException>(() => new CouplingSchedule() with { AutoFallback = -1 }).ParamName);
        Assert.Equal("gamma0", Assert.Throws<ArgumentOutOfRangeException>(() => new CouplingSchedule().At(0, 10, 0)).ParamName);
    }

    [Fact]
    public void ByARateTheScheduleIsTheCodesGeometricStepWithoutHorizon()
    {
        // γ_t = γ0 (1 + g1)^t for every t, whatever the horizon passed; the cap still bounds it; a rate of 0 is constant
        var s = CouplingSchedule.ByRate(0.01, cap: 0.5);
        for (int t = 0; t < 300; t += 23) Assert.Equal(Math.Min(0.2 * Math.Pow(1 + 0.01, t), 0.5), s.At(t, 10, 0.2));
        Assert.Equal(0.5, s.At(200, 0, 0.2));                       // 0.2·1.01^200 = 1.46 > cap
        Assert.Equal(0.3, CouplingSchedule.ByRate(0).At(1000, 5, 0.3));
        // no γmax bound on the automatic γ0 (as by a factor), and the fallback of a by-factor schedule
        Assert.Equal(300.0 / 0.5, CouplingSchedule.ByRate(0.1).Calibrate(300, 0.5));
        Assert.Equal(1e-3, CouplingSchedule.ByRate(0.1).Calibrate(1, 0));
        Assert.Equal("gamma1", Assert.Throws<ArgumentOutOfRangeException>(() => CouplingSchedule.ByRate(-0.1)).ParamName);
    }

    [Fact]
    public void ShapesHaveOneSpellingAndParseTheirAliases()
    {
        // the names every front end writes (JSON, the deep-network options) and the aliases ParseShape accepts
        var json = new System.Text.Json.JsonSerializerOptions { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };
        Assert.Equal("[\"exp\",\"lin\",\"cosine\",\"const\"]", System.Text.Json.JsonSerializer.Serialize(
            new[] { CouplingShape.Exponential, CouplingShape.Linear, CouplingShape.Cosine, CouplingShape.Constant }, json));
        foreach (var (a, b, shape) in new[] { ("exp", "exponential", CouplingShape.Exponential), ("lin", "linear", CouplingShape.Linear),
                     ("cosine", "cos", CouplingShape.Cosine), ("const", "constant", CouplingShape.Constant) })
        {
            Assert.Equal(shape, CouplingSchedule.ParseShape(a));
            Assert.Equal(shape, CouplingSchedule.ParseShape(b));
        }
        Assert.Contains("exp|lin|cosine|const", Assert.Throws<ArgumentOutOfRangeException>(() => CouplingSchedule.ParseShape("step")).Message);
    }
}
