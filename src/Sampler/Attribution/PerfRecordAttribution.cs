using XenProf.Hypervisor.PerfEvents.Records;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Attribution;

/// <summary>
/// Feeds perf records (from live rings or a perf.data file) to an <see cref="Attributor"/> in time order.
/// <para>
/// Each per-CPU ring is in time order, but rings are drained one after another, so a record read from
/// CPU 1 may be older than one already read from CPU 0. Records are therefore queued and released in
/// rounds, the rule perf uses for FINISHED_ROUND (formats.md §3.10):
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
    private readonly List<(ulong Time, long Seq, object Record, int EventIndex)> _queue = new();
    private long _seq;
    private ulong _passMax, _prevPassMax;

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
    public int Pending => _queue.Count;

    private void Enqueue(ulong time, object record, int eventIndex = -1)
    {
        if (time > _passMax) _passMax = time;
        _queue.Add((time, _seq++, record, eventIndex));
    }

    /// <inheritdoc/>
    public void OnSample(int eventIndex, in SampleRecord sample) => Enqueue(sample.Time, sample, eventIndex);
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

    private void Release(ulong upTo)
    {
        if (_queue.Count == 0) return;
        _queue.Sort((a, b) => a.Time != b.Time ? a.Time.CompareTo(b.Time) : a.Seq.CompareTo(b.Seq));
        int n = 0;
        long unmappedBefore = _attr.UnmappedSamples, samplesBefore = _attr.SamplesWritten;
        for (; n < _queue.Count && _queue[n].Time <= upTo; n++)
        {
            var (_, _, rec, ei) = _queue[n];
            switch (rec)
            {
                case SampleRecord s:
                    var ev = ei >= 0 && ei < _events.Length ? _events[ei] : _events[0];
                    _attr.Sample(ev, (long)s.Time, (int)s.Cpu, (int)s.Pid, (int)s.Tid, s.Ip, s.Callchain, (SampleMode)(int)s.CpuMode);
                    break;
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
        _queue.RemoveRange(0, n);
        _store.AddCounter(CounterNames.Samples, _attr.SamplesWritten - samplesBefore);
        _store.AddCounter(CounterNames.UnmappedSamples, _attr.UnmappedSamples - unmappedBefore);
    }
}
