using XenProf.Hypervisor.PerfEvents.Records;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Attribution;

/// <summary>
/// Feeds perf records (from live rings or a perf.data file) to an <see cref="Attributor"/> in time order.
/// <para>
/// Each per-CPU ring is in time order, but rings are drained one after another, so a record read from
/// CPU 1 may be older than one already read from CPU 0. Records are therefore queued and released in
/// rounds, the rule perf uses for FINISHED_ROUND (<c>process_finished_round</c> in tools/perf/util/session.c):
/// </para>
/// <code>
///   pass k-1: read every ring  ──► max time seen = T(k-1)
///   pass k:   read every ring  ──► every record with time ≤ T(k-1) has now been read
///             (each ring was read past the point it had reached when pass k-1 ended),
///             so release them, sorted; keep the rest for the next pass.
/// </code>
/// <see cref="EndPass"/> marks the end of one pass; <see cref="Flush"/> releases everything (stop, dump).
/// </summary>
public sealed class PerfRecordAttribution : IPerfRecordSink
{
    private readonly Attributor _attr;
    private readonly SessionStore _store;
    private readonly EventId[] _events;
    // The queue: records in arrival order. Samples are kept as plain values with their callchains in one arena
    // (no object per sample); other records as objects.
    private Queued[] _items = new Queued[4096];
    private int _count;
    private ulong[] _chains = new ulong[65536];
    private int _chainsUsed;
    private Key[] _order = new Key[4096];
    private ulong _passMax, _prevPassMax;

    private struct Queued
    {
        public ulong Time, Ip, Period;
        public object? Record;     // null: a sample
        public int Pid, Tid, Cpu, EventIndex, ChainStart, ChainLength;
        public SampleMode Mode;
    }

    /// <summary>A queued record's time and its place in the queue (arrival order), as <see cref="MergeRuns"/> orders them.</summary>
    private readonly record struct Key(ulong Time, int Index);

    /// <summary>Creates the adapter; <paramref name="events"/>[i] is the stored event for perf event index i.</summary>
    public PerfRecordAttribution(Attributor attributor, SessionStore store, IReadOnlyList<EventId> events)
    {
        _attr = attributor;
        _store = store;
        _events = events.ToArray();
    }

    /// <summary>Samples lost by the kernel (sum of PERF_RECORD_LOST and LOST_SAMPLES).</summary>
    public long LostSamples { get; private set; }

    /// <summary>Records queued, waiting for their round.</summary>
    public int Pending => _count;

    private ref Queued Next(ulong time)
    {
        if (time > _passMax) _passMax = time;
        if (_count == _items.Length) Array.Resize(ref _items, _count * 2);
        return ref _items[_count++];
    }

    private void Enqueue(ulong time, object record)
    {
        ref var p = ref Next(time);
        p.Time = time;
        p.Record = record;
        p.EventIndex = -1;
    }

    /// <inheritdoc/>
    public void OnSample(int eventIndex, in SampleRecord sample) => OnSample(eventIndex, sample, sample.Callchain);

    /// <inheritdoc/>
    public void OnSample(int eventIndex, in SampleRecord sample, ReadOnlySpan<ulong> callchain)
    {
        callchain = _attr.KeptCallchain(callchain);
        if (_chainsUsed + callchain.Length > _chains.Length) Array.Resize(ref _chains, Math.Max(_chains.Length * 2, _chainsUsed + callchain.Length));
        callchain.CopyTo(_chains.AsSpan(_chainsUsed));
        ref var p = ref Next(sample.Time);
        p.Time = sample.Time;
        p.Ip = sample.Ip;
        p.Period = sample.Period; // PERF_SAMPLE_PERIOD; 0 when the attr did not ask for it
        p.Record = null;
        p.Pid = (int)sample.Pid;
        p.Tid = (int)sample.Tid;
        p.Cpu = (int)sample.Cpu;
        p.EventIndex = eventIndex;
        p.Mode = (SampleMode)(int)sample.CpuMode;
        p.ChainStart = _chainsUsed;
        p.ChainLength = callchain.Length;
        _chainsUsed += callchain.Length;
    }
    /// <inheritdoc/>
    public void OnMmap2(in Mmap2Record mmap) => Enqueue(mmap.SampleId.Time, mmap);
    /// <inheritdoc/>
    public void OnMmap(in MmapRecord mmap) => Enqueue(mmap.SampleId.Time, mmap);
    /// <inheritdoc/>
    public void OnComm(in CommRecord comm) => Enqueue(comm.SampleId.Time, comm);
    /// <inheritdoc/>
    public void OnFork(in ForkRecord fork) => Enqueue(fork.Time, fork);
    /// <inheritdoc/>
    public void OnExit(in ExitRecord exit) => Enqueue(exit.Time, exit);
    /// <inheritdoc/>
    public void OnLost(in LostRecord lost) { LostSamples += (long)lost.Lost; _store.AddCounter(CounterNames.LostSamples, (long)lost.Lost); }
    /// <inheritdoc/>
    public void OnLostSamples(in LostSamplesRecord lost) { LostSamples += (long)lost.Lost; _store.AddCounter(CounterNames.LostSamples, (long)lost.Lost); }
    /// <inheritdoc/>
    public void OnThrottle(in ThrottleRecord throttle) { if (!throttle.IsUnthrottle) _store.AddCounter(CounterNames.Throttled, 1); }
    /// <inheritdoc/>
    public void OnUnknown(in RawRecord raw) => _store.AddCounter(CounterNames.UnknownRecords, 1);

