using FlatMinima.Cli;
using FlatMinima.Cli.Infrastructure;

return Cli.Run(args, Console.Out, Console.Error);
