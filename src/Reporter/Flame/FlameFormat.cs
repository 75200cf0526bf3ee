namespace XenProf.Reporter.Flame;

/// <summary>The formats <see cref="FlameExport"/> writes.</summary>
public enum FlameFormat
{
    /// <summary>Brendan Gregg's collapsed stacks (FlameGraph's stackcollapse-perf.pl output, flamegraph.pl input).</summary>
    Folded,
    /// <summary>An interactive SVG flame graph.</summary>
    Svg,
    /// <summary>
    /// The browser report of <c>serve</c> as one self-contained offline HTML file. It is written from a session directory by
    /// <see cref="Web.OfflineReport"/>, not from a <see cref="FlameSource"/>, so <see cref="FlameExport.Write"/> refuses it.
    /// </summary>
    Html,
    /// <summary>speedscope's JSON file format (jlfwong/speedscope src/lib/file-format-spec.ts).</summary>
    Speedscope,
    /// <summary>Chrome Trace Event Format JSON (the Trace Event Format document, linked from catapult's docs/trace-event-format.md).</summary>
    Chrome,
    /// <summary>gzip-compressed pprof profile.proto (google/pprof proto/profile.proto).</summary>
    Pprof,
    /// <summary>PNG plots: top symbols with error bars, and samples over time per domain.</summary>
    Png,
}
