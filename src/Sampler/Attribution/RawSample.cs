using XenProf.Sampler.Store;

namespace XenProf.Sampler.Attribution;

/// <summary>
/// A sample as every source hands it to <see cref="Attributor.Sample(in RawSample)"/>: live perf_event rings and
/// perf.data (through <see cref="PerfRecordAttribution"/>), <c>perf script</c> text, <c>.nettrace</c>, and the xenoprof
/// buffers (emulated or privcmd). Nothing in it is resolved yet: Attribution turns (domain, pid, address) into
/// (process, image, offset).
/// <para>
/// <see cref="Callchain"/> is leaf first. For address sources it is perf's callchain, context markers allowed
/// (<c>PERF_CONTEXT_*</c>, include/uapi/linux/perf_event.h); empty means <see cref="Ip"/> alone is the stack. Sources
/// whose frames come named (perf script, .nettrace) also give <see cref="Names"/>, one per callchain entry, same order:
/// the frame is then that name in that image at that address, and no mapping is looked up.
/// </para>
/// </summary>
public readonly ref struct RawSample
{
    private readonly long _weight;

    /// <summary>Creates a sample; <paramref name="timeNs"/> in the source's clock (ns), <paramref name="ip"/> the sampled address.</summary>
    public RawSample(int domain, SampleMode mode, int pid, int tid, int cpu, long timeNs, ulong ip, ReadOnlySpan<ulong> callchain, EventId ev)
    {
        Domain = domain; Mode = mode; Pid = pid; Tid = tid; Cpu = cpu; TimeNs = timeNs; Ip = ip; Callchain = callchain; Event = ev;
    }

    /// <summary>The domain the sample ran in (Xen domain id; 0 = dom0 or the native host).</summary>
    public int Domain { get; }
    /// <summary>CPU mode of the sampled address (perf's <c>misc &amp; 7</c>; xenoprof's modes map onto it).</summary>
    public SampleMode Mode { get; }
    /// <summary>Process id inside <see cref="Domain"/> (0: no task known, e.g. idle or a xenoprof sample).</summary>
    public int Pid { get; }
    /// <summary>Thread id.</summary>
    public int Tid { get; }
    /// <summary>CPU (physical CPU, or the VCPU for xenoprof buffers).</summary>
    public int Cpu { get; }
    /// <summary>Sample time, nanoseconds in the source's clock.</summary>
    public long TimeNs { get; }
    /// <summary>Sampled address.</summary>
    public ulong Ip { get; }
    /// <summary>Leaf-first callchain (see the type's remarks).</summary>
    public ReadOnlySpan<ulong> Callchain { get; }
    /// <summary>Stored event the sample counts.</summary>
    public EventId Event { get; }
    /// <summary>Names the source gave the frames, parallel to <see cref="Callchain"/>; empty for address sources.</summary>
    public ReadOnlySpan<NamedFrame> Names { get; init; }
    /// <summary>
    /// Events this record stands for, in the event's unit (perf's <c>period</c>: PERF_SAMPLE_PERIOD of a live ring or a
    /// perf.data, perf script's period field, a .nettrace's sampling interval in ns, a xenoprof counter's count), summed
    /// over <see cref="Weight"/> samples; 0 when the source does not say, and the store then takes the event's configured
    /// count per sample.
    /// </summary>
    public ulong Period { get; init; }
    /// <summary>Samples this record stands for (at least 1; 1 when not set).</summary>
    public long Weight { get => _weight < 1 ? 1 : _weight; init => _weight = value; }
    /// <summary>The thread's name at the sample's time when the source gives it with each sample (perf script); else null and Attribution uses the COMM records'.</summary>
    public string? Comm { get; init; }
}

/// <summary>
/// A frame the source named itself: symbol <paramref name="Symbol"/> (null: the source found none, perf's
/// <c>[unknown]</c>) in image <paramref name="Image"/> (perf's dso, a managed module's name) of kind <paramref name="Kind"/>.
/// Its address is the matching <see cref="RawSample.Callchain"/> entry.
/// </summary>
public readonly record struct NamedFrame(string Image, ImageKind Kind, string? Symbol);

/// <summary>An image given by the session's configuration rather than by mapping records: a file path (or a pseudo name) and its kind.</summary>
public readonly record struct ConfiguredImage(string Path, ImageKind Kind);

/// <summary>
/// What a domain's code is when the session configuration says so (a Xen session: <c>--xen</c>, <c>--vmlinux</c>,
/// <c>--passive-images</c>) instead of kernel MMAP records and <c>/proc/modules</c>. Frames of a configured image are
/// its absolute addresses. A null image falls back to what Attribution knows otherwise (process mappings for user code).
/// </summary>
public sealed record DomainImages
{
    /// <summary>Hypervisor-mode code (xen-syms, or the pseudo image <see cref="NoXen"/>).</summary>
    public ConfiguredImage? Hypervisor { get; init; }
    /// <summary>Kernel-mode code (a vmlinux/System.map/kallsyms file, <c>[kernel.kallsyms]</c>, or <see cref="NoVmlinux"/>).</summary>
    public ConfiguredImage? Kernel { get; init; }
    /// <summary>User-mode code when no process is known (a passive domain: <see cref="Apps"/>); null: the domain's process mappings.</summary>
    public ConfiguredImage? User { get; init; }
    /// <summary>
    /// The domain is reported inside dom0's report (a Xen passive domain, a perf kvm guest): Attribution adds it to the
    /// <see cref="StoreSchema.PassiveDomainsKey"/> meta list.
    /// </summary>
    public bool Passive { get; init; }
    /// <summary>Samples carry no task (xenoprof): a user-mode sample's process is the one whose mapping holds its address.</summary>
    public bool ProcessFromAddress { get; init; }

    /// <summary>Pseudo image of hypervisor code when no xen-syms was given (oprofile's name).</summary>
    public const string NoXen = "no-xen";
    /// <summary>Pseudo image of kernel code when no kernel image was given (oprofile's name).</summary>
    public const string NoVmlinux = "no-vmlinux";
    /// <summary>Pseudo image of a passive domain's or guest's user code, whose processes dom0 cannot see.</summary>
    public const string Apps = "[apps]";
}
