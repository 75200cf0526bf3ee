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
        var fields = new List<string>(header.Count);
        foreach (var r in CallgraphRows.Of(p, o))
        {
            for (int e = 0; e < p.Events.Count; e++)
            {
                fields.Clear();
                fields.Add(r.Block.ToString(Inv));
                fields.Add(r.Relation.ToString().ToLowerInvariant());
                fields.Add(p.Events[e].Name);
                var (pct, err) = r.Share(p, e);
                fields.Add(r.Samples[e].ToString(Inv));
                fields.Add(pct.ToString("0.0000", Inv));
                if (o.ErrorBars) fields.Add(err.ToString("0.0000", Inv));
                fields.Add(o.LongFilenames ? r.Function.Image.Path : r.Function.ImageName);
                fields.Add(r.Function.Symbol);
                csv.WriteRecord(fields.ToArray());
            }
        }
        csv.Flush();
        w.Flush();
    }
}
