using System.Globalization;
using System.Text;
using XenProf.Reporter.Flame.FlameInternal;

namespace XenProf.Reporter.Flame;

/// <summary>One stack of a differential flame graph: its frames (root first) and its count in each profile.</summary>
/// <param name="Frames">Frames, root first (the process frame, then callers, the leaf last).</param>
/// <param name="Base">Count in the base profile (0 when the stack is in the new profile only).</param>
/// <param name="New">Count in the new profile (0 when the stack is in the base profile only).</param>
public sealed record DiffFlameStack(IReadOnlyList<FlameFrame> Frames, long Base, long New);

/// <summary>
/// A differential flame graph of two profiles, as Brendan Gregg's FlameGraph draws one: <c>difffolded.pl base new</c>
/// pairs the stacks of two folded files (<c>stack count_base count_new</c>, 0 where a side lacks the stack; its
/// <c>-n</c> scales the base counts to the new total), and <c>flamegraph.pl</c> reads the two counts.
/// </summary>
/// <remarks>
/// flamegraph.pl's rules, which <see cref="WriteSvg"/> follows: frame widths come from the new counts (a stack only in
/// the base profile has no width and is not drawn); each line's delta is <c>new − base</c> and belongs to the frame the
/// stack ends in (a frame's delta is its own, self, change; frames that only pass samples on have delta 0); the fill is
/// red for growth and blue for shrink, scaled by the largest |delta| of any line (at least 1): growth <c>d</c> gives
/// <c>rgb(255, g, g)</c> with <c>g = ⌊210·(max − d)/max⌋</c>, shrink <c>rgb(b, b, 255)</c> with
/// <c>b = ⌊210·(max − |d|)/max⌋</c>, no change white; the tooltip adds the delta as a percentage of the new total
/// (<c>name (N samples, P%; +D%)</c>).
/// </remarks>
public sealed class DiffFlameGraph
{
    private DiffFlameGraph(IReadOnlyList<DiffFlameStack> stacks) => Stacks = stacks;

    /// <summary>The paired stacks, in no particular order; each distinct frame sequence once.</summary>
    public IReadOnlyList<DiffFlameStack> Stacks { get; }

    /// <summary>Total of the base counts (after <c>normalize</c>).</summary>
    public long BaseTotal => Stacks.Sum(s => s.Base);

    /// <summary>Total of the new counts.</summary>
    public long NewTotal => Stacks.Sum(s => s.New);

    /// <summary>
    /// Pairs the stacks of the two profiles by their frames (name and kind), summing duplicates. With
    /// <paramref name="normalize"/> (difffolded.pl <c>-n</c>) each base count is scaled to the new total,
    /// <c>⌊base · newTotal / baseTotal⌋</c>, when the totals differ.
    /// </summary>
    public static DiffFlameGraph Pair(IEnumerable<FlameStack> baseStacks, IEnumerable<FlameStack> newStacks, bool normalize = false)
    {
        ArgumentNullException.ThrowIfNull(baseStacks);
        ArgumentNullException.ThrowIfNull(newStacks);
        var index = new Dictionary<FrameKey, int>();
        var frames = new List<IReadOnlyList<FlameFrame>>();
        var counts = new List<(long Base, long New)>();
        void Add(FlameStack s, bool isNew)
        {
            var key = new FrameKey(s.Frames);
            if (!index.TryGetValue(key, out int i))
            {
                index[key] = i = frames.Count;
                frames.Add(s.Frames);
                counts.Add((0, 0));
            }
            var (b, n) = counts[i];
            counts[i] = isNew ? (b, checked(n + s.Count)) : (checked(b + s.Count), n);
        }
        foreach (var s in baseStacks) Add(s, false);
        foreach (var s in newStacks) Add(s, true);
        long bt = counts.Sum(c => c.Base), nt = counts.Sum(c => c.New);
        var stacks = new List<DiffFlameStack>(frames.Count);
        for (int i = 0; i < frames.Count; i++)
        {
            long b = counts[i].Base;
            if (normalize && bt > 0 && bt != nt) b = (long)Math.Floor((double)b * nt / bt);
            stacks.Add(new DiffFlameStack(frames[i], b, counts[i].New));
        }
        return new DiffFlameGraph(stacks);
    }

