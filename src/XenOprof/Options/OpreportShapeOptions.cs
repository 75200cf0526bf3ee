using System.CommandLine;
using XenProf.Reporter.Profile;
using XenProf.Reporter.Text;

namespace XenProf.Cli.Options;

/// <summary>
/// opreport's options that choose and shape the symbol list (opreport(1); their checks as oprofile's
/// pp/opreport_options.cpp makes them), and the positional profile specification (<see cref="ProfileSpec"/>).
/// </summary>
internal sealed class OpreportShapeOptions
{
    /// <summary>How <c>opreport --help</c> groups its options (<see cref="HelpGroups"/>): by what they do, the profile
    /// specification being the arguments section, as oprofile(1) gives it its own section.</summary>
    public static IReadOnlyList<(string Title, string[] Options)> HelpSections { get; } =
    [
        ("Report type (default: one row per image)", ["--symbols", "--details", "--callgraph"]),
        ("Choosing symbols", ["--include-symbols", "--exclude-symbols", "--threshold", "--domain"]),
        ("Ordering", ["--sort", "--reverse-sort"]),
        ("Columns", ["--show-address", "--debug-info", "--accumulated", "--global-percent", "--long-filenames", "--no-header", "--no-error-bars", "--demangle"]),
        ("Separation (default: as recorded)", ["--separate", "--merge"]),
        ("Output format (default: text)", ["--csv", "--xml"]),
        ("Differential report: opreport [options] { BASE [terms] } { NEW [terms] }", ["--alpha"]),
        ("Session and input", ["--session-dir", "--kallsyms", "--strict", "--no-recovery"]),
    ];

    /// <summary>The profile specification terms and the optional trace FILE, in any order after the options.</summary>
    public Argument<string[]> Spec { get; } = new("profile specification")
    {
        Description = "Terms tag:value choosing the samples, as oprofile's (session:NAME image:PATH[,PATH] image-exclude:PATH[,PATH] event:NAME count:N "
            + "unit-mask:N tgid:N[,N] tid:N[,N] cpu:N[,N] domain:N; image globs match the full path when they hold a '/', else the basename), "
            + "and at most one FILE: a perf.data, perf script text or .nettrace to report on directly (imported into FILE.xenoprof/ and reused while unchanged); "
            + "or two profiles { BASE [terms] } { NEW [terms] } for a differential report, each a session directory, session:NAME or a trace file",
        Arity = ArgumentArity.ZeroOrMore,
        HelpName = "tag:value… | FILE",
    };

    /// <summary><c>-i/--include-symbols</c>.</summary>
    public Option<string[]> Include { get; } = new("--include-symbols", "-i")
    {
        Description = "Only these symbols (comma-separated exact names); percentages are of their samples", HelpName = "SYMBOLS", AllowMultipleArgumentsPerToken = false,
    };

    /// <summary><c>-e/--exclude-symbols</c>.</summary>
    public Option<string[]> Exclude { get; } = new("--exclude-symbols", "-e")
    {
        Description = "Leave out these symbols (comma-separated exact names); percentages are of the samples left", HelpName = "SYMBOLS", AllowMultipleArgumentsPerToken = false,
    };

    /// <summary><c>-s/--sort</c>.</summary>
    public Option<string?> Sort { get; } = new("--sort", "-s")
    {
        Description = "Sort the symbol list by these keys in order: vma, sample (default, most first), symbol, debug (file:line), image, app-name", HelpName = "KEYS",
    };

    /// <summary><c>-r/--reverse-sort</c>.</summary>
    public Option<bool> Reverse { get; } = new("--reverse-sort", "-r") { Description = "Reverse the sort (fewest samples first by default)" };

    /// <summary><c>-g/--debug-info</c>.</summary>
    public Option<bool> DebugInfo { get; } = new("--debug-info", "-g") { Description = "A linenr info column: source file and line of each symbol (DWARF line tables, through addr2line)" };

    /// <summary><c>-%/--global-percent</c>.</summary>
    public Option<bool> GlobalPercent { get; } = new("--global-percent", "-%")
    {
        Description = "Percentages of the whole profile: -d rows of the total instead of their symbol, -c callers and callees of the total",
    };

    /// <summary><c>-a/--accumulated</c>.</summary>
    public Option<bool> Accumulated { get; } = new("--accumulated", "-a") { Description = "Add cum. samples and cum. % columns: running totals down the symbol list" };

