namespace XenProf.Reporter.Flame;

/// <summary>
/// The one entry point of the exports: <c>FlameExport.Write(source, FlameFormat.Svg, stream, options)</c>.
/// Renderers write only to the stream they are given; they never print.
/// </summary>
public static class FlameExport
{
    /// <summary>The format named <paramref name="name"/> (folded, svg, html, speedscope, chrome, pprof, png; case-insensitive), or null.</summary>
    public static FlameFormat? Parse(string name) => name.ToLowerInvariant() switch
    {
        "folded" or "collapsed" => FlameFormat.Folded,
        "svg" => FlameFormat.Svg,
        "html" => FlameFormat.Html,
        "speedscope" => FlameFormat.Speedscope,
        "chrome" or "trace" => FlameFormat.Chrome,
        "pprof" => FlameFormat.Pprof,
        "png" => FlameFormat.Png,
        _ => null,
    };

    /// <summary>The format a file name implies by its extension, or null (<c>.pb.gz</c>, <c>.speedscope.json</c>, <c>.trace.json</c>…).</summary>
    public static FlameFormat? FromFileName(string path)
    {
        string name = Path.GetFileName(path).ToLowerInvariant();
        if (name.EndsWith(".speedscope.json", StringComparison.Ordinal)) return FlameFormat.Speedscope;
        if (name.EndsWith(".trace.json", StringComparison.Ordinal) || name.EndsWith(".chrome.json", StringComparison.Ordinal)) return FlameFormat.Chrome;
        if (name.EndsWith(".pb.gz", StringComparison.Ordinal) || name.EndsWith(".pprof", StringComparison.Ordinal)) return FlameFormat.Pprof;
        return Path.GetExtension(name) switch
        {
            ".svg" => FlameFormat.Svg,
            ".folded" or ".txt" or ".collapsed" => FlameFormat.Folded,
            ".html" or ".htm" => FlameFormat.Html,
            ".png" => FlameFormat.Png,
            _ => null,
        };
    }

    /// <summary>Writes <paramref name="format"/> of the selected samples of <paramref name="source"/> to <paramref name="output"/>. Throws <see cref="ArgumentException"/> for <see cref="FlameFormat.Html"/>, which <see cref="Web.OfflineReport"/> writes from the session directory.</summary>
    public static void Write(FlameSource source, FlameFormat format, Stream output, FlameExportOptions? options = null)
    {
        options ??= FlameExportOptions.Default;
        var sel = options.Selection;
        switch (format)
        {
            case FlameFormat.Folded when options.Folded.PerfScriptRules:
                FoldedExport.Write(source, sel, options.Folded, output);
                break;
            case FlameFormat.Folded:
            case FlameFormat.Svg:
            {
                using var w = new StreamWriter(output, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
                var stacks = source.FlameStacks(sel, options.Weight);
                if (format == FlameFormat.Folded) FoldedWriter.Write(stacks, w, options.Folded);
                else SvgFlameGraph.Write(stacks, w, WithSubtitle(source, options.Svg, sel, options.Weight));
                break;
            }
            case FlameFormat.Html: throw new ArgumentException("html is the browser report of a session directory: write it with Web.OfflineReport.Write", nameof(format));
            case FlameFormat.Speedscope: SpeedscopeWriter.Write(source, sel, output, options.Weight); break;
            case FlameFormat.Chrome: ChromeTraceWriter.Write(source, sel, output, options.Weight); break;
            case FlameFormat.Pprof: PprofWriter.Write(source, sel, output, options.Weight); break;
            case FlameFormat.Png: Plots.PlotWriter.WriteTopSymbols(source, output, options); break;
            default: throw new ArgumentOutOfRangeException(nameof(format), format, null);
        }
    }

    /// <summary>
    /// The SVG options with a subtitle naming the event, its samples and (weighed by period) their summed period, and
    /// with frame counts named in the unit they are in (flamegraph.pl's <c>--countname</c>): <c>samples</c>, or the
    /// event's unit (<c>ns</c>, <c>events</c>).
    /// </summary>
    internal static SvgFlameOptions WithSubtitle(FlameSource source, SvgFlameOptions svg, FlameSelection sel, FoldedWeight weight)
    {
        var ev = source.PickEvent(sel.Event);
        var total = source.Summaries(sel).Total;
        var unit = EventPeriod.Of(ev).CountName;
        if (weight == FoldedWeight.Period && svg.CountName == SvgFlameOptions.Default.CountName) svg = svg with { CountName = unit };
        if (svg.Subtitle != null) return svg;
        return svg with
        {
            Subtitle = weight == FoldedWeight.Period
                ? $"{ev.Name}:{ev.Count}, {total.Samples} samples, {total.Period} {unit}"
                : $"{ev.Name}:{ev.Count}, {total.Samples} samples",
        };
    }
}
