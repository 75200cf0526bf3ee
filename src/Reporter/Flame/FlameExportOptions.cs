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

    /// <summary>Folded-stack options.</summary>
    public FoldedOptions Folded { get; init; } = FoldedOptions.Default;

    /// <summary>How many symbols the PNG bar chart and the HTML table show. Default 20.</summary>
    public int TopSymbols { get; init; } = 20;

    /// <summary>PNG width and height in pixels. Default 1200 × 700.</summary>
    public (int Width, int Height) PngSize { get; init; } = (1200, 700);
}
