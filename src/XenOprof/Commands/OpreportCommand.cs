using System.CommandLine;
using XenProf.Cli.Options;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Text;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof opreport</c>: the image summary, or per-symbol with <c>-l</c>, in opreport's text layout, as CSV
/// (<c>--csv</c>) or as oprofile's XML report (<c>--xml</c>).</summary>
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
        var file = ProfileGroups.Argument();
        var kallsyms = CommonOptions.Kallsyms();
        var strict = CommonOptions.Strict();
        var cmd = new Command("opreport", "Report samples per image, or per symbol with -l, from a session or straight from a perf.data")
        {
            file, kallsyms, strict, dir, symbols, noErr, threshold, longNames, noHeader, details, callgraph, showAddress, csv, xml, noRecovery, domain, separate, merge, alpha, demangle, Run.Verbose,
        };
        cmd.SetAction(pr => Run.Guarded("opreport", pr.GetValue(Run.Verbose), ct => CommonOptions.WithDemangle(pr.GetValue(demangle), () =>
            ProfileGroups.Parse(pr.GetValue(file) ?? []) is { } groups
            ? DiffCommand.Execute(groups.Base, groups.New, pr.GetValue(dir)!, NotForDiff(pr.GetValue(details), pr.GetValue(showAddress), pr.GetValue(xml), pr.GetValue(domain))
                ?? new DiffRequest(pr.GetValue(symbols), pr.GetValue(threshold), pr.GetValue(longNames), pr.GetValue(noHeader), pr.GetValue(csv), pr.GetValue(alpha),
                    !pr.GetValue(noRecovery), pr.GetValue(kallsyms), pr.GetValue(strict), pr.GetValue(callgraph)), "opreport", Console.Out, ct)
            : Execute(
            DirectTrace.SessionFor("opreport", ProfileGroups.OneSource(pr.GetValue(file)), pr.GetValue(dir)!, pr.GetValue(kallsyms), ct, pr.GetValue(strict)),
            new OpreportOptions
            {
                Symbols = pr.GetValue(symbols), ErrorBars = !pr.GetValue(noErr), Threshold = pr.GetValue(threshold),
                LongFilenames = pr.GetValue(longNames), NoHeader = pr.GetValue(noHeader), Details = pr.GetValue(details), Callgraph = pr.GetValue(callgraph),
                ShowAddress = pr.GetValue(showAddress), Format = FormatOf(pr.GetValue(csv), pr.GetValue(xml)),
            },
            Console.Out, pr.GetValue(domain), recoverFunctions: !pr.GetValue(noRecovery), separate: pr.GetValue(separate), merge: pr.GetValue(merge)))));
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

    /// <summary>The XML report's title: oprofile writes "opreport" and the options that shape the report.</summary>
    private static string Title(OpreportOptions o) =>
        "opreport" + (o.Symbols ? " -l" : "") + (o.Details ? " -d" : "") + (o.ShowAddress ? " -w" : "") + (o.LongFilenames ? " -f" : "")
        + (o.Threshold > 0 ? " -t " + o.Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture) : "") + " --xml";

    /// <summary>Builds the profile of session <paramref name="sessionDir"/> and writes the report to <paramref name="stdout"/>;
    /// <paramref name="domain"/> is null (every domain together), a domain id, or <c>all</c> (one section per domain with samples);
    /// <paramref name="separate"/> and <paramref name="merge"/> are opreport's <c>--separate</c>/<c>--merge</c> lists
    /// (<see cref="SessionProfiles.SeparationFor"/>; a callgraph is always merged).</summary>
    public static int Execute(string sessionDir, OpreportOptions options, TextWriter stdout, string? domain = null, bool recoverFunctions = true,
        string? separate = null, string? merge = null)
    {
        var sep = options.Callgraph ? Separation.None : SessionProfiles.SeparationFor(sessionDir, separate, merge);
        var warnings = new List<string>();
        void Report(XenProf.Reporter.Profile.Profile profile)
        {
            OpreportOutput.Write(profile, stdout, options, Title(options));
            warnings.AddRange(profile.Warnings.Except(warnings));
        }
        using var symbolizer = new XenProf.Reporter.Symbols.Symbolizer(SessionProfiles.SymbolizerOptionsFor(sessionDir) with { RecoverFunctions = recoverFunctions });
        bool withDetails = options.Details || options.ShowAddress;
        if (options.Callgraph && options.Format != OpreportFormat.Text)
            throw new UserErrorException($"-c/--callgraph is written as text only; drop --{options.Format.ToString().ToLowerInvariant()}");
        if (domain == "all" && options.Format != OpreportFormat.Text)
            throw new UserErrorException($"--domain=all writes one report per domain; with --{options.Format.ToString().ToLowerInvariant()} pick one domain (--domain=N)");
        if (domain == null) Report(SessionProfiles.Load(sessionDir, new ProfileOptions { WithDetails = withDetails, WithStacks = options.Callgraph, Separate = sep }, symbolizer));
        else if (domain == "all")
        {
            foreach (var (id, name, profile) in XenProf.Reporter.Xen.XenDomainReports.LoadAll(sessionDir, new ProfileOptions { WithDetails = options.Details, WithStacks = options.Callgraph, Separate = sep }))
            {
                stdout.WriteLine($"==== domain {id} ({name}) ====");
                Report(profile);
                stdout.WriteLine();
            }
        }
        else if (int.TryParse(domain, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
            Report(SessionProfiles.Load(sessionDir, new ProfileOptions { Domain = id, WithDetails = withDetails, WithStacks = options.Callgraph, Separate = sep }, symbolizer));
        else throw new UserErrorException($"--domain={domain}: expected a domain id or 'all'");
        stdout.Flush();
        foreach (var warning in warnings) Console.Error.WriteLine("xenoprof opreport: warning: " + warning);
        return 0;
    }
}
