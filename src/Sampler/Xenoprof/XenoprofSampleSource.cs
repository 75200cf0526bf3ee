using System.Globalization;
using XenProf.Hypervisor.Xenoprof;
using XenProf.Sampler.Attribution;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Xenoprof;

/// <summary>
/// The daemon side of xenoprof: drives the hypercalls in the dom0 driver's order (xenlinux drivers/xen/xenoprof/xenoprofile.c), drains every VCPU
/// buffer (indexed by its header's <c>vcpu_id</c>) and hands each sample, with its domain and mode, to Attribution
/// (<see cref="Attributor"/>, one per active domain), whatever <see cref="IXenoprofHypercalls"/> it drives (the
/// emulator or privcmd). Images come from the session's configuration: <c>--xen</c>, <c>--vmlinux</c>, the active
/// domains' processes, and for each passive domain its <c>--passive-images</c> kernel. A passive domain's samples carry
/// that domain and go to images of that domain; reports show them inside dom0's report (as <c>domainN-kernel</c>,
/// <c>domainN-xen</c>, <c>domainN-apps</c>). The drain of passive buffers is framed by synthesized domain switches as
/// the dom0 driver did. Call chains arrive as a TRACE_BEGIN escape, the sampled pc, then return addresses. Not thread-safe.
/// </summary>
public sealed class XenoprofSampleSource
{
    private readonly SessionStore _store;
    private readonly XenSessionOptions _options;
    private readonly IXenoprofHypercalls _primary;
    private readonly IReadOnlyDictionary<int, IXenoprofHypercalls> _activeGuests;
    private readonly IReadOnlyList<EventId> _events;
    private readonly Dictionary<int, IReadOnlyList<GuestProcess>> _processes;
    private readonly List<XenoprofBufferSet> _sets = new();
    private readonly Dictionary<(int Domain, int Vcpu), Pending> _pending = new();
    private readonly List<EventLogEntry> _scratch = new(256);
    private readonly Dictionary<int, Attributor> _attributors = new();
    private readonly Dictionary<int, long[]> _stored = new();
    private readonly Dictionary<int, long> _corruptReads = new();
    private readonly Dictionary<int, long> _invalidEvents = new(); // per domain: samples naming an unconfigured counter index
    private readonly List<ulong> _chain = new(64);
    private ulong[] _counterCounts = [];
    private long _domainSwitches;

    private sealed class Pending
    {
        public bool Open;
        public EventLogEntry? Sample;
        public readonly List<ulong> Callers = new();
    }

    /// <summary>
    /// Creates a source. <paramref name="primary"/> is dom0's hypercall handle; <paramref name="activeGuests"/> the handles
    /// of the other active domains (in the emulator, the same machine plays their profilers); <paramref name="events"/> the
    /// stored event per counter index; <paramref name="guestProcesses"/> each active domain's processes (its own /proc view),
    /// whose mappings are recorded now.
    /// </summary>
    public XenoprofSampleSource(SessionStore store, XenSessionOptions options, IXenoprofHypercalls primary,
        IReadOnlyDictionary<int, IXenoprofHypercalls> activeGuests, IReadOnlyList<EventId> events,
        IReadOnlyDictionary<int, IReadOnlyList<GuestProcess>>? guestProcesses = null)
    {
        _store = store; _options = options; _primary = primary; _activeGuests = activeGuests; _events = events;
        _processes = guestProcesses?.ToDictionary(kv => kv.Key, kv => kv.Value) ?? new();
        var dom0 = AttributorOf(primary.CallerDomain);
        var xen = Xen();
        foreach (var d in options.PassiveDomains)
            dom0.ConfigureDomain(d, new DomainImages
            {
                Hypervisor = xen,
                Kernel = PassiveImage(d) is { } img ? new ConfiguredImage(Path.GetFullPath(img), ImageKind.KernelImage) : new ConfiguredImage(DomainImages.NoVmlinux, ImageKind.Anonymous),
                User = new ConfiguredImage(DomainImages.Apps, ImageKind.Anonymous), // guest user space cannot be seen from dom0
                Passive = true,
            });
        foreach (var (d, list) in _processes)
            foreach (var p in list) AttributorOf(d).Mmap(p.Pid, p.Start, p.End - p.Start, p.Pgoff, p.Path, null, executable: true, 0);
    }

