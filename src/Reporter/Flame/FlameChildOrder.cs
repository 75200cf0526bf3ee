namespace XenProf.Reporter.Flame;

/// <summary>How <see cref="FlameTree.Build"/> orders the children of each node.</summary>
public enum FlameChildOrder
{
    /// <summary>
    /// By name in UTF-8 byte order (what perl's <c>sort</c> and <c>LC_ALL=C sort</c> give), then by kind: the
    /// classic flame graph, where left-to-right order carries no meaning.
    /// </summary>
    Alphabetical,

    /// <summary>In the order each child was first seen in the input: a flame chart when stacks arrive in time order.</summary>
    FirstSeen,

    /// <summary>Heaviest first (by <see cref="FlameNode.Total"/>, ties alphabetical).</summary>
    TotalDescending,
}
