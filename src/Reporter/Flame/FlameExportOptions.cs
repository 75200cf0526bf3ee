namespace XenProf.Reporter.Flame;

/// <summary>Options of <see cref="FlameExport"/>: which samples, plus each format's own options. Every default gives a usable result.</summary>
public sealed record FlameExportOptions
{
    /// <summary>The defaults.</summary>
    public static FlameExportOptions Default { get; } = new();

    /// <summary>Which samples to export. Default: all.</summary>
    public FlameSelection Selection { get; init; } = FlameSelection.All;

    /// <summary>SVG flame graph options (also used for the graph inside the HTML page).</summary>
    public SvgFlameOptions Svg { get; init; } = SvgFlameOptions.Default;

    /// <summary>
    /// What every format weighs a sample by: its period (default, in the event's unit, as stackcollapse-perf.pl sums perf
    /// script's period and perf report's percentages weigh) or one per sample. The folded export of a session reads
    /// <see cref="FoldedOptions.Weight"/>; set both alike.
    /// </summary>
    public FoldedWeight Weight { get; init; } = FoldedWeight.Period;

    /// <summary>Folded-stack options.</summary>
    public FoldedOptions Folded { get; init; } = FoldedOptions.Default;

    /// <summary>How many symbols the PNG bar chart and the HTML table show. Default 20.</summary>
    public int TopSymbols { get; init; } = 20;

    /// <summary>PNG width and height in pixels. Default 1200 × 700.</summary>
    public (int Width, int Height) PngSize { get; init; } = (1200, 700);
}
