namespace XenProf.Hypervisor.Xenoprof;

/// <summary>
/// <c>xenoprof_op</c> sub-operations with Xen's numeric values (<c>XENOPROF_*</c> in
/// <c>xen/include/public/xenoprof.h</c>). Numbers are ABI: never renumber.
/// </summary>
public enum XenoprofOp
{
    /// <summary>Any domain; returns num_events, cpu_type, is_primary. The first hardware domain to call becomes primary.</summary>
    Init = 0,
    /// <summary>Primary: drops all active domains.</summary>
    ResetActiveList = 1,
    /// <summary>Primary: unshares passive buffers, drops the list.</summary>
    ResetPassiveList = 2,
    /// <summary>Primary, INITIALIZED: append a domain to the active list (max 25).</summary>
    SetActive = 3,
    /// <summary>Primary, INITIALIZED: allocate a passive domain's buffers and share them with the primary.</summary>
    SetPassive = 4,
    /// <summary>Primary, INITIALIZED → COUNTERS_RESERVED.</summary>
    ReserveCounters = 5,
    /// <summary>Primary, COUNTERS_RESERVED and at least one active domain: configure counter <c>ind</c>.</summary>
    Counter = 6,
    /// <summary>Primary, COUNTERS_RESERVED → READY.</summary>
    SetupEvents = 7,
    /// <summary>Any domain; the primary needs READY.</summary>
    EnableVirq = 8,
    /// <summary>Primary, READY and every active domain has enabled its VIRQ → PROFILING.</summary>
    Start = 9,
    /// <summary>Primary, PROFILING → READY.</summary>
    Stop = 10,
    /// <summary>Any domain, not while it is active and profiling runs.</summary>
    DisableVirq = 11,
    /// <summary>Primary, COUNTERS_RESERVED or READY → INITIALIZED.</summary>
    ReleaseCounters = 12,
    /// <summary>Primary, INITIALIZED → IDLE.</summary>
    Shutdown = 13,
    /// <summary>Any domain: allocate and share the caller's per-VCPU buffers.</summary>
    GetBuffer = 14,
    /// <summary>Primary: call-chain depth (0 = off).</summary>
    SetBacktrace = 15,
    /// <summary>Primary: AMD IBS capability bits.</summary>
    GetIbsCaps = 16,
    /// <summary>Primary, COUNTERS_RESERVED and at least one active domain: AMD IBS configuration. <c>XENOPROF_last_op</c>.</summary>
    IbsCounter = 17,
}

/// <summary>Xen's global xenoprof state (<c>xenoprof_state</c> in xen/common/xenoprof.c): IDLE → INITIALIZED → COUNTERS_RESERVED → READY ⇄ PROFILING.</summary>
public enum XenoprofState
{
    /// <summary>No primary profiler.</summary>
    Idle = 0,
    /// <summary>A primary profiler called init.</summary>
    Initialized = 1,
    /// <summary>Counters and the NMI reserved.</summary>
    CountersReserved = 2,
    /// <summary>Event selectors programmed.</summary>
    Ready = 3,
    /// <summary>Counters running.</summary>
    Profiling = 4,
}

/// <summary>The <c>mode</c> byte of an <c>event_log</c> entry (<c>xenoprofile_get_mode</c> in xen/arch/x86/oprofile/xenoprof.c). Passive-ness is per buffer, not a mode.</summary>
public enum XenoprofMode : byte
{
    /// <summary>Guest user space.</summary>
    User = 0,
    /// <summary>Guest kernel.</summary>
    Kernel = 1,
    /// <summary>Xen itself (NMI not in guest context).</summary>
    Xen = 2,
}