    /// <summary>
    /// Writes difffolded.pl's output: one line <c>frame;frame;…;frame base new\n</c> per stack (names sanitized and,
    /// with <see cref="FoldedOptions.AnnotateKernel"/>, annotated as <see cref="FoldedWriter"/> writes them), sorted by the
    /// stack text's UTF-8 bytes; stacks that sanitize to the same text are summed.
    /// </summary>
    public void WriteFolded(TextWriter output, FoldedOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        options ??= FoldedOptions.Default;
        var lines = new Dictionary<string, (long Base, long New)>(StringComparer.Ordinal);
        var sb = new StringBuilder(256);
        foreach (var s in Stacks)
        {
            sb.Clear();
            for (int i = 0; i < s.Frames.Count; i++)
            {
                if (i > 0) sb.Append(FoldedSyntax.Separator);
                FoldedSyntax.AppendName(sb, s.Frames[i].Name);
                if (options.AnnotateKernel && FoldedSyntax.Suffix(s.Frames[i].Kind) is { } suffix) sb.Append(suffix);
            }
            var key = sb.ToString();
            var (b, n) = lines.GetValueOrDefault(key);
            lines[key] = (checked(b + s.Base), checked(n + s.New));
        }
        var keys = lines.Keys.ToArray();
        Array.Sort(keys, Utf8Order.Comparer);
        foreach (var k in keys)
        {
            output.Write(k);
            output.Write(' ');
            output.Write(lines[k].Base.ToString(CultureInfo.InvariantCulture));
            output.Write(' ');
            output.Write(lines[k].New.ToString(CultureInfo.InvariantCulture));
            output.Write('\n');
        }
    }

    /// <summary>Draws the differential flame graph with <see cref="SvgFlameGraph"/> (widths from the new counts, colours by
    /// change, see the remarks).</summary>
    public void WriteSvg(TextWriter output, SvgFlameOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var tree = FlameTree.Build(Stacks.Select(s => new FlameStack(s.Frames, s.New)));
        var children = new Dictionary<(FlameNode, FlameFrame), FlameNode>();
        foreach (var node in tree.Nodes())
            foreach (var c in node.Children) children[(node, c.Frame)] = c;
        var delta = new Dictionary<FlameNode, long>();
        long max = 1;
        foreach (var s in Stacks)
        {
            long d = s.New - s.Base;
            max = Math.Max(max, Math.Abs(d));
            var node = tree.Root;
            foreach (var f in s.Frames)
                if (node != null) node = children.GetValueOrDefault((node, f with { Name = f.Name ?? string.Empty }));
            if (node != null) delta[node] = delta.GetValueOrDefault(node) + d;
        }
        SvgFlameGraph.Write(tree, output, options, new DeltaStyle(delta, max, tree.Total));
    }

    /// <summary>flamegraph.pl's <c>color_scale</c>: red for growth, blue for shrink, white for no change, by |delta|/max.</summary>
    public static (byte R, byte G, byte B) Fill(long delta, long maxDelta)
    {
        if (maxDelta < 1) maxDelta = 1;
        long d = Math.Clamp(delta, -maxDelta, maxDelta);
        if (d > 0) { byte v = (byte)(210 * (maxDelta - d) / maxDelta); return (255, v, v); }
        if (d < 0) { byte v = (byte)(210 * (maxDelta + d) / maxDelta); return (v, v, 255); }
        return (255, 255, 255);
    }

    private sealed class DeltaStyle(Dictionary<FlameNode, long> delta, long max, long total) : IFlameFrameStyle
    {
        public (byte R, byte G, byte B)? Fill(FlameNode node) => DiffFlameGraph.Fill(delta.GetValueOrDefault(node), max);

        public string? Note(FlameNode node)
        {
            if (node.Parent is null) return null; // flamegraph.pl's root tooltip has no delta
            long d = delta.GetValueOrDefault(node);
            double pct = total > 0 ? 100.0 * d / total : 0;
            var text = pct.ToString("0.00", CultureInfo.InvariantCulture);
            return (d > 0 ? "+" : "") + text + "%";
        }
    }

    /// <summary>Frames compared by value (name and kind), for pairing stacks.</summary>
    private readonly struct FrameKey(IReadOnlyList<FlameFrame> frames) : IEquatable<FrameKey>
    {
        private readonly IReadOnlyList<FlameFrame> _frames = frames;

        public bool Equals(FrameKey other)
        {
            if (_frames.Count != other._frames.Count) return false;
            for (int i = 0; i < _frames.Count; i++)
                if (!string.Equals(_frames[i].Name, other._frames[i].Name, StringComparison.Ordinal) || _frames[i].Kind != other._frames[i].Kind) return false;
            return true;
        }

        public override bool Equals(object? obj) => obj is FrameKey k && Equals(k);

        public override int GetHashCode()
        {
            var h = new HashCode();
            foreach (var f in _frames) { h.Add(f.Name, StringComparer.Ordinal); h.Add(f.Kind); }
            return h.ToHashCode();
        }
    }
}
