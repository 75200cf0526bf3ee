using System.CommandLine;
using XenProf.Cli.Options;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Text;

namespace XenProf.Cli.Commands;

/// <summary><c>xenoprof opreport</c>: the image summary, or per-symbol with <c>-l</c>, in opreport's layout.</summary>
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
        var noRecovery = new Option<bool>("--no-recovery") { Description = "Do not recover functions in stripped code (.eh_frame, PLT, call targets): unresolved samples stay '(no symbols)', as perf shows them" };
        var domain = new Option<string?>("--domain") { Description = "Xen sessions: report domain N only, or 'all' for one section per domain (passive domains appear in domain 0 as domainN-*)" };
        var demangle = CommonOptions.Demangle();
        var file = CommonOptions.TraceFile();
        var kallsyms = CommonOptions.Kallsyms();
        var strict = CommonOptions.Strict();
        var cmd = new Command("opreport", "Report samples per image, or per symbol with -l, from a session or straight from a perf.data")
        {
            file, kallsyms, strict, dir, symbols, noErr, threshold, longNames, noHeader, details, callgraph, noRecovery, domain, demangle, Run.Verbose,
        };
        cmd.SetAction(pr => Run.Guarded("opreport", pr.GetValue(Run.Verbose), ct => CommonOptions.WithDemangle(pr.GetValue(demangle), () => Execute(
            DirectTrace.SessionFor("opreport", pr.GetValue(file), pr.GetValue(dir)!, pr.GetValue(kallsyms), ct, pr.GetValue(strict)),
            new OpreportOptions
            {
                Symbols = pr.GetValue(symbols), ErrorBars = !pr.GetValue(noErr), Threshold = pr.GetValue(threshold),
                LongFilenames = pr.GetValue(longNames), NoHeader = pr.GetValue(noHeader), Details = pr.GetValue(details), Callgraph = pr.GetValue(callgraph),
            },
            Console.Out, pr.GetValue(domain), recoverFunctions: !pr.GetValue(noRecovery)))));
        return cmd;
    }

    /// <summary>Builds the profile of session <paramref name="sessionDir"/> and writes the report to <paramref name="stdout"/>;
    /// <paramref name="domain"/> is null (every domain together), a domain id, or <c>all</c> (one section per domain with samples).</summary>
    public static int Execute(string sessionDir, OpreportOptions options, TextWriter stdout, string? domain = null, bool recoverFunctions = true)
    {
        var warnings = new List<string>();
        void Report(XenProf.Reporter.Profile.Profile profile)
        {
            OpreportWriter.Write(profile, stdout, options);
            warnings.AddRange(profile.Warnings.Except(warnings));
        }
        using var symbolizer = new XenProf.Reporter.Symbols.Symbolizer(SessionProfiles.SymbolizerOptionsFor(sessionDir) with { RecoverFunctions = recoverFunctions });
        if (domain == null) Report(SessionProfiles.Load(sessionDir, new ProfileOptions { WithDetails = options.Details, WithStacks = options.Callgraph }, symbolizer));
        else if (domain == "all")
        {
            foreach (var (id, name, profile) in XenProf.Reporter.Xen.XenDomainReports.LoadAll(sessionDir, new ProfileOptions { WithDetails = options.Details, WithStacks = options.Callgraph }))
            {
                stdout.WriteLine($"==== domain {id} ({name}) ====");
                Report(profile);
                stdout.WriteLine();
            }
        }
        else if (int.TryParse(domain, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
            Report(SessionProfiles.Load(sessionDir, new ProfileOptions { Domain = id, WithDetails = options.Details, WithStacks = options.Callgraph }, symbolizer));
        else throw new UserErrorException($"--domain={domain}: expected a domain id or 'all'");
        stdout.Flush();
        foreach (var warning in warnings) Console.Error.WriteLine("xenoprof opreport: warning: " + warning);
        return 0;
    }
}
