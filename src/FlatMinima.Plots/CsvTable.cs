using System.Globalization;
using System.Text;

namespace FlatMinima.Plots;

/// <summary>
/// The numbers behind a figure: one row per plotted point, with a "series" column naming the curve. Numbers are
/// written in round-trip form so the CSV equals the library's values exactly; a missing value is empty.
/// </summary>
public sealed class CsvTable
{
    /// <summary>Column names (the first is always "series").</summary>
    public IReadOnlyList<string> Columns { get; }
    private readonly List<(string Series, double[] Values, string Note)> _rows = [];

    public CsvTable(params string[] valueColumns)
    {
        Columns = ["series", .. valueColumns, "note"];
    }

    /// <summary>Rows added so far.</summary>
    public IReadOnlyList<(string Series, double[] Values, string Note)> Rows => _rows;

    /// <summary>Adds a row; <paramref name="note"/> marks e.g. a point that did not converge.</summary>
    public void Add(string series, double[] values, string note = "")
    {
        if (values.Length != Columns.Count - 2)
            throw new ArgumentException($"row has {values.Length} values for {Columns.Count - 2} columns.", nameof(values));
        _rows.Add((series, values, note));
    }

    /// <summary>The CSV text.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(",", Columns));
        foreach (var (series, values, note) in _rows)
            sb.AppendLine(series + "," + string.Join(",", values.Select(v => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "")) + "," + note);
        return sb.ToString();
    }
}
