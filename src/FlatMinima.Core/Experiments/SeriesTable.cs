using System.Globalization;
using System.Text;

namespace FlatMinima.Experiments;

/// <summary>One row of a <see cref="SeriesTable"/>: the curve it belongs to, its values in the table's column order
/// (NaN where a column does not apply), and a note that marks e.g. a point that did not converge.</summary>
public sealed record SeriesRow(string Series, double[] Values, string Note = "");

/// <summary>
/// The numbers behind a figure or a result table: one row per point, with a "series" column naming the curve and a
/// "note" column. As CSV, numbers are written in round-trip form so the file equals the library's values exactly; a
/// missing value is empty.
/// </summary>
public sealed class SeriesTable
{
    private readonly List<SeriesRow> _rows = [];

    /// <summary>A table with the value columns <paramref name="valueColumns"/> between "series" and "note".</summary>
    public SeriesTable(params string[] valueColumns)
    {
        Columns = ["series", .. valueColumns, "note"];
    }

    /// <summary>Column names: "series", the value columns, "note".</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>Rows added so far, in order.</summary>
    public IReadOnlyList<SeriesRow> Rows => _rows;

    /// <summary>Adds a row; <paramref name="note"/> marks e.g. a point that did not converge.</summary>
    public void Add(string series, double[] values, string note = "")
    {
        if (values.Length != Columns.Count - 2)
            throw new ArgumentException($"row has {values.Length} values for {Columns.Count - 2} columns.", nameof(values));
        _rows.Add(new SeriesRow(series, values, note));
    }

    /// <summary>The CSV text: a header line, then one line per row.</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder();
        sb.AppendLine(string.Join(",", Columns));
        foreach (var (series, values, note) in _rows)
            sb.AppendLine(series + "," + string.Join(",", values.Select(v => double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : "")) + "," + note);
        return sb.ToString();
    }

    /// <summary>The CSV text (<see cref="ToCsv"/>).</summary>
    public override string ToString() => ToCsv();
}
