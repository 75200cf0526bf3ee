namespace XenProf.Hypervisor.Xenoprof;

/// <summary>
/// A model of Xen's xenoprof (xen/common/xenoprof.c, xen/arch/x86/oprofile/): domains with VCPUs scheduled on physical CPUs, the global state machine
/// and its errors (<see cref="Op"/>), performance counters that overflow every <c>count</c> events and write samples
/// NMI-style into the running VCPU's buffer with optional frame-pointer call chains, and Xen's per-buffer and global
/// sample counters — which, unlike Xen, it exposes (<see cref="Counters"/>). Buffers live in a memory-mapped file
/// (<see cref="XenoprofSharedMemory"/>) that profiling domains map through <see cref="IXenoprofHypercalls.MapBuffers"/>.
/// Time is simulated: <see cref="Advance"/> moves it forward; the same scenario and seed give the same samples for the
/// same sequence of calls. Not thread-safe (Xen serializes ops with one spinlock; callers here serialize too).
/// </summary>
public sealed partial class EmulatedHypervisor : IDisposable
{
    private readonly ResolvedScenario _scenario;
    private readonly XenoprofSharedMemory _memory;
    private readonly Dictionary<int, DomainState> _domains = new();
    private readonly List<DomainState> _domainOrder = new();
    private readonly long _regionBytes = XenoprofAbi.MaxSharedPages * XenoprofAbi.PageSize;

    /// <summary>Creates the model for <paramref name="scenario"/>, with shared buffer memory backed by <paramref name="sharedMemoryPath"/>.</summary>
    public EmulatedHypervisor(ResolvedScenario scenario, string sharedMemoryPath)
    {
        _scenario = scenario;
        int i = 0;
        foreach (var d in scenario.Domains)
        {
            var st = new DomainState(d, (ulong)(i++ * _regionBytes));
            _domains[d.Id] = st;
            _domainOrder.Add(st);
        }
        _memory = new XenoprofSharedMemory(sharedMemoryPath, _domainOrder.Count * _regionBytes);
        var s = scenario.Source;
        _timesliceNs = (long)s.TimesliceMs * 1_000_000;
        _rngs = Enumerable.Range(0, s.Pcpus).Select(p => new Random(Mix(s.Seed, p, 0x5eed))).ToArray();
        _nextOverflow = new long[s.Pcpus, XenoprofAbi.MaxCounters];
        _schedule = new (long Slice, (DomainState, int)? Vcpu)[s.Pcpus];
        for (int p = 0; p < s.Pcpus; p++) _schedule[p] = (-1, null);
        _pinned = Enumerable.Range(0, s.Pcpus).Select(p => new List<(DomainState, int)>()).ToArray();
        foreach (var st in _domainOrder)
            for (int v = 0; v < st.Domain.Vcpus; v++)
            {
                var pcpus = st.Domain.Pcpus.Count > 0 ? st.Domain.Pcpus : Enumerable.Range(0, s.Pcpus).ToList();
                _pinned[pcpus[v % pcpus.Count]].Add((st, v));
            }
    }

    /// <summary>The scenario being run.</summary>
    public ResolvedScenario Scenario => _scenario;

    /// <summary>Current xenoprof state.</summary>
    public XenoprofState State { get; private set; } = XenoprofState.Idle;

    /// <summary>Simulated time since creation, ns.</summary>
    public long NowNs { get; private set; }

    /// <summary>Simulated run length the scenario asks for, ns.</summary>
    public long DurationNs => (long)_scenario.Source.DurationMs * 1_000_000;

    /// <summary>Global sample counters (Xen keeps these private in xen/common/xenoprof.c).</summary>
    public XenoprofGlobalCounters Counters => _counters;

    /// <summary>Call-chain depth set by XENOPROF_set_backtrace.</summary>
    public int BacktraceDepth { get; private set; }

    /// <summary>When set, an HVM guest's vPMU owns the PMU and XENOPROF_get_buffer fails with -EBUSY (<c>acquire_pmu_ownership</c> in xen/common/xenoprof.c).</summary>
    public bool HvmVpmuOwnsPmu { get; set; }

    /// <summary>Backing file of the shared buffers.</summary>
    public string SharedMemoryPath => _memory.Path;

    /// <summary>A hypercall handle for domain <paramref name="domid"/> (the caller Xen sees).</summary>
    public IXenoprofHypercalls Connect(int domid) => new Handle(this, domid);

