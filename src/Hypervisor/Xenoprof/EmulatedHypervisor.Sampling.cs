namespace XenProf.Hypervisor.Xenoprof;

// Time, scheduling and the NMI sample path (nmi_callback in xen/arch/x86/oprofile/nmi_int.c, xenoprof_log_event in
// xen/common/xenoprof.c): counters overflow every `count` events on every physical CPU;
// the overflow is logged into the buffer of the VCPU running there, as xenoprof_log_event does.
public sealed partial class EmulatedHypervisor
{
    private readonly long _timesliceNs;
    private readonly Random[] _rngs;
    private readonly long[,] _nextOverflow;
    private readonly (long Slice, (DomainState, int)? Vcpu)[] _schedule;
    private readonly List<(DomainState Domain, int Vcpu)>[] _pinned;
    private readonly HashSet<(int, int)> _pendingVirq = new();

    /// <summary>Nanoseconds between overflows of a counter with reset value <paramref name="count"/> at the scenario's clock rate.</summary>
    public long PeriodNs(ulong count) => Math.Max(1, (long)(count * 1000.0 / _scenario.Source.CpuMhz));

    private void StartCounters()
    {
        for (int p = 0; p < _rngs.Length; p++)
            for (int c = 0; c < XenoprofAbi.MaxCounters; c++)
                if (_counterConfig[c] is { Enabled: true, Count: > 0 } cfg) _nextOverflow[p, c] = NowNs + PeriodNs(cfg.Count);
    }

    /// <summary>
    /// Runs simulated time up to <paramref name="untilNs"/>: while profiling, every counter overflow writes a sample.
    /// Returns the number of overflows (Xen's total_samples increment).
    /// </summary>
    public long Advance(long untilNs)
    {
        long n = 0;
        if (State == XenoprofState.Profiling)
        {
            for (int p = 0; p < _rngs.Length; p++)
                for (int c = 0; c < XenoprofAbi.MaxCounters; c++)
                {
                    if (_counterConfig[c] is not { Enabled: true, Count: > 0 } cfg) continue;
                    var period = PeriodNs(cfg.Count);
                    while (_nextOverflow[p, c] <= untilNs)
                    {
                        if (Overflow(p, c, cfg, _nextOverflow[p, c])) n++;
                        _nextOverflow[p, c] += period;
                    }
                }
        }
        NowNs = Math.Max(NowNs, untilNs);
        return n;
    }

    /// <summary>The VCPU a physical CPU runs at <paramref name="timeNs"/> (null = idle): per time slice, VCPUs pinned there take turns; a VCPU that is not busy in a slice yields to the next.</summary>
    private (DomainState Domain, int Vcpu)? Running(int pcpu, long timeNs)
    {
        long slice = timeNs / _timesliceNs;
        if (_schedule[pcpu].Slice == slice) return _schedule[pcpu].Vcpu;
        var cands = _pinned[pcpu];
        (DomainState, int)? pick = null;
        if (cands.Count > 0)
        {
            var rng = new Random(Mix(_scenario.Source.Seed, pcpu, slice));
            for (int i = 0; i < cands.Count; i++)
            {
                var c = cands[(int)((slice + i) % cands.Count)];
                if (rng.NextDouble() < c.Domain.Domain.Busy) { pick = c; break; }
            }
        }
        _schedule[pcpu] = (slice, pick);
        return pick;
    }

    private bool Overflow(int pcpu, int counter, XenoprofCounter cfg, long timeNs)
    {
        var rng = _rngs[pcpu];
        var running = Running(pcpu, timeNs);
        ResolvedFunction? f = null;
        if (running is { } r && r.Domain.Domain.Workload.Count > 0)
        {
            double x = rng.NextDouble() * r.Domain.TotalWeight;
            foreach (var w in r.Domain.Domain.Workload) { f = w; if ((x -= w.Weight) < 0) break; }
        }
        var mode = f?.Mode ?? XenoprofMode.Xen; // idle VCPUs run Xen's idle loop
        // The counter counts only in the rings it was set up for (kernel covers ring 0, Xen included).
        if (mode == XenoprofMode.User ? !cfg.User : !cfg.Kernel) return false;
        _counters.Total++;
        if (running is not { } run || run.Domain.Type == DomainType.Ignored || f == null)
        {
            _counters.Others++; // idle or unprofiled domain: dropped (idle_samples is never incremented)
            return true;
        }
        var d = run.Domain;
        if (!d.Allocated || !d.Shared && d.Type == DomainType.Active)
        {
            _counters.InvalidBuffer++;
            return true;
        }
        ulong pc = f.Start + (ulong)rng.NextInt64((long)Math.Max(1, f.End - f.Start));
        LogEvent(d, run.Vcpu, pc, mode, (byte)counter, f, rng);
        if (d.Type == DomainType.Active && mode != XenoprofMode.Xen) _pendingVirq.Add((d.Domain.Id, run.Vcpu));
        return true;
    }

    // xenoprof_log_event + xenoprof_add_trace: escape (if tracing), the sample, then return addresses.
    private void LogEvent(DomainState d, int vcpu, ulong pc, XenoprofMode mode, byte ev, ResolvedFunction f, Random rng)
    {
        var buf = Buffer(d, vcpu);
        uint size = (uint)d.MaxSamples;
        if (BacktraceDepth > 0)
        {
            var free = XenoprofRing.Free(buf, size);
            if (free < 0) { _counters.CorruptedBuffer++; return; }
            if (free < 2) { Lost(buf); return; }
            XenoprofRing.TryAdd(buf, size, EventLogEntry.TraceBeginEscape(mode));
        }
        switch (XenoprofRing.TryAdd(buf, size, new EventLogEntry(pc, mode, ev)))
        {
            case RingWrite.Corrupt: _counters.CorruptedBuffer++; return;
            case RingWrite.Full: Lost(buf); return;
        }
        if (d.Type == DomainType.Active) _counters.Active++; else _counters.Passive++;
        XenoprofRing.AddCounter(buf, mode switch
        {
            XenoprofMode.User => XenoprofBufLayout.UserSamples,
            XenoprofMode.Kernel => XenoprofBufLayout.KernelSamples,
            _ => XenoprofBufLayout.XenSamples,
        }, 1);
        if (BacktraceDepth == 0) return;
        // Frame-pointer walk: innermost caller first, up to the depth; an entry that does not fit is lost and ends the walk.
        int depth = 0;
        for (int i = f.Callers.Count - 1; i >= 0 && depth < BacktraceDepth; i--, depth++)
        {
            var c = f.Callers[i];
            ulong ret = c.Start + 1 + (ulong)rng.NextInt64((long)Math.Max(1, c.End - c.Start - 1));
            if (XenoprofRing.TryAdd(buf, size, new EventLogEntry(ret, mode, 0)) != RingWrite.Stored) { Lost(buf); break; }
        }
    }

    /// <summary>A seed derived from (seed, a, b) that is the same in every process (HashCode is randomized per process): splitmix64 finalizer.</summary>
    internal static int Mix(long seed, long a, long b)
    {
        ulong z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)a * 0xBF58476D1CE4E5B9UL ^ (ulong)b * 0x94D049BB133111EBUL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7fffffff);
    }

    private void Lost(Span<byte> buf)
    {
        XenoprofRing.AddCounter(buf, XenoprofBufLayout.LostSamples, 1);
        _counters.Lost++;
    }
}
