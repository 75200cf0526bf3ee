using System.CommandLine;
using System.Globalization;
using XenProf.Cli.Options;
using XenProf.Reporter.Flame;
using XenProf.Reporter.Plots;
using XenProf.Reporter.Web;
using XenProf.Sampler.Import;
using XenProf.Sampler.Import.PerfScript;

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
        var ev = new Option<string?>("--event", "--event-filter") { Description = "Event name (default: the session's first event; folded: the first event sampled, as stackcollapse-perf.pl; chrome and pprof take every event)" };
        var stray = new List<string>(); // tokens a bare --pid/--tid took that are not numbers: the trace file
        var pid = PidOrFlag(stray, "--pid", "Only samples of this process; without a number (folded): name roots comm-PID, as stackcollapse-perf.pl --pid");
        var tid = PidOrFlag(stray, "--tid", "Only samples of this thread; without a number (folded): name roots comm-PID/TID, as stackcollapse-perf.pl --tid");
        var from = new Option<double?>("--from") { Description = "Start of the time window, seconds after the session's first sample" };
        var to = new Option<double?>("--to") { Description = "End of the time window (exclusive), seconds after the session's first sample" };
        var title = new Option<string?>("--title") { Description = "SVG/HTML title (default: Flame Graph; HTML: XenProf report)" };
        var width = new Option<int>("--width") { Description = "SVG width in pixels", DefaultValueFactory = _ => SvgFlameOptions.Default.Width };
        var minWidth = new Option<double>("--minwidth") { Description = "Omit SVG frames narrower than this many pixels", DefaultValueFactory = _ => SvgFlameOptions.Default.MinWidthPx };
        var inverted = new Option<bool>("--inverted") { Description = "Icicle graph: root at the top" };
        var annotate = new Option<bool>("--all", "--annotate") { Description = "Folded: mark kernel frames _[k], JIT _[j], hypervisor _[h], guest _[g] (stackcollapse-perf.pl --all)" };
        var kernel = new Option<bool>("--kernel") { Description = "Folded: mark kernel frames _[k] (stackcollapse-perf.pl --kernel)" };
        var jit = new Option<bool>("--jit") { Description = "Folded: mark frames of perf-PID.map JIT maps _[j] (stackcollapse-perf.pl --jit)" };
        var addrs = new Option<bool>("--addrs") { Description = "Folded: unknown frames as [dso <address>] (stackcollapse-perf.pl --addrs)" };
        var inline = new Option<bool>("--inline") { Description = "Folded, perf script input: expand inlined functions with addr2line (stackcollapse-perf.pl --inline)" };
        var context = new Option<bool>("--context") { Description = "With --inline: function:file:line (stackcollapse-perf.pl --context)" };
        var weight = new Option<string>("--weight") { Description = "What every format but html (which counts samples, as serve) weighs a sample by: period (default; the sample's period as perf gives it, as stackcollapse-perf.pl sums it) or samples", DefaultValueFactory = _ => "period" };
        weight.AcceptOnlyFromAmong("period", "samples");
        var diffBase = new Option<string?>("--diff-base") { Description = "Differential flame graph (svg or folded; html: the browser report's differential table and flame graph): the base profile (a session directory, session:NAME or a trace file), compared with the new one (the trace argument or --session-dir); colours red for growth, blue for shrink, widths from the new profile, as FlameGraph's difffolded.pl + flamegraph.pl" };
        var normalize = new Option<bool>("--normalize") { Description = "With --diff-base: scale the base counts to the new total (difffolded.pl -n)" };
        var demangle = CommonOptions.Demangle();
        var file = CommonOptions.TraceFile();
        var kallsyms = CommonOptions.Kallsyms();
        var strict = CommonOptions.Strict();
        var (url, database) = (FleetOptions.ClickHouse(), FleetOptions.Database());
        var cmd = new Command("flame", "Export a session or a perf.data: flame graph (SVG, HTML), folded stacks, speedscope, Chrome trace, pprof or PNG plots; with --clickhouse URL [host:NAME[,NAME] | session:ID], folded, SVG, speedscope or pprof of pushed sessions")
        {
            file, kallsyms, strict, dir, output, format, domain, ev, pid, tid, from, to, title, width, minWidth, inverted, annotate, kernel, jit, addrs, inline, context, weight, diffBase, normalize, demangle, url, database, Run.Verbose,
        };
        cmd.SetAction(pr => Run.Guarded("flame", pr.GetValue(Run.Verbose), ct => CommonOptions.WithDemangle(pr.GetValue(demangle), () =>
        {
            var (pidFilter, pidNames) = PidValue(pr.GetResult(pid), pr.GetValue(pid), "--pid");
            var (tidFilter, tidNames) = PidValue(pr.GetResult(tid), pr.GetValue(tid), "--tid");
            var filters = new FlameCommandFilters(pr.GetValue(domain), pr.GetValue(ev), pidFilter, tidFilter, pr.GetValue(from), pr.GetValue(to));
            var folded = new FoldedCommandOptions(pr.GetValue(annotate), pr.GetValue(kernel), pr.GetValue(jit), pr.GetValue(addrs), pidNames, tidNames,
                pr.GetValue(weight) == "samples", pr.GetValue(inline), pr.GetValue(context));
            string? trace = pr.GetValue(file);
            if (stray.Count > (trace == null ? 1 : 0))
                throw new UserErrorException($"--pid and --tid take a number or nothing, not '{stray[^1]}'");
            trace ??= stray.FirstOrDefault();
            var fmt = FormatOf(pr.GetValue(output)!, pr.GetValue(format));
            if (pr.GetValue(url) is { } chUrl)
                return pr.GetValue(diffBase) != null ? throw new UserErrorException("--diff-base compares local profiles; with --clickhouse use opreport { host:A } { host:B }")
                    : FlameFleet.Execute(new FleetTarget(chUrl, pr.GetValue(database)!, null, null), trace, pr.GetValue(output)!, fmt, filters,
                        Svg(pr.GetValue(title), pr.GetValue(width), pr.GetValue(minWidth), pr.GetValue(inverted)), folded, Console.Error, ct);
            if (pr.GetValue(diffBase) is { } baseSpec)
            {
                string baseDir = DirectTrace.SourceFor("flame", baseSpec, pr.GetValue(dir)!, pr.GetValue(kallsyms), ct, pr.GetValue(strict));
                string newDir = trace == null ? pr.GetValue(dir)! : DirectTrace.SourceFor("flame", trace, pr.GetValue(dir)!, pr.GetValue(kallsyms), ct, pr.GetValue(strict));
                return fmt == FlameFormat.Html
                    ? WriteOffline(() => new WebSession(baseDir, newDir, baseSpec, trace ?? newDir), pr.GetValue(output)!, filters, pr.GetValue(title), Console.Error)
                    : FlameDiff.Execute(baseDir, newDir, pr.GetValue(output)!, fmt, filters, Svg(pr.GetValue(title), pr.GetValue(width), pr.GetValue(minWidth), pr.GetValue(inverted)),
                        folded.All, pr.GetValue(normalize), Console.Error);
            }
            // perf script text folds straight through the stackcollapse-perf.pl rules, byte for byte; no import.
            if (fmt == FlameFormat.Folded && trace != null && filters is { Domain: null, Pid: null, Tid: null, FromSeconds: null, ToSeconds: null }
                && File.Exists(trace) && TraceImport.Sniff(trace) == TraceFormat.PerfScript)
                return FoldPerfScript(trace, pr.GetValue(output)!, filters.Event, folded, Console.Error, pr.GetValue(strict));
            if (folded.Inline) Console.Error.WriteLine("xenoprof flame: warning: --inline applies to folding perf script text without filters; ignored");
            return Execute(DirectTrace.SessionFor("flame", trace, pr.GetValue(dir)!, pr.GetValue(kallsyms), ct, pr.GetValue(strict)), pr.GetValue(output)!, pr.GetValue(format), filters,
                Svg(pr.GetValue(title), pr.GetValue(width), pr.GetValue(minWidth), pr.GetValue(inverted)),
                folded, Console.Error);
        })));
        return cmd;
    }

    private static SvgFlameOptions Svg(string? title, int width, double minWidth, bool inverted) =>
        width <= 20 ? throw new UserErrorException("--width must be more than 20 pixels")
        : new SvgFlameOptions { Title = title ?? "Flame Graph", Width = width, MinWidthPx = minWidth, Inverted = inverted };

    /// <summary>
    /// <c>--pid</c>/<c>--tid</c>: a number filters; alone it is stackcollapse-perf.pl's flag. A next token that is not a
    /// number (an option ends the value before it) is put in <paramref name="stray"/>: it is the trace file
    /// (<c>flame --pid perf.txt</c>), as System.CommandLine gives options no way to hand a token back.
    /// </summary>
    private static Option<string?> PidOrFlag(List<string> stray, string name, string description) => new(name)
    {
        Description = description,
        Arity = ArgumentArity.ZeroOrOne,
        CustomParser = r =>
        {
            if (r.Tokens.Count == 0) return "";
            var t = r.Tokens[0].Value;
            if (t.Length > 0 && t.All(char.IsAsciiDigit)) return t;
            stray.Add(t);
            return "";
        },
    };

    private static (int? Filter, bool Names) PidValue(System.CommandLine.Parsing.OptionResult? result, string? value, string name)
    {
        if (result == null) return (null, false);
        if (string.IsNullOrEmpty(value)) return (null, true);
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? (n, false)
            : throw new UserErrorException($"{name} takes a process or thread id, not '{value}'");
    }

    private static FlameFormat FormatOf(string output, string? format) => format != null
        ? FlameExport.Parse(format) ?? throw new UserErrorException($"unknown format '{format}'; use folded, svg, html, speedscope, chrome, pprof or png")
        : FlameExport.FromFileName(output) ?? throw new UserErrorException($"cannot tell the format from '{Path.GetFileName(output)}'; use --format");

    /// <summary>
    /// Folds perf script text <paramref name="trace"/> into <paramref name="output"/> as stackcollapse-perf.pl does with the
    /// same flags. Lines an import would skip are counted in a warning first; <paramref name="strict"/> stops at the first
    /// of them (a <see cref="Hypervisor.Binary.MalformedDataException"/> naming the file and line) before anything is written.
    /// </summary>
    public static int FoldPerfScript(string trace, string output, string? eventFilter, FoldedCommandOptions folded, TextWriter stderr, bool strict = false)
    {
        if (TraceImport.CheckPerfScript(trace, strict) is { } skipped) stderr.WriteLine($"xenoprof flame: warning: {skipped}");
        var options = new CollapseOptions
        {
            Pid = folded.PidNames, Tid = folded.TidNames, Kernel = folded.Kernel || folded.All, Jit = folded.Jit || folded.All, Addrs = folded.Addrs,
            Inline = folded.Inline, Context = folded.Context, EventFilter = eventFilter, CountSamples = folded.CountSamples,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        using (var input = File.OpenRead(trace))
        using (var f = File.Create(output))
            PerfScriptCollapse.Collapse(input, f, options, new PrefixedWriter(stderr, "xenoprof flame: "));
        stderr.WriteLine($"xenoprof flame: wrote {Path.GetFullPath(output)}");
        return 0;
    }

    /// <summary>Writes <paramref name="output"/> from session <paramref name="sessionDir"/>; reports the paths written on <paramref name="stderr"/>.</summary>
    public static int Execute(string sessionDir, string output, string? format, FlameCommandFilters filters, SvgFlameOptions svg, FoldedCommandOptions folded, TextWriter stderr)
    {
        var fmt = FormatOf(output, format);
        if (svg.Width <= 20) throw new UserErrorException("--width must be more than 20 pixels");
        if (!Directory.Exists(sessionDir)) throw new UserErrorException($"no session directory {sessionDir}; record one first (xenoprof record -- CMD)");

        if (fmt == FlameFormat.Html) return WriteOffline(() => new WebSession(sessionDir), output, filters, svg.Title == SvgFlameOptions.Default.Title ? null : svg.Title, stderr);

        // Time-ordered formats, timelines and folded (its first sampled event, per-thread roots) need every sample; SVG reads the per-stack totals.
        bool withSamples = fmt is not FlameFormat.Svg;
        // Folded output is perf script | stackcollapse-perf.pl's: what no symbol covers is [unknown] there, not recovered.
        var source = FlameSource.Open(sessionDir, filters.ToSelection(), withSamples, relativeTimes: true, recoverFunctions: fmt != FlameFormat.Folded);
        var foldedOptions = new FoldedOptions
        {
            PerfScriptRules = true, AnnotateKernel = folded.All, Kernel = folded.Kernel, Jit = folded.Jit, Addrs = folded.Addrs,
            ProcessNames = folded.TidNames ? FoldedProcessName.CommPidTid : folded.PidNames ? FoldedProcessName.CommPid : FoldedProcessName.Comm,
            Weight = folded.CountSamples ? FoldedWeight.Samples : FoldedWeight.Period,
        };
        var options = new FlameExportOptions { Selection = source.Selection, Svg = svg, Folded = foldedOptions, Weight = foldedOptions.Weight };

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        using (var f = File.Create(output))
        {
            if (fmt == FlameFormat.Folded)
                foreach (var note in FoldedExport.Write(source, source.Selection, foldedOptions, f)) stderr.WriteLine($"xenoprof flame: note: {note}");
            else FlameExport.Write(source, fmt, f, options);
        }
        stderr.WriteLine($"xenoprof flame: wrote {Path.GetFullPath(output)}");
        if (fmt == FlameFormat.Png)
        {
            string timeline = Path.ChangeExtension(output, ".timeline.png");
            using (var f = File.Create(timeline)) PlotWriter.WriteTimeline(source, f, options);
            stderr.WriteLine($"xenoprof flame: wrote {Path.GetFullPath(timeline)}");
        }
        return 0;
    }

    /// <summary>
    /// The browser report as one offline file (<see cref="OfflineReport"/>): the whole session, every event, counted in
    /// samples as <c>serve</c> counts them. The selection flags have no offline form (the page chooses events itself, and
    /// a time window or a domain is a new profile), so they are refused rather than ignored.
    /// </summary>
    private static int WriteOffline(Func<WebSession> open, string output, FlameCommandFilters filters, string? title, TextWriter stderr)
    {
        string? flag = filters.Domain != null ? "--domain" : filters.Event != null ? "--event" : filters.Pid != null ? "--pid" : filters.Tid != null ? "--tid"
            : filters.FromSeconds != null || filters.ToSeconds != null ? "--from/--to" : null;
        if (flag != null)
            throw new UserErrorException($"{flag}: the html report holds the whole session and every event, chosen in the page; for a time window or a domain use xenoprof serve, or another --format");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        OfflineReportStats stats;
        using (var session = open())
        using (var f = File.Create(output)) stats = OfflineReport.Write(session, f, new OfflineReportOptions { Title = title });
        stderr.WriteLine($"xenoprof flame: wrote {Path.GetFullPath(output)} ({stats.Bytes} bytes; call graph and disassembly of the {stats.Functions} functions with the most samples)");
        return 0;
    }

    /// <summary>Prefixes each line written (the folder's warnings) with the verb's name.</summary>
    private sealed class PrefixedWriter(TextWriter inner, string prefix) : TextWriter
    {
        public override System.Text.Encoding Encoding => inner.Encoding;
        public override void WriteLine(string? value) => inner.WriteLine(prefix + value);
        public override void Write(char value) => inner.Write(value);
    }
}

