using System.Globalization;
using XenProf.Hypervisor.Binary;

namespace XenProf.Reporter.Profile;

/// <summary>
/// An oprofile profile specification: the <c>tag:value</c> terms that follow a report's options and choose which samples
/// it reads (oprofile(1), "PROFILE SPECIFICATIONS"; the tags and their parsing as in oprofile's libpp/profile_spec.cpp).
/// <list type="bullet">
/// <item><c>session:NAME</c>: a session saved with <c>opcontrol --save=NAME</c> (one name; oprofile's comma list of
/// sessions is not supported).</item>
/// <item><c>image:PATH[,PATH]</c> / <c>image-exclude:PATH[,PATH]</c>: keep only samples whose image matches one of the
/// include patterns (every image when none is given), then drop those matching an exclude pattern, as oprofile's
/// glob_filter does. A pattern is a shell glob (<c>*</c>, <c>?</c>, <c>[...]</c>, matched as fnmatch(3) without flags); a
/// pattern containing <c>/</c> matches the image's full path, any other its basename or its report name
/// (<c>[kernel.kallsyms]</c>, <c>domain1-kernel</c>); the name itself always matches.</item>
/// <item><c>event:NAME</c>, <c>count:N</c> (the event's sample period), <c>unit-mask:N</c> (decimal or 0x hex): only the
/// events that match all three (oprofile's generic_spec: <c>all</c> matches any).</item>
/// <item><c>tgid:N[,N]</c>, <c>tid:N[,N]</c>, <c>cpu:N[,N]</c>: only samples of those processes, threads or CPUs
/// (<c>all</c>: any).</item>
/// <item><c>domain:N</c>: only the samples reported for Xen domain N (a passive domain's are dom0's, as
/// <see cref="ProfileOptions.Domain"/> says).</item>
/// </list>
/// A tag given twice is an error, as in oprofile. Everything that is not <c>tag:value</c> is left to the caller
/// (<see cref="Rest"/>), e.g. a trace file to report on.
/// </summary>
public sealed record ProfileSpec
{
    /// <summary>The tags a specification understands, in the order oprofile(1) lists them (plus <c>domain</c>).</summary>
    public static IReadOnlyList<string> Tags { get; } =
        ["session", "image", "image-exclude", "event", "count", "unit-mask", "tgid", "tid", "cpu", "domain"];

    /// <summary>The saved session named by <c>session:</c>, or null for the current one.</summary>
    public string? Session { get; init; }

    /// <summary>Image include patterns (<c>image:</c>); empty keeps every image.</summary>
    public IReadOnlyList<string> Images { get; init; } = [];

    /// <summary>Image exclude patterns (<c>image-exclude:</c>).</summary>
    public IReadOnlyList<string> ImageExcludes { get; init; } = [];

    /// <summary>Event name (<c>event:</c>; case-insensitive), or null for any.</summary>
    public string? Event { get; init; }

    /// <summary>Event sample period (<c>count:</c>), or null for any.</summary>
    public ulong? Count { get; init; }

    /// <summary>Event unit mask (<c>unit-mask:</c>), or null for any.</summary>
    public uint? UnitMask { get; init; }

    /// <summary>Process ids (<c>tgid:</c>); null for any.</summary>
    public IReadOnlyList<int>? Tgids { get; init; }

    /// <summary>Thread ids (<c>tid:</c>); null for any.</summary>
    public IReadOnlyList<int>? Tids { get; init; }

    /// <summary>CPU numbers (<c>cpu:</c>); null for any.</summary>
    public IReadOnlyList<int>? Cpus { get; init; }

    /// <summary>Xen domain id (<c>domain:</c>), or null for every domain.</summary>
    public int? Domain { get; init; }

    /// <summary>The arguments that are not <c>tag:value</c> terms, in order.</summary>
    public IReadOnlyList<string> Rest { get; init; } = [];

    /// <summary>True when <paramref name="arg"/> has the shape of a term: a lower-case tag of letters and <c>-</c>, then
    /// <c>:</c>. Paths (anything with <c>/</c> or <c>.</c> before the colon) are not terms.</summary>
    public static bool IsTerm(string arg)
    {
        int colon = arg.IndexOf(':');
        if (colon <= 0) return false;
        for (int i = 0; i < colon; i++)
            if (!(char.IsAsciiLetterLower(arg[i]) || (arg[i] == '-' && i > 0))) return false;
        return true;
    }

