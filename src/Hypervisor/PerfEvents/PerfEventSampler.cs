using XenProf.Hypervisor.PerfEvents.Internal;
using XenProf.Hypervisor.PerfEvents.Records;

namespace XenProf.Hypervisor.PerfEvents;

/// <summary>
/// Samples events with perf_event_open: for each CPU, one fd per event; the first event's fd owns the CPU's
/// ring and the others are redirected into it with PERF_EVENT_IOC_SET_OUTPUT, so there is one ring per CPU.
/// Every event samples IP|TID|TIME|CPU|PERIOD|IDENTIFIER (+CALLCHAIN) with sample_id_all; the first event also
/// asks for the side-band records (mmap2 with build-id, comm, comm_exec, task). All events open disabled;
/// call <see cref="Enable"/> (or rely on enable_on_exec), then <see cref="Drain"/> periodically.
/// <see cref="Drain"/> delivers each ring in its own (time) order, ring after ring; it does not merge rings by time.
/// </summary>
public sealed class PerfEventSampler : IDisposable
{
    private readonly List<int> _fds = new();
    private readonly List<PerfRing> _rings = new();
    private readonly List<int> _ringFds = new();
    private readonly Dictionary<ulong, int> _eventIndexById = new();
    private readonly PerfRecordDecoder _decoder;
    private bool _disposed;

    private PerfEventSampler(IReadOnlyList<PerfEventRequest> events, PerfSamplerOptions options, IReadOnlyList<int> cpus, SampleLayout layout)
    {
        Events = events; Options = options; Cpus = cpus; Layout = layout;
        _decoder = new PerfRecordDecoder(layout, _eventIndexById);
    }

    /// <summary>The events, in index order (the index passed to <see cref="IPerfRecordSink.OnSample(int, in SampleRecord, ReadOnlySpan{ulong})"/>).</summary>
    public IReadOnlyList<PerfEventRequest> Events { get; }
    /// <summary>Options used.</summary>
    public PerfSamplerOptions Options { get; }
    /// <summary>CPUs with a ring, in ring order.</summary>
    public IReadOnlyList<int> Cpus { get; }
    /// <summary>Layout of every record.</summary>
    public SampleLayout Layout { get; }
    /// <summary>Cumulative counts: records per type, unknown, lost.</summary>
    public PerfRecordCounts Counts => _decoder.Counts;
    /// <summary>Event id (PERF_EVENT_IOC_ID) → event index.</summary>
    public IReadOnlyDictionary<ulong, int> EventIndexById => _eventIndexById;
    /// <summary>Records that wrapped the ring end, over all rings.</summary>
    public long WrappedRecords => _rings.Sum(r => r.WrappedRecords);

    /// <summary>sample_type used for every event.</summary>
    public static SampleFormat SampleTypeFor(bool callchains) =>
        SampleFormat.Identifier | SampleFormat.Ip | SampleFormat.Tid | SampleFormat.Time | SampleFormat.Cpu | SampleFormat.Period |
        (callchains ? SampleFormat.Callchain : SampleFormat.None);

    /// <summary>
    /// Builds the attr for event <paramref name="index"/>: sampling, disabled, sample_id_all, exclude bits from the
    /// request; event 0 also carries mmap2 + build_id, comm, comm_exec and task; per-process adds inherit and
    /// optionally enable_on_exec.
    /// </summary>
    public static PerfEventAttr BuildAttr(PerfEventRequest request, int index, PerfSamplerOptions options)
    {
        if (request.Period == 0) throw new ArgumentException($"event {request.Name}: count must be > 0", nameof(request));
        var a = new PerfEventAttr
        {
            Type = (uint)request.Type,
            Size = PerfEventAttr.SizeVer8,
            Config = request.Config,
            SamplePeriod = request.Period,
            SampleType = (ulong)SampleTypeFor(options.Callchains),
            SampleMaxStack = options.Callchains ? options.MaxStack : (ushort)0,
        };
        a.SetFlag(PerfEventAttrFlags.Disabled);
        a.SetFlag(PerfEventAttrFlags.SampleIdAll);
        a.SetFlag(PerfEventAttrFlags.ExcludeKernel, request.ExcludeKernel);
        a.SetFlag(PerfEventAttrFlags.ExcludeUser, request.ExcludeUser);
        // No attr.build_id: while any event asks for MMAP2 build-ids, this kernel (6.18) also sets
        // PERF_RECORD_MISC_MMAP_BUILD_ID on the MMAP2 records it gives *other* perf users, whose bodies still hold
        // maj/min (seen here: `perf report` 6.1 aborts on them in util/build-id.c). Build-ids are read from the
        // mapped files instead (Sampler/Attribution).
        if (index == 0)
            a.Flags |= (ulong)(PerfEventAttrFlags.Mmap2 | PerfEventAttrFlags.Mmap |
                               PerfEventAttrFlags.Comm | PerfEventAttrFlags.CommExec | PerfEventAttrFlags.Task);
        if (options.Pid is not null)
        {
            a.SetFlag(PerfEventAttrFlags.Inherit);
            a.SetFlag(PerfEventAttrFlags.EnableOnExec, options.EnableOnExec);
        }
        return a;
    }

