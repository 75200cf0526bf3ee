using XenProf.Reporter.Profile;

namespace XenProf.Reporter.Text;

/// <summary>How one callgraph row stands to its block's primary function.</summary>
public enum CallgraphRelation
{
    /// <summary>A direct caller of the primary (indented above it).</summary>
    Caller,

    /// <summary>The primary itself: its inclusive samples (the unindented line).</summary>
    Primary,

    /// <summary>The primary's own samples (<c>[self]</c>).</summary>
    Self,

    /// <summary>A direct callee of the primary (indented below it).</summary>
    Callee,
}

/// <summary>One row of an opreport callgraph: its 1-based block, relation, samples per event and the per-event totals
/// its percentages are of (see <see cref="CallgraphWriter"/> for which totals).</summary>
public readonly record struct CallgraphRow(int Block, CallgraphRelation Relation, long[] Samples, long[] Of, CallGraphFunction Function);

/// <summary>The rows of <c>opreport -c</c> in order, shared by the text (<see cref="CallgraphWriter"/>) and CSV writers.</summary>
public static class CallgraphRows
{
    /// <summary>Every shown block's rows: callers, primary, self, callees. <see cref="OpreportOptions.Threshold"/> applies to
    /// primaries (inclusive percent); with <see cref="OpreportOptions.GlobalPercent"/> every percentage is of the event's total.</summary>
    public static IEnumerable<CallgraphRow> Of(Profile.Profile p, OpreportOptions o)
    {
        int n = p.Events.Count, block = 0;
        foreach (var node in CallGraph.Of(p).Nodes)
        {
            if (!OpreportRows.Shown(p, node.Inclusive, o.Threshold)) continue;
            block++;
            var callerSums = new long[n];
            foreach (var a in node.Callers)
                for (int i = 0; i < n; i++) callerSums[i] += a.Counts.Samples[i];
            // -%/--global-percent: callers and callees as shares of the whole profile (oprofile's cg_formatter).
            var callersOf = o.GlobalPercent ? p.Totals : callerSums;
            var calleesOf = o.GlobalPercent ? p.Totals : node.Inclusive.Samples;
            foreach (var a in node.Callers) yield return new(block, CallgraphRelation.Caller, a.Counts.Samples, callersOf, a.Function);
            yield return new(block, CallgraphRelation.Primary, node.Inclusive.Samples, p.Totals, node.Function);
            yield return new(block, CallgraphRelation.Self, node.Self.Samples, calleesOf, node.Function);
            foreach (var a in node.Callees) yield return new(block, CallgraphRelation.Callee, a.Counts.Samples, calleesOf, a.Function);
        }
    }
}