    /// <summary>
    /// Parses <paramref name="terms"/>: every <see cref="IsTerm"/> argument as a term, the others into <see cref="Rest"/>.
    /// Throws <see cref="XenProfUserException"/> for an unknown tag (naming the valid ones), a tag given twice, or a value
    /// that is not what its tag takes.
    /// </summary>
    public static ProfileSpec Parse(IReadOnlyList<string> terms)
    {
        var spec = new ProfileSpec();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var rest = new List<string>();
        foreach (var term in terms)
        {
            if (!IsTerm(term)) { rest.Add(term); continue; }
            int colon = term.IndexOf(':');
            string tag = term[..colon], value = term[(colon + 1)..];
            if (!Tags.Contains(tag))
                throw new XenProfUserException($"{term}: unknown profile specification tag '{tag}' (valid: {string.Join(", ", Tags.Select(t => t + ":"))})");
            if (!seen.Add(tag)) throw new XenProfUserException($"{term}: tag '{tag}:' given more than once");
            if (value.Length == 0) throw new XenProfUserException($"{term}: '{tag}:' needs a value");
            spec = tag switch
            {
                "session" => spec with { Session = value },
                "image" => spec with { Images = List(term, value) },
                "image-exclude" => spec with { ImageExcludes = List(term, value) },
                "event" => spec with { Event = IsAll(value) ? null : value },
                "count" => spec with { Count = IsAll(value) ? null : (ulong)Number(term, value, ulong.MaxValue) },
                "unit-mask" => spec with { UnitMask = IsAll(value) ? null : (uint)Number(term, value, uint.MaxValue) },
                "tgid" => spec with { Tgids = Ids(term, value) },
                "tid" => spec with { Tids = Ids(term, value) },
                "cpu" => spec with { Cpus = Ids(term, value) },
                _ => spec with { Domain = (int)Number(term, value, int.MaxValue) },
            };
        }
        return spec with { Rest = rest };
    }

    /// <summary>
    /// <paramref name="o"/> narrowed by this specification. Throws <see cref="XenProfUserException"/> when a filter of
    /// <paramref name="o"/> already set (an event, a domain) names something else.
    /// </summary>
    public ProfileOptions ApplyTo(ProfileOptions o)
    {
        if (Event != null && o.Event != null && !string.Equals(Event, o.Event, StringComparison.OrdinalIgnoreCase))
            throw new XenProfUserException($"event:{Event} contradicts the event {o.Event} already chosen");
        if (Domain != null && o.Domain != null && Domain != o.Domain)
            throw new XenProfUserException($"domain:{Domain} contradicts --domain={o.Domain}");
        return o with
        {
            Event = Event ?? o.Event,
            Count = Count ?? o.Count,
            UnitMask = UnitMask ?? o.UnitMask,
            Domain = Domain ?? o.Domain,
            Tgids = Tgids ?? o.Tgids,
            Tids = Tids ?? o.Tids,
            Cpus = Cpus ?? o.Cpus,
            Images = Images.Count > 0 ? Images : o.Images,
            ImageExcludes = ImageExcludes.Count > 0 ? ImageExcludes : o.ImageExcludes,
        };
    }

    /// <summary>The terms this specification was parsed from, in <see cref="Tags"/> order (for titles and messages).</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        static string Join<T>(IEnumerable<T> v) => string.Join(',', v.Select(x => Convert.ToString(x, CultureInfo.InvariantCulture)));
        if (Session != null) parts.Add("session:" + Session);
        if (Images.Count > 0) parts.Add("image:" + Join(Images));
        if (ImageExcludes.Count > 0) parts.Add("image-exclude:" + Join(ImageExcludes));
        if (Event != null) parts.Add("event:" + Event);
        if (Count != null) parts.Add("count:" + Count.Value.ToString(CultureInfo.InvariantCulture));
        if (UnitMask != null) parts.Add("unit-mask:" + UnitMask.Value.ToString(CultureInfo.InvariantCulture));
        if (Tgids != null) parts.Add("tgid:" + Join(Tgids));
        if (Tids != null) parts.Add("tid:" + Join(Tids));
        if (Cpus != null) parts.Add("cpu:" + Join(Cpus));
        if (Domain != null) parts.Add("domain:" + Domain.Value.ToString(CultureInfo.InvariantCulture));
        return string.Join(' ', parts);
    }

    private static bool IsAll(string v) => v == "all";

    private static List<string> List(string term, string value)
    {
        var items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        return items.Count > 0 ? items : throw new XenProfUserException($"{term}: expected a comma-separated list");
    }

    private static IReadOnlyList<int>? Ids(string term, string value)
    {
        if (IsAll(value)) return null;
        return List(term, value).Select(v => (int)Number(term, v, int.MaxValue)).Distinct().ToList();
    }

    // A non-negative number, decimal or 0x hex (oprofile reads unit masks either way).
    private static ulong Number(string term, string v, ulong max)
    {
        bool hex = v.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        if (ulong.TryParse(hex ? v[2..] : v, hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= max)
            return n;
        throw new XenProfUserException($"{term}: '{v}' is not a number (expected decimal or 0x hex, at most {max})");
    }
}
