namespace XenProf.Reporter.Flame;

/// <summary>Options of <see cref="FoldedWriter"/>.</summary>
public sealed record FoldedOptions
{
    /// <summary>The defaults: no annotations.</summary>
    public static FoldedOptions Default { get; } = new();

    /// <summary>
    /// Append a kind suffix to frame names, as FlameGraph's stackcollapse-perf.pl <c>--all</c> does:
    /// <c>_[k]</c> for <see cref="FrameKind.Kernel"/>, <c>_[j]</c> for <see cref="FrameKind.Jit"/>, and the XenProf
    /// extensions <c>_[h]</c> for <see cref="FrameKind.Hypervisor"/> and <c>_[g]</c> for <see cref="FrameKind.Guest"/>.
    /// Other kinds get no suffix. flamegraph.pl uses <c>_[k]</c>/<c>_[j]</c> as colour hints and shows the others as part of
    /// the name. Default false.
    /// </summary>
    public bool AnnotateKernel { get; init; }
}