    /// <summary>
    /// Opens every event on every CPU and maps one ring per CPU.
    /// </summary>
    /// <exception cref="ArgumentException">No events, a count of 0, or enable_on_exec without a pid.</exception>
    /// <exception cref="PerfEventOpenException">perf_event_open, mmap or an ioctl failed; everything already opened is closed.</exception>
    public static PerfEventSampler Open(IReadOnlyList<PerfEventRequest> events, PerfSamplerOptions? options = null)
    {
        options ??= new PerfSamplerOptions();
        if (events.Count == 0) throw new ArgumentException("at least one event is required", nameof(events));
        if (options.EnableOnExec && options.Pid is null) throw new ArgumentException("enable_on_exec needs a pid", nameof(options));
        var cpus = options.Cpus ?? OnlineCpus();
        var attrs = events.Select((e, i) => BuildAttr(e, i, options)).ToArray();
        var s = new PerfEventSampler(events, options, cpus, SampleLayout.From(attrs[0]));
        try
        {
            int pid = options.Pid ?? -1;
            foreach (int cpu in cpus)
            {
                int leader = -1;
                for (int i = 0; i < events.Count; i++)
                {
                    int fd = PerfNative.PerfEventOpen(ref attrs[i], pid, cpu, -1, out int errno);
                    if (fd < 0) throw PerfEventOpenException.ForOpen(events[i], errno, pid, cpu);
                    s._fds.Add(fd);
                    unsafe
                    {
                        ulong id;
                        if (PerfNative.IoctlPtr(fd, PerfNative.PERF_EVENT_IOC_ID, &id) != 0)
                            throw IoctlFailure(events[i], "PERF_EVENT_IOC_ID", cpu);
                        s._eventIndexById[id] = i;
                    }
                    if (leader < 0)
                    {
                        leader = fd;
                        s._rings.Add(PerfRing.Map(fd, options.DataPages, $"perf ring cpu {cpu}"));
                        s._ringFds.Add(fd);
                    }
                    else if (PerfNative.Ioctl(fd, PerfNative.PERF_EVENT_IOC_SET_OUTPUT, (ulong)leader) != 0)
                        throw IoctlFailure(events[i], "PERF_EVENT_IOC_SET_OUTPUT", cpu);
                }
            }
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    private static PerfEventOpenException IoctlFailure(PerfEventRequest e, string op, int cpu)
    {
        int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        return new PerfEventOpenException(e.Name, errno, $"ioctl {op} failed for event {e.Name} on cpu {cpu}: {PerfNative.ErrnoName(errno)}");
    }

    /// <summary>Parses /sys/devices/system/cpu/online (e.g. <c>0-3,6,8-9</c>) into CPU numbers.</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="FormatException">The list is malformed.</exception>
    public static IReadOnlyList<int> OnlineCpus() => ParseCpuList(File.ReadAllText("/sys/devices/system/cpu/online"));

    /// <summary>Parses a kernel CPU list (<c>0-3,6</c>).</summary>
    /// <exception cref="FormatException">Not a CPU list.</exception>
    public static IReadOnlyList<int> ParseCpuList(string text)
    {
        var cpus = new List<int>();
        foreach (var part in text.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var ends = part.Split('-');
            if (ends.Length > 2 || !int.TryParse(ends[0], out int lo) || !int.TryParse(ends[^1], out int hi) || hi < lo || lo < 0)
                throw new FormatException($"CPU list '{text.Trim()}': '{part}' is not N or N-M");
            for (int c = lo; c <= hi; c++) cpus.Add(c);
        }
        return cpus;
    }

    /// <summary>Enables every event (PERF_EVENT_IOC_ENABLE).</summary>
    /// <exception cref="PerfEventOpenException">The ioctl failed.</exception>
    public void Enable() => IoctlAll(PerfNative.PERF_EVENT_IOC_ENABLE, "PERF_EVENT_IOC_ENABLE");

    /// <summary>Disables every event (PERF_EVENT_IOC_DISABLE); records already in the rings stay readable.</summary>
    /// <exception cref="PerfEventOpenException">The ioctl failed.</exception>
    public void Disable() => IoctlAll(PerfNative.PERF_EVENT_IOC_DISABLE, "PERF_EVENT_IOC_DISABLE");

    private void IoctlAll(ulong request, string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (int fd in _fds)
            if (PerfNative.Ioctl(fd, request, 0) != 0)
            {
                int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                throw new PerfEventOpenException(Events[0].Name, errno, $"ioctl {name} failed: {PerfNative.ErrnoName(errno)}");
            }
    }

    /// <summary>
    /// Reads every ring once, ring by ring (each in its own order), delivering records to <paramref name="sink"/>.
    /// Returns the number of records delivered by this call; cumulative numbers are in <see cref="Counts"/>.
    /// </summary>
    /// <exception cref="Binary.MalformedDataException">A ring held a malformed record (a kernel/ABI mismatch).</exception>
    public int Drain(IPerfRecordSink sink)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int n = 0;
        foreach (var r in _rings) n += r.Drain(_decoder, sink);
        return n;
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for a ring to pass its wakeup watermark (poll(2), POLLIN), or for
    /// a followed process to be gone (POLLHUP). Returns true if a ring is readable or hung up; false on timeout.
    /// Drain anyway afterwards: records below the watermark are not signalled.
    /// </summary>
    public unsafe bool Poll(TimeSpan timeout)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var fds = stackalloc PerfNative.PollFd[_ringFds.Count];
        for (int i = 0; i < _ringFds.Count; i++) fds[i] = new PerfNative.PollFd { Fd = _ringFds[i], Events = PerfNative.POLLIN };
        int r = PerfNative.Poll(fds, (ulong)_ringFds.Count, (int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue));
        return r > 0;
    }

    /// <summary>Unmaps the rings and closes every fd.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var r in _rings) r.Dispose();
        foreach (int fd in _fds) PerfNative.Close(fd);
        _rings.Clear(); _fds.Clear(); _ringFds.Clear();
    }
}
