using XenProf.Reporter.Profile;
namespace XenProf.Reporter.Flame;

/// <summary>
/// A node of a <see cref="FlameTree"/>: one frame reached through one particular path of ancestors.
/// Immutable once the tree is built.
/// </summary>
public sealed class FlameNode
{
    private static readonly FlameNode[] NoChildren = [];
    private List<FlameNode>? _children;

    internal FlameNode(FlameFrame frame, FlameNode? parent)
    {
        Frame = frame;
        Parent = parent;
        Depth = parent is null ? 0 : parent.Depth + 1;
    }

    /// <summary>The frame this node stands for. The root's frame is the synthetic <c>all</c> (<see cref="FrameKind.Unknown"/>).</summary>
    public FlameFrame Frame { get; }

    /// <summary>Shortcut for <c>Frame.Name</c>.</summary>
    public string Name => Frame.Name;

    /// <summary>The parent node; null only for the root.</summary>
    public FlameNode? Parent { get; }

    /// <summary>Distance from the root: the root is 0, process frames are 1.</summary>
    public int Depth { get; }

    /// <summary>Inclusive count: samples of every stack that passes through this node.</summary>
    public long Total { get; internal set; }

    /// <summary>Exclusive count: samples of stacks that end exactly at this node (<see cref="Total"/> minus the children's totals).</summary>
    public long Self { get; internal set; }

    /// <summary>Children in the order chosen when the tree was built (<see cref="FlameChildOrder"/>).</summary>
    public IReadOnlyList<FlameNode> Children => (IReadOnlyList<FlameNode>?)_children ?? NoChildren;

    internal List<FlameNode> MutableChildren => _children ??= new List<FlameNode>(2);

    internal bool HasChildren => _children is { Count: > 0 };

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Total} total, {Self} self)";
}
