using System.Globalization;
using XenProf.Reporter.Profile;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Text;

/// <summary>Options for <see cref="OpreportWriter"/>.</summary>
public sealed record OpreportOptions
{
    /// <summary>Per-symbol listing (opreport <c>-l</c>); otherwise the per-image summary.</summary>
    public bool Symbols { get; init; }

    /// <summary>Show the sampling-error column (± binomial standard error, percentage points). Default on.</summary>
    public bool ErrorBars { get; init; } = true;

    /// <summary>Hide rows below this percentage of the total (opreport <c>--threshold</c>), 0 = show all.</summary>
    public double Threshold { get; init; }

    /// <summary>Print full image paths instead of basenames (opreport <c>--long-filenames</c>).</summary>
    public bool LongFilenames { get; init; }

    /// <summary>Omit the header lines (opreport <c>--no-header</c>).</summary>
    public bool NoHeader { get; init; }

    /// <summary>Per-instruction rows under each symbol (opreport <c>-d/--details</c>; implies <see cref="Symbols"/>).
    /// The profile must be built with <see cref="ProfileOptions.WithDetails"/>.</summary>
    public bool Details { get; init; }

    /// <summary>Callers and callees per function (opreport <c>-c/--callgraph</c>), written by <see cref="CallgraphWriter"/>.
    /// The profile must be built with <see cref="ProfileOptions.WithStacks"/>.</summary>
    public bool Callgraph { get; init; }

    /// <summary>Print each symbol's start address (opreport <c>-w/--show-address</c>): a <c>vma</c> column in the symbol list.</summary>
    public bool ShowAddress { get; init; }

    /// <summary>The output format (<c>--csv</c>, <c>--xml</c>); <see cref="OpreportOutput"/> dispatches on it, <see cref="OpreportWriter"/> always writes text.</summary>
    public OpreportFormat Format { get; init; }

    /// <summary>How the symbol list is ordered (opreport <c>--sort</c>), first key first; empty keeps the model's order
    /// (samples descending). See <see cref="OpreportSort"/> for what each key compares.</summary>
    public IReadOnlyList<OpreportSort> Sort { get; init; } = [];

    /// <summary>Reverse every comparison of the sort (opreport <c>-r/--reverse-sort</c>): the fewest samples first.</summary>
    public bool ReverseSort { get; init; }

    /// <summary>Add accumulated columns to the symbol list (opreport <c>-a/--accumulated</c>): per event, the running sum of
    /// samples over the rows listed so far (<c>cum. samples</c>) and its percentage of the total (<c>cum. %</c>).</summary>
    public bool Accumulated { get; init; }

    /// <summary>Percentages relative to the whole profile (opreport <c>-%/--global-percent</c>): <c>-d</c> rows are a
    /// share of the event's total instead of their symbol's, and <c>-c</c> callers and callees a share of the total instead
    /// of the function's callers or inclusive samples. oprofile also applies it to the applications' dependent images in
    /// a <c>--separate=lib</c> image summary; the image summary here is flat, so there it changes nothing.</summary>
    public bool GlobalPercent { get; init; }

    /// <summary>A <c>linenr info</c> column: the source file and line of each symbol's start (opreport <c>-g/--debug-info</c>);
    /// the profile's symbols need <see cref="SymbolRow.Source"/>, which <see cref="OpreportDebugInfo.Attach"/> fills.</summary>
    public bool DebugInfo { get; init; }
}

/// <summary>
/// A key of opreport's <c>--sort</c> (oprofile's libpp/symbol_sort.cpp). Keys given are compared in order; oprofile then
/// breaks ties with the keys not given, in this enum's order, and so does <see cref="OpreportRows.Symbols"/>.
/// </summary>
public enum OpreportSort
{
    /// <summary>The symbol's start address, ascending (<c>vma</c>).</summary>
    Vma,

    /// <summary>Samples of the first event, descending (<c>sample</c>, opreport's default).</summary>
    Sample,

