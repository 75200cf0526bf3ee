using System.Diagnostics;
using System.Globalization;
using XenProf.Hypervisor.Events;
using XenProf.Hypervisor.Xenoprof;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Xenoprof;

/// <summary>
/// The opcontrol daemon's profiler on a real Xen dom0 (<c>--hypervisor=privcmd</c>): the hypercalls go through
/// <c>/dev/xen/privcmd</c> (<see cref="PrivcmdHypercalls"/>), dom0's VCPU buffers are Xen's pages mapped into the
/// daemon, and the daemon waits on <c>VIRQ_XENOPROF</c> bound through <c>/dev/xen/evtchn</c> (when that driver is
/// missing it drains on its timer only). Setup happens when the daemon starts, in the dom0 driver's order (see
/// <see cref="XenoprofSampleSource.Setup"/>); <see cref="Enable"/> is XENOPROF_start, <see cref="Disable"/>
/// XENOPROF_stop and a final drain; <see cref="Dispose"/> tears Xen down (disable_virq, release_counters, shutdown), so
/// the next session can get the buffers again. Every hypercall is logged, one line each, to
/// <see cref="HypercallLogName"/> in the session directory. When Xen wrote no sample at all, the session's
/// <c>event_note</c> (printed in opreport's header) says so, with the cpu_type.
/// </summary>
public sealed class PrivcmdDaemonProfiler : IDaemonProfiler
{
    /// <summary>File in the session directory with one line per hypercall (name, result, decoded fields).</summary>
    public const string HypercallLogName = "hypercalls.log";

    /// <summary>
    /// Entries asked per dom0 VCPU buffer when the options keep the emulator's default: the daemon drains on a VIRQ or
    /// every 100 ms, not from an interrupt handler as the Linux driver's 16 entries assumed; Xen clips the request so
    /// that all VCPUs' buffers fit in 32 pages (xen/common/xenoprof.c, alloc_xenoprof_struct).
    /// </summary>
    public const int DefaultBufferSamples = 8192;

    private readonly SessionStore _store;
    private readonly PrivcmdHypercalls _xen;
    private readonly XenoprofSampleSource _source;
    private readonly XenEventChannel? _virq;
    private readonly StreamWriter _hlog;
    private readonly TextWriter? _log;
    private readonly string _cpuType;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Stopwatch _profiling = new();
    private bool _running, _disposed;
    private long _lostAtClose;

    private PrivcmdDaemonProfiler(SessionStore store, PrivcmdHypercalls xen, XenoprofSampleSource source, XenEventChannel? virq, StreamWriter hlog, TextWriter? log, string cpuType)
    {
        _store = store; _xen = xen; _source = source; _virq = virq; _hlog = hlog; _log = log; _cpuType = cpuType;
    }

