using System.Globalization;
using CsvHelper;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Text;

namespace XenProf.Reporter.Csv;

/// <summary>
/// <c>opreport -c --csv</c>: the rows of <see cref="CallgraphWriter"/> as RFC 4180 CSV through CsvHelper, one record per
/// (row, event). Columns, lower case: <c>block</c> (1-based number of the primary's block, the text's dash-separated
/// block), <c>relation</c> (<c>caller</c>, <c>primary</c>, <c>self</c> or <c>callee</c>), <c>event</c>, <c>samples</c>,
/// <c>percent</c>, <c>stderr_pp</c> (unless error bars are off), <c>image</c>, <c>symbol</c>. Numbers are plain (no
/// <c>%</c>, no <c>±</c>); percentages are of the same totals the text report uses (see <see cref="CallgraphWriter"/>).
/// </summary>
public static class CallgraphCsvWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes the callgraph CSV of <paramref name="p"/> (built with <see cref="ProfileOptions.WithStacks"/>) to
    /// <paramref name="w"/>; <paramref name="w"/> stays open and is flushed.</summary>
    public static void Write(Profile.Profile p, TextWriter w, OpreportOptions o)
    {
        var header = new List<string> { "block", "relation", "event", "samples", "percent" };
        if (o.ErrorBars) header.Add("stderr_pp");
        header.AddRange(["image", "symbol"]);
        using var csv = CsvWriter.Create(w, new CsvWriterOptions(), leaveOpen: true);
        csv.WriteHeader(header.ToArray());
        int n = p.Events.Count, block = 0;
        var fields = new List<string>(header.Count);
        void Row(string relation, long[] samples, long[] of, CallGraphFunction f)
        {
            for (int e = 0; e < n; e++)
            {
                fields.Clear();
                fields.Add(block.ToString(Inv));
                fields.Add(relation);
                fields.Add(p.Events[e].Name);
                var (pct, err) = Profile.Profile.Share(samples[e], of[e]);
                fields.Add(samples[e].ToString(Inv));
                fields.Add(pct.ToString("0.0000", Inv));
                if (o.ErrorBars) fields.Add(err.ToString("0.0000", Inv));
                fields.Add(o.LongFilenames ? f.Image.Path : f.ImageName);
                fields.Add(f.Symbol);
                csv.WriteRecord(fields.ToArray());
            }
        }
        foreach (var node in CallGraph.Of(p).Nodes)
        {
            if (!OpreportRows.Shown(p, node.Inclusive, o.Threshold)) continue;
            block++;
            var callerSums = new long[n];
            foreach (var a in node.Callers)
                for (int i = 0; i < n; i++) callerSums[i] += a.Counts.Samples[i];
            var callersOf = o.GlobalPercent ? p.Totals : callerSums;
            var calleesOf = o.GlobalPercent ? p.Totals : node.Inclusive.Samples;
            foreach (var a in node.Callers) Row("caller", a.Counts.Samples, callersOf, a.Function);
            Row("primary", node.Inclusive.Samples, p.Totals, node.Function);
            Row("self", node.Self.Samples, calleesOf, node.Function);
            foreach (var a in node.Callees) Row("callee", a.Counts.Samples, calleesOf, a.Function);
        }
        csv.Flush();
        w.Flush();
    }
}
