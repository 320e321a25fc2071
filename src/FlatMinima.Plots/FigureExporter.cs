using OxyPlot;

namespace FlatMinima.Plots;

/// <summary>Writes a plot as PNG (300 dpi, for a quick look), SVG and PDF (for papers), each atomically.</summary>
public static class FigureExporter
{
    /// <summary>PNG resolution.</summary>
    public const float PngDpi = 300;

    /// <summary>Exports <paramref name="model"/> to <c>{basePath}.png</c>, <c>.svg</c> and <c>.pdf</c>; returns the paths.</summary>
    public static IReadOnlyList<string> Export(PlotModel model, string basePath,
        double widthInches = FigureStyle.WidthInches, double heightInches = FigureStyle.HeightInches)
    {
        // PNG size is in pixels (fonts scale with Dpi); SVG is in 1/96 in; PDF in points (1/72 in).
        int w96 = (int)Math.Round(widthInches * 96), h96 = (int)Math.Round(heightInches * 96);
        float w72 = (float)(widthInches * 72), h72 = (float)(heightInches * 72);
        var paths = new List<string>();
        Write(basePath + ".png", s => new OxyPlot.SkiaSharp.PngExporter { Width = (int)Math.Round(widthInches * PngDpi), Height = (int)Math.Round(heightInches * PngDpi), Dpi = PngDpi, UseTextShaping = true }.Export(model, s));
        paths.Add(basePath + ".png");
        Write(basePath + ".svg", s => new OxyPlot.SkiaSharp.SvgExporter { Width = w96, Height = h96 }.Export(model, s));
        paths.Add(basePath + ".svg");
        Write(basePath + ".pdf", s => new OxyPlot.SkiaSharp.PdfExporter { Width = w72, Height = h72, UseTextShaping = true }.Export(model, s));
        paths.Add(basePath + ".pdf");
        return paths;
    }

    // SkiaSharp's exporters write through a callback from native code, where an exception (a full disk, a folder that
    // cannot be written) cannot be caught and aborts the process. So each figure is rendered into memory first and the
    // bytes are written by managed code, whose failure is an IOException naming the file.
    private static void Write(string path, Action<Stream> export)
    {
        byte[] bytes;
        using (var memory = new MemoryStream())
        {
            export(memory);
            bytes = memory.ToArray();
        }
        FlatMinima.Storage.AtomicFile.WriteAllBytes(path, bytes);
    }
}
