using System.Globalization;
using XenProf.Hypervisor.Binary;
using XenProf.Reporter.Profile;

namespace XenProf.Reporter.Text;

/// <summary>
/// One opreport run over a session directory: builds the profile of the query (per domain when asked), attaches what the
/// options need (file:line for <c>-g</c>), and writes it as text, CSV or XML. The <c>opreport</c> verb parses its
/// command line into these arguments and calls <see cref="Write"/>.
/// </summary>
public static class OpreportReport
{
    /// <summary>
    /// Writes the report of session <paramref name="sessionDir"/> to <paramref name="stdout"/> and each symbolizer
    /// warning once to <paramref name="stderr"/>. <paramref name="domain"/> is null (every domain together), a domain id,
    /// or <c>all</c> (one section per domain with samples); <paramref name="query"/> carries the profile specification's
    /// terms and the symbol filters (its domain is ignored); <paramref name="separate"/>/<paramref name="merge"/> are
    /// opreport's <c>--separate</c>/<c>--merge</c> lists (<see cref="SessionProfiles.SeparationFor"/>; a callgraph is
    /// always merged); <paramref name="spec"/> is the specification as typed, echoed in the XML title.
    /// Throws <see cref="XenProfUserException"/> for option combinations the formats cannot honour and a bad domain.
    /// </summary>
    public static void Write(string sessionDir, OpreportOptions options, TextWriter stdout, TextWriter stderr, string? domain = null,
        bool recoverFunctions = true, ProfileOptions? query = null, string spec = "", string? separate = null, string? merge = null)
    {
        var sep = options.Callgraph ? Separation.None : SessionProfiles.SeparationFor(sessionDir, separate, merge);
        var warnings = new List<string>();
        using var symbolizer = new Symbols.Symbolizer(SessionProfiles.SymbolizerOptionsFor(sessionDir) with { RecoverFunctions = recoverFunctions });
        void Report(Profile.Profile profile)
        {
            if (options.DebugInfo) OpreportDebugInfo.Attach(profile, symbolizer);
            OpreportOutput.Write(profile, stdout, options, Title(options, spec));
            warnings.AddRange(profile.Warnings.Except(warnings));
        }
        // Symbol starts: -d, -w, -g (the line of the start) and any sort (oprofile breaks ties by vma).
        bool withDetails = options.Details || options.ShowAddress || options.DebugInfo || options.Sort.Count > 0 || options.ReverseSort;
        var baseQuery = (query ?? new ProfileOptions()) with { WithDetails = withDetails, WithStacks = options.Callgraph, Separate = sep };
        string format = options.Format.ToString().ToLowerInvariant();
        if (options.Callgraph && options.Format == OpreportFormat.Xml)
            throw new XenProfUserException("-c/--callgraph is written as text or --csv; drop --xml");
        if (domain == "all" && options.Format != OpreportFormat.Text)
            throw new XenProfUserException($"--domain=all writes one report per domain; with --{format} pick one domain (--domain=N)");
        if (domain == null) Report(SessionProfiles.Load(sessionDir, baseQuery with { Domain = null }, symbolizer));
        else if (domain == "all")
        {
            foreach (var (id, name, profile) in Xen.XenDomainReports.LoadAll(sessionDir, baseQuery))
            {
                stdout.WriteLine($"==== domain {id} ({name}) ====");
                Report(profile);
                stdout.WriteLine();
            }
        }
        else if (int.TryParse(domain, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            Report(SessionProfiles.Load(sessionDir, baseQuery with { Domain = id }, symbolizer));
        else throw new XenProfUserException($"--domain={domain}: expected a domain id or 'all'");
        stdout.Flush();
        foreach (var warning in warnings) stderr.WriteLine("xenoprof opreport: warning: " + warning);
    }

    /// <summary>The XML report's title: oprofile writes "opreport" and the options that shape the report.</summary>
    public static string Title(OpreportOptions o, string spec) =>
        "opreport" + (o.Symbols ? " -l" : "") + (o.Details ? " -d" : "") + (o.ShowAddress ? " -w" : "") + (o.LongFilenames ? " -f" : "")
        + (o.DebugInfo ? " -g" : "") + (o.Sort.Count > 0 ? " --sort=" + string.Join(',', o.Sort.Select(k => k == OpreportSort.AppName ? "app-name" : k.ToString().ToLowerInvariant())) : "")
        + (o.ReverseSort ? " -r" : "") + (o.Threshold > 0 ? " -t " + o.Threshold.ToString(CultureInfo.InvariantCulture) : "") + " --xml"
        + (spec.Length > 0 ? " " + spec : "");
}
