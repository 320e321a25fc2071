namespace FlatMinima.Cli.Commands;
