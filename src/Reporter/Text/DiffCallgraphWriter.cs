using System.Globalization;
using System.Text;
using XenProf.Reporter.Profile;

namespace XenProf.Reporter.Text;

/// <summary>
/// A differential <c>opreport -c</c>: the blocks of <see cref="CallgraphWriter"/> for the functions of either profile,
/// each line with its samples and percentage on both sides and the change in percentage points.
/// </summary>
/// <remarks>
/// Functions are matched by image name (full path with <see cref="DiffOptions.LongFilenames"/>) and symbol. Percentages
/// are those of the single-profile callgraph, per side: a primary's inclusive samples of that side's total; callers of
/// the sum over the primary's callers on that side; <c>[self]</c> and callees of the primary's inclusive samples on that
/// side. A primary line also carries the pooled two-proportion z-test p-value of its inclusive share and <c>*</c> when
/// Holm–Bonferroni over all primaries of the event rejects it at <see cref="DiffOptions.Alpha"/>, as the flat
/// differential report marks its rows (<see cref="ProportionTest"/>). Blocks are sorted by the largest inclusive share of
/// either side; <see cref="DiffReportOptions.Threshold"/> keeps the primaries that reach it on either side.
/// </remarks>
public static class DiffCallgraphWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes the differential callgraph of <paramref name="baseProfile"/> and <paramref name="newProfile"/> (both built
    /// with <see cref="ProfileOptions.WithStacks"/>) for every event they share.</summary>
    /// <exception cref="XenProf.Hypervisor.Binary.XenProfUserException">The profiles have no event in common.</exception>
    public static void Write(Profile.Profile baseProfile, Profile.Profile newProfile, TextWriter w, DiffOptions d, DiffReportOptions o)
    {
        var pairs = newProfile.Events.Select((e, ni) => (Name: e.Name, Ni: ni,
            Bi: baseProfile.Events.Select((b, i) => (b, i)).FirstOrDefault(x => string.Equals(x.b.Name, e.Name, StringComparison.OrdinalIgnoreCase), (null!, -1)).Item2))
            .Where(x => x.Bi >= 0).ToList();
        if (pairs.Count == 0)
            throw new XenProf.Hypervisor.Binary.XenProfUserException("the two profiles have no event in common");
        var bg = Index(CallGraph.Of(baseProfile), d);
        var ng = Index(CallGraph.Of(newProfile), d);
        if (!o.NoHeader)
        {
            w.WriteLine($"Differential callgraph: base {{ {o.BaseName} }}, new {{ {o.NewName} }}");
            w.WriteLine($"Test (primary lines): pooled two-proportion z-test of the inclusive share (two-sided p-value); * = significant after Holm-Bonferroni over each event's primaries at family-wise alpha {d.Alpha.ToString("G", Inv)}");
        }
        foreach (var (name, ni, bi) in pairs)
        {
            long bt = baseProfile.Totals[bi], nt = newProfile.Totals[ni];
            if (!o.NoHeader) w.WriteLine($"Counted {name} events: base {bt} samples, new {nt} samples");
            w.WriteLine("base".PadRight(18) + "new".PadRight(18));
            w.WriteLine("samples".PadRight(9) + "%".PadRight(9) + "samples".PadRight(9) + "%".PadRight(9) + "diff pp".PadRight(10) + "p-value".PadRight(13)
                + "image name".PadRight(25) + "symbol name");
            w.WriteLine(CallgraphWriter.Separator);
            var keys = bg.Keys.Union(ng.Keys).ToList();
            long Incl(Dictionary<(string, string), CallGraphNode> g, (string, string) k, int e) => g.TryGetValue(k, out var n) ? n.Inclusive.Samples[e] : 0;
            var p = keys.Select(k => ProportionTest.PValue(Incl(bg, k, bi), bt, Incl(ng, k, ni), nt)).ToArray();
            var significant = ProportionTest.Holm(p, d.Alpha);
            var order = Enumerable.Range(0, keys.Count)
                .OrderByDescending(i => Math.Max(Share(Incl(bg, keys[i], bi), bt), Share(Incl(ng, keys[i], ni), nt)))
                .ThenBy(i => keys[i].Item1, StringComparer.Ordinal).ThenBy(i => keys[i].Item2, StringComparer.Ordinal);
            foreach (int i in order)
            {
                var k = keys[i];
                long bInc = Incl(bg, k, bi), nInc = Incl(ng, k, ni);
                if (o.Threshold > 0 && Share(bInc, bt) < o.Threshold && Share(nInc, nt) < o.Threshold) continue;
                bg.TryGetValue(k, out var bn);
                ng.TryGetValue(k, out var nn);
                var bCallers = Arcs(bn?.Callers, bi, d);
                var nCallers = Arcs(nn?.Callers, ni, d);
                long bSum = bCallers.Values.Sum(), nSum = nCallers.Values.Sum();
                foreach (var c in Union(bCallers, nCallers)) Line(w, "  ", bCallers.GetValueOrDefault(c), bSum, nCallers.GetValueOrDefault(c), nSum, c, "", null);
                Line(w, "", bInc, bt, nInc, nt, k, "", (p[i], significant[i]));
                Line(w, "  ", bn?.Self.Samples[bi] ?? 0, bInc, nn?.Self.Samples[ni] ?? 0, nInc, k, CallgraphWriter.SelfMarker, null);
                var bCallees = Arcs(bn?.Callees, bi, d);
                var nCallees = Arcs(nn?.Callees, ni, d);
                foreach (var c in Union(bCallees, nCallees)) Line(w, "  ", bCallees.GetValueOrDefault(c), bInc, nCallees.GetValueOrDefault(c), nInc, c, "", null);
                w.WriteLine(CallgraphWriter.Separator);
            }
        }
    }

    private static double Share(long samples, long total) => Profile.Profile.Share(samples, total).Percent;

    private static (string, string) Key(CallGraphFunction f, DiffOptions d) => (d.LongFilenames ? f.Image.Path : f.ImageName, f.Symbol);

    // Several stored images may share a display name: their functions are one function here.
    private static Dictionary<(string, string), CallGraphNode> Index(CallGraph g, DiffOptions d)
    {
        var index = new Dictionary<(string, string), CallGraphNode>();
        foreach (var n in g.Nodes) index.TryAdd(Key(n.Function, d), n);
        return index;
    }

    private static Dictionary<(string, string), long> Arcs(IReadOnlyList<CallGraphArc>? arcs, int e, DiffOptions d)
    {
        var sums = new Dictionary<(string, string), long>();
        foreach (var a in arcs ?? [])
        {
            var k = Key(a.Function, d);
            sums[k] = sums.GetValueOrDefault(k) + a.Counts.Samples[e];
        }
        return sums;
    }

    // Arcs of either side, the most samples (of either side) first.
    private static IEnumerable<(string, string)> Union(Dictionary<(string, string), long> b, Dictionary<(string, string), long> n) =>
        b.Keys.Union(n.Keys).OrderByDescending(k => Math.Max(b.GetValueOrDefault(k), n.GetValueOrDefault(k)))
            .ThenBy(k => k.Item1, StringComparer.Ordinal).ThenBy(k => k.Item2, StringComparer.Ordinal);

    private static void Line(TextWriter w, string indent, long b, long bOf, long n, long nOf, (string Image, string Symbol) f, string marker, (double P, bool Significant)? test)
    {
        double bp = Share(b, bOf), np = Share(n, nOf);
        var line = new StringBuilder(indent);
        line.Append(b.ToString(Inv).PadRight(9)).Append(OpreportWriter.Pct(bp).PadRight(9));
        line.Append(n.ToString(Inv).PadRight(9)).Append(OpreportWriter.Pct(np).PadRight(9));
        line.Append(DiffWriter.Delta(np - bp).PadRight(10));
        if (test is { } t) line.Append(DiffWriter.Marked(t.P, t.Significant));
        else line.Append(new string(' ', 13));
        line.Append(f.Image.PadRight(24)).Append(' ').Append(f.Symbol).Append(marker);
        w.WriteLine(line.ToString());
    }
}
