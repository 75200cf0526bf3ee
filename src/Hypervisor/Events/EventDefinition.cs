using XenProf.Hypervisor.PerfEvents;

namespace XenProf.Hypervisor.Events;

/// <summary>
/// One catalogue row: an event the perf_event source can count, with its oprofile name, the other names it
/// answers to, the perf_event_attr type/config it maps to, and its counting unit and limits.
/// </summary>
/// <param name="Name">Canonical (oprofile-style) name, e.g. <c>CPU_CLK_UNHALTED</c>.</param>
/// <param name="Aliases">Other accepted names: perf names (<c>cycles</c>), older oprofile names.</param>
/// <param name="Type">perf_event_attr.type.</param>
/// <param name="Config">perf_event_attr.config.</param>
/// <param name="PerfName">perf's name, e.g. <c>cpu-cycles</c>.</param>
/// <param name="Description">One line for list-events.</param>
/// <param name="Unit">What one count is: <c>ns</c>, <c>cycles</c>, <c>instructions</c>, <c>events</c>.</param>
/// <param name="DefaultCount">Sample period used when the spec gives none.</param>
/// <param name="MinimumCount">Smallest accepted sample period.</param>
/// <param name="Source">Where the mapping and the numbers come from.</param>
public sealed record EventDefinition(string Name, IReadOnlyList<string> Aliases, PerfType Type, ulong Config,
    string PerfName, string Description, string Unit, ulong DefaultCount, ulong MinimumCount, string Source)
{
    /// <summary>perf's way to describe it in messages, e.g. <c>perf hardware cpu-cycles</c>.</summary>
    public string PerfDescription => $"perf {Type.ToString().ToLowerInvariant()} {PerfName}";
}

/// <summary>Result of probing one event on this machine (<see cref="EventCatalogue.Probe"/>).</summary>
/// <param name="Event">The catalogue row.</param>
/// <param name="Available">True if a counting perf_event_open succeeded.</param>
/// <param name="Errno">errno when unavailable, else 0.</param>
/// <param name="Reason">Empty when available; otherwise the user-facing reason.</param>
public sealed record EventProbeResult(EventDefinition Event, bool Available, int Errno, string Reason);
