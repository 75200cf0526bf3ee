namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// Where the CPU was when a record was produced: <c>perf_event_header.misc &amp; PERF_RECORD_MISC_CPUMODE_MASK</c>
/// (mask 7; PERF_RECORD_MISC_CPUMODE_MASK in include/uapi/linux/perf_event.h). Also the mode of a callchain frame,
/// derived from context markers (<c>enum perf_callchain_context</c>). Values 6 and 7 are not assigned by the kernel and are
/// reported as they are.
/// </summary>
public enum CpuMode : byte
{
    /// <summary>PERF_RECORD_MISC_CPUMODE_UNKNOWN (0).</summary>
    Unknown = 0,
    /// <summary>PERF_RECORD_MISC_KERNEL (1).</summary>
    Kernel = 1,
    /// <summary>PERF_RECORD_MISC_USER (2).</summary>
    User = 2,
    /// <summary>PERF_RECORD_MISC_HYPERVISOR (3).</summary>
    Hypervisor = 3,
    /// <summary>PERF_RECORD_MISC_GUEST_KERNEL (4).</summary>
    GuestKernel = 4,
    /// <summary>PERF_RECORD_MISC_GUEST_USER (5).</summary>
    GuestUser = 5,
}

/// <summary>
/// Bits of <c>perf_event_header.misc</c> (PERF_RECORD_MISC_* in include/uapi/linux/perf_event.h). Several bits mean
/// different things for different record types.
/// </summary>
public static class PerfRecordMisc
{
    /// <summary>PERF_RECORD_MISC_CPUMODE_MASK: low three bits hold a <see cref="CpuMode"/>.</summary>
    public const ushort CpuModeMask = 7;
    /// <summary>PERF_RECORD_MISC_PROC_MAP_PARSE_TIMEOUT (1 &lt;&lt; 12): perf-synthesized MMAPs were truncated.</summary>
    public const ushort ProcMapParseTimeout = 1 << 12;
    /// <summary>PERF_RECORD_MISC_MMAP_DATA (1 &lt;&lt; 13) on MMAP/MMAP2: the mapping is not executable.</summary>
    public const ushort MmapData = 1 << 13;
    /// <summary>PERF_RECORD_MISC_COMM_EXEC (1 &lt;&lt; 13) on COMM: the name changed because of exec.</summary>
    public const ushort CommExec = 1 << 13;
    /// <summary>PERF_RECORD_MISC_SWITCH_OUT (1 &lt;&lt; 13) on SWITCH records.</summary>
    public const ushort SwitchOut = 1 << 13;
    /// <summary>PERF_RECORD_MISC_EXACT_IP (1 &lt;&lt; 14) on SAMPLE: the IP is exact (precise_ip).</summary>
    public const ushort ExactIp = 1 << 14;
    /// <summary>PERF_RECORD_MISC_MMAP_BUILD_ID (1 &lt;&lt; 14) on MMAP2: the record carries a build-id instead of maj/min/ino.</summary>
    public const ushort MmapBuildId = 1 << 14;

    /// <summary>The <see cref="CpuMode"/> held in the low bits of <paramref name="misc"/>.</summary>
    public static CpuMode ModeOf(ushort misc) => (CpuMode)(misc & CpuModeMask);
}