    /// <summary>Ends one pass over all rings: releases records older than the previous pass's newest.</summary>
    public void EndPass()
    {
        Release(_prevPassMax);
        _prevPassMax = _passMax;
    }

    /// <summary>Releases every queued record, in time order.</summary>
    public void Flush() => Release(ulong.MaxValue);

    private Key[] _merge = new Key[4096];

    /// <summary>Sorts <c>_order[0.._count)</c> by merging its ascending runs pairwise (stable: a tie keeps arrival order).</summary>
    private void MergeRuns()
    {
        if (_merge.Length < _count) _merge = new Key[_order.Length];
        var bounds = new List<int> { 0 };
        for (int i = 1; i < _count; i++) if (_order[i].Time < _order[i - 1].Time) bounds.Add(i);
        bounds.Add(_count);
        Key[] src = _order, dst = _merge;
        while (bounds.Count > 2)
        {
            var next = new List<int> { 0 };
            for (int r = 0; r + 1 < bounds.Count; r += 2)
            {
                int lo = bounds[r], mid = bounds[r + 1], hi = r + 2 < bounds.Count ? bounds[r + 2] : mid;
                int i = lo, j = mid, k = lo;
                while (i < mid && j < hi) dst[k++] = src[j].Time < src[i].Time ? src[j++] : src[i++];
                while (i < mid) dst[k++] = src[i++];
                while (j < hi) dst[k++] = src[j++];
                next.Add(hi);
            }
            if (next[^1] != _count) next.Add(_count);
            (src, dst) = (dst, src);
            bounds = next;
        }
        if (!ReferenceEquals(src, _order)) Array.Copy(src, _order, _count);
    }

    private void Release(ulong upTo)
    {
        if (_count == 0) return;
        if (_order.Length < _count) _order = new Key[_items.Length];
        bool sorted = true;
        for (int i = 0; i < _count; i++)
        {
            _order[i] = new Key(_items[i].Time, i);
            if (i > 0 && _items[i].Time < _items[i - 1].Time) sorted = false;
        }
        // Each ring is in time order, so the queue is a few sorted runs (one per ring read): merge them.
        if (!sorted) MergeRuns();
        long unmappedBefore = _attr.UnmappedSamples, samplesBefore = _attr.SamplesWritten;
        int released = 0;
        for (; released < _count && _order[released].Time <= upTo; released++)
        {
            ref var p = ref _items[_order[released].Index];
            if (p.Record == null)
            {
                int ei = p.EventIndex;
                var ev = ei >= 0 && ei < _events.Length ? _events[ei] : _events[0];
                _attr.Sample(ev, (long)p.Time, p.Cpu, p.Pid, p.Tid, p.Ip, _chains.AsSpan(p.ChainStart, p.ChainLength), p.Mode, period: p.Period);
                continue;
            }
            switch (p.Record)
            {
                case Mmap2Record m when m.CpuMode is CpuMode.Kernel or CpuMode.GuestKernel:
                    _attr.KernelMmap(m.Address, m.Length, m.CpuMode == CpuMode.GuestKernel ? "[guest.kernel.kallsyms]" : m.Filename);
                    break;
                case MmapRecord m when m.CpuMode is CpuMode.Kernel or CpuMode.GuestKernel:
                    _attr.KernelMmap(m.Address, m.Length, m.CpuMode == CpuMode.GuestKernel ? "[guest.kernel.kallsyms]" : m.Filename);
                    break;
                case Mmap2Record m:
                    _attr.Mmap((int)m.Pid, m.Address, m.Length, m.PageOffset, m.Filename, m.HasBuildId ? m.BuildIdHex : null, m.IsExecutable, (long)m.SampleId.Time);
                    break;
                case MmapRecord m:
                    _attr.Mmap((int)m.Pid, m.Address, m.Length, m.PageOffset, m.Filename, null, m.IsExecutable, (long)m.SampleId.Time);
                    break;
                case CommRecord c:
                    _attr.Comm((int)c.Pid, (int)c.Tid, c.Comm, c.IsExec);
                    break;
                case ForkRecord f:
                    _attr.Fork((int)f.Pid, (int)f.ParentPid, (int)f.Tid, (int)f.ParentTid);
                    break;
                case ExitRecord x:
                    _attr.Exit((int)x.Pid, (int)x.Tid);
                    break;
            }
        }
        // Keep what is newer than upTo, in arrival order; drop references to what was released.
        int kept = 0, chainsKept = 0;
        for (int i = 0; i < _count; i++)
        {
            if (_items[i].Time <= upTo) continue;
            ref var q = ref _items[i];
            if (q.Record == null && q.ChainLength > 0)
            {
                // Kept callchains move to the front of the arena, in arrival order (never past their old place).
                if (q.ChainStart != chainsKept) Array.Copy(_chains, q.ChainStart, _chains, chainsKept, q.ChainLength);
                q.ChainStart = chainsKept;
                chainsKept += q.ChainLength;
            }
            if (kept != i) _items[kept] = q;
            kept++;
        }
        _chainsUsed = chainsKept;
        Array.Clear(_items, kept, _count - kept);
        _count = kept;
        _store.AddCounter(CounterNames.Samples, _attr.SamplesWritten - samplesBefore);
        _store.AddCounter(CounterNames.UnmappedSamples, _attr.UnmappedSamples - unmappedBefore);
    }
}
