namespace XenProf.Hypervisor.PerfEvents;

/// <summary>
/// One event to sample with perf_event_open, already resolved from the catalogue (see
/// <see cref="Events.EventCatalogue.Resolve"/>).
/// </summary>
/// <param name="Name">Name the user gave (oprofile or perf spelling), used in messages and reports.</param>
/// <param name="Type">attr.type.</param>
/// <param name="Config">attr.config.</param>
/// <param name="Period">attr.sample_period: events per sample, in the event's unit (ns for CPU_CLOCK/TASK_CLOCK). Must be &gt; 0.</param>
/// <param name="ExcludeKernel">attr.exclude_kernel (oprofile KERNEL=0).</param>
/// <param name="ExcludeUser">attr.exclude_user (oprofile USER=0).</param>
/// <param name="PerfDescription">How perf names it, for messages, e.g. <c>perf hardware cpu-cycles</c>.</param>
public sealed record PerfEventRequest(string Name, PerfType Type, ulong Config, ulong Period,
    bool ExcludeKernel = false, bool ExcludeUser = false, string PerfDescription = "");
