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
        var symbols = new Option<bool>("--symbols", "-l") { Description = "List per symbol instead of per image" };
        var noErr = new Option<bool>("--no-error-bars") { Description = "Omit the ± sampling-error column (classic opreport layout)" };
        var threshold = new Option<double>("--threshold", "-t") { Description = "Only show rows at or above this percentage of the total" };
        var longNames = new Option<bool>("--long-filenames", "-f") { Description = "Show full image paths" };
        var noHeader = new Option<bool>("--no-header", "-n") { Description = "Omit the header lines" };
        var details = new Option<bool>("--details", "-d") { Description = "Per-instruction rows (vma, samples, % of the symbol) under each symbol; implies -l" };
        var callgraph = new Option<bool>("--callgraph", "-c") { Description = "Per function: its direct callers above, its own samples ([self]) and direct callees below; needs a recording with callchains" };
        var showAddress = new Option<bool>("--show-address", "-w") { Description = "Show each symbol's start address (a vma column); implies -l" };
        var csv = new Option<bool>("--csv") { Description = "Write RFC 4180 CSV: a header, then one record per row and event (columns event, samples, percent, stderr_pp, image, symbol, vma…)" };
        var xml = new Option<bool>("--xml") { Description = "Write oprofile's XML report (opreport.xsd schema version 3.0); always lists symbols" };
        var noRecovery = new Option<bool>("--no-recovery") { Description = "Do not recover functions in stripped code (.eh_frame, PLT, call targets): unresolved samples stay '(no symbols)', as perf shows them" };
        var domain = new Option<string?>("--domain") { Description = "Xen sessions: report domain N only, or 'all' for one section per domain (passive domains appear in domain 0 as domainN-*)" };
        var demangle = CommonOptions.Demangle();
        var shape = new OpreportShapeOptions();
        var kallsyms = CommonOptions.Kallsyms();
        var strict = CommonOptions.Strict();
        var cmd = new Command("opreport", "Report samples per image, or per symbol with -l, from a session or straight from a perf.data")
        {
            shape.Spec, kallsyms, strict, dir, symbols, noErr, threshold, longNames, noHeader, details, callgraph, showAddress, csv, xml, noRecovery, domain, demangle,
            shape.Include, shape.Exclude, shape.Sort, shape.Reverse, shape.DebugInfo, shape.GlobalPercent, shape.Accumulated, Run.Verbose,
        };
        HelpGroups.Set(cmd, OpreportShapeOptions.HelpSections);
        cmd.SetAction(pr => Run.Guarded("opreport", pr.GetValue(Run.Verbose), ct => CommonOptions.WithDemangle(pr.GetValue(demangle), () =>
        {
            var options = shape.Apply(pr, new OpreportOptions
            {
                Symbols = pr.GetValue(symbols), ErrorBars = !pr.GetValue(noErr), Threshold = pr.GetValue(threshold),
                LongFilenames = pr.GetValue(longNames), NoHeader = pr.GetValue(noHeader), Details = pr.GetValue(details), Callgraph = pr.GetValue(callgraph),
                ShowAddress = pr.GetValue(showAddress), Format = FormatOf(pr.GetValue(csv), pr.GetValue(xml)),
            });
            var (spec, file, domainArg, query) = shape.ParseSpec(pr, pr.GetValue(domain));
            return Execute(DirectTrace.SessionFor("opreport", file, pr.GetValue(dir)!, pr.GetValue(kallsyms), ct, pr.GetValue(strict)),
                options, Console.Out, domainArg, !pr.GetValue(noRecovery), query, spec.ToString());
        })));
        return cmd;
    }

    /// <summary>The format <c>--csv</c>/<c>--xml</c> ask for; both at once is a user error.</summary>
    private static OpreportFormat FormatOf(bool csv, bool xml) =>
        csv && xml ? throw new UserErrorException("--csv and --xml: choose one output format")
        : csv ? OpreportFormat.Csv : xml ? OpreportFormat.Xml : OpreportFormat.Text;

    /// <summary>The XML report's title: oprofile writes "opreport" and the options that shape the report.</summary>
    private static string Title(OpreportOptions o, string spec) =>
        "opreport" + (o.Symbols ? " -l" : "") + (o.Details ? " -d" : "") + (o.ShowAddress ? " -w" : "") + (o.LongFilenames ? " -f" : "")
        + (o.DebugInfo ? " -g" : "") + (o.Sort.Count > 0 ? " --sort=" + string.Join(',', o.Sort.Select(k => k == OpreportSort.AppName ? "app-name" : k.ToString().ToLowerInvariant())) : "")
        + (o.ReverseSort ? " -r" : "") + (o.Threshold > 0 ? " -t " + o.Threshold.ToString(System.Globalization.CultureInfo.InvariantCulture) : "") + " --xml"
        + (spec.Length > 0 ? " " + spec : "");

    /// <summary>Builds the profile of session <paramref name="sessionDir"/> and writes the report to <paramref name="stdout"/>;
    /// <paramref name="domain"/> is null (every domain together), a domain id, or <c>all</c> (one section per domain with samples);
    /// <paramref name="query"/> carries the profile specification's and the symbol filters (its domain is ignored).</summary>
    public static int Execute(string sessionDir, OpreportOptions options, TextWriter stdout, string? domain = null, bool recoverFunctions = true,
        ProfileOptions? query = null, string spec = "")
    {
        var warnings = new List<string>();
        using var symbolizer = new XenProf.Reporter.Symbols.Symbolizer(SessionProfiles.SymbolizerOptionsFor(sessionDir) with { RecoverFunctions = recoverFunctions });
        void Report(XenProf.Reporter.Profile.Profile profile)
        {
            if (options.DebugInfo) OpreportDebugInfo.Attach(profile, symbolizer);
            OpreportOutput.Write(profile, stdout, options, Title(options, spec));
            warnings.AddRange(profile.Warnings.Except(warnings));
        }
        // Symbol starts: -d, -w, -g (the line of the start) and any sort (oprofile breaks ties by vma).
        bool withDetails = options.Details || options.ShowAddress || options.DebugInfo || options.Sort.Count > 0 || options.ReverseSort;
        var baseQuery = (query ?? new ProfileOptions()) with { WithDetails = withDetails, WithStacks = options.Callgraph };
        if (options.Callgraph && options.Format != OpreportFormat.Text)
            throw new UserErrorException($"-c/--callgraph is written as text only; drop --{options.Format.ToString().ToLowerInvariant()}");
        if (domain == "all" && options.Format != OpreportFormat.Text)
            throw new UserErrorException($"--domain=all writes one report per domain; with --{options.Format.ToString().ToLowerInvariant()} pick one domain (--domain=N)");
        if (domain == null) Report(SessionProfiles.Load(sessionDir, baseQuery with { Domain = null }, symbolizer));
        else if (domain == "all")
        {
            foreach (var (id, name, profile) in XenProf.Reporter.Xen.XenDomainReports.LoadAll(sessionDir, baseQuery))
            {
                stdout.WriteLine($"==== domain {id} ({name}) ====");
                Report(profile);
                stdout.WriteLine();
            }
        }
        else if (int.TryParse(domain, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
            Report(SessionProfiles.Load(sessionDir, baseQuery with { Domain = id }, symbolizer));
        else throw new UserErrorException($"--domain={domain}: expected a domain id or 'all'");
        stdout.Flush();
        foreach (var warning in warnings) Console.Error.WriteLine("xenoprof opreport: warning: " + warning);
        return 0;
    }
}
