using XenProf.Reporter.Profile;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Flame;

/// <summary>One row of a per-image or per-symbol summary: samples in the sampled (leaf) frame.</summary>
public sealed record SummaryRow(string Image, string? Symbol, FrameKind Kind, long Samples);

/// <summary>Samples per time bucket for one domain: <see cref="Counts"/>[i] covers [<c>StartNs + i × BucketNs</c>, + BucketNs).</summary>
public sealed record DomainTimeline(int Domain, string Name, long StartNs, long BucketNs, long[] Counts);

public sealed partial class FlameSource
{
    /// <summary>
    /// Per-image and per-symbol totals of one event (the selection's, else the first), by sampled frame,
    /// sorted by samples descending then name, as opreport orders them; plus the total.
    /// </summary>
    public (IReadOnlyList<SummaryRow> Images, IReadOnlyList<SummaryRow> Symbols, long Total) Summaries(FlameSelection selection)
    {
        var ev = PickEvent(selection.Event);
        var byFrame = new Dictionary<StackId, long>();
        long total = 0;
        void Add(StackId stack, long weight)
        {
            byFrame[stack] = byFrame.GetValueOrDefault(stack) + weight;
            total += weight;
        }
        if (selection is { Pid: null, Tid: null, FromNs: null, ToNs: null } || Profile.Samples.Count == 0)
        {
            foreach (var t in Profile.StackTotals) if (t.Event == ev.Id) Add(t.Stack, t.Weight);
        }
        else foreach (var s in Samples(selection with { Event = ev.Name })) Add(s.Stack, s.Weight);
        var images = new Dictionary<string, (FrameKind, long)>();
        var symbols = new Dictionary<(string, string?), (FrameKind, long)>();
        foreach (var (stack, n) in byFrame)
        {
            var leaf = StackOf(stack)[^1];
            var (ik, iv) = images.GetValueOrDefault(leaf.ImageName, (leaf.Kind, 0));
            images[leaf.ImageName] = (ik, iv + n);
            var key = (leaf.ImageName, leaf.Symbol);
            var (sk, sv) = symbols.GetValueOrDefault(key, (leaf.Kind, 0));
            symbols[key] = (sk, sv + n);
        }
        var imageRows = images.Select(kv => new SummaryRow(kv.Key, null, kv.Value.Item1, kv.Value.Item2))
            .OrderByDescending(r => r.Samples).ThenBy(r => r.Image, StringComparer.Ordinal).ToList();
        var symbolRows = symbols.Select(kv => new SummaryRow(kv.Key.Item1, kv.Key.Item2 ?? XenProf.Reporter.Profile.Profile.NoSymbols, kv.Value.Item1, kv.Value.Item2))
            .OrderByDescending(r => r.Samples).ThenBy(r => r.Image, StringComparer.Ordinal).ThenBy(r => r.Symbol, StringComparer.Ordinal).ToList();
        return (imageRows, symbolRows, total);
    }

    /// <summary>
    /// Samples of one event per domain over time, in <paramref name="buckets"/> equal buckets spanning the
    /// selected samples' first to last time. Domains (effective domain) in id order.
    /// </summary>
    public IReadOnlyList<DomainTimeline> Timeline(FlameSelection selection, int buckets = 100)
    {
        var ev = PickEvent(selection.Event);
        var times = new List<(long T, int D, long W)>();
        long t0 = long.MaxValue, t1 = long.MinValue;
        foreach (var s in Samples(selection with { Event = ev.Name }))
        {
            times.Add((s.TimeNs, s.Domain, s.Weight));
            t0 = Math.Min(t0, s.TimeNs);
            t1 = Math.Max(t1, s.TimeNs);
        }
        if (times.Count == 0) return [];
        long width = Math.Max(1, (t1 - t0 + buckets) / buckets);
        var result = new SortedDictionary<int, long[]>();
        foreach (var (t, d, w) in times)
        {
            if (!result.TryGetValue(d, out var c)) result[d] = c = new long[buckets];
            c[Math.Min(buckets - 1, (int)((t - t0) / width))] += w;
        }
        return result.Select(kv => new DomainTimeline(kv.Key, DomainName(kv.Key), t0, width, kv.Value)).ToList();
    }
}
