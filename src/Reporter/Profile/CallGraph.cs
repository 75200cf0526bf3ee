using XenProf.Sampler.Store;

namespace XenProf.Reporter.Profile;

/// <summary>
/// A function of the call graph, grouped as the flat <c>opreport -l</c> report groups symbols: one per (image, symbol),
/// with <see cref="Profile.NoSymbols"/> for the unresolved rest of an image.
/// </summary>
/// <param name="Image">The image the function lives in.</param>
/// <param name="ImageName">The image's display name (<see cref="Location.ImageName"/>).</param>
/// <param name="Symbol">The symbol name, or <see cref="Profile.NoSymbols"/>.</param>
public sealed record CallGraphFunction(StoredImage Image, string ImageName, string Symbol);

/// <summary>One caller or callee line of a <see cref="CallGraphNode"/>: the other function and the samples of the arc.</summary>
public sealed class CallGraphArc
{
    internal CallGraphArc(CallGraphFunction function, int events) { Function = function; Counts = new CountRow(events); }

    /// <summary>The caller (in <see cref="CallGraphNode.Callers"/>) or callee (in <see cref="CallGraphNode.Callees"/>).</summary>
    public CallGraphFunction Function { get; }

    /// <summary>Samples, per event, whose stack holds this call directly (caller frame next to callee frame), each sample once.</summary>
    public CountRow Counts { get; }
}

/// <summary>
/// One block of opreport's callgraph report: a function (the primary) with its inclusive and self samples, the
/// functions that called it directly and the functions it called directly.
/// </summary>
public sealed class CallGraphNode
{
    internal CallGraphNode(CallGraphFunction function, int events)
    {
        Function = function; Inclusive = new CountRow(events); Self = new CountRow(events);
    }

    /// <summary>The primary function.</summary>
    public CallGraphFunction Function { get; }

    /// <summary>Samples, per event, in which the function is anywhere on the stack, each sample once even under recursion.</summary>
    public CountRow Inclusive { get; }

    /// <summary>Samples, per event, in which the function is the leaf (what the flat report counts for it).</summary>
    public CountRow Self { get; }

    /// <summary>Direct callers, most samples first.</summary>
    public IReadOnlyList<CallGraphArc> Callers { get; internal set; } = [];

    /// <summary>Direct callees, most samples first.</summary>
    public IReadOnlyList<CallGraphArc> Callees { get; internal set; } = [];
}

/// <summary>
/// The caller/callee view of a profile built with <see cref="ProfileOptions.WithStacks"/>, as oprofile's
/// <c>opreport --callgraph</c> shows it (oprofile manual, "Callgraph output", doc/oprofile.xml section opreport-callgraph):
/// per function, the samples in which it was on the stack, its own (leaf) samples, and the samples of each direct call
/// into and out of it. Counts are sample weights, as in the flat report, so <see cref="CallGraphNode.Self"/> equals that
/// function's flat count.
/// </summary>
/// <remarks>
/// <para>
/// Each sample counts once per function and once per distinct (caller, callee) pair it holds, however often the
/// stack repeats them. A self-recursive call (a function's frame directly above its own) is neither its own caller
/// nor its own callee; oprofile lists such a function among its own callees, this view does not, so that a
/// function's callees and [self] add up to its inclusive samples. That sum holds whenever the function does not
/// re-enter itself through another function (<c>a → b → a</c>): such a sample counts once in the inclusive samples but
/// under each distinct callee.
/// </para>
/// <para>
/// Example: a sample with stack (root first) [main, f, f, g] gives main, f and g one inclusive sample each, g one
/// self sample, and the arcs main → f and f → g one sample each; f → f is not an arc.
/// </para>
/// </remarks>
public sealed class CallGraph
{
    private CallGraph(IReadOnlyList<CallGraphNode> nodes) => Nodes = nodes;

    /// <summary>Every function seen on a stack, most inclusive samples first (ties by image, then symbol).</summary>
    public IReadOnlyList<CallGraphNode> Nodes { get; }

    /// <summary>
    /// Aggregates <paramref name="profile"/>'s per-stack totals. Throws <see cref="InvalidOperationException"/> when the
    /// profile was built without <see cref="ProfileOptions.WithStacks"/>.
    /// </summary>
    public static CallGraph Of(Profile profile)
    {
        int events = profile.Events.Count;
        var evIndex = profile.Events.Select((e, i) => (e.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var ids = new Dictionary<(ImageId, string), int>();
        var nodes = new List<CallGraphNode>();
        var callers = new List<Dictionary<int, CallGraphArc>>();
        var callees = new List<Dictionary<int, CallGraphArc>>();
        var perStack = new Dictionary<StackId, StackShape>();

        int IdOf(Location l)
        {
            var key = (l.Image.Id, l.Symbol ?? Profile.NoSymbols);
            if (ids.TryGetValue(key, out var id)) return id;
            ids[key] = id = nodes.Count;
            nodes.Add(new CallGraphNode(new CallGraphFunction(l.Image, l.ImageName, key.Item2), events));
            callers.Add([]);
            callees.Add([]);
            return id;
        }

        StackShape ShapeOf(StackId stack)
        {
            if (perStack.TryGetValue(stack, out var shape)) return shape;
            var locations = profile.StackOf(stack);
            var f = new int[locations.Count];
            for (int i = 0; i < f.Length; i++) f[i] = IdOf(locations[i]);
            var pairs = new HashSet<(int Caller, int Callee)>();
            for (int i = 0; i + 1 < f.Length; i++)
                if (f[i] != f[i + 1]) pairs.Add((f[i], f[i + 1]));
            return perStack[stack] = new StackShape(f.Distinct().ToArray(), f.Length == 0 ? -1 : f[^1], pairs.ToArray());
        }

        CallGraphArc ArcOf(Dictionary<int, CallGraphArc> arcs, int other) =>
            arcs.TryGetValue(other, out var a) ? a : arcs[other] = new CallGraphArc(nodes[other].Function, events);

        foreach (var t in profile.StackTotals)
        {
            if (!evIndex.TryGetValue(t.Event, out var ei)) continue;
            var shape = ShapeOf(t.Stack);
            if (shape.Leaf < 0) continue;
            foreach (var fn in shape.Functions) nodes[fn].Inclusive.Add(ei, 0, t.Weight, t.Period);
            nodes[shape.Leaf].Self.Add(ei, 0, t.Weight, t.Period);
            foreach (var (caller, callee) in shape.Pairs)
            {
                ArcOf(callees[caller], callee).Counts.Add(ei, 0, t.Weight, t.Period);
                ArcOf(callers[callee], caller).Counts.Add(ei, 0, t.Weight, t.Period);
            }
        }

        for (int i = 0; i < nodes.Count; i++)
        {
            nodes[i].Callers = Sorted(callers[i].Values, a => a.Function, a => a.Counts.Total);
            nodes[i].Callees = Sorted(callees[i].Values, a => a.Function, a => a.Counts.Total);
        }
        return new CallGraph(Sorted(nodes, n => n.Function, n => n.Inclusive.Total));
    }

    private static List<T> Sorted<T>(IEnumerable<T> items, Func<T, CallGraphFunction> function, Func<T, long> total) =>
        items.OrderByDescending(total).ThenBy(x => function(x).ImageName, StringComparer.Ordinal)
            .ThenBy(x => function(x).Symbol, StringComparer.Ordinal).ToList();

    // One stack reduced to what the call graph counts: its distinct functions, its leaf, its distinct direct calls.
    private sealed record StackShape(int[] Functions, int Leaf, (int Caller, int Callee)[] Pairs);
}