    /// <summary>
    /// Opens the devices, creates the store and sets Xen up for <paramref name="dir"/>. <paramref name="options"/>' events
    /// are oprofile names translated to the CPU's event codes for the cpu_type Xen reports
    /// (<see cref="XenoprofNativeEvents"/>); default <c>CPU_CLK_UNHALTED:100000</c>. Only dom0 is profiled: other
    /// active or passive domains are refused (<see cref="XenProf.Hypervisor.Binary.XenProfUserException"/>). Throws <see cref="XenUnavailableException"/>
    /// without a Xen dom0, <see cref="XenoprofException"/> naming the failing op, <see cref="XenoprofMappingException"/>
    /// when the buffers cannot be mapped; on any failure what was set up in Xen is undone first.
    /// </summary>
    public static PrivcmdDaemonProfiler Open(SessionDirectory dir, XenSessionOptions options, TextWriter? log, string devicePath = PrivcmdHypercalls.DevicePath)
    {
        options.Validate();
        if (options.ActiveDomains.Any(d => d != 0) || options.PassiveDomains.Count > 0)
            throw new XenProf.Hypervisor.Binary.XenProfUserException("--hypervisor=privcmd profiles dom0 (and Xen while dom0 runs) only: other active domains need their own profiler, and passive domains are not supported on privcmd yet");
        dir.EnsureWritable();
        var hlog = new StreamWriter(Path.Combine(dir.Path, HypercallLogName), append: true) { AutoFlush = true };
        PrivcmdHypercalls? xen = null;
        SessionStore? store = null;
        XenEventChannel? virq = null;
        bool setUp = false;
        try
        {
            xen = PrivcmdHypercalls.Open(devicePath, hlog);
            var init = xen.Init();
            if (!init.IsPrimary) throw new XenoprofException(XenoprofOp.Init, XenoprofAbi.EPERM, "this domain did not become the primary profiler (only dom0 can)");
            log?.WriteLine($"xenoprof: Xen reports cpu_type {init.CpuType}, {init.NumEvents} counters");
            dir.SnapshotKernelSymbols();
            store = SessionStore.OpenOrCreate(dir.StorePath, out var existing); // a restarted daemon appends, as opcontrol does
            if (existing > 0) log?.WriteLine($"session {dir.Path}: appending to {existing} samples already stored (--reset clears them)");
            var specs = options.Events.Count > 0 ? options.Events : [$"{EventCatalogue.PreferredDefault.Name}:{EventCatalogue.PreferredDefault.Count}"];
            if (specs.Count > init.NumEvents) throw new XenProf.Hypervisor.Binary.XenProfUserException($"{specs.Count} events asked, but Xen's {init.CpuType} model has {init.NumEvents} counters");
            var events = new List<EventId>();
            var counters = new List<(ulong, bool, bool, uint, uint)>();
            foreach (var s in specs)
            {
                var spec = EventSpec.Parse(s);
                if (!EventCatalogue.TryFind(spec.Name, out var def)) throw new XenProf.Hypervisor.Binary.XenProfUserException($"unknown event {spec.Name}; see 'xenoprof list-events'");
                var (code, defaultMask) = XenoprofNativeEvents.Resolve(init.CpuType, def.Name);
                ulong count = spec.Count ?? def.DefaultCount;
                uint mask = spec.UnitMask != 0 ? spec.UnitMask : defaultMask;
                events.Add(store.AddEvent(new StoredEvent(def.Name, (uint)def.Type, def.Config, count, mask, spec.Kernel, spec.User, def.Unit, def.Description)).Id);
                counters.Add((count, spec.Kernel, spec.User, mask, code));
            }
            store.SetDomain(0, "Domain-0");
            store.SetProcess(0, 0, 0, "domain0");
            if (options.ActiveBufferSamples == XenoprofAbi.ActiveBufferSamples) options = options with { ActiveBufferSamples = DefaultBufferSamples };
            var source = new XenoprofSampleSource(store, options, xen, new Dictionary<int, IXenoprofHypercalls>(), events);
            setUp = true;
            source.Setup(counters);
            try { virq = XenEventChannel.BindVirq(XenEventChannel.VirqXenoprof, log: hlog); }
            catch (XenUnavailableException e) { log?.WriteLine($"xenoprof: {e.Message}; draining every {Daemon.DrainInterval.TotalMilliseconds} ms instead"); }
            WriteMeta(store, options, init, specs);
            store.Commit();
            return new PrivcmdDaemonProfiler(store, xen, source, virq, hlog, log, init.CpuType);
        }
        catch
        {
            virq?.Dispose();
            if (setUp && xen != null) Undo(xen);
            store?.Dispose();
            xen?.Dispose();
            hlog.Dispose();
            throw;
        }
    }

    // Best effort after a failed setup: leave Xen as idle as it allows (each op refuses in the wrong state, and that is fine).
    private static void Undo(PrivcmdHypercalls xen)
    {
        foreach (var op in new[] { XenoprofOp.DisableVirq, XenoprofOp.ReleaseCounters, XenoprofOp.Shutdown })
            xen.Op(op, Span<byte>.Empty);
    }

    /// <inheritdoc/>
    public long Samples => _source.Samples;

    /// <inheritdoc/>
    public SessionStore Store => _store;

    /// <inheritdoc/>
    /// <remarks>The sum of the mapped buffers' <c>lost_samples</c> (what Xen dropped because a buffer was full).</remarks>
    public long LostSamples => _disposed ? _lostAtClose : HeaderLost();