/// <summary>Numeric facts of the xenoprof ABI (xen/include/public/xen.h, xen/include/public/xenoprof.h, xen/common/xenoprof.c), x86_64 Xen.</summary>
public static class XenoprofAbi
{
    /// <summary><c>__HYPERVISOR_xenoprof_op</c>.</summary>
    public const int HypercallNumber = 31;
    /// <summary><c>VIRQ_XENOPROF</c>: per-VCPU "new samples" notification.</summary>
    public const int VirqXenoprof = 7;
    /// <summary><c>MAX_OPROF_EVENTS</c>.</summary>
    public const int MaxEvents = 32;
    /// <summary><c>MAX_OPROF_DOMAINS</c>: maximum active and, separately, maximum passive domains.</summary>
    public const int MaxDomains = 25;
    /// <summary><c>XENOPROF_CPU_TYPE_SIZE</c>.</summary>
    public const int CpuTypeSize = 64;
    /// <summary><c>MAX_OPROF_SHARED_PAGES</c>: all of a domain's VCPU buffers fit in this many pages.</summary>
    public const int MaxSharedPages = 32;
    /// <summary>x86 <c>OP_MAX_COUNTER</c>.</summary>
    public const int MaxCounters = 8;
    /// <summary>Page size the buffer sizing assumes.</summary>
    public const int PageSize = 4096;
    /// <summary><c>XENOPROF_ESCAPE_CODE</c>: all-ones eip marks an escape entry.</summary>
    public const ulong EscapeCode = ulong.MaxValue;
    /// <summary><c>XENOPROF_TRACE_BEGIN</c>: the escape's event value that starts a call chain.</summary>
    public const byte TraceBegin = 1;
    /// <summary>Entries the Linux dom0 driver asks for an active domain's buffers (<c>MAX_XENOPROF_SAMPLES</c>).</summary>
    public const int ActiveBufferSamples = 16;
    /// <summary>Entries the Linux dom0 driver asks for each passive domain's buffers.</summary>
    public const int PassiveBufferSamples = 2048;

    /// <summary>errno values Xen returns, negated (Linux/Xen numbering).</summary>
    public const int EPERM = -1, ENOENT = -2, ESRCH = -3, ENOMEM = -12, EFAULT = -14, EBUSY = -16, EINVAL = -22, ENOSYS = -38, E2BIG = -7;

    /// <summary>Name of a negated errno value as Xen returns it (<c>-EPERM</c> …), or the number.</summary>
    public static string ErrorName(int rc) => rc switch
    {
        0 => "0",
        EPERM => "-EPERM",
        ENOENT => "-ENOENT",
        ESRCH => "-ESRCH",
        ENOMEM => "-ENOMEM",
        EFAULT => "-EFAULT",
        EBUSY => "-EBUSY",
        EINVAL => "-EINVAL",
        ENOSYS => "-ENOSYS",
        E2BIG => "-E2BIG",
        _ => rc.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Xen's name of a sub-operation (<c>XENOPROF_get_buffer</c> …).</summary>
    public static string OpName(XenoprofOp op) => op switch
    {
        XenoprofOp.Init => "XENOPROF_init",
        XenoprofOp.ResetActiveList => "XENOPROF_reset_active_list",
        XenoprofOp.ResetPassiveList => "XENOPROF_reset_passive_list",
        XenoprofOp.SetActive => "XENOPROF_set_active",
        XenoprofOp.SetPassive => "XENOPROF_set_passive",
        XenoprofOp.ReserveCounters => "XENOPROF_reserve_counters",
        XenoprofOp.Counter => "XENOPROF_counter",
        XenoprofOp.SetupEvents => "XENOPROF_setup_events",
        XenoprofOp.EnableVirq => "XENOPROF_enable_virq",
        XenoprofOp.Start => "XENOPROF_start",
        XenoprofOp.Stop => "XENOPROF_stop",
        XenoprofOp.DisableVirq => "XENOPROF_disable_virq",
        XenoprofOp.ReleaseCounters => "XENOPROF_release_counters",
        XenoprofOp.Shutdown => "XENOPROF_shutdown",
        XenoprofOp.GetBuffer => "XENOPROF_get_buffer",
        XenoprofOp.SetBacktrace => "XENOPROF_set_backtrace",
        XenoprofOp.GetIbsCaps => "XENOPROF_get_ibs_caps",
        XenoprofOp.IbsCounter => "XENOPROF_ibs_counter",
        _ => $"xenoprof op {(int)op}",
    };

    /// <summary>
    /// Per-VCPU buffer size in bytes for <paramref name="maxSamples"/> entries: <c>sizeof(xenoprof_buf) +
    /// (max_samples-1)*entry</c> (<c>alloc_xenoprof_struct</c> in xen/common/xenoprof.c), i.e. 48 + max_samples × entry size.
    /// </summary>
    public static int BufferSize(int maxSamples, bool compat = false) => XenoprofBufLayout.HeaderSize + maxSamples * EventLogLayout.Size(compat);

    /// <summary>
    /// <c>max_samples</c> clipped so that <paramref name="vcpus"/> buffers fit in <see cref="MaxSharedPages"/> pages
    /// (<c>alloc_xenoprof_struct</c> in xen/common/xenoprof.c: <c>max_bufsize = 32*4096/nvcpu</c>, <c>max = (max_bufsize - sizeof(xenoprof_buf))/entry + 1</c>).
    /// </summary>
    public static int ClipMaxSamples(int requested, int vcpus, bool compat = false)
    {
        int entry = EventLogLayout.Size(compat);
        int maxBufsize = MaxSharedPages * PageSize / Math.Max(1, vcpus);
        int max = (maxBufsize - XenoprofBufLayout.StructSize(compat)) / entry + 1;
        return Math.Clamp(requested, 1, max);
    }
}

/// <summary>Field offsets of <c>struct xenoprof_buf</c> (xen/include/public/xenoprof.h; same offsets native and compat).</summary>
public static class XenoprofBufLayout
{
    /// <summary>Header bytes before <c>event_log[0]</c>.</summary>
    public const int HeaderSize = 48;
    /// <summary><c>event_head</c> u32: producer index, written by Xen.</summary>
    public const int EventHead = 0;
    /// <summary><c>event_tail</c> u32: consumer index, written by the profiling domain.</summary>
    public const int EventTail = 4;
    /// <summary><c>event_size</c> u32: entries in the ring.</summary>
    public const int EventSize = 8;
    /// <summary><c>vcpu_id</c> u32.</summary>
    public const int VcpuId = 12;
    /// <summary><c>xen_samples</c> u64: samples with mode ≥ 2.</summary>
    public const int XenSamples = 16;
    /// <summary><c>kernel_samples</c> u64: mode 1.</summary>
    public const int KernelSamples = 24;
    /// <summary><c>user_samples</c> u64: mode 0.</summary>
    public const int UserSamples = 32;
    /// <summary><c>lost_samples</c> u64: dropped because the ring was full.</summary>
    public const int LostSamples = 40;
    /// <summary><c>event_log[]</c>.</summary>
    public const int EventLog = 48;

