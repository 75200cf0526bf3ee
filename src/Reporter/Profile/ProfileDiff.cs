using XenProf.Hypervisor.Binary;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Profile;

/// <summary>What <see cref="ProfileDiff.Compare"/> compares and how it decides significance. The defaults give a
/// usable report.</summary>
public sealed record DiffOptions
{
    /// <summary>One row per (image, symbol) (opreport <c>-l</c>); otherwise one per image.</summary>
    public bool Symbols { get; init; }

    /// <summary>Match and show images by full path instead of display name (opreport <c>-f</c>).</summary>
    public bool LongFilenames { get; init; }

    /// <summary>
    /// Family-wise significance level of each event's rows, in (0, 1): a row is significant when Holm's step-down
    /// procedure over all of the event's rows rejects it at this level (<see cref="ProportionTest.Holm"/>). Default
    /// 0.001.
    /// </summary>
    public double Alpha { get; init; } = 0.001;
}

/// <summary>
/// One row of a differential report: an image (or a symbol in it) with its samples and share on each side.
/// </summary>
/// <param name="Image">The image's display name (full path with <see cref="DiffOptions.LongFilenames"/>).</param>
/// <param name="Symbol">The symbol (<see cref="Profile.NoSymbols"/> for the unresolved rest of an image), or null in an
/// image-level report.</param>
/// <param name="BaseSamples">Samples in the base profile (0 when the row is in the new profile only).</param>
/// <param name="BasePercent">Share of the base profile's total for the event, in percent.</param>
/// <param name="NewSamples">Samples in the new profile (0 when the row is in the base profile only).</param>
/// <param name="NewPercent">Share of the new profile's total, in percent.</param>
/// <param name="DeltaPp"><c>NewPercent − BasePercent</c>, in percentage points.</param>
/// <param name="PValue">Two-sided p-value of the pooled two-proportion z-test (<see cref="ProportionTest.PValue"/>),
/// uncorrected.</param>
/// <param name="Significant">Rejected by Holm's procedure over all rows of the event at <see cref="DiffOptions.Alpha"/>.</param>
public sealed record DiffRow(string Image, string? Symbol, long BaseSamples, double BasePercent, long NewSamples, double NewPercent,
    double DeltaPp, double PValue, bool Significant);

/// <summary>The rows of one event present in both profiles.</summary>
/// <param name="Base">The event as the base profile stored it.</param>
/// <param name="New">The event as the new profile stored it (same name).</param>
/// <param name="BaseTotal">Base samples of the event.</param>
/// <param name="NewTotal">New samples of the event.</param>
/// <param name="Rows">Every row of either side, largest change first (|<see cref="DiffRow.DeltaPp"/>| descending, then new
/// samples, base samples, image and symbol).</param>
public sealed record DiffEvent(StoredEvent Base, StoredEvent New, long BaseTotal, long NewTotal, IReadOnlyList<DiffRow> Rows)
{
    /// <summary>The event's name.</summary>
    public string Name => New.Name;
}

/// <summary>
/// A differential profile: two <see cref="Profile"/>s (base and new) compared row by row, per event, as oprofile's
/// <c>opreport { A } { B }</c> compares two profile specifications. Every row of either side is tested with the pooled
/// two-proportion z-test on the two profiles' totals, and the rows of an event are corrected together with Holm's
/// step-down procedure (see <see cref="ProportionTest"/> for why both).
/// </summary>
public sealed class ProfileDiff
{
    private ProfileDiff(DiffOptions options, IReadOnlyList<DiffEvent> events, IReadOnlyList<string> baseOnly, IReadOnlyList<string> newOnly)
    {
        Options = options; Events = events; BaseOnlyEvents = baseOnly; NewOnlyEvents = newOnly;
    }

    /// <summary>The options compared with.</summary>
    public DiffOptions Options { get; }

    /// <summary>One entry per event both profiles have (matched by name, case-insensitive), in the new profile's order.</summary>
    public IReadOnlyList<DiffEvent> Events { get; }

    /// <summary>Events only the base profile has (not compared).</summary>
    public IReadOnlyList<string> BaseOnlyEvents { get; }

    /// <summary>Events only the new profile has (not compared).</summary>
    public IReadOnlyList<string> NewOnlyEvents { get; }

