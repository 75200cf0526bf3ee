using System.Buffers.Binary;

namespace XenProf.Hypervisor.Xenoprof;

// The hypercall dispatcher: Xen's do_xenoprof_op (xen/common/xenoprof.c). Checks in Xen's order: op range (-EINVAL),
// privileged op from a non-primary caller (-EPERM), then per-op state checks, which Xen answers with -EPERM.
public sealed partial class EmulatedHypervisor
{
    private int? _primary;
    private readonly List<DomainState> _active = new();
    private readonly HashSet<int> _activeReady = new();
    private readonly List<DomainState> _passive = new();
    private readonly XenoprofCounter?[] _counterConfig = new XenoprofCounter?[XenoprofAbi.MaxCounters];
    private readonly XenoprofGlobalCounters _counters = new();

    private static bool NonPrivileged(XenoprofOp op) =>
        op is XenoprofOp.Init or XenoprofOp.EnableVirq or XenoprofOp.DisableVirq or XenoprofOp.GetBuffer;

    /// <summary>One xenoprof_op from domain <paramref name="caller"/>; returns what Xen returns.</summary>
    public int Op(int caller, XenoprofOp op, Span<byte> arg)
    {
        if (op < 0 || op > XenoprofOp.IbsCounter) return XenoprofAbi.EINVAL;
        if (!_domains.ContainsKey(caller)) return XenoprofAbi.ESRCH;
        if (!NonPrivileged(op) && caller != _primary) return XenoprofAbi.EPERM;
        switch (op)
        {
            case XenoprofOp.Init:
                return OpInit(caller, arg);
            case XenoprofOp.GetBuffer:
                if (HvmVpmuOwnsPmu) return XenoprofAbi.EBUSY;
                return OpGetBuffer(caller, arg);
            case XenoprofOp.ResetActiveList:
                foreach (var d in _active) d.Type = DomainType.Ignored;
                _active.Clear(); _activeReady.Clear();
                return 0;
            case XenoprofOp.ResetPassiveList:
                ResetPassiveList();
                return 0;
            case XenoprofOp.SetActive:
                if (State != XenoprofState.Initialized) return XenoprofAbi.EPERM;
                if (arg.Length < 2) return XenoprofAbi.EFAULT;
                return AddActive(BinaryPrimitives.ReadUInt16LittleEndian(arg));
            case XenoprofOp.SetPassive:
                if (State != XenoprofState.Initialized) return XenoprofAbi.EPERM;
                if (arg.Length < XenoprofPassive.Size) return XenoprofAbi.EFAULT;
                return AddPassive(arg);
            case XenoprofOp.ReserveCounters:
                if (State != XenoprofState.Initialized) return XenoprofAbi.EPERM;
                State = XenoprofState.CountersReserved;
                return 0;
            case XenoprofOp.Counter:
            {
                if (State != XenoprofState.CountersReserved || _active.Count == 0) return XenoprofAbi.EPERM;
                if (arg.Length < XenoprofCounter.Size(false)) return XenoprofAbi.EFAULT;
                var c = XenoprofCounter.Read(arg);
                if (c.Ind >= XenoprofAbi.MaxCounters) return XenoprofAbi.E2BIG;
                _counterConfig[c.Ind] = c;
                return 0;
            }
            case XenoprofOp.SetupEvents:
                if (State != XenoprofState.CountersReserved) return XenoprofAbi.EPERM;
                State = XenoprofState.Ready;
                return 0;
            case XenoprofOp.EnableVirq:
                return OpEnableVirq(caller);
            case XenoprofOp.Start:
                if (State != XenoprofState.Ready || _activeReady.Count != _active.Count) return XenoprofAbi.EPERM;
                StartCounters();
                State = XenoprofState.Profiling;
                return 0;
            case XenoprofOp.Stop:
                if (State != XenoprofState.Profiling) return XenoprofAbi.EPERM;
                // Flush: VIRQ to every VCPU of every ready active domain.
                foreach (var d in _active)
                    if (_activeReady.Contains(d.Domain.Id))
                        for (int v = 0; v < d.Domain.Vcpus; v++) _pendingVirq.Add((d.Domain.Id, v));
                State = XenoprofState.Ready;
                return 0;
            case XenoprofOp.DisableVirq:
            {
                var d = _domains[caller];
                if (State == XenoprofState.Profiling && d.Type == DomainType.Active) return XenoprofAbi.EPERM;
                if (d.Type != DomainType.Active || !_activeReady.Remove(caller)) return XenoprofAbi.EPERM;
                d.Shared = false; // unshare_xenoprof_page_with_guest; the pages stay allocated until the domain dies
                return 0;
            }
            case XenoprofOp.ReleaseCounters:
                if (State is not (XenoprofState.CountersReserved or XenoprofState.Ready)) return XenoprofAbi.EPERM;
                State = XenoprofState.Initialized;
                Array.Clear(_counterConfig);
                ResetPassiveList();
                return 0;
            case XenoprofOp.Shutdown:
                if (State != XenoprofState.Initialized) return XenoprofAbi.EPERM;
                foreach (var d in _active) d.Type = DomainType.Ignored;
                _active.Clear(); _activeReady.Clear();
                _primary = null;
                BacktraceDepth = 0;
                State = XenoprofState.Idle;
                return 0;
            case XenoprofOp.SetBacktrace:
                if (arg.Length < 4) return XenoprofAbi.EFAULT;
                BacktraceDepth = (int)Math.Min(int.MaxValue, arg.Length >= 8 ? BinaryPrimitives.ReadUInt64LittleEndian(arg) : BinaryPrimitives.ReadUInt32LittleEndian(arg));
                return 0;
            case XenoprofOp.GetIbsCaps:
                return 0; // no IBS on the emulated CPU
            case XenoprofOp.IbsCounter:
                if (State != XenoprofState.CountersReserved || _active.Count == 0) return XenoprofAbi.EPERM;
                return XenoprofAbi.ENOSYS; // IBS is AMD-only; the emulated CPU has none
            default:
                return XenoprofAbi.ENOSYS;
        }
    }

