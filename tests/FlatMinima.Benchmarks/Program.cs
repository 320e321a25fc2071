using FlatMinima.Benchmarks;

// Benchmarks print times and ratios against a baseline measured in the same run; they assert nothing.
// usage: dotnet run -c Release --project tests/FlatMinima.Benchmarks -- [NAME ...]   (no name: all)
var benchmarks = new Dictionary<string, Action>
{
    ["erm"] = ErmBenchmark.Run,
    ["montecarlo"] = MonteCarloBenchmark.Run,
    ["replica"] = ReplicaBenchmark.Run,
};
var chosen = args.Length == 0 ? benchmarks.Keys.ToArray() : args;
foreach (var name in chosen)
{
    if (!benchmarks.TryGetValue(name, out var run))
    {
        Console.Error.WriteLine($"unknown benchmark '{name}'; valid: {string.Join(", ", benchmarks.Keys)}");
        return 2;
    }
    Console.WriteLine($"== {name}");
    run();
}
return 0;
