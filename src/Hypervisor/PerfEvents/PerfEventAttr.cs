using System.Runtime.InteropServices;

namespace XenProf.Hypervisor.PerfEvents;

/// <summary>
/// <c>struct perf_event_attr</c> as of PERF_ATTR_SIZE_VER8 (136 bytes), byte-exact with explicit offsets
/// (<c>struct perf_event_attr</c> in include/uapi/linux/perf_event.h). Unions are exposed under their sampling name
/// (sample_period/sample_freq, wakeup_events/wakeup_watermark, config1, config2). The flag bitfield at offset 40
/// is <see cref="Flags"/>; use <see cref="SetFlag"/> and <see cref="HasFlag"/> with <see cref="PerfEventAttrFlags"/>.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = SizeVer8)]
public struct PerfEventAttr
{
    /// <summary>PERF_ATTR_SIZE_VER8 = 136 (include/uapi/linux/perf_event.h).</summary>
    public const int SizeVer8 = 136;

    /// <summary>PERF_TYPE_* (<see cref="PerfType"/>).</summary>
    [FieldOffset(0)] public uint Type;
    /// <summary>sizeof as known to the writer; set to <see cref="SizeVer8"/>. The kernel writes back its own size on E2BIG.</summary>
    [FieldOffset(4)] public uint Size;
    /// <summary>Event selector within <see cref="Type"/> (PERF_COUNT_HW_* / PERF_COUNT_SW_*…).</summary>
    [FieldOffset(8)] public ulong Config;
    /// <summary>sample_period (events per sample), or sample_freq (Hz) when the freq flag is set.</summary>
    [FieldOffset(16)] public ulong SamplePeriod;
    /// <summary>PERF_SAMPLE_* bits (<see cref="Records.SampleFormat"/>).</summary>
    [FieldOffset(24)] public ulong SampleType;
    /// <summary>PERF_FORMAT_* bits (<see cref="Records.ReadFormat"/>).</summary>
    [FieldOffset(32)] public ulong ReadFormat;
    /// <summary>The flag bitfield (<see cref="PerfEventAttrFlags"/>).</summary>
    [FieldOffset(40)] public ulong Flags;
    /// <summary>wakeup_events (records) or wakeup_watermark (bytes, with the watermark flag).</summary>
    [FieldOffset(48)] public uint WakeupEvents;
    /// <summary>bp_type (breakpoints).</summary>
    [FieldOffset(52)] public uint BpType;
    /// <summary>config1 / bp_addr / kprobe_func / uprobe_path.</summary>
    [FieldOffset(56)] public ulong Config1;
    /// <summary>config2 / bp_len / kprobe_addr / probe_offset.</summary>
    [FieldOffset(64)] public ulong Config2;
    /// <summary>PERF_SAMPLE_BRANCH_* bits.</summary>
    [FieldOffset(72)] public ulong BranchSampleType;
    /// <summary>Mask of user registers sampled with REGS_USER.</summary>
    [FieldOffset(80)] public ulong SampleRegsUser;
    /// <summary>Bytes of user stack copied with STACK_USER.</summary>
    [FieldOffset(88)] public uint SampleStackUser;
    /// <summary>Clock id used when the use_clockid flag is set.</summary>
    [FieldOffset(92)] public int ClockId;
    /// <summary>Mask of interrupt registers sampled with REGS_INTR.</summary>
    [FieldOffset(96)] public ulong SampleRegsIntr;
    /// <summary>AUX area wakeup watermark.</summary>
    [FieldOffset(104)] public uint AuxWatermark;
    /// <summary>Maximum callchain depth (0 = kernel.perf_event_max_stack).</summary>
    [FieldOffset(108)] public ushort SampleMaxStack;
    /// <summary>AUX sample size.</summary>
    [FieldOffset(112)] public uint AuxSampleSize;
    /// <summary>sig_data (VER7).</summary>
    [FieldOffset(120)] public ulong SigData;
    /// <summary>config3 (VER8).</summary>
    [FieldOffset(128)] public ulong Config3;

    /// <summary>Sets or clears one flag bit.</summary>
    public void SetFlag(PerfEventAttrFlags flag, bool on = true)
    {
        if (on) Flags |= (ulong)flag; else Flags &= ~(ulong)flag;
    }

    /// <summary>True if all bits of <paramref name="flag"/> are set.</summary>
    public readonly bool HasFlag(PerfEventAttrFlags flag) => (Flags & (ulong)flag) == (ulong)flag;

    /// <summary>precise_ip (bits 15–16): 0 arbitrary skid … 3 zero skid required.</summary>
    public int PreciseIp
    {
        readonly get => (int)((Flags >> 15) & 3);
        set => Flags = (Flags & ~(3UL << 15)) | ((ulong)(value & 3) << 15);
    }
}

