using XenProf.Reporter.Profile;
using XenProf.Reporter.Flame.FlameInternal;

namespace XenProf.Reporter.Flame;

/// <summary>
/// Stacks merged into a prefix tree: stacks sharing a prefix of identical frames (same name and kind) share the
/// nodes of that prefix. The root is a synthetic <c>all</c> node whose total is the sum of all stack counts, and whose
/// children are usually the process frames. Renderers (SVG, folded, …) read it; it knows nothing about sessions.
/// </summary>
/// <example>
/// Stacks <c>a;b 2</c>, <c>a;c 1</c>, <c>a;b 3</c> give: all(6) → a(6) → { b(5), c(1) }.
/// </example>
public sealed class FlameTree
{
    /// <summary>Name of the synthetic root frame.</summary>
    public const string RootName = "all";

    private FlameTree(FlameNode root, int nodeCount, int maxDepth)
    {
        Root = root;
        NodeCount = nodeCount;
        MaxDepth = maxDepth;
    }

    /// <summary>The synthetic root (<see cref="RootName"/>, depth 0).</summary>
    public FlameNode Root { get; }

    /// <summary>Sum of all stack counts (= <c>Root.Total</c>).</summary>
    public long Total => Root.Total;

    /// <summary>Number of nodes, including the root.</summary>
    public int NodeCount { get; }

    /// <summary>Depth of the deepest node (0 when the tree is empty, i.e. had no stacks).</summary>
    public int MaxDepth { get; }

    /// <summary>
    /// Merges <paramref name="stacks"/> into a tree. Runs in time linear in the total number of frames, plus the sort of
    /// each node's children.
    /// </summary>
    /// <param name="stacks">Stacks in any order; duplicates are summed.</param>
    /// <param name="order">Order of the children of each node; <see cref="FlameChildOrder.Alphabetical"/> by default.</param>
    /// <returns>The merged tree; a lone root with total 0 when <paramref name="stacks"/> is empty.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stacks"/> or one of its items is null.</exception>
    /// <exception cref="OverflowException">Counts sum past <see cref="long.MaxValue"/>.</exception>
    public static FlameTree Build(IEnumerable<FlameStack> stacks, FlameChildOrder order = FlameChildOrder.Alphabetical)
    {
        ArgumentNullException.ThrowIfNull(stacks);
        var root = new FlameNode(new FlameFrame(RootName, FrameKind.Unknown), null);
        // Children are found by (parent node number, frame number): each distinct frame is numbered once, so the walk over
        // every stack hashes two integers per frame instead of the frame's name (25 M string hashes on a system-wide trace).
        var nodes = new List<FlameNode> { root };
        var index = new Dictionary<(int Parent, long Frame), int>();
        var frames = new FrameNumbers();
        int maxDepth = 0;
        foreach (var stack in stacks)
        {
            ArgumentNullException.ThrowIfNull(stack, nameof(stacks));
            long count = stack.Count;
            var node = root;
            int at = 0;
            checked { node.Total += count; }
            var list = stack.Frames;
            for (int i = 0; i < list.Count; i++)
            {
                var frame = list[i];
                if (frame.Name is null)
                {
                    frame = frame with { Name = string.Empty };
                }

                ref int child = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(index, (at, frames.Of(frame)), out bool exists);
                if (!exists)
                {
                    var made = new FlameNode(frame, node);
                    node.MutableChildren.Add(made);
                    child = nodes.Count;
                    nodes.Add(made);
                    if (made.Depth > maxDepth)
                    {
                        maxDepth = made.Depth;
                    }
                }

                at = child;
                node = nodes[at];
                checked { node.Total += count; }
            }

            checked { node.Self += count; }
        }

        if (order != FlameChildOrder.FirstSeen)
        {
            SortChildren(root, order);
        }

        return new FlameTree(root, nodes.Count, maxDepth);
    }

    // Numbers each distinct frame (name and kind). Stacks of a profile share their frames' name strings, so a small cache
    // keyed by the string instance answers most lookups without hashing the text.
    private sealed class FrameNumbers
    {
        private const int CacheSlots = 1 << 16;
        private readonly (string? Name, int Number)[] _cache = new (string?, int)[CacheSlots];
        private readonly Dictionary<string, int> _names = new(StringComparer.Ordinal);

        public long Of(FlameFrame frame)
        {
            string name = frame.Name;
            ref var slot = ref _cache[System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(name) & (CacheSlots - 1)];
            int number;
            if (ReferenceEquals(slot.Name, name)) number = slot.Number;
            else
            {
                if (!_names.TryGetValue(name, out number)) _names[name] = number = _names.Count;
                slot = (name, number);
            }
            return (long)number << 8 | (byte)frame.Kind;
        }
    }

    /// <summary>Every node in depth-first pre-order (a node before its children, children in tree order), root first.</summary>
    public IEnumerable<FlameNode> Nodes()
    {
        var pending = new Stack<FlameNode>();
        pending.Push(Root);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            yield return node;
            var children = node.Children;
            for (int i = children.Count - 1; i >= 0; i--)
            {
                pending.Push(children[i]);
            }
        }
    }

    private static void SortChildren(FlameNode root, FlameChildOrder order)
    {
        if (order is not (FlameChildOrder.Alphabetical or FlameChildOrder.TotalDescending))
        {
            throw new ArgumentOutOfRangeException(nameof(order), order, "Unknown child order.");
        }

        var pending = new Stack<FlameNode>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            if (!node.HasChildren)
            {
                continue;
            }

            var children = node.MutableChildren;
            if (children.Count > 1)
            {
                Sort(children, order);
            }

            foreach (var child in children)
            {
                pending.Push(child);
            }
        }
    }

    // Alphabetical = byte order of the frame as the annotated folded text spells it (name + _[k]/_[j]/_[h]/_[g]), which
    // is the order flamegraph.pl draws siblings of annotated input in; ties (same text) by kind.
    private static void Sort(List<FlameNode> children, FlameChildOrder order)
    {
        var items = new (string Key, FlameNode Node)[children.Count];
        for (int i = 0; i < items.Length; i++)
        {
            var frame = children[i].Frame;
            items[i] = (FoldedSyntax.Suffix(frame.Kind) is { } suffix ? frame.Name + suffix : frame.Name, children[i]);
        }

        Array.Sort(items, order == FlameChildOrder.Alphabetical ? CompareByText : CompareByTotal);
        for (int i = 0; i < items.Length; i++)
        {
            children[i] = items[i].Node;
        }
    }

    private static int CompareByText((string Key, FlameNode Node) a, (string Key, FlameNode Node) b)
    {
        int c = Utf8Order.Compare(a.Key, b.Key);
        return c != 0 ? c : a.Node.Frame.Kind.CompareTo(b.Node.Frame.Kind);
    }

    private static int CompareByTotal((string Key, FlameNode Node) a, (string Key, FlameNode Node) b)
    {
        int c = b.Node.Total.CompareTo(a.Node.Total);
        return c != 0 ? c : CompareByText(a, b);
    }
}
