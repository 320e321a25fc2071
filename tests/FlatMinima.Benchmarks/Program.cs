using FlatMinima.Benchmarks;

// Benchmarks print times and ratios against a baseline measured in the same run; they assert nothing.
// usage: dotnet run -c Release --project tests/FlatMinima.Benchmarks -- [NAME ...]   (no name: all but peers)
//        dotnet run -c Release --project tests/FlatMinima.Benchmarks -- peers [--n 1000,2000,4000,8000] [--repeats R] ...
if (args.Length > 0 && args[0] == "peers") { PeerBenchmark.Run(args[1..]); return 0; }
if (args.Length > 0 && args[0] == "peers-child") return PeerBenchmark.Child(args[1..]);
if (args.Length > 0 && args[0] == "plans") { PeerBenchmark.Plans(args[1..]); return 0; }
var benchmarks = new Dictionary<string, Action>
{
    ["erm"] = ErmBenchmark.Run,
    ["montecarlo"] = MonteCarloBenchmark.Run,
    ["replica"] = ReplicaBenchmark.Run,
    ["flatness"] = FlatnessBenchmark.Run,
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
