using System.Globalization;
using CsvHelper;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Text;

namespace XenProf.Reporter.Csv;

/// <summary>
/// Writes an opreport query as RFC 4180 CSV (CRLF line ends, fields quoted only when they hold a comma, quote or line
/// break) through CsvHelper: a header record, then the rows of the text report (<see cref="OpreportWriter"/>) in the
/// same order and with the same <c>--threshold</c> filtering, one record per (row, event).
/// <para>Columns, lower case, in this order; optional ones appear only when their option is on:</para>
/// <list type="bullet">
/// <item><c>event</c>: the event name (<see cref="XenProf.Sampler.Store.StoredEvent.Name"/>); a report of several events
/// repeats each row once per event, in the profile's event order.</item>
/// <item><c>level</c> (with <c>-d</c>): <c>symbol</c> for a symbol's row, <c>instruction</c> for the per-address rows under it.</item>
/// <item><c>vma</c> (with <c>-d</c> or <c>-w</c>): <c>0x</c> then 16 lower-case hex digits; the symbol's start on a
/// symbol row, the sampled address on an instruction row (the image's address space: SVMA for ELF images, kernel
/// addresses for the kernel).</item>
/// <item><c>samples</c>: samples of that event.</item>
/// <item><c>percent</c>: percentage of the event's total (of the symbol's own samples on an instruction row, as
/// opreport <c>-d</c> prints it, or of the event's total with <c>-%</c>), 4 decimals, no <c>%</c>.</item>
/// <item><c>stderr_pp</c> (unless <see cref="OpreportOptions.ErrorBars"/> is off): the binomial standard error of
/// <c>percent</c> in percentage points (<see cref="Profile.Profile.Share"/>), 4 decimals, no <c>±</c>.</item>
/// <item><c>cum_samples</c>, <c>cum_percent</c> (with <c>-a</c>, symbol lists): the running sum of <c>samples</c> of that
/// event over the rows so far and its percentage of the same total as <c>percent</c> (restarting at each symbol for
/// instruction rows), opreport's <c>cum. samples</c> and <c>cum. %</c>.</item>
/// <item><c>linenr</c> (with <c>-g</c>): <see cref="OpreportRows.LineInfo"/>, <c>FILE:LINE</c> of the symbol's start.</item>
/// <item><c>image</c>: the image's display name, or its full path with <c>-f</c>.</item>
/// <item><c>symbol</c> (with <c>-l</c> or <c>-d</c>): the symbol name, or <c>(no symbols)</c>.</item>
/// </list>
/// <para>Numbers use the invariant culture. The header lines of the text report (CPU, events, lost samples) are not
/// written: CSV carries the table only.</para>
/// </summary>
public static class OpreportCsvWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes the CSV report of <paramref name="p"/> to <paramref name="w"/>; <paramref name="w"/> stays open and is flushed.</summary>
    public static void Write(Profile.Profile p, TextWriter w, OpreportOptions o)
    {
        bool symbols = o.Symbols || o.Details || o.ShowAddress;
        bool vma = o.Details || o.ShowAddress;
        var header = new List<string> { "event" };
        if (o.Details) header.Add("level");
        if (vma) header.Add("vma");
        header.AddRange(["samples", "percent"]);
        if (o.ErrorBars) header.Add("stderr_pp");
        bool cum = o.Accumulated && symbols;
        if (cum) header.AddRange(["cum_samples", "cum_percent"]);
        bool lines = o.DebugInfo && symbols;
        if (lines) header.Add("linenr");
        header.Add("image");
        if (symbols) header.Add("symbol");

        using var csv = CsvWriter.Create(w, new CsvWriterOptions(), leaveOpen: true);
        csv.WriteHeader(header.ToArray());
        var fields = new List<string>(header.Count);

        var cumulated = new long[p.Events.Count];
        var detailCumulated = new long[p.Events.Count];
        void Row(int e, string? level, ulong? address, long samples, long total, string image, string? symbol, long[]? running = null, string? linenr = null)
        {
            fields.Clear();
            fields.Add(p.Events[e].Name);
            if (o.Details) fields.Add(level!);
            if (vma) fields.Add("0x" + address!.Value.ToString("x16", Inv));
            var (pct, err) = Profile.Profile.Share(samples, total);
            fields.Add(samples.ToString(Inv));
            fields.Add(pct.ToString("0.0000", Inv));
            if (o.ErrorBars) fields.Add(err.ToString("0.0000", Inv));
            if (cum)
            {
                running![e] += samples;
                fields.Add(running[e].ToString(Inv));
                fields.Add(Profile.Profile.Share(running[e], total).Percent.ToString("0.0000", Inv));
            }
            if (lines) fields.Add(linenr ?? "");
            fields.Add(image);
            if (symbols) fields.Add(symbol!);
            csv.WriteRecord(fields.ToArray());
        }

        if (!symbols)
        {
            foreach (var r in OpreportRows.Images(p, o))
                for (int e = 0; e < p.Events.Count; e++)
                    Row(e, null, null, r.Counts.Samples[e], p.Totals[e], OpreportRows.ImageName(r, o), null);
        }
        else
        {
            foreach (var r in OpreportRows.Symbols(p, o))
            {
                var image = OpreportRows.ImageName(r.ImageRow, o);
                var linenr = lines ? OpreportRows.LineInfo(r, o) : null;
                for (int e = 0; e < p.Events.Count; e++)
                    Row(e, "symbol", r.Start, r.Counts.Samples[e], p.Totals[e], image, r.Symbol, cumulated, linenr);
                if (!o.Details) continue;
                Array.Clear(detailCumulated);
                foreach (var d in r.Details)
                    for (int e = 0; e < p.Events.Count; e++)
                        Row(e, "instruction", d.Vma, d.Counts.Samples[e], o.GlobalPercent ? p.Totals[e] : r.Counts.Samples[e], image, r.Symbol, detailCumulated, linenr);
            }
        }
        csv.Flush();
        w.Flush();
    }
}