    /// <summary>Symbol name, ordinal ascending (<c>symbol</c>).</summary>
    Symbol,

    /// <summary>Source file (basename, full path with <c>-f</c>) then line of the symbol's start, ascending; symbols
    /// without a location first (<c>debug</c>).</summary>
    Debug,

    /// <summary>Image name as printed (basename, full path with <c>-f</c>), ascending (<c>image</c>).</summary>
    Image,

    /// <summary>The application's image name (<c>app-name</c>); samples are not separated by application here, so it
    /// compares as <see cref="Image"/>.</summary>
    AppName,
}

/// <summary>
/// Renders a profile in opreport's text layout (oprofile's opreport(1); libpp/op_header.cpp, pp/opreport.cpp, libpp/format_output.cpp): header lines (CPU, one
/// "Counted … events" line per event, lost samples), then either the image summary
/// (<c>samples|      %|</c> per event) or the symbol list (<c>samples  %  image name  symbol name</c>),
/// sorted by samples. Percent columns print 4 decimals as opreport does; the extra <c>±</c> column is the
/// binomial standard error of that percentage.
/// </summary>
public static class OpreportWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Writes the report to <paramref name="w"/>.</summary>
    public static void Write(Profile.Profile p, TextWriter w, OpreportOptions o)
    {
        if (o.Callgraph) { CallgraphWriter.Write(p, w, o); return; }
        if (!o.NoHeader) WriteHeader(p, w);
        if (!o.NoHeader && o.ErrorBars) w.WriteLine(ErrorBarNote(p));
        if (o.Symbols || o.Details || o.ShowAddress) WriteSymbols(p, w, o); else WriteImages(p, w, o);
    }

    /// <summary>Writes opreport's header: CPU line, one "Counted" line per event, and the loss/quality counters.</summary>
    public static void WriteHeader(Profile.Profile p, TextWriter w)
    {
        var cpu = p.Meta.TryGetValue("cpu", out var c) ? c : "unknown";
        var speed = p.Meta.TryGetValue("cpu_mhz", out var mhz) && double.TryParse(mhz, Inv, out var s) && s > 0
            ? $", speed {s.ToString("0.###", Inv)} MHz (estimated)" : "";
        w.WriteLine($"CPU: {cpu}{speed}");
        foreach (var e in p.Events)
            w.WriteLine($"Counted {e.Name} events ({e.Description}) with a unit mask of 0x{e.UnitMask:x2} ({(e.UnitMask == 0 ? "No unit mask" : "multiple flags")}) count {e.Count}");
        if (p.Meta.TryGetValue("event_note", out var note)) w.WriteLine(note);
        long total = p.Totals.Sum();
        long lost = p.Counter(CounterNames.LostSamples) + XenReportedDomains(p).Sum(d => p.Counter(CounterNames.XenDomain(d, "lost_samples")));
        var lostPct = total + lost > 0 ? 100.0 * lost / (total + lost) : 0;
        w.WriteLine($"Samples: {total}, lost samples: {lost} ({lostPct.ToString("0.00", Inv)}%), throttle events: {p.Counter(CounterNames.Throttled)}, unmapped samples: {p.Counter(CounterNames.UnmappedSamples)}");
        if (SkippedInputLine(p) is { } skipped) w.WriteLine(skipped);
        if (p.Meta.GetValueOrDefault(Sampler.Import.TraceImport.ImportStateKey) == Sampler.Import.TraceImport.ImportIncomplete)
            w.WriteLine($"Import incomplete: the import of {p.Meta.GetValueOrDefault("source_path", "the trace")} did not finish (interrupted or killed); "
                + "these are the samples it had committed; import the file again");
        foreach (var line in XenHeaderLines(p)) w.WriteLine(line);
        // A separated report names its columns, one line each, as opreport's header does (pp/opreport.cpp output_header).
        foreach (var col in p.Columns) if (col.LongName != null) w.WriteLine(col.LongName);
    }

    /// <summary>
    /// The header line that says what the <c>%</c> and <c>±</c> columns are: shares of each event's summed sample periods
    /// (as perf report weighs them), with the binomial standard error on the effective sample count
    /// n_eff = (Σperiod)²/Σperiod², given per event (it equals the sample count when every period is the same).
    /// </summary>
    public static string ErrorBarNote(Profile.Profile p)
    {
        var parts = p.Events.Select((e, i) => $"{e.Name} {p.EffectiveSamples[i].ToString("0.#", Inv)} of {p.Totals[i]}");
        return $"Percentages are of the summed sample periods; ± is the binomial standard error on n_eff = (Σperiod)²/Σperiod² samples: {string.Join(", ", parts)}";
    }

    /// <summary>The header line saying how much of an imported trace did not parse and was skipped, or null when nothing was.</summary>
    private static string? SkippedInputLine(Profile.Profile p)
    {
        var parts = new List<string>();
        if (p.Counter(CounterNames.SkippedLines) is > 0 and var lines)
            parts.Add($"{lines} lines" + (p.Counter(CounterNames.SkippedSamples) is > 0 and var n ? $" ({n} samples)" : ""));
        if (p.Counter(CounterNames.MalformedRecords) is > 0 and var records) parts.Add($"{records} records");
        if (p.Counter(CounterNames.BytesSkipped) is > 0 and var bytes) parts.Add($"{bytes} bytes after malformed data");
        return parts.Count == 0 ? null : $"Input skipped as malformed: {string.Join(", ", parts)} (import with --strict to stop at the first)";
    }

    /// <summary>
    /// Header lines of a xenoprof session (none for other sessions): per reported domain, what its buffers' headers
    /// count (written by mode, lost) and the drains that found a corrupt head/tail; dom0's report adds one line per
    /// passive domain; then Xen's global counters (total, active, passive, lost, invalid, corrupted, others), which
    /// real Xen never exported (they stay <c>static</c> in xen/common/xenoprof.c).
    /// </summary>
    public static IEnumerable<string> XenHeaderLines(Profile.Profile p)
    {
        if (!p.Counters.ContainsKey(CounterNames.XenGlobalPrefix + "total_samples") && !p.Counters.Keys.Any(k => k.StartsWith("xen.dom", StringComparison.Ordinal)))
            yield break;
        var passive = Ids(p.Meta.GetValueOrDefault("xen_passive_domains"));
        foreach (var d in XenReportedDomains(p))
            yield return DomainLine(p, d, passive.Contains(d) ? $"passive, reported as domain{d}-kernel/-xen/-apps" : "active");
        long G(string n) => p.Counter(CounterNames.XenGlobalPrefix + n);
        if (!p.Counters.ContainsKey(CounterNames.XenGlobalPrefix + "total_samples")) yield break; // a real Xen never exports them
        yield return $"Xen counters: total samples {G("total_samples")}, active {G("active_samples")}, passive {G("passive_samples")}, "
            + $"lost {G("lost_samples")}, invalid buffer {G("invalid_buffer_samples")}, corrupted buffer {G("corrupted_buffer_samples")}, "
            + $"others (idle or unprofiled domains) {G("others_samples")}";
    }

    // Domains whose samples this report shows: the reported domain (all active ones when not restricted), plus the
    // passive domains inside dom0's report.
    private static IEnumerable<int> XenReportedDomains(Profile.Profile p)
    {
        int? only = p.Meta.TryGetValue(Profile.Profile.ReportDomainKey, out var rd) && int.TryParse(rd, Inv, out var r) ? r : null;
        foreach (var d in Ids(p.Meta.GetValueOrDefault("xen_active_domains")).Where(d => only == null || only == d)) yield return d;
        foreach (var d in Ids(p.Meta.GetValueOrDefault("xen_passive_domains")).Where(_ => only is null or 0)) yield return d;
    }

    private static string DomainLine(Profile.Profile p, int d, string kind)
    {
        long C(string n) => p.Counter(CounterNames.XenDomain(d, n));
        long x = C("xen_samples"), k = C("kernel_samples"), u = C("user_samples");
        return $"Xen domain {d} ({kind}): samples written {x + k + u} (xen {x}, kernel {k}, user {u}), lost samples {C("lost_samples")}, corrupted buffer reads {C("corrupt_reads")}"
            + (C("invalid_event_samples") is > 0 and var bad ? $", samples of unconfigured counters (skipped) {bad}" : "");
    }

    private static List<int> Ids(string? csv) =>
        (csv ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(x => int.Parse(x, Inv)).ToList();

    private static void WriteImages(Profile.Profile p, TextWriter w, OpreportOptions o)
    {
        WriteColumnHeader(p, w, o, "");
        if (p.Separation.HasFlag(Separation.Lib)) { WriteApplications(p, w, o); return; }
        foreach (var r in p.Images)
        {
            if (!OpreportRows.Shown(p, r.Counts, o.Threshold)) continue;
            w.WriteLine(SummaryLine(p, r.Counts, null, o) + OpreportRows.ImageName(r, o));
        }
    }

    // Column header block per column: its name right-aligned in 17 chars (opreport truncates to 14 + "..."), then
    // "samples|      %|" and a rule; indented by a tab above an application's images (pp/opreport.cpp output_col_headers).
    private static void WriteColumnHeader(Profile.Profile p, TextWriter w, OpreportOptions o, string indent)
    {
        var names = new System.Text.StringBuilder(indent);
        var cols = new System.Text.StringBuilder();
        foreach (var c in p.Columns)
        {
            var cls = c.Name;
            if (cls.Length > 17) cls = cls[..14] + "...";
            int width = o.ErrorBars ? 25 : 17;
            names.Append(cls.PadLeft(width)).Append('|');
            cols.Append("  samples|      %|");
            if (o.ErrorBars) cols.Append("      ±|");
        }
        w.WriteLine(names.ToString());
        w.WriteLine(indent + cols);
        w.WriteLine(indent + new string('-', cols.Length));
    }

    // Per column: samples (9 wide), the period share of the column's total (of within's, when given), the ± error.
    private static string SummaryLine(Profile.Profile p, CountRow counts, CountRow? within, OpreportOptions o)
    {
        var line = new System.Text.StringBuilder();
        foreach (var c in p.Columns)
        {
            var (pct, err) = c.ShareOf(counts.PeriodOf(c), within);
            line.Append(counts.Of(c).ToString(Inv).PadLeft(9)).Append(' ').Append(Pct(pct)).Append(' ');
            if (o.ErrorBars) line.Append(Pct(err)).Append(' ');
        }
        return line.ToString();
    }

    /// <summary>
    /// The image summary separated by library (pp/opreport.cpp <c>output_summaries</c>/<c>output_deps</c>): one line per
    /// application with its totals, and when images other than its own were sampled under it, the column header again and
    /// one line per image, indented by a tab, with percentages of the application's samples.
    /// </summary>
    private static void WriteApplications(Profile.Profile p, TextWriter w, OpreportOptions o)
    {
        foreach (var a in p.Applications)
        {
            if (!OpreportRows.Shown(p, a.Counts, o.Threshold)) continue;
            w.WriteLine(SummaryLine(p, a.Counts, null, o) + (o.LongFilenames ? a.Image.Path : a.Name));
            if (!a.HasDependents) continue;
            WriteColumnHeader(p, w, o, "\t");
            foreach (var r in a.Images)
                if (r.Counts.Total > 0) w.WriteLine("\t" + SummaryLine(p, r.Counts, a.Counts, o) + OpreportRows.ImageName(r, o));
        }
    }

    private static void WriteSymbols(Profile.Profile p, TextWriter w, OpreportOptions o)
    {
        // Columns in oprofile's order (libpp/format_output.cpp): vma, then per event samples, cum. samples, %, cum. %, then
        // linenr info, image name, symbol name; the ± column follows the % it belongs to.
        var head = new System.Text.StringBuilder();
        if (o.Details || o.ShowAddress) head.Append("vma".PadRight(17));
        foreach (var _ in p.Columns)
        {
            head.Append("samples".PadRight(9));
            if (o.Accumulated) head.Append("cum. samples".PadRight(14));
            head.Append("%".PadRight(9));
            if (o.ErrorBars) head.Append("±".PadRight(9));
            if (o.Accumulated) head.Append("cum. %".PadRight(11));
        }
        bool apps = p.Separation.HasFlag(Separation.Lib);
        if (o.DebugInfo) head.Append("linenr info".PadRight(28));
        head.Append("image name".PadRight(25));
        if (apps) head.Append("app name".PadRight(25)); // libpp/format_output.cpp: the "app name" field, 25 wide
        head.Append("symbol name");
        w.WriteLine(head.ToString());
        var cumulated = new (long, long)[p.Columns.Count];
        foreach (var r in OpreportRows.Symbols(p, o))
        {
            var line = new System.Text.StringBuilder();
            if (o.Details || o.ShowAddress) line.Append(r.Start.ToString("x16", Inv)).Append(' ');
            Counts(line, p, r.Counts, null, cumulated, o);
            if (o.DebugInfo) line.Append(OpreportRows.LineInfo(r, o).PadRight(27)).Append(' ');
            var image = OpreportRows.ImageName(r.ImageRow, o);
            line.Append(image.PadRight(24)).Append(' ');
            if (apps) line.Append(OpreportRows.AppName(r.ImageRow, o).PadRight(24)).Append(' ');
            line.Append(r.Symbol);
            w.WriteLine(line.ToString());
            if (o.Details) WriteDetails(p, r, w, o);
        }
    }

    // One row's count columns: per column (event, or separated thread/CPU) samples, [cum. samples], %, [±], [cum. %], the
    // period share of the column's total (of within's in that column, when given); cumulated (index = ProfileClass.Index)
    // sums the samples and periods of the rows listed so far.
    private static void Counts(System.Text.StringBuilder line, Profile.Profile p, CountRow row, CountRow? within, (long Samples, long Period)[] cumulated, OpreportOptions o)
    {
        foreach (var c in p.Columns)
        {
            long samples = row.Of(c);
            ref var cum = ref cumulated[c.Index];
            cum.Samples += samples;
            cum.Period += row.PeriodOf(c);
            var (pct, err) = c.ShareOf(row.PeriodOf(c), within);
            line.Append(samples.ToString(Inv).PadRight(9));
            if (o.Accumulated) line.Append(cum.Samples.ToString(Inv).PadRight(14));
            line.Append(Pct(pct).PadRight(9));
            if (o.ErrorBars) line.Append(Pct(err).PadRight(9));
            if (o.Accumulated) line.Append(Pct(c.ShareOf(cum.Period, within).Percent).PadRight(11));
        }
    }

    /// <summary>
    /// opreport <c>-d</c> rows under a symbol (opreport(1) <c>--details</c>; libpp/format_output.cpp): two spaces, the 16-digit vma, then per event the
    /// samples and the percentage of the symbol's own total for that event (of the event's total with
    /// <see cref="OpreportOptions.GlobalPercent"/>); accumulated columns restart at each symbol, as oprofile's do.
    /// </summary>
    private static void WriteDetails(Profile.Profile p, SymbolRow r, TextWriter w, OpreportOptions o)
    {
        var cumulated = new (long, long)[p.Columns.Count];
        foreach (var d in r.Details)
        {
            var line = new System.Text.StringBuilder("  ");
            line.Append(d.Vma.ToString("x16", Inv)).Append(' ');
            Counts(line, p, d.Counts, o.GlobalPercent ? null : r.Counts, cumulated, o);
            w.WriteLine(line.ToString().TrimEnd());
        }
    }

    /// <summary>opreport's percent format: 7 characters, 4 decimals (<c>59.7415</c>), <c>100.000</c> for 100.</summary>
    public static string Pct(double v) => v >= 100 ? "100.000" : v.ToString("0.0000", Inv).PadLeft(7);
}
