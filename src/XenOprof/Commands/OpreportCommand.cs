using System.CommandLine;
using XenProf.Cli.Options;
using XenProf.Reporter.Text;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof opreport</c>: the image summary, or per-symbol with <c>-l</c>, in opreport's text layout, as CSV
/// (<c>--csv</c>) or as oprofile's XML report (<c>--xml</c>); with two profiles <c>{ BASE } { NEW }</c>, the differential
/// report (<see cref="DiffCommand"/>).</summary>
internal static class OpreportCommand
{
    public static Command Create()
    {
        var dir = CommonOptions.SessionDir();
        var symbols = ReportOptions.Symbols();
        var noErr = new Option<bool>("--no-error-bars") { Description = "Omit the ± sampling-error column (classic opreport layout)" };
        var threshold = ReportOptions.Threshold();
        var longNames = ReportOptions.LongFilenames();
        var noHeader = ReportOptions.NoHeader();
        var details = new Option<bool>("--details", "-d") { Description = "Per-instruction rows (vma, samples, % of the symbol) under each symbol; implies -l" };
        var callgraph = new Option<bool>("--callgraph", "-c") { Description = "Per function: its direct callers above, its own samples ([self]) and direct callees below; needs a recording with callchains" };
        var showAddress = new Option<bool>("--show-address", "-w") { Description = "Show each symbol's start address (a vma column); implies -l" };
        var csv = new Option<bool>("--csv") { Description = "Write RFC 4180 CSV: a header, then one record per row and event (columns event, samples, percent, stderr_pp, image, symbol, vma…)" };
        var xml = new Option<bool>("--xml") { Description = "Write oprofile's XML report (opreport.xsd schema version 3.0); always lists symbols" };
        var noRecovery = ReportOptions.NoRecovery();
        var alpha = ReportOptions.Alpha();
        var domain = new Option<string?>("--domain") { Description = "Xen sessions: report domain N only, or 'all' for one section per domain (passive domains appear in domain 0 as domainN-*)" };
        var separate = CommonOptions.Separate("Keep apart: lib (libraries per application; the image summary lists each application's images under it), kernel (kernel and modules too; implies lib), thread (a column per thread), cpu (a column per CPU), all or none; default: what the session was recorded with", shortAlias: false);
        var merge = new Option<string?>("--merge", "-m") { Description = "Merge back what the session (or --separate) separated: lib, cpu, tid, tgid (implies tid), unitmask or all", HelpName = "lib,cpu,tid,tgid,unitmask,all" };
        var demangle = CommonOptions.Demangle();
        var shape = new OpreportShapeOptions();
        var kallsyms = CommonOptions.Kallsyms();
        var strict = CommonOptions.Strict();
        var fleet = new OpreportFleet();
        var cmd = new Command("opreport", "Report samples per image, or per symbol with -l, from a session, straight from a perf.data, or from many hosts' sessions in ClickHouse")
        {
            shape.Spec, kallsyms, strict, dir, symbols, noErr, threshold, longNames, noHeader, details, callgraph, showAddress, csv, xml, noRecovery, domain,
            separate, merge, alpha, demangle, shape.Include, shape.Exclude, shape.Sort, shape.Reverse, shape.DebugInfo, shape.GlobalPercent, shape.Accumulated,
            fleet.Url, fleet.Database, fleet.From, fleet.To, Run.Verbose,
        };
        HelpGroups.Set(cmd, OpreportShapeOptions.HelpSections);
        cmd.SetAction(pr => Run.Guarded("opreport", pr.GetValue(Run.Verbose), ct => CommonOptions.WithDemangle(pr.GetValue(demangle), () =>
        {
            var specs = pr.GetValue(shape.Spec) ?? [];
            var fleetTarget = fleet.Target(pr, specs);
            DiffRequest Diff() => NotForDiff(pr.GetValue(details), pr.GetValue(showAddress), pr.GetValue(xml), pr.GetValue(domain))
                ?? new DiffRequest(pr.GetValue(symbols), pr.GetValue(threshold), pr.GetValue(longNames), pr.GetValue(noHeader), pr.GetValue(csv), pr.GetValue(alpha),
                    !pr.GetValue(noRecovery), pr.GetValue(kallsyms), pr.GetValue(strict), pr.GetValue(callgraph));
            if (fleetTarget != null && ProfileGroups.Split(specs) is { } fleetGroups)
                return OpreportFleet.ExecuteDiff(fleetTarget, fleetGroups.Base, fleetGroups.New, Diff(), "opreport", Console.Out, ct);
            if (fleetTarget == null && ProfileGroups.Parse(specs) is { } groups)
                return DiffCommand.Execute(groups.Base, groups.New, pr.GetValue(dir)!, Diff(), "opreport", Console.Out, ct);
            var options = shape.Apply(pr, new OpreportOptions
            {
                Symbols = pr.GetValue(symbols), ErrorBars = !pr.GetValue(noErr), Threshold = pr.GetValue(threshold),
                LongFilenames = pr.GetValue(longNames), NoHeader = pr.GetValue(noHeader), Details = pr.GetValue(details), Callgraph = pr.GetValue(callgraph),
                ShowAddress = pr.GetValue(showAddress), Format = FormatOf(pr.GetValue(csv), pr.GetValue(xml)),
            });
            if (fleetTarget != null && (pr.GetValue(separate) ?? pr.GetValue(merge)) != null)
                throw new UserErrorException("--separate/--merge: with --clickhouse the report is merged; select threads or CPUs with tid:N or cpu:N");
            if (fleetTarget != null)
                return OpreportFleet.Execute(fleetTarget, specs, new() { IncludeSymbols = OpreportShapeOptions.Names(pr, shape.Include), ExcludeSymbols = OpreportShapeOptions.Names(pr, shape.Exclude) },
                    options, OpreportReport.Title(options, string.Join(' ', specs)), Console.Out, pr.GetValue(domain), ct);
            var (spec, file, domainArg, query) = shape.ParseSpec(pr, pr.GetValue(domain));
            OpreportReport.Write(DirectTrace.SessionFor("opreport", file, pr.GetValue(dir)!, pr.GetValue(kallsyms), ct, pr.GetValue(strict), leafOnly: !options.Callgraph),
                options, Console.Out, Console.Error, domainArg, !pr.GetValue(noRecovery), query, spec.ToString(), pr.GetValue(separate), pr.GetValue(merge));
            return 0;
        })));
        return cmd;
    }

    /// <summary>Null when no option a differential report cannot honour is set; else throws naming it.</summary>
    private static DiffRequest? NotForDiff(bool details, bool showAddress, bool xml, string? domain) =>
        (details ? "-d" : showAddress ? "-w" : xml ? "--xml" : domain != null ? "--domain" : null) is { } o
            ? throw new UserErrorException($"{o} is not available for a differential report {{ BASE }} {{ NEW }}; drop it")
            : null;

    /// <summary>The format <c>--csv</c>/<c>--xml</c> ask for; both at once is a user error.</summary>
    private static OpreportFormat FormatOf(bool csv, bool xml) =>
        csv && xml ? throw new UserErrorException("--csv and --xml: choose one output format")
        : csv ? OpreportFormat.Csv : xml ? OpreportFormat.Xml : OpreportFormat.Text;
}
