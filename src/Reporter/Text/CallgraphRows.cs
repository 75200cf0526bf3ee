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

/// <summary>One row of an opreport callgraph: its 1-based block, relation, samples and periods per event, and the
/// per-event sample and period totals its percentages are of (see <see cref="CallgraphWriter"/> for which totals).</summary>
public readonly record struct CallgraphRow(int Block, CallgraphRelation Relation, CountRow Counts, long[] OfSamples, long[] OfPeriod, CallGraphFunction Function)
{
    /// <summary>Samples per event (index = position in <see cref="Profile.Profile.Events"/>).</summary>
    public long[] Samples => Counts.Samples;

    /// <summary>
    /// The row's share of event <paramref name="e"/> in percent, of the period as the flat report's shares are, and its
    /// error: on the denominator's samples scaled to effective samples as the event's are (n_eff / N of the whole event),
    /// so equal periods give the plain binomial error.
    /// </summary>
    public (double Percent, double Error) Share(Profile.Profile p, int e)
    {
        double effective = p.Totals[e] > 0 ? OfSamples[e] * p.EffectiveSamples[e] / p.Totals[e] : 0;
        return Profile.Profile.Share(Counts.Period[e], OfPeriod[e], effective);
    }
}

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
            var callerSamples = new long[n];
            var callerPeriods = new long[n];
            foreach (var a in node.Callers)
                for (int i = 0; i < n; i++) { callerSamples[i] += a.Counts.Samples[i]; callerPeriods[i] += a.Counts.Period[i]; }
            // -%/--global-percent: callers and callees as shares of the whole profile (oprofile's cg_formatter).
            var (callersOf, callersPeriod) = o.GlobalPercent ? (p.Totals, p.PeriodTotals) : (callerSamples, callerPeriods);
            var (calleesOf, calleesPeriod) = o.GlobalPercent ? (p.Totals, p.PeriodTotals) : (node.Inclusive.Samples, node.Inclusive.Period);
            foreach (var a in node.Callers) yield return new(block, CallgraphRelation.Caller, a.Counts, callersOf, callersPeriod, a.Function);
            yield return new(block, CallgraphRelation.Primary, node.Inclusive, p.Totals, p.PeriodTotals, node.Function);
            yield return new(block, CallgraphRelation.Self, node.Self, calleesOf, calleesPeriod, node.Function);
            foreach (var a in node.Callees) yield return new(block, CallgraphRelation.Callee, a.Counts, calleesOf, calleesPeriod, a.Function);
        }
    }
}
