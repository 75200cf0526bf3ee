namespace XenProf.Hypervisor.PerfEvents;

/// <summary>
/// How <see cref="PerfEventSampler"/> opens its events. Defaults sample the whole system on every online CPU,
/// without callchains, into 64-page rings.
/// </summary>
public sealed record PerfSamplerOptions
{
    /// <summary>Process to follow (with its future children, inherit=1, one event per CPU); null = system-wide (pid -1).</summary>
    public int? Pid { get; init; }
    /// <summary>Sample callchains (PERF_SAMPLE_CALLCHAIN).</summary>
    public bool Callchains { get; init; }
    /// <summary>attr.sample_max_stack when <see cref="Callchains"/> is set (default 127, the kernel default).</summary>
    public ushort MaxStack { get; init; } = 127;
    /// <summary>Set attr.enable_on_exec: counting starts when <see cref="Pid"/> next execs (for <see cref="StoppedChild"/>).</summary>
    public bool EnableOnExec { get; init; }
    /// <summary>Data pages per ring, a power of two (default 64 = 256 KiB with 4 KiB pages).</summary>
    public int DataPages { get; init; } = 64;
    /// <summary>CPUs to open on; null = every CPU in /sys/devices/system/cpu/online.</summary>
    public IReadOnlyList<int>? Cpus { get; init; }
}