    /// <summary><c>sizeof(struct xenoprof_buf)</c>, which includes one entry: 64 native, 60 compat.</summary>
    public static int StructSize(bool compat) => HeaderSize + EventLogLayout.Size(compat);
}

/// <summary><c>struct event_log</c> (xen/include/public/xenoprof.h): <c>eip</c> u64 @0, <c>mode</c> u8 @8, <c>event</c> u8 @9; 16 bytes native, 12 compat.</summary>
public static class EventLogLayout
{
    /// <summary><c>eip</c> offset.</summary>
    public const int Eip = 0;
    /// <summary><c>mode</c> offset.</summary>
    public const int Mode = 8;
    /// <summary><c>event</c> offset.</summary>
    public const int Event = 9;
    /// <summary>Native (x86_64) entry size.</summary>
    public const int NativeSize = 16;
    /// <summary>Compat (32-bit PV guest) entry size: u64 aligned to 4.</summary>
    public const int CompatSize = 12;

    /// <summary>Entry size for the ABI.</summary>
    public static int Size(bool compat) => compat ? CompatSize : NativeSize;
}

/// <summary>One <c>event_log</c> entry. An escape entry has <see cref="Eip"/> = <see cref="XenoprofAbi.EscapeCode"/>.</summary>
public readonly record struct EventLogEntry(ulong Eip, XenoprofMode Mode, byte Event)
{
    /// <summary>True for the TRACE_BEGIN escape that starts a call chain.</summary>
    public bool IsTraceBegin => Eip == XenoprofAbi.EscapeCode && Event == XenoprofAbi.TraceBegin;

    /// <summary>The escape entry Xen writes before a sample with a call chain.</summary>
    public static EventLogEntry TraceBeginEscape(XenoprofMode mode) => new(XenoprofAbi.EscapeCode, mode, XenoprofAbi.TraceBegin);
}
