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
        return $"Xen domain {d} ({kind}): samples written {x + k + u} (xen {x}, kernel {k}, user {u}), lost samples {C("lost_samples")}, corrupted buffer reads {C("corrupt_reads")}";
    }

    private static List<int> Ids(string? csv) =>
        (csv ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(x => int.Parse(x, Inv)).ToList();

    private static void WriteImages(Profile.Profile p, TextWriter w, OpreportOptions o)
    {
        // Column header block per event: class name right-aligned in 17 chars (opreport truncates to 14 + "...").
        var names = new System.Text.StringBuilder();
        var cols = new System.Text.StringBuilder();
        foreach (var e in p.Events)
        {
            var cls = $"{e.Name}:{e.Count}";
            if (cls.Length > 17) cls = cls[..14] + "...";
            int width = o.ErrorBars ? 25 : 17;
            names.Append(cls.PadLeft(width)).Append('|');
            cols.Append("  samples|      %|");
            if (o.ErrorBars) cols.Append("      ±|");
        }
        w.WriteLine(names.ToString());
        w.WriteLine(cols.ToString());
        w.WriteLine(new string('-', cols.Length));
        foreach (var r in p.Images)
        {
            if (!OpreportRows.Shown(p, r.Counts, o.Threshold)) continue;
            var line = new System.Text.StringBuilder();
            for (int i = 0; i < p.Events.Count; i++)
            {
                var (pct, err) = Profile.Profile.Share(r.Counts.Samples[i], p.Totals[i]);
                line.Append(r.Counts.Samples[i].ToString(Inv).PadLeft(9)).Append(' ').Append(Pct(pct)).Append(' ');
                if (o.ErrorBars) line.Append(Pct(err)).Append(' ');
            }
            line.Append(OpreportRows.ImageName(r, o));
            w.WriteLine(line.ToString());
        }
    }

    private static void WriteSymbols(Profile.Profile p, TextWriter w, OpreportOptions o)
    {
        var head = new System.Text.StringBuilder();
        if (o.Details || o.ShowAddress) head.Append("vma".PadRight(17));
        foreach (var _ in p.Events)
        {
            head.Append("samples".PadRight(9)).Append("%".PadRight(9));
            if (o.ErrorBars) head.Append("±".PadRight(9));
        }
        head.Append("image name".PadRight(25)).Append("symbol name");
        w.WriteLine(head.ToString());
        foreach (var r in p.Symbols)
        {
            if (!OpreportRows.Shown(p, r.Counts, o.Threshold)) continue;
            var line = new System.Text.StringBuilder();
            if (o.Details || o.ShowAddress) line.Append(r.Start.ToString("x16", Inv)).Append(' ');
            for (int i = 0; i < p.Events.Count; i++)
            {
                var (pct, err) = Profile.Profile.Share(r.Counts.Samples[i], p.Totals[i]);
                line.Append(r.Counts.Samples[i].ToString(Inv).PadRight(9)).Append(Pct(pct).PadRight(9));
                if (o.ErrorBars) line.Append(Pct(err).PadRight(9));
            }
            var image = OpreportRows.ImageName(r.ImageRow, o);
            line.Append(image.PadRight(24)).Append(' ').Append(r.Symbol);
            w.WriteLine(line.ToString());
            if (o.Details) WriteDetails(p, r, w, o);
        }
    }

    /// <summary>
    /// opreport <c>-d</c> rows under a symbol (opreport(1) <c>--details</c>; libpp/format_output.cpp): two spaces, the 16-digit vma, then per event the
    /// samples and the percentage of the symbol's own total for that event.
    /// </summary>
    private static void WriteDetails(Profile.Profile p, SymbolRow r, TextWriter w, OpreportOptions o)
    {
        foreach (var d in r.Details)
        {
            var line = new System.Text.StringBuilder("  ");
            line.Append(d.Vma.ToString("x16", Inv)).Append(' ');
            for (int i = 0; i < p.Events.Count; i++)
            {
                var (pct, err) = Profile.Profile.Share(d.Counts.Samples[i], r.Counts.Samples[i]);
                line.Append(d.Counts.Samples[i].ToString(Inv).PadRight(9)).Append(Pct(pct).PadRight(9));
                if (o.ErrorBars) line.Append(Pct(err).PadRight(9));
            }
            w.WriteLine(line.ToString().TrimEnd());
        }
    }

    /// <summary>opreport's percent format: 7 characters, 4 decimals (<c>59.7415</c>), <c>100.000</c> for 100.</summary>
    public static string Pct(double v) => v >= 100 ? "100.000" : v.ToString("0.0000", Inv).PadLeft(7);
}