    private ConfiguredImage Xen() => _options.XenImage is { } x ? new ConfiguredImage(x, ImageKind.Hypervisor) : new ConfiguredImage(DomainImages.NoXen, ImageKind.Anonymous);

    /// <summary>The attributor of active domain <paramref name="domain"/>: its kernel and Xen from the options, its user code from its processes.</summary>
    private Attributor AttributorOf(int domain)
    {
        if (_attributors.TryGetValue(domain, out var a)) return a;
        a = new Attributor(_store, new KernelLayout([]), domain) { ImageDomain = 0 };
        a.ConfigureDomain(domain, new DomainImages
        {
            Hypervisor = Xen(),
            Kernel = _options.NoVmlinux ? new ConfiguredImage(DomainImages.NoVmlinux, ImageKind.Anonymous)
                : _options.Vmlinux is { } vml ? new ConfiguredImage(vml, ImageKind.KernelImage)
                : new ConfiguredImage(KernelLayout.KernelImageName, ImageKind.Kernel),
            ProcessFromAddress = true,
        });
        return _attributors[domain] = a;
    }

    /// <summary>cpu_type Xen reported at init.</summary>
    public string CpuType { get; private set; } = "";

    /// <summary>Samples stored per domain and mode (index = <see cref="XenoprofMode"/>): the daemon's side of the reconciliation.</summary>
    public IReadOnlyDictionary<int, long[]> StoredByDomainAndMode => _stored;

    /// <summary>Samples stored in total.</summary>
    public long Samples => _stored.Values.Sum(a => a.Sum());

    /// <summary>
    /// Setup, in Xen's order: init; get_buffer; set_active for dom0 and each active domain, set_passive for each
    /// passive one; set_backtrace; reserve_counters; counter × N; setup_events; enable_virq (dom0, then each active
    /// domain after its own init and get_buffer). Throws <see cref="XenoprofException"/> with the failing op.
    /// </summary>
    public void Setup(IReadOnlyList<(ulong Count, bool Kernel, bool User, uint UnitMask, uint EventCode)> counters)
    {
        var init = _primary.Init();
        if (!init.IsPrimary) throw new XenoprofException(XenoprofOp.Init, XenoprofAbi.EPERM, "this domain did not become the primary profiler (only dom0 can)");
        CpuType = init.CpuType;
        Map(_primary, _primary.CallerDomain, _primary.GetBuffer(_options.ActiveBufferSamples), passive: false);
        _primary.SetActive((ushort)_primary.CallerDomain);
        foreach (var d in _options.ActiveDomains.Where(d => d != _primary.CallerDomain)) _primary.SetActive((ushort)d);
        foreach (var d in _options.PassiveDomains)
        {
            var p = _primary.SetPassive((ushort)d, _options.PassiveBufferSamples);
            _sets.Add(_primary.MapBuffers(p.BufGmaddr, p.NBuf, p.BufSize, d, passive: true));
        }
        if (_options.CallgraphDepth > 0) _primary.SetBacktrace(_options.CallgraphDepth);
        _primary.Simple(XenoprofOp.ReserveCounters);
        _counterCounts = counters.Select(c => c.Count).ToArray();
        for (int i = 0; i < counters.Count; i++)
        {
            var c = counters[i];
            _primary.Counter(new XenoprofCounter((uint)i, c.Count, true, c.EventCode, true, c.Kernel, c.User, c.UnitMask));
        }
        _primary.Simple(XenoprofOp.SetupEvents);
        _primary.Simple(XenoprofOp.EnableVirq);
        foreach (var (d, h) in _activeGuests.OrderBy(kv => kv.Key))
        {
            h.Init();
            Map(h, d, h.GetBuffer(_options.ActiveBufferSamples), passive: false);
            h.Simple(XenoprofOp.EnableVirq);
        }
    }

    private void Map(IXenoprofHypercalls h, int domain, XenoprofGetBuffer b, bool passive) =>
        _sets.Add(h.MapBuffers(b.BufGmaddr, b.NBuf, b.BufSize, domain, passive));