    private long HeaderLost()
    {
        long n = 0;
        foreach (var set in _xen.MappedSets)
            for (int i = 0; i < set.NBuf; i++) n += (long)XenoprofBufHeader.Read(set.Buffer(i)).LostSamples;
        return n;
    }

    /// <inheritdoc/>
    public bool IsEnabled => _running;

    /// <inheritdoc/>
    public IReadOnlyList<string> EventNames => _store.ReadEvents().Select(e => e.Name).ToList();

    /// <summary>VIRQ_XENOPROF events received (0 when the event channel could not be bound).</summary>
    public long VirqEvents => _virq?.Events ?? 0;

    /// <inheritdoc/>
    public void Enable()
    {
        _source.Start();
        _running = true;
        _profiling.Start();
    }

    /// <inheritdoc/>
    public void Disable()
    {
        if (!_running) return;
        _running = false;
        _profiling.Stop();
        _source.Stop(NowNs);
        _store.Commit();
    }

    /// <inheritdoc/>
    public void Wait(TimeSpan timeout)
    {
        if (_virq != null) _virq.Wait(timeout); else Thread.Sleep(timeout);
    }

    /// <inheritdoc/>
    public int Drain() => _running ? _source.DrainAll(NowNs) : 0;

    /// <inheritdoc/>
    public void Dump()
    {
        if (_running) _source.DrainAll(NowNs);
        _store.Commit();
    }

    /// <summary>Stops if profiling, tears Xen down, stores the buffer counters and the note on an empty profile, unmaps and closes.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        try
        {
            Disable();
            _lostAtClose = HeaderLost();
            _source.Shutdown();
            _source.WriteCounters();
            _store.AddCounter("xen.virq_events", VirqEvents);
            if (_source.Samples == 0) _store.SetMeta("event_note", EmptyProfileNote());
            _store.Commit();
            _log?.WriteLine($"xenoprof: {_source.Samples} samples in {_profiling.Elapsed.TotalSeconds:0.0} s of profiling, {VirqEvents} VIRQ_XENOPROF events");
        }
        finally
        {
            _disposed = true;
            _virq?.Dispose();
            _store.Dispose();
            _xen.Dispose();
            _hlog.Dispose();
        }
    }

    private string EmptyProfileNote()
    {
        var c = _store.ReadCounters();
        long G(string n) => c.GetValueOrDefault(CounterNames.XenDomain(0, n));
        long written = G("xen_samples") + G("kernel_samples") + G("user_samples");
        return written == 0 && G("lost_samples") == 0
            ? string.Create(CultureInfo.InvariantCulture, $"0 samples: the PMU did not count (cpu_type {_cpuType}): in {_profiling.Elapsed.TotalSeconds:0.0} s of profiling Xen wrote no sample into dom0's buffers (xen, kernel, user and lost counts all 0) and sent {VirqEvents} VIRQ_XENOPROF (XENOPROF_stop sends one per VCPU to flush)")
            : string.Create(CultureInfo.InvariantCulture, $"0 samples stored, although dom0's buffer headers count {written} written and {G("lost_samples")} lost (cpu_type {_cpuType})");
    }

    private long NowNs => (long)_clock.Elapsed.TotalNanoseconds;

    private static void WriteMeta(SessionStore store, XenSessionOptions options, XenoprofInit init, IReadOnlyList<string> specs)
    {
        store.SetMeta("cpu", init.CpuType);
        store.SetMeta("xen_num_events", init.NumEvents.ToString(CultureInfo.InvariantCulture));
        store.SetMeta("hostname", Environment.MachineName);
        store.SetMeta("kernel", HostFacts.KernelRelease());
        store.SetMeta("nr_cpus", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture));
        store.SetMeta("source", "xenoprof");
        store.SetMeta("hypervisor", "privcmd");
        store.SetMeta("target", "system-wide (Xen)");
        store.SetMeta("events", string.Join(",", specs));
        store.SetMeta("callgraph_depth", options.CallgraphDepth.ToString(CultureInfo.InvariantCulture));
        if (options.XenImage != null) store.SetMeta("xen_image", options.XenImage);
        if (options.Separate != null) store.SetMeta("separate", options.Separate);
    }
}
