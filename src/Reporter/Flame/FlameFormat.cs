namespace XenProf.Reporter.Flame;

/// <summary>The formats <see cref="FlameExport"/> writes.</summary>
public enum FlameFormat
{
    /// <summary>Brendan Gregg's collapsed stacks (reference/formats.md §7).</summary>
    Folded,
    /// <summary>An interactive SVG flame graph.</summary>
    Svg,
    /// <summary>One self-contained HTML page: opreport tables, flame graph, per-domain timeline.</summary>
    Html,
    /// <summary>speedscope's JSON file format (reference/formats.md §5).</summary>
    Speedscope,
    /// <summary>Chrome Trace Event Format JSON (reference/formats.md §6).</summary>
    Chrome,
    /// <summary>gzip-compressed pprof profile.proto (reference/formats.md §4).</summary>
    Pprof,
    /// <summary>PNG plots: top symbols with error bars, and samples over time per domain.</summary>
    Png,
}
