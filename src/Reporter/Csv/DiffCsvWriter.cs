using System.Globalization;
using CsvHelper;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Text;

namespace XenProf.Reporter.Csv;

/// <summary>
/// Writes a <see cref="ProfileDiff"/> as RFC 4180 CSV through CsvHelper, the rows of <see cref="DiffWriter"/> in the same
/// order and with the same <c>--threshold</c> filtering, one record per (event, row).
/// <para>Columns, lower case, in this order:</para>
/// <list type="bullet">
/// <item><c>event</c>: the event name.</item>
/// <item><c>base_samples</c>, <c>new_samples</c> (after <c>base_percent</c>): samples on each side, 0 when the row is on
/// the other side only.</item>
/// <item><c>base_percent</c>, <c>new_percent</c>: share of that side's total, percent, 4 decimals.</item>
/// <item><c>delta_pp</c>: <c>new_percent − base_percent</c> in percentage points, 4 decimals, signed.</item>
/// <item><c>p_value</c>: two-sided p-value of the pooled two-proportion z-test, uncorrected, 4 significant digits
/// (<c>1.7E-24</c>).</item>
/// <item><c>significant</c>: <c>true</c> when Holm–Bonferroni over the event's rows rejects the row at the report's
/// alpha, else <c>false</c>.</item>
/// <item><c>image</c>: the image's display name (full path with <c>-f</c>).</item>
/// <item><c>symbol</c> (with <c>-l</c>): the symbol name, or <c>(no symbols)</c>.</item>
/// </list>
/// </summary>
public static class DiffCsvWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes the CSV of <paramref name="d"/> to <paramref name="w"/>; <paramref name="w"/> stays open and is flushed.</summary>
    public static void Write(ProfileDiff d, TextWriter w, DiffReportOptions o)
    {
        var header = new List<string> { "event", "base_samples", "base_percent", "new_samples", "new_percent", "delta_pp", "p_value", "significant", "image" };
        if (d.Options.Symbols) header.Add("symbol");
        using var csv = CsvWriter.Create(w, new CsvWriterOptions(), leaveOpen: true);
        csv.WriteHeader(header.ToArray());
        foreach (var e in d.Events)
            foreach (var r in DiffWriter.Shown(e, o))
            {
                var fields = new List<string>(header.Count)
                {
                    e.Name, r.BaseSamples.ToString(Inv), r.BasePercent.ToString("0.0000", Inv), r.NewSamples.ToString(Inv),
                    r.NewPercent.ToString("0.0000", Inv), DiffWriter.Delta(r.DeltaPp), DiffWriter.PValue(r.PValue),
                    r.Significant ? "true" : "false", r.Image,
                };
                if (d.Options.Symbols) fields.Add(r.Symbol ?? "");
                csv.WriteRecord(fields.ToArray());
            }
        csv.Flush();
        w.Flush();
    }
}