    /// <summary>Compares <paramref name="baseProfile"/> with <paramref name="newProfile"/>.</summary>
    /// <exception cref="XenProfUserException">The profiles have no event in common.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="DiffOptions.Alpha"/> is not in (0, 1).</exception>
    public static ProfileDiff Compare(Profile baseProfile, Profile newProfile, DiffOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(baseProfile);
        ArgumentNullException.ThrowIfNull(newProfile);
        options ??= new DiffOptions();
        var events = new List<DiffEvent>();
        foreach (var (ne, ni) in newProfile.Events.Select((e, i) => (e, i)))
        {
            int bi = IndexOf(baseProfile, ne.Name);
            if (bi < 0) continue;
            events.Add(CompareEvent(baseProfile, bi, newProfile, ni, options));
        }
        var baseOnly = baseProfile.Events.Where(e => IndexOf(newProfile, e.Name) < 0).Select(e => e.Name).ToList();
        var newOnly = newProfile.Events.Where(e => IndexOf(baseProfile, e.Name) < 0).Select(e => e.Name).ToList();
        if (events.Count == 0)
            throw new XenProfUserException($"the two profiles have no event in common (base: {Names(baseProfile)}; new: {Names(newProfile)})");
        return new ProfileDiff(options, events, baseOnly, newOnly);
    }

    private static string Names(Profile p) => p.Events.Count == 0 ? "none" : string.Join(", ", p.Events.Select(e => e.Name));

    private static int IndexOf(Profile p, string name)
    {
        for (int i = 0; i < p.Events.Count; i++)
            if (string.Equals(p.Events[i].Name, name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    private static DiffEvent CompareEvent(Profile bp, int bi, Profile np, int ni, DiffOptions o)
    {
        var counts = new Dictionary<(string Image, string? Symbol), (long Base, long New)>();
        foreach (var (key, n) in Rows(bp, bi, o))
            counts[key] = (counts.GetValueOrDefault(key).Base + n, counts.GetValueOrDefault(key).New);
        foreach (var (key, n) in Rows(np, ni, o))
            counts[key] = (counts.GetValueOrDefault(key).Base, counts.GetValueOrDefault(key).New + n);
        long bt = bp.Totals[bi], nt = np.Totals[ni];
        var keys = counts.Keys.ToList();
        var p = keys.Select(k => ProportionTest.PValue(counts[k].Base, bt, counts[k].New, nt)).ToArray();
        var significant = ProportionTest.Holm(p, o.Alpha);
        var rows = new List<DiffRow>(keys.Count);
        for (int i = 0; i < keys.Count; i++)
        {
            var (b, n) = counts[keys[i]];
            double bpct = Profile.Share(b, bt).Percent, npct = Profile.Share(n, nt).Percent;
            rows.Add(new DiffRow(keys[i].Image, keys[i].Symbol, b, bpct, n, npct, npct - bpct, p[i], significant[i]));
        }
        rows.Sort((x, y) =>
        {
            int c = Math.Abs(y.DeltaPp).CompareTo(Math.Abs(x.DeltaPp));
            if (c == 0) c = y.NewSamples.CompareTo(x.NewSamples);
            if (c == 0) c = y.BaseSamples.CompareTo(x.BaseSamples);
            if (c == 0) c = string.CompareOrdinal(x.Image, y.Image);
            return c != 0 ? c : string.CompareOrdinal(x.Symbol, y.Symbol);
        });
        return new DiffEvent(bp.Events[bi], np.Events[ni], bt, nt, rows);
    }

    // The rows of one side: per image, or per (image, symbol); several stored images may share a display name.
    private static IEnumerable<((string, string?), long)> Rows(Profile p, int e, DiffOptions o)
    {
        string Name(ImageRow r) => o.LongFilenames ? r.Image.Path : r.Name;
        if (o.Symbols)
        {
            foreach (var s in p.Symbols)
                if (s.Counts.Samples[e] > 0) yield return ((Name(s.ImageRow), s.Symbol), s.Counts.Samples[e]);
        }
        else
        {
            foreach (var r in p.Images)
                if (r.Counts.Samples[e] > 0) yield return ((Name(r), null), r.Counts.Samples[e]);
        }
    }
}
