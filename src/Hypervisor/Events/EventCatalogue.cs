using XenProf.Hypervisor.Binary;
using XenProf.Hypervisor.PerfEvents;
using XenProf.Hypervisor.PerfEvents.Internal;

namespace XenProf.Hypervisor.Events;

/// <summary>
/// The events XenProf can sample through perf_event_open, under oprofile names and perf names (case-insensitive).
/// perf_event_attr type/config values: include/uapi/linux/perf_event.h (<c>enum perf_type_id</c>, <c>perf_hw_id</c>, <c>perf_sw_ids</c>, <c>perf_hw_cache_id</c>). Minimum counts of
/// hardware events: oprofile's events/i386/arch_perfmon/events (<c>minimum:</c> field). Software-clock limits
/// are ours: 10 µs keeps the sample rate below the kernel's default perf_event_max_sample_rate (100 kHz).
/// </summary>
public static class EventCatalogue
{
    private const string Uapi = "include/uapi/linux/perf_event.h";
    private const string ArchPerfmon = "oprofile events/i386/arch_perfmon/events";

    /// <summary>Every catalogue row, oprofile names first.</summary>
    public static IReadOnlyList<EventDefinition> All { get; } = new EventDefinition[]
    {
        //  name                  aliases                                       type              config  perf name            description                                              unit            default    min     source
        new("CPU_CLK_UNHALTED",   ["cycles", "cpu-cycles"],                     PerfType.Hardware, 0,     "cpu-cycles",        "Clock cycles when not halted",                          "cycles",       100_000,   6_000,  $"{Uapi} PERF_COUNT_HW_CPU_CYCLES; minimum {ArchPerfmon}"),
        new("INST_RETIRED",       ["instructions"],                             PerfType.Hardware, 1,     "instructions",      "Instructions retired",                                  "instructions", 100_000,   6_000,  $"{Uapi} PERF_COUNT_HW_INSTRUCTIONS; minimum {ArchPerfmon}"),
        new("LLC_REFS",           ["cache-references"],                         PerfType.Hardware, 2,     "cache-references",  "Last level cache references",                           "events",       100_000,   6_000,  $"{Uapi} PERF_COUNT_HW_CACHE_REFERENCES; minimum {ArchPerfmon}"),
        new("LLC_MISSES",         ["cache-misses"],                             PerfType.Hardware, 3,     "cache-misses",      "Last level cache misses",                               "events",       10_000,    6_000,  $"{Uapi} PERF_COUNT_HW_CACHE_MISSES; minimum {ArchPerfmon}"),
        new("BRANCH_INSTRUCTIONS",["BR_INST_RETIRED", "branches", "branch-instructions"], PerfType.Hardware, 4, "branch-instructions", "Branch instructions retired",                "events",       100_000,   500,    $"{Uapi} PERF_COUNT_HW_BRANCH_INSTRUCTIONS; minimum of BR_INST_RETIRED {ArchPerfmon}"),
        new("BRANCH_MISSES",      ["BR_MISS_PRED_RETIRED", "branch-misses"],    PerfType.Hardware, 5,     "branch-misses",     "Mispredicted branches retired",                         "events",       10_000,    500,    $"{Uapi} PERF_COUNT_HW_BRANCH_MISSES; minimum of BR_MISS_PRED_RETIRED {ArchPerfmon}"),
        new("CPU_CLOCK",          ["cpu-clock"],                                PerfType.Software, 0,     "cpu-clock",         "CPU clock timer (hrtimer), per CPU; count in ns",       "ns",           1_000_000, 10_000, $"{Uapi} PERF_COUNT_SW_CPU_CLOCK"),
        new("TASK_CLOCK",         ["task-clock"],                               PerfType.Software, 1,     "task-clock",        "Task clock timer, runs while the task runs; count in ns", "ns",         1_000_000, 10_000, $"{Uapi} PERF_COUNT_SW_TASK_CLOCK"),
        new("PAGE_FAULTS",        ["page-faults", "faults"],                    PerfType.Software, 2,     "page-faults",       "Page faults",                                           "events",       1_000,     1,      $"{Uapi} PERF_COUNT_SW_PAGE_FAULTS"),
        new("CONTEXT_SWITCHES",   ["context-switches", "cs"],                   PerfType.Software, 3,     "context-switches",  "Context switches",                                      "events",       100,       1,      $"{Uapi} PERF_COUNT_SW_CONTEXT_SWITCHES"),
        new("CPU_MIGRATIONS",     ["cpu-migrations", "migrations"],             PerfType.Software, 4,     "cpu-migrations",    "Task migrations between CPUs",                          "events",       100,       1,      $"{Uapi} PERF_COUNT_SW_CPU_MIGRATIONS"),
    };

