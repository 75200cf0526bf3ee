using XenProf.Reporter.Profile;
using ScottPlot;
using XenProf.Reporter.Flame;

namespace XenProf.Reporter.Plots;

/// <summary>
/// PNG plots of a session with ScottPlot, headless: the top symbols as horizontal bars with sampling-error
/// bars, and samples over time per domain. Text uses DejaVu Sans (fonts-dejavu-core), which the plots
/// need to show any text at all.
/// </summary>
public static class PlotWriter
{
    /// <summary>The sans-serif family the plots ask for.</summary>
    public const string FontFamily = "DejaVu Sans";

    /// <summary>Writes a bar chart of the top <see cref="FlameExportOptions.TopSymbols"/> symbols (percent of samples, ± one standard error).</summary>
    public static void WriteTopSymbols(FlameSource source, Stream output, FlameExportOptions? options = null)
    {
        options ??= FlameExportOptions.Default;
        var ev = source.PickEvent(options.Selection.Event);
        var (_, symbols, total) = source.Summaries(options.Selection, options.Weight);
        var top = symbols.Take(Math.Max(1, options.TopSymbols)).ToList();
        var plot = NewPlot();
        var bars = new List<Bar>();
        for (int i = 0; i < top.Count; i++)
        {
            var (pct, err) = total.Share(top[i], options.Weight);
            int pos = top.Count - 1 - i; // largest at the top
            bars.Add(new Bar { Position = pos, Value = pct, Error = err, FillColor = ColorOf(top[i].Kind), Orientation = Orientation.Horizontal });
        }
        var bp = plot.Add.Bars(bars);
        bp.Horizontal = true;
        plot.Axes.Left.SetTicks(
            Enumerable.Range(0, top.Count).Select(i => (double)(top.Count - 1 - i)).ToArray(),
            top.Select(r => Shorten(r.Image.StartsWith('[') ? $"{r.Symbol} {r.Image}" : $"{r.Symbol} [{r.Image}]", 60)).ToArray());
        plot.Axes.Left.TickLabelStyle.FontSize = 11;
        plot.Axes.Margins(left: 0, right: 0.05, bottom: 0.02, top: 0.02);
        plot.Title($"Top symbols: {ev.Name}, {total.Samples} samples");
        plot.XLabel(options.Weight == FoldedWeight.Period ? "% of the summed sample periods (± standard error on effective samples)" : "% of samples (± standard error)");
        Save(plot, output, options.PngSize);
    }

    /// <summary>Writes samples over time, one line per domain.</summary>
    public static void WriteTimeline(FlameSource source, Stream output, FlameExportOptions? options = null)
    {
        options ??= FlameExportOptions.Default;
        var ev = source.PickEvent(options.Selection.Event);
        var plot = NewPlot();
        foreach (var d in source.Timeline(options.Selection))
        {
            var xs = Enumerable.Range(0, d.Counts.Length).Select(i => i * d.BucketNs / 1e9).ToArray();
            var ys = d.Counts.Select(c => (double)c).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = $"{d.Name} (domain {d.Domain})";
            line.MarkerSize = 0;
            line.LineWidth = 2;
        }
        plot.ShowLegend(Alignment.UpperRight);
        plot.Title($"Samples over time: {ev.Name}");
        plot.XLabel("seconds since the first sample");
        plot.YLabel("samples per bucket");
        Save(plot, output, options.PngSize);
    }

    private static Plot NewPlot()
    {
        var plot = new Plot();
        plot.Font.Set(FontFamily);
        return plot;
    }

    private static void Save(Plot plot, Stream output, (int Width, int Height) size)
    {
        byte[] png = plot.GetImageBytes(size.Width, size.Height, ImageFormat.Png);
        output.Write(png);
    }

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    private static Color ColorOf(FrameKind kind) => kind switch
    {
        FrameKind.Hypervisor => new Color(150, 110, 220),
        FrameKind.Kernel => new Color(230, 140, 40),
        FrameKind.Jit => new Color(60, 170, 90),
        FrameKind.Guest => new Color(230, 120, 170),
        _ => new Color(200, 70, 60),
    };
}