    /// <summary>
    /// Per-buffer counters of domain <paramref name="domid"/> as Xen keeps them in the headers (sum over its VCPUs),
    /// or all zero when it has no buffers.
    /// </summary>
    public XenoprofBufHeader BufferTotals(int domid)
    {
        if (!_domains.TryGetValue(domid, out var d) || !d.Allocated) return default;
        ulong x = 0, k = 0, u = 0, l = 0;
        for (int v = 0; v < d.Domain.Vcpus; v++)
        {
            var h = XenoprofBufHeader.Read(Buffer(d, v));
            x += h.XenSamples; k += h.KernelSamples; u += h.UserSamples; l += h.LostSamples;
        }
        return new XenoprofBufHeader(0, 0, (uint)d.MaxSamples, 0, x, k, u, l);
    }

    /// <summary>VCPUs that were sent VIRQ_XENOPROF since the last call, as (domain, vcpu); clears the set.</summary>
    public IReadOnlyList<(int Domain, int Vcpu)> TakePendingVirqs()
    {
        var list = _pendingVirq.OrderBy(x => x.Item1).ThenBy(x => x.Item2).ToList();
        _pendingVirq.Clear();
        return list;
    }

    /// <summary>Raw bytes of domain <paramref name="domid"/>'s buffer for <paramref name="vcpu"/> (tests corrupt heads and tails through this).</summary>
    public Span<byte> RawBuffer(int domid, int vcpu) => Buffer(_domains[domid], vcpu);

    /// <summary>Unmaps the shared memory.</summary>
    public void Dispose() => _memory.Dispose();

    private Span<byte> Buffer(DomainState d, int vcpu) => _memory.Slice((long)d.Gmaddr + (long)vcpu * d.BufSize, d.BufSize);

    private enum DomainType { Ignored, Active, Passive }

    private sealed class DomainState(ResolvedDomain domain, ulong gmaddr)
    {
        public ResolvedDomain Domain { get; } = domain;
        public ulong Gmaddr { get; } = gmaddr;
        public DomainType Type;
        public bool Allocated, Shared;
        public int MaxSamples, BufSize;
        public readonly double TotalWeight = domain.Workload.Sum(w => w.Weight);
    }

    private sealed class Handle(EmulatedHypervisor xen, int domid) : IXenoprofHypercalls
    {
        public int CallerDomain => domid;
        public bool Compat => false;
        public int Op(XenoprofOp op, Span<byte> arg) => xen.Op(domid, op, arg);

        public XenoprofBufferSet MapBuffers(ulong gmaddr, int nbuf, int bufSize, int domainId, bool passive)
        {
            if (!xen._domains.TryGetValue(domainId, out var d) || !d.Allocated || d.Gmaddr != gmaddr || d.BufSize != bufSize || d.Domain.Vcpus != nbuf)
                throw new InvalidOperationException($"domain {domid}: no xenoprof buffers of domain {domainId} at 0x{gmaddr:x} ({nbuf} × {bufSize} bytes) are shared with it");
            if (domainId != domid && !(passive && d.Type == DomainType.Passive && domid == xen._primary))
                throw new InvalidOperationException($"domain {domid} may not map domain {domainId}'s buffers");
            return new XenoprofBufferSet(xen._memory, gmaddr, nbuf, bufSize, domainId, passive);
        }

        public void Dispose() { }
    }
}

/// <summary>
/// Xen's global xenoprof counters (<c>static u64</c> in <c>xen/common/xenoprof.c</c>), reset by the
/// primary's enable_virq. <c>idle_samples</c> exists in Xen but is never incremented; idle time counts as others.
/// </summary>
public sealed class XenoprofGlobalCounters
{
    /// <summary>Every counter overflow.</summary>
    public long Total { get; internal set; }
    /// <summary>The interrupted VCPU had no buffer.</summary>
    public long InvalidBuffer { get; internal set; }
    /// <summary>Head or tail was outside [0, size): sample dropped.</summary>
    public long CorruptedBuffer { get; internal set; }
    /// <summary>Dropped because the buffer was full (samples and call-chain entries).</summary>
    public long Lost { get; internal set; }
    /// <summary>Stored in an active domain's buffer.</summary>
    public long Active { get; internal set; }
    /// <summary>Stored in a passive domain's buffer.</summary>
    public long Passive { get; internal set; }
    /// <summary>Never incremented, as in Xen.</summary>
    public long Idle { get; internal set; }
    /// <summary>The interrupted domain was neither active nor passive (includes the idle domain): dropped.</summary>
    public long Others { get; internal set; }

    internal void Reset() { Total = InvalidBuffer = CorruptedBuffer = Lost = Active = Passive = Idle = Others = 0; }

    /// <summary>Name/value pairs with Xen's variable names.</summary>
    public IEnumerable<(string Name, long Value)> All() =>
    [
        ("total_samples", Total), ("invalid_buffer_samples", InvalidBuffer), ("corrupted_buffer_samples", CorruptedBuffer),
        ("lost_samples", Lost), ("active_samples", Active), ("passive_samples", Passive), ("idle_samples", Idle), ("others_samples", Others),
    ];
}
