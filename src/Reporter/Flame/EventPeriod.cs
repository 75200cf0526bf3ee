using XenProf.Sampler.Store;

namespace XenProf.Reporter.Flame;

/// <summary>
/// The unit an event's periods are in, for the exports that weigh samples by their period (schema v5 keeps each
/// sample's period): nanoseconds for events that count time (unit <c>ns</c>: cpu-clock, task-clock, a .nettrace's
/// sampling interval), event counts otherwise. <see cref="Value"/> is the event's configured period
/// (<see cref="StoredEvent.Count"/>, at least 1), what pprof's <c>period</c> field states.
/// </summary>
public readonly record struct EventPeriod(long Value, bool IsTime)
{
    /// <summary>The unit and configured period of <paramref name="ev"/>.</summary>
    public static EventPeriod Of(StoredEvent ev) => new((long)Math.Clamp(ev.Count, 1UL, long.MaxValue), ev.Unit == "ns");

    /// <summary>pprof's unit for the event's column: <c>nanoseconds</c> for time, <c>count</c> otherwise.</summary>
    public string PprofUnit => IsTime ? "nanoseconds" : "count";

    /// <summary>speedscope's unit: <c>nanoseconds</c> for time, <c>none</c> otherwise.</summary>
    public string SpeedscopeUnit => IsTime ? "nanoseconds" : "none";

    /// <summary>What a flame graph calls its counts when they are periods: <c>ns</c> or <c>events</c>.</summary>
    public string CountName => IsTime ? "ns" : "events";
}
