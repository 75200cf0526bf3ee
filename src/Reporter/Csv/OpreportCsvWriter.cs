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
/// <item><c>tgid</c>, <c>tid</c>, <c>cpu</c> (each only when the report separates by it, <see cref="Separation"/>): the
/// column's thread group, thread and CPU. A separated report repeats each row once per column
/// (<see cref="Profile.Profile.Columns"/>, in their order) in which the row has samples; <c>percent</c> is then of that
/// column's total.</item>
/// <item><c>level</c> (with <c>-d</c>): <c>symbol</c> for a symbol's row, <c>instruction</c> for the per-address rows under it.</item>
/// <item><c>vma</c> (with <c>-d</c> or <c>-w</c>): <c>0x</c> then 16 lower-case hex digits; the symbol's start on a
/// symbol row, the sampled address on an instruction row (the image's address space: SVMA for ELF images, kernel
/// addresses for the kernel).</item>
/// <item><c>samples</c>: samples of that event.</item>
/// <item><c>percent</c>: percentage of the event's total (of the symbol's own samples on an instruction row, as
/// opreport <c>-d</c> prints it, or of the event's total with <c>-%</c>), 4 decimals, no <c>%</c>.</item>
/// <item><c>stderr_pp</c> (unless <see cref="OpreportOptions.ErrorBars"/> is off): the binomial standard error of
/// <c>percent</c> in percentage points (<see cref="Profile.Profile.Share(long, long, double)"/>), 4 decimals, no <c>±</c>.</item>
/// <item><c>app</c> (with <see cref="Separation.Lib"/>): the application the row's samples are counted under, named as
/// <c>image</c> is.</item>
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
        var sep = p.Separation;
        bool tgid = sep.HasFlag(Separation.Tgid), tid = sep.HasFlag(Separation.Tid), cpu = sep.HasFlag(Separation.Cpu), app = sep.HasFlag(Separation.Lib);
        bool separated = p.Columns.Any(c => c.Tgid != null || c.Tid != null || c.Cpu != null);
        var header = new List<string> { "event" };
        if (tgid) header.Add("tgid");
        if (tid) header.Add("tid");
        if (cpu) header.Add("cpu");
        if (o.Details) header.Add("level");
        if (vma) header.Add("vma");
        header.AddRange(["samples", "percent"]);
        if (o.ErrorBars) header.Add("stderr_pp");
        bool cum = o.Accumulated && symbols;
        if (cum) header.AddRange(["cum_samples", "cum_percent"]);
        bool lines = o.DebugInfo && symbols;
        if (lines) header.Add("linenr");
        if (app) header.Add("app");
        header.Add("image");
        if (symbols) header.Add("symbol");

        using var csv = CsvWriter.Create(w, new CsvWriterOptions(), leaveOpen: true);
        csv.WriteHeader(header.ToArray());
        var fields = new List<string>(header.Count);

        // Percentages are of the period, as the text report's, of the column's total or of `within`'s period in the column;
        // the error is on effective samples. Running sums per column (-a): over the symbol rows, and over one symbol's
        // instruction rows.
        var cumulated = new (long Samples, long Period)[p.Columns.Count];
        var detailCumulated = new (long Samples, long Period)[p.Columns.Count];
        static string Key(int? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "";
        void Row(ProfileClass c, string? level, ulong? address, CountRow counts, CountRow? within, ImageRow row, string? symbol, (long Samples, long Period)[]? running = null, string? linenr = null)
        {
            long samples = counts.Of(c);
            if (separated && samples == 0) return;
            fields.Clear();
            fields.Add(p.Events[c.Event].Name);
            if (tgid) fields.Add(Key(c.Tgid));
            if (tid) fields.Add(Key(c.Tid));
            if (cpu) fields.Add(Key(c.Cpu));
            if (o.Details) fields.Add(level!);
            if (vma) fields.Add("0x" + address!.Value.ToString("x16", Inv));
            var (pct, err) = c.ShareOf(counts.PeriodOf(c), within);
            fields.Add(samples.ToString(Inv));
            fields.Add(pct.ToString("0.0000", Inv));
            if (o.ErrorBars) fields.Add(err.ToString("0.0000", Inv));
            if (cum)
            {
                ref var run = ref running![c.Index];
                run.Samples += samples;
                run.Period += counts.PeriodOf(c);
                fields.Add(run.Samples.ToString(Inv));
                fields.Add(c.ShareOf(run.Period, within).Percent.ToString("0.0000", Inv));
            }
            if (lines) fields.Add(linenr ?? "");
            if (app) fields.Add(OpreportRows.AppName(row, o));
            fields.Add(OpreportRows.ImageName(row, o));
            if (symbols) fields.Add(symbol!);
            csv.WriteRecord(fields.ToArray());
        }

        if (!symbols)
        {
            foreach (var r in OpreportRows.Images(p, o))
                foreach (var c in p.Columns)
                    Row(c, null, null, r.Counts, null, r, null);
        }
        else
        {
            foreach (var r in OpreportRows.Symbols(p, o))
            {
                var linenr = lines ? OpreportRows.LineInfo(r, o) : null;
                foreach (var c in p.Columns)
                    Row(c, "symbol", r.Start, r.Counts, null, r.ImageRow, r.Symbol, cumulated, linenr);
                if (!o.Details) continue;
                Array.Clear(detailCumulated);
                foreach (var d in r.Details)
                    foreach (var c in p.Columns)
                        Row(c, "instruction", d.Vma, d.Counts, o.GlobalPercent ? null : r.Counts, r.ImageRow, r.Symbol, detailCumulated, linenr);
            }
        }
        csv.Flush();
        w.Flush();
    }
}
