namespace XenProf.Sampler.Store;

/// <summary>
/// An event as stored: oprofile-style name plus the perf_event type/config it was opened with.
/// <paramref name="Count"/> is the sample period (events between samples; nanoseconds for CPU_CLOCK).
/// </summary>
public sealed record StoredEvent(
    string Name, uint PerfType, ulong PerfConfig, ulong Count, uint UnitMask, bool Kernel, bool User,
    string Unit, string Description)
{
    /// <summary>Row id, assigned by the store.</summary>
    public EventId Id { get; init; }
}

/// <summary>
/// An image row: <paramref name="Path"/> (file path, or <c>[kernel.kallsyms]</c>, <c>[modname]</c>, a pseudo name such as
/// <c>no-vmlinux</c>), lowercase hex build-id or null, kind, and <paramref name="Domain"/>, the domain whose code it is
/// (0: dom0 or the native host; schema v4).
/// </summary>
public sealed record StoredImage(ImageId Id, string Path, string? BuildId, ImageKind Kind, int Domain = 0);

/// <summary>A frame row: an offset inside an image (see <see cref="ImageKind"/> for what the offset means).</summary>
public readonly record struct StoredFrame(FrameId Id, ImageId Image, ulong Offset);

/// <summary>A stack node: <paramref name="Parent"/> is the caller's node (0 at the root), <paramref name="Frame"/> this node's frame.</summary>
public readonly record struct StoredStack(StackId Id, StackId Parent, FrameId Frame);

/// <summary>A process (thread-group) row.</summary>
public sealed record StoredProcess(int Domain, int Pid, int ParentPid, string Comm);

/// <summary>
/// One sample to store; <paramref name="Weight"/> in samples (normally 1), <paramref name="TimeNs"/> in the source's clock (ns).
/// <paramref name="Comm"/>: the sampled thread's name at the sample's time (<see cref="SessionStore.InternComm"/>), or 0
/// when the source does not know it (reports then use the process's name). <paramref name="Period"/>: the events the record
/// stands for, in the event's unit (perf's <c>period</c>, PERF_SAMPLE_PERIOD in include/uapi/linux/perf_event.h: ns for
/// cpu-clock/task-clock), summed over its <paramref name="Weight"/> samples; 0 when writing means "the event's configured
/// period × weight", which <see cref="SessionStore.AddSample"/> fills in (schema v5; a v4 store's samples read back so).
/// </summary>
public readonly record struct StoredSample(
    long TimeNs, int Cpu, int Domain, int Pid, int Tid, EventId Event, StackId Stack, SampleMode Mode, long Weight, CommId Comm = default, long Period = 0);

/// <summary>A thread name in the store's <c>comms</c> table; 0 = unknown.</summary>
public readonly record struct CommId(int Value);

/// <summary>
/// Sample totals grouped by (event, domain, pid, thread name, stack): what reports and flame graphs read.
/// <paramref name="Samples"/> counts rows, <paramref name="Weight"/> sums their weights (samples), <paramref name="Period"/>
/// sums their periods (events, in the event's unit; schema v5) and <paramref name="PeriodSquares"/> sums each sample's
/// period squared (a record of weight k and period P counts as k samples of P/k: P²/k), for the effective sample count
/// (Σperiod)²/Σperiod² of weighted error bars.
/// </summary>
public readonly record struct StackTotal(EventId Event, int Domain, int Pid, StackId Stack, long Samples, long Weight, CommId Comm = default,
    long Period = 0, double PeriodSquares = 0)
{
    /// <summary>What one stored record of weight <paramref name="weight"/> and period <paramref name="period"/> adds to <see cref="PeriodSquares"/>.</summary>
    public static double SquaresOf(long weight, long period) => (double)period * period / Math.Max(1, weight);
}

/// <summary>Well-known counter names in the <c>counters</c> table.</summary>
public static class CounterNames
{
    /// <summary>Samples the kernel dropped because a ring was full (sum of PERF_RECORD_LOST.lost).</summary>
    public const string LostSamples = "lost_samples";
    /// <summary>Number of PERF_RECORD_THROTTLE records.</summary>
    public const string Throttled = "throttle_records";
    /// <summary>Records of a type we do not interpret (kept count only).</summary>
    public const string UnknownRecords = "unknown_records";
    /// <summary>Samples whose IP was in no known mapping.</summary>
    public const string UnmappedSamples = "unmapped_samples";
    /// <summary>Total samples written.</summary>
    public const string Samples = "samples";
    /// <summary>Lines of a text import (perf script) that did not parse and were skipped.</summary>
    public const string SkippedLines = "skipped_lines";
    /// <summary>Samples of a text import dropped because their event line had an out-of-range field.</summary>
    public const string SkippedSamples = "skipped_samples";
    /// <summary>Records of a perf.data whose body did not parse and were skipped.</summary>
    public const string MalformedRecords = "malformed_records";
    /// <summary>Bytes of an input left unread after malformed data that could not be framed.</summary>
    public const string BytesSkipped = "bytes_skipped";

    /// <summary>Prefix of Xen's global xenoprof counters (<c>xen.total_samples</c>, <c>xen.invalid_buffer_samples</c>,
    /// <c>xen.corrupted_buffer_samples</c>, <c>xen.lost_samples</c>, <c>xen.active_samples</c>, <c>xen.passive_samples</c>,
    /// <c>xen.others_samples</c>; the <c>static u64</c> counters of xen/common/xenoprof.c), stored when the hypervisor exposes them (the emulator does).</summary>
    public const string XenGlobalPrefix = "xen.";

    /// <summary>Per-domain xenoprof buffer counter: <c>xen.domN.</c> + <c>xen_samples</c>, <c>kernel_samples</c>,
    /// <c>user_samples</c>, <c>lost_samples</c> (summed over the domain's VCPU buffer headers) or <c>corrupt_reads</c>
    /// (drains that found head/tail out of range and skipped the buffer).</summary>
    public static string XenDomain(int domain, string name) => $"xen.dom{domain}.{name}";

    /// <summary>Domain switches synthesized while draining passive buffers (the dom0 driver's DOMAIN_SWITCH records).</summary>
    public const string XenDomainSwitches = "xen.domain_switches";
}

/// <summary>
/// One frame's symbol as a reporter resolved it, kept in <c>symbol_cache</c>: <paramref name="Name"/> (null: no symbol),
/// and, when <paramref name="Located"/>, the function's <paramref name="Start"/> and <paramref name="Size"/> (bytes) and the
/// frame's <paramref name="Address"/>, in the image's address space (SVMA for ELF files, absolute for kernel images).
/// </summary>
public readonly record struct CachedSymbol(ImageId Image, ulong Offset, string? Name, bool Located, ulong Start, ulong Size, ulong Address);