    /// <summary>XENOPROF_start (dom0).</summary>
    public void Start() => _primary.Simple(XenoprofOp.Start);

    /// <summary>XENOPROF_stop (dom0), then a final drain of every buffer, as the flush VIRQ asks.</summary>
    public void Stop(long timeNs)
    {
        _primary.Simple(XenoprofOp.Stop);
        DrainAll(timeNs);
        FlushPending(timeNs);
    }

    /// <summary>Teardown: disable_virq (each active domain, then dom0), release_counters, shutdown.</summary>
    public void Shutdown()
    {
        foreach (var (_, h) in _activeGuests.OrderBy(kv => kv.Key)) h.Simple(XenoprofOp.DisableVirq);
        _primary.Simple(XenoprofOp.DisableVirq);
        _primary.Simple(XenoprofOp.ReleaseCounters);
        _primary.Simple(XenoprofOp.Shutdown);
    }

    /// <summary>Drains the buffers of one active domain's VCPU (its VIRQ fired). Returns entries read.</summary>
    public int DrainVcpu(int domain, int vcpu, long timeNs)
    {
        int n = 0;
        foreach (var set in _sets)
            if (set.DomainId == domain && !set.Passive)
                for (int i = 0; i < set.NBuf; i++)
                    if (XenoprofBufHeader.Read(set.Buffer(i)).VcpuId == (uint)vcpu) n += DrainBuffer(set, i, timeNs);
        return n;
    }

    /// <summary>
    /// Drains every buffer: active domains' own, then each passive domain framed by a synthesized domain switch to it
    /// (emitted before its first non-empty buffer) and a final switch back to the coordinator. Returns entries read.
    /// </summary>
    public int DrainAll(long timeNs)
    {
        int n = 0;
        foreach (var set in _sets.Where(s => !s.Passive))
            for (int i = 0; i < set.NBuf; i++) n += DrainBuffer(set, i, timeNs);
        bool switched = false;
        foreach (var set in _sets.Where(s => s.Passive))
        {
            bool announced = false;
            for (int i = 0; i < set.NBuf; i++)
            {
                var h = XenoprofBufHeader.Read(set.Buffer(i));
                if (!announced && h.Head != h.Tail) { _domainSwitches++; announced = switched = true; }
                n += DrainBuffer(set, i, timeNs);
            }
        }
        if (switched) _domainSwitches++; // back to XEN_COORDINATOR_DOMAIN (-1)
        return n;
    }

    private int DrainBuffer(XenoprofBufferSet set, int index, long timeNs)
    {
        var buf = set.Buffer(index);
        _scratch.Clear();
        var r = XenoprofRing.Drain(buf, _scratch);
        if (r.Corrupt)
        {
            _corruptReads[set.DomainId] = _corruptReads.GetValueOrDefault(set.DomainId) + 1;
            return 0;
        }
        if (_scratch.Count == 0) return 0;
        int vcpu = (int)XenoprofBufHeader.Read(buf).VcpuId;
        var key = (set.DomainId, vcpu);
        if (!_pending.TryGetValue(key, out var p)) _pending[key] = p = new Pending();
        foreach (var e in _scratch)
        {
            if (e.Eip == XenoprofAbi.EscapeCode)
            {
                if (e.IsTraceBegin) { Emit(set, vcpu, p, timeNs); p.Open = true; }
                continue;
            }
            if (p.Open && p.Sample != null) { p.Callers.Add(e.Eip); continue; }
            if (!p.Open) Emit(set, vcpu, p, timeNs);
            p.Sample = e;
            if (!p.Open) Emit(set, vcpu, p, timeNs);
        }
        return _scratch.Count;
    }

    /// <summary>Writes any call-chain sample still waiting for more return addresses.</summary>
    public void FlushPending(long timeNs)
    {
        foreach (var ((domain, vcpu), p) in _pending)
        {
            var set = _sets.First(s => s.DomainId == domain);
            Emit(set, vcpu, p, timeNs);
        }
    }

