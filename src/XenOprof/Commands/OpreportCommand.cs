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
        var details = new Option<bool>("--details") { Description = "Per-instruction rows (vma, samples, % of the symbol) under each symbol; implies -l (opreport spells it -d too; here -d is --session-dir)" };
        var noRecovery = new Option<bool>("--no-recovery") { Description = "Do not recover functions in stripped code (.eh_frame, PLT, call targets): unresolved samples stay '(no symbols)', as perf shows them" };
        var file = CommonOptions.TraceFile();
        var kallsyms = CommonOptions.Kallsyms();
        var cmd = new Command("opreport", "Report samples per image, or per symbol with -l, from a session or straight from a perf.data")
        {
            file, kallsyms, dir, symbols, noErr, threshold, longNames, noHeader, details, noRecovery, Run.Verbose,
        };
        cmd.SetAction(pr => Run.Guarded("opreport", pr.GetValue(Run.Verbose), ct => Execute(
            DirectTrace.SessionFor("opreport", pr.GetValue(file), pr.GetValue(dir)!, pr.GetValue(kallsyms), ct),
            new OpreportOptions
            {
                Symbols = pr.GetValue(symbols), ErrorBars = !pr.GetValue(noErr), Threshold = pr.GetValue(threshold),
                LongFilenames = pr.GetValue(longNames), NoHeader = pr.GetValue(noHeader), Details = pr.GetValue(details),
            },
            Console.Out, recoverFunctions: !pr.GetValue(noRecovery))));
        return cmd;
    }

    /// <summary>Builds the profile of session <paramref name="sessionDir"/> and writes the report to <paramref name="stdout"/>.</summary>
    public static int Execute(string sessionDir, OpreportOptions options, TextWriter stdout, bool recoverFunctions = true)
    {
        using var symbolizer = new XenProf.Reporter.Symbols.Symbolizer(SessionProfiles.SymbolizerOptionsFor(sessionDir) with { RecoverFunctions = recoverFunctions });
        var profile = SessionProfiles.Load(sessionDir, new ProfileOptions { WithDetails = options.Details }, symbolizer);
        OpreportWriter.Write(profile, stdout, options);
        stdout.Flush();
        foreach (var warning in profile.Warnings) Console.Error.WriteLine("xenoprof opreport: warning: " + warning);
        return 0;
    }
}
