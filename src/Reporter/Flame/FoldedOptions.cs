using XenProf.Reporter.Profile;
namespace XenProf.Reporter.Flame;

/// <summary>What a folded stack's count sums, for exports that read a session (<see cref="FoldedOptions.Weight"/>).</summary>
public enum FoldedWeight
{
    /// <summary>
    /// The samples' periods (events per sample, in the event's unit), as stackcollapse-perf.pl sums the period perf
    /// script prints: each sample's own period as the store keeps it (schema v5), so a frequency-mode (<c>-F</c>)
    /// recording's varying periods are summed as perf gives them.
    /// </summary>
    Period,
    /// <summary>One per sample.</summary>
    Samples,
}

/// <summary>How the root frame of a folded stack names the process, as stackcollapse-perf.pl's <c>--pid</c> and <c>--tid</c> do.</summary>
public enum FoldedProcessName
{
    /// <summary>The thread's comm (default).</summary>
    Comm,
    /// <summary><c>comm-PID</c> (<c>--pid</c>).</summary>
    CommPid,
    /// <summary><c>comm-PID/TID</c> (<c>--tid</c>).</summary>
    CommPidTid,
}

/// <summary>Options of <see cref="FoldedWriter"/> and of the folded export of a session.</summary>
public sealed record FoldedOptions
{
    /// <summary>The defaults: no annotations.</summary>
    public static FoldedOptions Default { get; } = new();

    /// <summary>
    /// Append a kind suffix to frame names, as FlameGraph's stackcollapse-perf.pl <c>--all</c> does:
    /// <c>_[k]</c> for <see cref="FrameKind.Kernel"/>, <c>_[j]</c> for <see cref="FrameKind.Jit"/>, and the XenProf
    /// extensions <c>_[h]</c> for <see cref="FrameKind.Hypervisor"/> and <c>_[g]</c> for <see cref="FrameKind.Guest"/>.
    /// Other kinds get no suffix. flamegraph.pl uses <c>_[k]</c>/<c>_[j]</c> as colour hints and shows the others as part of
    /// the name. Default false. With <see cref="PerfScriptRules"/> it means <see cref="Kernel"/> and <see cref="Jit"/>.
    /// </summary>
    public bool AnnotateKernel { get; init; }

    /// <summary>
    /// Fold a session as <c>perf script | stackcollapse-perf.pl</c> would fold the same samples: each frame is given to
    /// the perf-script folder as perf prints it (symbol or <c>[unknown]</c>, the image's perf name as the dso), so names are
    /// tidied by its rules (argument lists cut, <c>;</c> → <c>:</c>, quotes removed, Java <c>L</c> prefixes, <c>[dso]</c> for
    /// unknown symbols), the event is the first one sampled unless one is selected, and <see cref="Weight"/>,
    /// <see cref="ProcessNames"/>, <see cref="Kernel"/>, <see cref="Jit"/> and <see cref="Addrs"/> apply. Only read by the
    /// session export (<c>FlameExport</c>), not by <see cref="FoldedWriter"/>. Default false.
    /// </summary>
    public bool PerfScriptRules { get; init; }

    /// <summary>With <see cref="PerfScriptRules"/>: <c>_[k]</c> on kernel frames (stackcollapse-perf.pl <c>--kernel</c>), <c>_[h]</c>/<c>_[g]</c> on hypervisor and guest frames.</summary>
    public bool Kernel { get; init; }

    /// <summary>With <see cref="PerfScriptRules"/>: <c>_[j]</c> on frames of a <c>/tmp/perf-PID.map</c> (stackcollapse-perf.pl <c>--jit</c>).</summary>
    public bool Jit { get; init; }

    /// <summary>
    /// With <see cref="PerfScriptRules"/>: unknown frames as <c>[dso &lt;OFFSET&gt;]</c> (hex, no 0x, as perf prints addresses) (stackcollapse-perf.pl <c>--addrs</c>).
    /// perf prints the sampled address there; the store keeps the frame's offset in its image, which is what is shown.
    /// </summary>
    public bool Addrs { get; init; }

    /// <summary>With <see cref="PerfScriptRules"/>: how the root frame names the process. Default <see cref="FoldedProcessName.Comm"/>.</summary>
    public FoldedProcessName ProcessNames { get; init; }

    /// <summary>With <see cref="PerfScriptRules"/>: what counts sum. Default <see cref="FoldedWeight.Period"/>, as stackcollapse-perf.pl.</summary>
    public FoldedWeight Weight { get; init; }
}