/// <summary>
/// Bits of the perf_event_attr flag word at offset 40 (the bitfield of <c>struct perf_event_attr</c> in include/uapi/linux/perf_event.h, declaration order from bit 0).
/// precise_ip (bits 15–16) is set through <see cref="PerfEventAttr.PreciseIp"/>.
/// </summary>
[Flags]
public enum PerfEventAttrFlags : ulong
{
    /// <summary>No flags.</summary>
    None = 0,
    /// <summary>Bit 0: start disabled.</summary>
    Disabled = 1UL << 0,
    /// <summary>Bit 1: children inherit the event.</summary>
    Inherit = 1UL << 1,
    /// <summary>Bit 2: must always be on the PMU.</summary>
    Pinned = 1UL << 2,
    /// <summary>Bit 3: only group on the PMU.</summary>
    Exclusive = 1UL << 3,
    /// <summary>Bit 4: don't count user mode.</summary>
    ExcludeUser = 1UL << 4,
    /// <summary>Bit 5: don't count kernel mode.</summary>
    ExcludeKernel = 1UL << 5,
    /// <summary>Bit 6: don't count hypervisor mode.</summary>
    ExcludeHv = 1UL << 6,
    /// <summary>Bit 7: don't count when idle.</summary>
    ExcludeIdle = 1UL << 7,
    /// <summary>Bit 8: emit MMAP records for executable mappings.</summary>
    Mmap = 1UL << 8,
    /// <summary>Bit 9: emit COMM records.</summary>
    Comm = 1UL << 9,
    /// <summary>Bit 10: sample_freq instead of sample_period.</summary>
    Freq = 1UL << 10,
    /// <summary>Bit 11: per-task counts on inherit.</summary>
    InheritStat = 1UL << 11,
    /// <summary>Bit 12: enable at the next exec.</summary>
    EnableOnExec = 1UL << 12,
    /// <summary>Bit 13: emit FORK/EXIT records.</summary>
    Task = 1UL << 13,
    /// <summary>Bit 14: wakeup_watermark instead of wakeup_events.</summary>
    Watermark = 1UL << 14,
    /// <summary>Bit 17: emit MMAP records for data mappings too.</summary>
    MmapData = 1UL << 17,
    /// <summary>Bit 18: non-SAMPLE records carry the sample_id trailer.</summary>
    SampleIdAll = 1UL << 18,
    /// <summary>Bit 19: don't count in the host.</summary>
    ExcludeHost = 1UL << 19,
    /// <summary>Bit 20: don't count in guests.</summary>
    ExcludeGuest = 1UL << 20,
    /// <summary>Bit 21: no kernel callchains.</summary>
    ExcludeCallchainKernel = 1UL << 21,
    /// <summary>Bit 22: no user callchains.</summary>
    ExcludeCallchainUser = 1UL << 22,
    /// <summary>Bit 23: emit MMAP2 records (instead of MMAP).</summary>
    Mmap2 = 1UL << 23,
    /// <summary>Bit 24: flag COMM records caused by exec.</summary>
    CommExec = 1UL << 24,
    /// <summary>Bit 25: use <see cref="PerfEventAttr.ClockId"/>.</summary>
    UseClockId = 1UL << 25,
    /// <summary>Bit 26: emit SWITCH records.</summary>
    ContextSwitch = 1UL << 26,
    /// <summary>Bit 27: write the ring backward.</summary>
    WriteBackward = 1UL << 27,
    /// <summary>Bit 28: emit NAMESPACES records.</summary>
    Namespaces = 1UL << 28,
    /// <summary>Bit 29: emit KSYMBOL records.</summary>
    Ksymbol = 1UL << 29,
    /// <summary>Bit 30: emit BPF_EVENT records.</summary>
    BpfEvent = 1UL << 30,
    /// <summary>Bit 31: AUX output.</summary>
    AuxOutput = 1UL << 31,
    /// <summary>Bit 32: emit CGROUP records.</summary>
    Cgroup = 1UL << 32,
    /// <summary>Bit 33: emit TEXT_POKE records.</summary>
    TextPoke = 1UL << 33,
    /// <summary>Bit 34: MMAP2 carries the build-id (misc MMAP_BUILD_ID) instead of maj/min/ino.</summary>
    BuildId = 1UL << 34,
    /// <summary>Bit 35: inherit only to threads (CLONE_THREAD).</summary>
    InheritThread = 1UL << 35,
    /// <summary>Bit 36: remove the event on exec.</summary>
    RemoveOnExec = 1UL << 36,
    /// <summary>Bit 37: send SIGTRAP on overflow.</summary>
    SigTrap = 1UL << 37,
}

/// <summary>PERF_TYPE_* values of perf_event_attr.type (<c>enum perf_type_id</c> in include/uapi/linux/perf_event.h).</summary>
public enum PerfType : uint
{
    /// <summary>PERF_TYPE_HARDWARE (0): generalized PMU events.</summary>
    Hardware = 0,
    /// <summary>PERF_TYPE_SOFTWARE (1): kernel software events.</summary>
    Software = 1,
    /// <summary>PERF_TYPE_TRACEPOINT (2).</summary>
    Tracepoint = 2,
    /// <summary>PERF_TYPE_HW_CACHE (3).</summary>
    HwCache = 3,
    /// <summary>PERF_TYPE_RAW (4): model-specific config.</summary>
    Raw = 4,
    /// <summary>PERF_TYPE_BREAKPOINT (5).</summary>
    Breakpoint = 5,
}