    /// <summary>The event used when none is given, if the machine can count it: <c>CPU_CLK_UNHALTED:100000</c>.</summary>
    public static readonly EventSpec PreferredDefault = new("CPU_CLK_UNHALTED", 100_000);
    /// <summary>The fallback default: <c>CPU_CLOCK:1000000</c> (1 ms of CPU time per sample).</summary>
    public static readonly EventSpec FallbackDefault = new("CPU_CLOCK", 1_000_000);

    /// <summary>Finds a row by canonical name or alias (case-insensitive).</summary>
    public static bool TryFind(string name, out EventDefinition definition)
    {
        foreach (var d in All)
            if (string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase) ||
                d.Aliases.Any(a => string.Equals(a, name, StringComparison.OrdinalIgnoreCase)))
            { definition = d; return true; }
        definition = null!;
        return false;
    }

    /// <summary>
    /// Turns a spec into a perf request: looks the name up, applies the default count, checks the minimum and
    /// maps KERNEL/USER to exclude_kernel/exclude_user.
    /// </summary>
    /// <exception cref="XenProfUserException">Unknown event, a count below the minimum, or a non-zero unit mask
    /// (the generalized perf events take none).</exception>
    public static PerfEventRequest Resolve(EventSpec spec)
    {
        if (!TryFind(spec.Name, out var d))
            throw new XenProfUserException($"event spec '{spec}': unknown event '{spec.Name}'; run 'xenoprof list-events' for the events this machine knows");
        ulong count = spec.Count ?? d.DefaultCount;
        if (count < d.MinimumCount)
            throw new XenProfUserException($"event spec '{spec}': count {count} is below the minimum {d.MinimumCount} {d.Unit} for {d.Name}");
        if (spec.UnitMask != 0)
            throw new XenProfUserException($"event spec '{spec}': {d.Name} takes no unit mask (got 0x{spec.UnitMask:x}); use 0");
        return new PerfEventRequest(spec.Name, d.Type, d.Config, count, !spec.Kernel, !spec.User, d.PerfDescription);
    }

    /// <summary>
    /// Tries a counting (non-sampling) perf_event_open of every row on the calling thread (pid 0, any CPU) and
    /// reports which open. Works without root.
    /// </summary>
    public static IReadOnlyList<EventProbeResult> Probe() => All.Select(ProbeOne).ToArray();

    /// <summary>Probes one row (see <see cref="Probe"/>).</summary>
    public static EventProbeResult ProbeOne(EventDefinition d)
    {
        var attr = new PerfEventAttr { Type = (uint)d.Type, Size = PerfEventAttr.SizeVer8, Config = d.Config };
        attr.SetFlag(PerfEventAttrFlags.Disabled);
        attr.SetFlag(PerfEventAttrFlags.ExcludeKernel); // counting user mode of ourselves needs no privilege
        int fd = PerfNative.PerfEventOpen(ref attr, 0, -1, -1, out int errno);
        if (fd >= 0)
        {
            PerfNative.Close(fd);
            return new EventProbeResult(d, true, 0, "");
        }
        var req = new PerfEventRequest(d.Name, d.Type, d.Config, d.DefaultCount, true, false, d.PerfDescription);
        return new EventProbeResult(d, false, errno, PerfEventOpenException.ForOpen(req, errno, 0, -1).Message);
    }

    /// <summary>
    /// The default event: <see cref="PreferredDefault"/> if <paramref name="isAvailable"/> says it opens
    /// (default: a live probe), else <see cref="FallbackDefault"/>.
    /// </summary>
    public static EventSpec DefaultSpec(Func<EventDefinition, bool>? isAvailable = null)
    {
        isAvailable ??= d => ProbeOne(d).Available;
        TryFind(PreferredDefault.Name, out var preferred);
        return isAvailable(preferred) ? PreferredDefault : FallbackDefault;
    }
}
