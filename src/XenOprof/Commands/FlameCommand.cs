using System.CommandLine;
using System.Globalization;
using XenProf.Cli.Options;
using XenProf.Reporter.Flame;
using XenProf.Reporter.Plots;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof flame</c>: a session as folded stacks, SVG, HTML, speedscope, Chrome trace, pprof or PNG plots.</summary>
internal static class FlameCommand
{
    public static Command Create()
    {
        var dir = CommonOptions.SessionDir();
        var output = new Option<string>("--output", "-o") { Description = "File to write; the format follows its extension (.svg, .folded, .html, .speedscope.json, .trace.json, .pb.gz, .png) unless --format is given", Required = true };
        var format = new Option<string?>("--format") { Description = "folded, svg, html, speedscope, chrome, pprof or png (default: from the --output extension)" };
        var domain = new Option<string?>("--domain") { Description = "Xen domain id to include, or 'all' (default all)" };
        var ev = new Option<string?>("--event") { Description = "Event name (default: the session's first event; chrome and pprof take every event)" };
        var pid = new Option<int?>("--pid") { Description = "Only samples of this process" };
        var tid = new Option<int?>("--tid") { Description = "Only samples of this thread" };
        var from = new Option<double?>("--from") { Description = "Start of the time window, seconds after the session's first sample" };
        var to = new Option<double?>("--to") { Description = "End of the time window (exclusive), seconds after the session's first sample" };
        var title = new Option<string?>("--title") { Description = "SVG/HTML title (default: Flame Graph)" };
        var width = new Option<int>("--width") { Description = "SVG width in pixels", DefaultValueFactory = _ => SvgFlameOptions.Default.Width };
        var minWidth = new Option<double>("--minwidth") { Description = "Omit SVG frames narrower than this many pixels", DefaultValueFactory = _ => SvgFlameOptions.Default.MinWidthPx };
        var inverted = new Option<bool>("--inverted") { Description = "Icicle graph: root at the top" };
        var annotate = new Option<bool>("--annotate") { Description = "Folded: mark kernel frames _[k], JIT _[j], hypervisor _[h], guest _[g] (stackcollapse-perf.pl --all)" };
        var file = CommonOptions.TraceFile();
        var kallsyms = CommonOptions.Kallsyms();
        var strict = CommonOptions.Strict();
        var cmd = new Command("flame", "Export a session or a perf.data: flame graph (SVG, HTML), folded stacks, speedscope, Chrome trace, pprof or PNG plots")
        {
            file, kallsyms, strict, dir, output, format, domain, ev, pid, tid, from, to, title, width, minWidth, inverted, annotate, Run.Verbose,
        };
        cmd.SetAction(pr => Run.Guarded("flame", pr.GetValue(Run.Verbose), ct => Execute(
            DirectTrace.SessionFor("flame", pr.GetValue(file), pr.GetValue(dir)!, pr.GetValue(kallsyms), ct, pr.GetValue(strict)), pr.GetValue(output)!, pr.GetValue(format),
            new FlameCommandFilters(pr.GetValue(domain), pr.GetValue(ev), pr.GetValue(pid), pr.GetValue(tid), pr.GetValue(from), pr.GetValue(to)),
            new SvgFlameOptions { Title = pr.GetValue(title) ?? "Flame Graph", Width = pr.GetValue(width), MinWidthPx = pr.GetValue(minWidth), Inverted = pr.GetValue(inverted) },
            pr.GetValue(annotate), Console.Error)));
        return cmd;
    }

    /// <summary>Writes <paramref name="output"/> from session <paramref name="sessionDir"/>; reports the paths written on <paramref name="stderr"/>.</summary>
    public static int Execute(string sessionDir, string output, string? format, FlameCommandFilters filters, SvgFlameOptions svg, bool annotate, TextWriter stderr)
    {
        var fmt = format != null
            ? FlameExport.Parse(format) ?? throw new UserErrorException($"unknown format '{format}'; use folded, svg, html, speedscope, chrome, pprof or png")
            : FlameExport.FromFileName(output) ?? throw new UserErrorException($"cannot tell the format from '{Path.GetFileName(output)}'; use --format");
        if (svg.Width <= 20) throw new UserErrorException("--width must be more than 20 pixels");
        if (!Directory.Exists(sessionDir)) throw new UserErrorException($"no session directory {sessionDir}; record one first (xenoprof record -- CMD)");

        using var source = FlameSource.Open(sessionDir);
        var selection = filters.ToSelection(source);
        try { source.EventsOf(selection); }
        catch (ArgumentException e) { throw new UserErrorException(e.Message); }
        var options = new FlameExportOptions { Selection = selection, Svg = svg, Folded = new FoldedOptions { AnnotateKernel = annotate } };

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        using (var f = File.Create(output)) FlameExport.Write(source, fmt, f, options);
        stderr.WriteLine($"xenoprof flame: wrote {Path.GetFullPath(output)}");
        if (fmt == FlameFormat.Png)
        {
            string timeline = Path.ChangeExtension(output, ".timeline.png");
            using (var f = File.Create(timeline)) PlotWriter.WriteTimeline(source, f, options);
            stderr.WriteLine($"xenoprof flame: wrote {Path.GetFullPath(timeline)}");
        }
        return 0;
    }
}

/// <summary>The selection flags of <c>flame</c> as typed; <see cref="ToSelection"/> checks and resolves them.</summary>
internal sealed record FlameCommandFilters(string? Domain = null, string? Event = null, int? Pid = null, int? Tid = null, double? FromSeconds = null, double? ToSeconds = null)
{
    public FlameSelection ToSelection(FlameSource source)
    {
        int? domain = Domain is null or "all" ? null
            : int.TryParse(Domain, NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d
            : throw new UserErrorException($"--domain takes a domain id or 'all', not '{Domain}'");
        if (FromSeconds < 0 || ToSeconds < 0 || FromSeconds >= ToSeconds)
            throw new UserErrorException("--from and --to are seconds after the first sample, with --from before --to");
        long? t0 = FromSeconds != null || ToSeconds != null ? source.FirstSampleNs() : null;
        return new FlameSelection
        {
            Domain = domain, Event = Event, Pid = Pid, Tid = Tid,
            FromNs = FromSeconds is { } f ? t0 + (long)(f * 1e9) : null,
            ToNs = ToSeconds is { } t ? t0 + (long)(t * 1e9) : null,
        };
    }
}
