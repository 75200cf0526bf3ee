using XenProf.Reporter.Flame;
using XenProf.Reporter.Profile;
using XenProf.Sampler.Fleet;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof flame --clickhouse URL [host:NAME[,NAME] | session:ID[,ID]] -o FILE</c>: the flame graph of many hosts' pushed sessions.</summary>
internal static class FlameFleet
{
    /// <summary>
    /// Builds the merged profile of the sessions <paramref name="selector"/> picks (all when null), with stacks, summed per
    /// stack in ClickHouse (<see cref="FleetProfiles"/>); <paramref name="filters"/>' event, domain, pid and tid are WHERE
    /// clauses of those sums. Writes folded stacks (the sum of each host's local folded output), the SVG drawn from
    /// them, speedscope (one weighted entry per stack) or pprof (samples labelled by domain, pid and thread name). The
    /// fleet database holds per-stack sums, not samples in time order, so the time-ordered formats (HTML, Chrome trace,
    /// PNG), the session-clock <c>--from</c>/<c>--to</c> and per-thread roots (bare <c>--tid</c>) are user errors.
    /// </summary>
    public static int Execute(FleetTarget target, string? selector, string output, FlameFormat format, FlameCommandFilters filters, SvgFlameOptions svg,
        FoldedCommandOptions folded, TextWriter stderr, CancellationToken ct)
    {
        if (format is not (FlameFormat.Folded or FlameFormat.Svg or FlameFormat.Speedscope or FlameFormat.Pprof))
            throw new UserErrorException($"--clickhouse writes folded stacks, SVG, speedscope or pprof from the per-stack sums; {format.ToString().ToLowerInvariant()} "
                + (format == FlameFormat.Html ? "is the browser report of a session directory, whose timeline and time windows read every sample"
                    : format == FlameFormat.Chrome ? "places every sample on a time axis" : "plots samples over time")
                + ", which the fleet database does not send back");
        if (filters.FromSeconds != null || filters.ToSeconds != null)
            throw new UserErrorException("--from/--to count seconds from one session's first sample; with --clickhouse select sessions by host: or session:");
        if (folded.TidNames || folded.Inline) throw new UserErrorException("--clickhouse: per-thread roots (bare --tid) and --inline need the samples or the binaries; drop them");
        var selection = filters.ToSelection();
        var (sessions, query) = OpreportFleet.Select(target, selector == null ? [] : [selector], new ProfileOptions
        {
            Domain = selection.Domain, Event = selection.Event, Pid = selection.Pid, Tid = selection.Tid, WithStacks = true,
        });
        using var ch = new ClickHouseHttp(target.Url);
        var source = new FlameSource(FleetProfiles.Load(ch, sessions, query, ct));
        // The sums are already of the selected samples: the writers read them whole, for the one event.
        var only = new FlameSelection { Event = selection.Event };
        var foldedOptions = new FoldedOptions
        {
            PerfScriptRules = true, AnnotateKernel = folded.All, Kernel = folded.Kernel, Jit = folded.Jit, Addrs = folded.Addrs,
            ProcessNames = folded.PidNames ? FoldedProcessName.CommPid : FoldedProcessName.Comm,
            Weight = folded.CountSamples ? FoldedWeight.Samples : FoldedWeight.Period,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        using (var f = File.Create(output))
        {
            if (format == FlameFormat.Folded)
                foreach (var note in FoldedExport.Write(source, only, foldedOptions, f)) stderr.WriteLine($"xenoprof flame: note: {note}");
            else FlameExport.Write(source, format, f, new FlameExportOptions { Selection = only, Svg = svg, Folded = foldedOptions, Weight = foldedOptions.Weight });
        }
        foreach (var warning in source.Warnings) stderr.WriteLine("xenoprof flame: warning: " + warning);
        stderr.WriteLine($"xenoprof flame: wrote {Path.GetFullPath(output)}");
        return 0;
    }
}