    /// <summary>The symbols given to <paramref name="option"/>, its repeats and comma lists flattened.</summary>
    public static List<string> Names(ParseResult pr, Option<string[]> option) =>
        (pr.GetValue(option) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    /// <summary>
    /// <paramref name="o"/> with the shaping options of <paramref name="pr"/>. Throws <see cref="UserErrorException"/> where
    /// oprofile refuses a combination: a symbol-list option without a symbol list, <c>-%</c> with <c>-l</c> alone, an
    /// unknown sort key; and for <c>-c</c>, which XenProf writes without these columns or orders.
    /// </summary>
    public OpreportOptions Apply(ParseResult pr, OpreportOptions o)
    {
        var keys = (pr.GetValue(Sort) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(SortKey).ToList();
        o = o with
        {
            Sort = keys, ReverseSort = pr.GetValue(Reverse), DebugInfo = pr.GetValue(DebugInfo), GlobalPercent = pr.GetValue(GlobalPercent),
            Accumulated = pr.GetValue(Accumulated),
        };
        bool symbols = o.Symbols || o.Details || o.ShowAddress || o.Callgraph;
        bool filters = Names(pr, Include).Count > 0 || Names(pr, Exclude).Count > 0;
        if (!symbols && (o.DebugInfo || o.Accumulated))
            throw new UserErrorException("--debug-info and --accumulated are meaningless without --symbols (-l)");
        if (!symbols && filters) throw new UserErrorException("--exclude-symbols and --include-symbols are meaningless without --symbols (-l)");
        if (!symbols && keys.Contains(OpreportSort.Vma)) throw new UserErrorException("--sort=vma is meaningless without --symbols (-l)");
        if (o.GlobalPercent && o.Symbols && !(o.Details || o.Callgraph))
            throw new UserErrorException("--global-percent is meaningless with --symbols and without --details or --callgraph");
        if (o.Callgraph && (keys.Count > 0 || o.ReverseSort || o.DebugInfo || o.Accumulated))
            throw new UserErrorException("-c/--callgraph lists functions by samples without extra columns: drop --sort, --reverse-sort, --debug-info and --accumulated");
        return o;
    }

    private static OpreportSort SortKey(string key) => key switch
    {
        "vma" => OpreportSort.Vma,
        "sample" => OpreportSort.Sample,
        "symbol" => OpreportSort.Symbol,
        "debug" => OpreportSort.Debug,
        "image" => OpreportSort.Image,
        "app-name" => OpreportSort.AppName,
        _ => throw new UserErrorException($"--sort={key}: unknown sort key (expected a comma list of vma, sample, symbol, debug, image, app-name)"),
    };

    /// <summary>
    /// The profile specification of <paramref name="pr"/>; its one FILE (or <c>session:NAME</c>, for
    /// <c>DirectTrace.SessionFor</c>; null when neither); the domain to report, <c>domain:N</c> merged with
    /// <paramref name="domainOption"/> (<c>--domain</c>); and the profile query (the specification's filters and the symbol
    /// filters, without the domain). More than one FILE, a FILE with <c>session:</c>, or <c>domain:</c> contradicting
    /// <c>--domain</c> is a <see cref="UserErrorException"/>.
    /// </summary>
    public (ProfileSpec Spec, string? File, string? Domain, ProfileOptions Query) ParseSpec(ParseResult pr, string? domainOption)
    {
        var spec = ProfileSpec.Parse(pr.GetValue(Spec) ?? []);
        if (spec.Rest.Count > 1)
            throw new UserErrorException($"{string.Join(' ', spec.Rest)}: one trace FILE at most (profile specification terms are tag:value, tags: {string.Join(", ", ProfileSpec.Tags)})");
        string? file = spec.Rest.Count == 1 ? spec.Rest[0] : null;
        if (file != null && spec.Session != null) throw new UserErrorException($"{file} and session:{spec.Session}: report on a trace file or a saved session, not both");
        var domain = domainOption;
        if (spec.Domain is { } d)
        {
            var id = d.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (domainOption != null && domainOption != id) throw new UserErrorException($"domain:{id} contradicts --domain={domainOption}");
            domain = id;
        }
        var query = (spec with { Domain = null }).ApplyTo(new ProfileOptions { IncludeSymbols = Names(pr, Include), ExcludeSymbols = Names(pr, Exclude) });
        return (spec, file ?? (spec.Session != null ? "session:" + spec.Session : null), domain, query);
    }
}