    private void Emit(XenoprofBufferSet set, int vcpu, Pending p, long timeNs)
    {
        if (p.Sample is not { } s) { p.Open = false; p.Callers.Clear(); return; }
        int domain = set.DomainId;
        if (s.Event >= _events.Count)
        {
            // A counter index that setup never configured (xenoprof_log_event writes the overflowing counter's index):
            // no event to file it under, so it is counted as invalid, never stored under another event.
            _invalidEvents[domain] = _invalidEvents.GetValueOrDefault(domain) + 1;
            p.Sample = null; p.Open = false; p.Callers.Clear();
            return;
        }
        var ev = _events[s.Event];
        var mode = s.Mode switch
        {
            XenoprofMode.User => set.Passive ? SampleMode.GuestUser : SampleMode.User,
            XenoprofMode.Kernel => set.Passive ? SampleMode.GuestKernel : SampleMode.Kernel,
            _ => SampleMode.Hypervisor,
        };
        // Leaf first: the sampled pc, then the return addresses as Xen wrote them (nearest caller first).
        _chain.Clear();
        _chain.Add(s.Eip);
        _chain.AddRange(p.Callers);
        // No task is known: pid 0, or for an active domain's user code the process whose mapping holds the pc.
        // Passive domains' buffers are dom0's to drain, so dom0's attributor sees them from outside.
        var attributor = set.Passive ? AttributorOf(_primary.CallerDomain) : AttributorOf(domain);
        // A xenoprof sample stands for one overflow of its counter: the count the counter was set up with.
        ulong period = s.Event < _counterCounts.Length ? _counterCounts[s.Event] : 0;
        attributor.Sample(new RawSample(domain, mode, 0, 0, vcpu, timeNs, s.Eip, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_chain), ev) { Period = period });
        if (!_stored.TryGetValue(domain, out var counts)) _stored[domain] = counts = new long[3];
        counts[Math.Min((int)s.Mode, 2)]++;
        p.Sample = null; p.Open = false; p.Callers.Clear();
    }

    private string? PassiveImage(int domain)
    {
        int i = _options.PassiveDomains.IndexOf(domain);
        return i >= 0 && i < _options.PassiveImages.Count ? _options.PassiveImages[i] : null;
    }

    /// <summary>
    /// Records what is known for the report: per-domain buffer counters read from the mapped headers, corrupt reads,
    /// domain switches, and the active and passive domain lists.
    /// </summary>
    public void WriteCounters()
    {
        foreach (var group in _sets.GroupBy(s => s.DomainId))
        {
            ulong x = 0, k = 0, u = 0, l = 0;
            foreach (var set in group)
                for (int i = 0; i < set.NBuf; i++)
                {
                    var h = XenoprofBufHeader.Read(set.Buffer(i));
                    x += h.XenSamples; k += h.KernelSamples; u += h.UserSamples; l += h.LostSamples;
                }
            int d = group.Key;
            _store.AddCounter(CounterNames.XenDomain(d, "xen_samples"), (long)x);
            _store.AddCounter(CounterNames.XenDomain(d, "kernel_samples"), (long)k);
            _store.AddCounter(CounterNames.XenDomain(d, "user_samples"), (long)u);
            _store.AddCounter(CounterNames.XenDomain(d, "lost_samples"), (long)l);
            _store.AddCounter(CounterNames.XenDomain(d, "corrupt_reads"), _corruptReads.GetValueOrDefault(d));
            if (_invalidEvents.GetValueOrDefault(d) is > 0 and var bad) _store.AddCounter(CounterNames.XenDomain(d, "invalid_event_samples"), bad);
        }
        _store.AddCounter(CounterNames.XenDomainSwitches, _domainSwitches);
        _store.AddCounter(CounterNames.Samples, Samples);
        _store.SetMeta("xen_active_domains", string.Join(",", new[] { _primary.CallerDomain }.Concat(_options.ActiveDomains.Where(x => x != _primary.CallerDomain)).Select(x => x.ToString(CultureInfo.InvariantCulture))));
        _store.SetMeta(StoreSchema.PassiveDomainsKey, string.Join(",", _options.PassiveDomains.Select(x => x.ToString(CultureInfo.InvariantCulture))));
    }
}