/// <summary>The folded-stack flags of <c>flame</c>, named after stackcollapse-perf.pl's (<c>--all</c>, <c>--kernel</c>, <c>--jit</c>, <c>--addrs</c>, bare <c>--pid</c>/<c>--tid</c>, <c>--inline</c>, <c>--context</c>) plus <c>--weight samples</c>.</summary>
internal sealed record FoldedCommandOptions(bool All = false, bool Kernel = false, bool Jit = false, bool Addrs = false, bool PidNames = false, bool TidNames = false,
    bool CountSamples = false, bool Inline = false, bool Context = false);

/// <summary>The selection flags of <c>flame</c> as typed; <see cref="ToSelection"/> checks and resolves them.</summary>
internal sealed record FlameCommandFilters(string? Domain = null, string? Event = null, int? Pid = null, int? Tid = null, double? FromSeconds = null, double? ToSeconds = null)
{
    /// <summary>The selection, with <c>--from</c>/<c>--to</c> as nanoseconds after the first sample (build the profile with relative times).</summary>
    public FlameSelection ToSelection()
    {
        int? domain = Domain is null or "all" ? null
            : int.TryParse(Domain, NumberStyles.None, CultureInfo.InvariantCulture, out var d) ? d
            : throw new UserErrorException($"--domain takes a domain id or 'all', not '{Domain}'");
        if (FromSeconds < 0 || ToSeconds < 0 || FromSeconds >= ToSeconds)
            throw new UserErrorException("--from and --to are seconds after the first sample, with --from before --to");
        return new FlameSelection
        {
            Domain = domain, Event = Event, Pid = Pid, Tid = Tid,
            FromNs = FromSeconds is { } f ? (long)(f * 1e9) : null,
            ToNs = ToSeconds is { } t ? (long)(t * 1e9) : null,
        };
    }
}
