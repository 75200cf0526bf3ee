using XenProf.Reporter.Profile;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Flame;

/// <summary>One row of a per-image or per-symbol summary: samples in the sampled (leaf) frame and the sum of their periods (the event's unit).</summary>
public sealed record SummaryRow(string Image, string? Symbol, FrameKind Kind, long Samples, long Period = 0)
{
    /// <summary><see cref="Period"/> or <see cref="Samples"/>, as <paramref name="weight"/> says.</summary>
    public long Value(FoldedWeight weight) => weight == FoldedWeight.Period ? Period : Samples;
}

/// <summary>
/// The totals of a summary: samples, summed periods, and the effective sample count of the period-weighted samples
/// (Kish's (Σperiod)²/Σperiod²), which error bars of period shares use.
/// </summary>
public readonly record struct SummaryTotal(long Samples, long Period, double EffectiveSamples)
{
    /// <summary>The share of <paramref name="row"/> weighed by <paramref name="weight"/>, with its binomial standard error (on samples, or on effective samples for periods).</summary>
    public (double Percent, double Error) Share(SummaryRow row, FoldedWeight weight) => weight == FoldedWeight.Period
        ? XenProf.Reporter.Profile.Profile.Share(row.Period, Period, EffectiveSamples)
        : XenProf.Reporter.Profile.Profile.Share(row.Samples, Samples);
}

/// <summary>Samples per time bucket for one domain: <see cref="Counts"/>[i] covers [<c>StartNs + i × BucketNs</c>, + BucketNs).</summary>
public sealed record DomainTimeline(int Domain, string Name, long StartNs, long BucketNs, long[] Counts);

public sealed partial class FlameSource
{
    /// <summary>
    /// Per-image and per-symbol totals of one event (the selection's, else the first), by sampled frame, sorted by
    /// <paramref name="weight"/> descending then name, as opreport orders them; plus the totals.
    /// </summary>
    public (IReadOnlyList<SummaryRow> Images, IReadOnlyList<SummaryRow> Symbols, SummaryTotal Total) Summaries(FlameSelection selection, FoldedWeight weight = FoldedWeight.Samples)
    {
        var ev = PickEvent(selection.Event);
        var byFrame = new Dictionary<StackId, (long Samples, long Period)>();
        long samples = 0, period = 0;
        double squares = 0;
        void Add(StackId stack, long w, long p, double sq)
        {
            var (a, b) = byFrame.GetValueOrDefault(stack);
            byFrame[stack] = (a + w, b + p);
            samples += w;
            period += p;
            squares += sq;
        }
        if (selection is { Pid: null, Tid: null, FromNs: null, ToNs: null } || Profile.Samples.Count == 0)
        {
            foreach (var t in Profile.StackTotals) if (t.Event == ev.Id) Add(t.Stack, t.Weight, t.Period, t.PeriodSquares);
        }
        else foreach (var s in Samples(selection with { Event = ev.Name })) Add(s.Stack, s.Weight, s.Period, StackTotal.SquaresOf(s.Weight, s.Period));
        var images = new Dictionary<string, (FrameKind Kind, long Samples, long Period)>();
        var symbols = new Dictionary<(string, string?), (FrameKind Kind, long Samples, long Period)>();
        foreach (var (stack, (n, p)) in byFrame)
        {
            var leaf = StackOf(stack)[^1];
            var (ik, iv, ip) = images.GetValueOrDefault(leaf.ImageName, (leaf.Kind, 0, 0));
            images[leaf.ImageName] = (ik, iv + n, ip + p);
            var key = (leaf.ImageName, leaf.Symbol);
            var (sk, sv, sp) = symbols.GetValueOrDefault(key, (leaf.Kind, 0, 0));
            symbols[key] = (sk, sv + n, sp + p);
        }
        var imageRows = images.Select(kv => new SummaryRow(kv.Key, null, kv.Value.Kind, kv.Value.Samples, kv.Value.Period))
            .OrderByDescending(r => r.Value(weight)).ThenBy(r => r.Image, StringComparer.Ordinal).ToList();
        var symbolRows = symbols.Select(kv => new SummaryRow(kv.Key.Item1, kv.Key.Item2 ?? XenProf.Reporter.Profile.Profile.NoSymbols, kv.Value.Kind, kv.Value.Samples, kv.Value.Period))
            .OrderByDescending(r => r.Value(weight)).ThenBy(r => r.Image, StringComparer.Ordinal).ThenBy(r => r.Symbol, StringComparer.Ordinal).ToList();
        return (imageRows, symbolRows, new SummaryTotal(samples, period, squares > 0 ? (double)period * period / squares : samples));
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
