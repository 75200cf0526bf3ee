using System.CommandLine;
using XenProf.Cli.Options;
using XenProf.Reporter.Csv;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Text;

namespace XenProf.Cli.Commands;

/// <summary>What a differential report was asked for: the opreport options it honours.</summary>
internal sealed record DiffRequest(bool Symbols = false, double Threshold = 0, bool LongFilenames = false, bool NoHeader = false, bool Csv = false,
    double Alpha = 0.001, bool RecoverFunctions = true, string? Kallsyms = null, bool Strict = false, bool Callgraph = false);

/// <summary><c>xenoprof diff BASE NEW</c>: the short form of <c>opreport { BASE } { NEW }</c>, also with <c>--clickhouse</c>.</summary>
internal static class DiffCommand
{
    public static Command Create()
    {
        var baseArg = new Argument<string>("base") { Description = "The base profile: a session directory, session:NAME or a trace file (perf.data, perf script text, .nettrace); with --clickhouse, pushed sessions by host:NAME[,NAME] or session:ID[,ID]" };
        var newArg = new Argument<string>("new") { Description = "The new profile, named the same ways" };
        var dir = CommonOptions.SessionDir();
        var symbols = ReportOptions.Symbols();
        var threshold = ReportOptions.Threshold();
        var longNames = ReportOptions.LongFilenames();
        var noHeader = ReportOptions.NoHeader();
        var csv = new Option<bool>("--csv") { Description = "Write RFC 4180 CSV: event, base_samples, base_percent, new_samples, new_percent, delta_pp, p_value, significant, image[, symbol]" };
        var alpha = ReportOptions.Alpha();
        var callgraph = new Option<bool>("--callgraph", "-c") { Description = "Per function: callers, [self] and callees with their samples on each side (opreport -c of both profiles); needs recordings with callchains" };
        var noRecovery = ReportOptions.NoRecovery();
        var demangle = CommonOptions.Demangle();
        var kallsyms = CommonOptions.Kallsyms();
        var strict = CommonOptions.Strict();
        var fleet = new OpreportFleet();
        var cmd = new Command("diff", "Differential profile of two sessions or traces (opreport { BASE } { NEW }), or with --clickhouse of two selections of pushed sessions (host:NAME, session:ID): per image, or per symbol with -l, each row's change and whether it is significant")
        {
            baseArg, newArg, dir, symbols, threshold, longNames, noHeader, csv, alpha, callgraph, noRecovery, demangle, kallsyms, strict,
            fleet.Url, fleet.Database, fleet.From, fleet.To, Run.Verbose,
        };
        cmd.SetAction(pr => Run.Guarded("diff", pr.GetValue(Run.Verbose), ct => CommonOptions.WithDemangle(pr.GetValue(demangle), () =>
        {
            var (b, n) = (new ProfileGroup(pr.GetValue(baseArg)!, []), new ProfileGroup(pr.GetValue(newArg)!, []));
            var request = new DiffRequest(pr.GetValue(symbols), pr.GetValue(threshold), pr.GetValue(longNames), pr.GetValue(noHeader), pr.GetValue(csv),
                pr.GetValue(alpha), !pr.GetValue(noRecovery), pr.GetValue(kallsyms), pr.GetValue(strict), pr.GetValue(callgraph));
            return fleet.Target(pr, []) is { } target
                ? OpreportFleet.ExecuteDiff(target, b, n, request, "diff", Console.Out, ct)
                : Execute(b, n, pr.GetValue(dir)!, request, "diff", Console.Out, ct);
        })));
        return cmd;
    }

    /// <summary>
    /// Builds one profile per side (each read from its own session: a directory, <c>session:NAME</c> of
    /// <paramref name="sessionDir"/>, or a trace file's cached import), compares them and writes the report to
    /// <paramref name="stdout"/>; symbolization warnings go to stderr.
    /// </summary>
    public static int Execute(ProfileGroup baseGroup, ProfileGroup newGroup, string sessionDir, DiffRequest request, string verb, TextWriter stdout, CancellationToken ct)
    {
        Check(request);
        return Write(Load(baseGroup, sessionDir, request, verb, ct), Load(newGroup, sessionDir, request, verb, ct), baseGroup, newGroup, request, verb, stdout);
    }

    /// <summary>
    /// Checks what <paramref name="request"/> asks for before any profile is built: an <c>--alpha</c> in (0, 1), and
    /// <c>-c</c> without <c>--csv</c>. Throws <see cref="UserErrorException"/>.
    /// </summary>
    public static void Check(DiffRequest request)
    {
        if (!(request.Alpha > 0 && request.Alpha < 1)) throw new UserErrorException($"--alpha={request.Alpha}: expected a level between 0 and 1, e.g. 0.001");
        if (request.Callgraph && request.Csv) throw new UserErrorException("-c/--callgraph is written as text only; drop --csv");
    }

    /// <summary>
    /// Compares <paramref name="baseProfile"/> with <paramref name="newProfile"/> (built with stacks for <c>-c</c>), wherever
    /// they were read from, and writes the text, CSV or callgraph report to <paramref name="stdout"/>, the header naming the
    /// groups as typed; both sides' warnings go to stderr once each.
    /// </summary>
    public static int Write(XenProf.Reporter.Profile.Profile baseProfile, XenProf.Reporter.Profile.Profile newProfile, ProfileGroup baseGroup, ProfileGroup newGroup,
        DiffRequest request, string verb, TextWriter stdout)
    {
        var compare = new DiffOptions { Symbols = request.Symbols, LongFilenames = request.LongFilenames, Alpha = request.Alpha };
        var options = new DiffReportOptions { BaseName = baseGroup.ToString(), NewName = newGroup.ToString(), Threshold = request.Threshold, NoHeader = request.NoHeader };
        if (request.Callgraph) DiffCallgraphWriter.Write(baseProfile, newProfile, stdout, compare, options);
        else if (request.Csv) DiffCsvWriter.Write(ProfileDiff.Compare(baseProfile, newProfile, compare), stdout, options);
        else DiffWriter.Write(ProfileDiff.Compare(baseProfile, newProfile, compare), stdout, options);
        stdout.Flush();
        foreach (var w in baseProfile.Warnings.Concat(newProfile.Warnings).Distinct()) Console.Error.WriteLine($"xenoprof {verb}: warning: {w}");
        return 0;
    }

    private static XenProf.Reporter.Profile.Profile Load(ProfileGroup group, string sessionDir, DiffRequest request, string verb, CancellationToken ct)
    {
        var dir = DirectTrace.SourceFor(verb, group.Source, sessionDir, request.Kallsyms, ct, request.Strict, leafOnly: !request.Callgraph);
        using var symbolizer = new XenProf.Reporter.Symbols.Symbolizer(SessionProfiles.SymbolizerOptionsFor(dir) with { RecoverFunctions = request.RecoverFunctions });
        return SessionProfiles.Load(dir, ProfileGroups.QueryOf(group) with { WithStacks = request.Callgraph }, symbolizer);
    }
}
