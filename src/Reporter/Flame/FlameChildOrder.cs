namespace XenProf.Reporter.Flame;

/// <summary>How <see cref="FlameTree.Build"/> orders the children of each node.</summary>
public enum FlameChildOrder
{
    /// <summary>
    /// By the frame's annotated folded text (name plus <c>_[k]</c>, <c>_[j]</c>, <c>_[h]</c> or <c>_[g]</c>, see
    /// <see cref="FoldedOptions.AnnotateKernel"/>) in UTF-8 byte order (what perl's <c>sort</c> and
    /// <c>LC_ALL=C sort</c> give), then by kind: the classic flame graph, in the sibling order flamegraph.pl draws for
    /// the same stacks folded with annotations. Left-to-right order carries no meaning.
    /// </summary>
    Alphabetical,

    /// <summary>In the order each child was first seen in the input: a flame chart when stacks arrive in time order.</summary>
    FirstSeen,

    /// <summary>Heaviest first (by <see cref="FlameNode.Total"/>, ties alphabetical).</summary>
    TotalDescending,
}