    private int OpInit(int caller, Span<byte> arg)
    {
        if (arg.Length < XenoprofInit.Size) return XenoprofAbi.EFAULT;
        // Only the hardware domain may become primary (there is no cleanup if the primary dies).
        bool primary = _primary == caller || (_primary == null && caller == 0);
        if (primary) _primary = caller;
        new XenoprofInit(XenoprofAbi.MaxCounters, primary, _scenario.Source.CpuType).Write(arg);
        if (primary) State = XenoprofState.Initialized;
        return 0;
    }

    private int OpGetBuffer(int caller, Span<byte> arg)
    {
        if (arg.Length < XenoprofGetBuffer.Size(false)) return XenoprofAbi.EFAULT;
        var req = XenoprofGetBuffer.Read(arg);
        var d = _domains[caller];
        if (!d.Allocated) Allocate(d, req.MaxSamples);
        d.Shared = true;
        ResetBuffers(d);
        new XenoprofGetBuffer(req.MaxSamples, d.Domain.Vcpus, d.BufSize, d.Gmaddr).Write(arg);
        return 0;
    }

    private int AddActive(int domid)
    {
        if (_active.Count >= XenoprofAbi.MaxDomains) return XenoprofAbi.E2BIG;
        if (!_domains.TryGetValue(domid, out var d)) return XenoprofAbi.EINVAL;
        if (d.Type == DomainType.Active) return 0;
        if (d.Type == DomainType.Passive) return XenoprofAbi.EPERM; // a domain is profiled in one mode only
        d.Type = DomainType.Active;
        _active.Add(d);
        return 0;
    }

    private int AddPassive(Span<byte> arg)
    {
        var req = XenoprofPassive.Read(arg);
        if (!_domains.TryGetValue(req.DomainId, out var d)) return XenoprofAbi.EINVAL;
        if (d.Type == DomainType.Active) return XenoprofAbi.EPERM;
        if (d.Type != DomainType.Passive)
        {
            if (_passive.Count >= XenoprofAbi.MaxDomains) return XenoprofAbi.E2BIG;
            d.Type = DomainType.Passive;
            _passive.Add(d);
        }
        if (!d.Allocated) Allocate(d, req.MaxSamples);
        d.Shared = true;
        new XenoprofPassive(req.DomainId, req.MaxSamples, d.Domain.Vcpus, d.BufSize, d.Gmaddr).Write(arg);
        return 0;
    }

    private void ResetPassiveList()
    {
        foreach (var d in _passive) { d.Type = DomainType.Ignored; d.Shared = false; }
        _passive.Clear();
    }

    private int OpEnableVirq(int caller)
    {
        var d = _domains[caller];
        if (caller == _primary)
        {
            if (State != XenoprofState.Ready) return XenoprofAbi.EPERM;
            _counters.Reset();
            foreach (var p in _passive) ResetBuffers(p);
        }
        ResetBuffers(d);
        if (d.Type != DomainType.Active) return XenoprofAbi.EPERM;
        _activeReady.Add(caller);
        return 0;
    }

    private void Allocate(DomainState d, int maxSamples)
    {
        // alloc_xenoprof_struct: clip so all VCPUs fit in 32 pages; zero before sharing (XSA-313).
        d.MaxSamples = XenoprofAbi.ClipMaxSamples(maxSamples, d.Domain.Vcpus);
        d.BufSize = XenoprofAbi.BufferSize(d.MaxSamples);
        d.Allocated = true;
        for (int v = 0; v < d.Domain.Vcpus; v++) XenoprofRing.Initialize(Buffer(d, v), (uint)d.MaxSamples, (uint)v);
    }

    private void ResetBuffers(DomainState d)
    {
        if (!d.Allocated) return;
        for (int v = 0; v < d.Domain.Vcpus; v++)
        {
            var b = Buffer(d, v);
            BinaryPrimitives.WriteUInt32LittleEndian(b[XenoprofBufLayout.EventHead..], 0);
            BinaryPrimitives.WriteUInt32LittleEndian(b[XenoprofBufLayout.EventTail..], 0);
        }
    }
}
