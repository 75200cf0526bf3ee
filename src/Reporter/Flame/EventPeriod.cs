using System.Globalization;
using System.Text.RegularExpressions;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Flame;

/// <summary>
/// What one stored sample of an event is worth in the event's unit, for the exports that weigh samples
/// (speedscope, pprof, Chrome trace). A count-mode event is worth its period (<see cref="StoredEvent.Count"/>).
/// A frequency-mode event (perf record -F; the importer stores the frequency as the count and says
/// "sampled at N Hz" in the description) is worth 1e9/N ns when it counts time, and is otherwise weighed in
/// samples, since the store keeps no per-sample period.
/// </summary>
public readonly partial record struct EventPeriod(long Value, bool IsTime, bool IsFrequency)
{
    /// <summary>The weight of one sample of <paramref name="ev"/>.</summary>
    public static EventPeriod Of(StoredEvent ev)
    {
        bool time = ev.Unit == "ns";
        var m = FrequencyNote().Match(ev.Description ?? "");
        if (m.Success && long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var hz) && hz > 0)
            return time ? new EventPeriod(Math.Max(1, 1_000_000_000 / hz), true, true) : new EventPeriod(1, false, true);
        return new EventPeriod((long)Math.Max(1UL, ev.Count), time, false);
    }

    /// <summary>pprof's unit for the event's column: <c>nanoseconds</c> for time, <c>count</c> otherwise.</summary>
    public string PprofUnit => IsTime ? "nanoseconds" : "count";

    /// <summary>speedscope's unit: <c>nanoseconds</c> for time, <c>none</c> otherwise.</summary>
    public string SpeedscopeUnit => IsTime ? "nanoseconds" : "none";

    [GeneratedRegex(@"sampled at (\d+) Hz")]
    private static partial Regex FrequencyNote();
}
