using System.Globalization;
using XenProf.Hypervisor.PerfEvents;
using XenProf.Hypervisor.PerfEvents.Records;
using XenProf.Sampler.Attribution;
using XenProf.Sampler.Import.PerfData;
using XenProf.Sampler.Store;

namespace XenProf.Sampler.Import;

/// <summary>
/// Writes a perf.data file into a session store through the same <see cref="Attributor"/> and
/// <see cref="PerfRecordAttribution"/> that live sampling uses, so the store is the same as a live one. The
/// reader's FINISHED_ROUND becomes the attribution's end of pass (perf's ordering rule, <c>process_finished_round</c> in tools/perf/util/session.c).
/// </summary>
internal sealed class PerfDataImporter : IPerfDataSink
{
    private readonly SessionStore _store;
    private readonly PerfDataReader _reader;
    private readonly Attributor _attributor;
    private PerfRecordAttribution? _inner;

    /// <summary>An importer of <paramref name="reader"/>'s records into <paramref name="store"/>; <paramref name="leafOnly"/>: each sample's leaf frame only (<see cref="Attributor.LeafOnly"/>).</summary>
    public PerfDataImporter(SessionStore store, PerfDataReader reader, bool leafOnly = false)
    {
        _store = store;
        _reader = reader;
        _attributor = new Attributor(store, new KernelLayout([])) { ModeFromRecords = true, BuildIdOf = BuildIdOf, LeafOnly = leafOnly };
    }

    /// <summary>Samples whose callers were left out (<see cref="Attributor.SamplesWithCallersDropped"/>).</summary>
    public long SamplesWithCallersDropped => _attributor.SamplesWithCallersDropped;

    /// <summary>Samples written.</summary>
    public long Samples => _attributor.SamplesWritten;

    private string? BuildIdOf(string name)
    {
        // Host entries only (pid -1); the kernel's entry is named [kernel.kallsyms].
        foreach (var b in _reader.Features.BuildIds)
            if (b.Filename == name && b.CpuMode is 1 or 2 or 0) return b.BuildId;
        return null;
    }

    public void OnAttrsReady(IReadOnlyList<PerfDataAttr> attrs)
    {
        var ids = new List<EventId>();
        foreach (var a in attrs)
        {
            var at = a.Attr;
            bool freq = at.HasFlag(PerfEventAttrFlags.Freq);
            bool clock = at.Type == (uint)PerfType.Software && at.Config <= 1;
            var e = new StoredEvent(a.Name, at.Type, at.Config, at.SamplePeriod, 0,
                !at.HasFlag(PerfEventAttrFlags.ExcludeKernel), !at.HasFlag(PerfEventAttrFlags.ExcludeUser),
                clock ? "ns" : "events",
                freq ? $"perf.data event, sampled at {at.SamplePeriod} Hz" : $"perf.data event, one sample every {at.SamplePeriod} {(clock ? "ns" : "events")}");
            ids.Add(_store.AddEvent(e).Id);
        }
        _inner = new PerfRecordAttribution(_attributor, _store, ids);
    }

    public void OnFinishedRound() => _inner?.EndPass();

    /// <summary>Releases everything still queued and applies build-ids that arrived late.</summary>
    public void Finish()
    {
        _inner?.Flush();
        foreach (var b in _reader.Features.BuildIds)
            if (b.CpuMode is 0 or 1 or 2) _store.SetMissingBuildId(b.Filename, b.BuildId);
    }

    private PerfRecordAttribution Inner => _inner ?? throw new InvalidOperationException("record delivered before OnAttrsReady");
    public void OnSample(int eventIndex, in SampleRecord sample) => Inner.OnSample(eventIndex, sample);
    public void OnSample(int eventIndex, in SampleRecord sample, ReadOnlySpan<ulong> callchain) => Inner.OnSample(eventIndex, sample, callchain);
    public void OnMmap(in MmapRecord mmap) => Inner.OnMmap(mmap);
    public void OnMmap2(in Mmap2Record mmap) => Inner.OnMmap2(mmap);
    public void OnComm(in CommRecord comm) => Inner.OnComm(comm);
    public void OnFork(in ForkRecord fork) => Inner.OnFork(fork);
    public void OnExit(in ExitRecord exit) => Inner.OnExit(exit);
    public void OnLost(in LostRecord lost) => Inner.OnLost(lost);
    public void OnLostSamples(in LostSamplesRecord lost) => Inner.OnLostSamples(lost);
    public void OnThrottle(in ThrottleRecord throttle) => Inner.OnThrottle(throttle);
    public void OnUnknown(in RawRecord raw) => Inner.OnUnknown(raw);

    /// <summary>Writes what the feature sections say into the store's meta table.</summary>
    public static void WriteMeta(SessionStore store, PerfDataReader r, string source)
    {
        var f = r.Features;
        store.SetMeta("source", "perf.data");
        store.SetMeta("source_path", Path.GetFullPath(source));
        if (f.Hostname != null) store.SetMeta("hostname", f.Hostname);
        if (f.OsRelease != null) store.SetMeta("kernel", f.OsRelease);
        if (f.CpuDesc != null) store.SetMeta("cpu", f.CpuDesc);
        if (f.CpuId != null) store.SetMeta("cpuid", f.CpuId);
        if (f.Arch != null) store.SetMeta("arch", f.Arch);
        if (f.PerfVersion != null) store.SetMeta("perf_version", f.PerfVersion);
        if (f.NrCpusOnline is { } n) store.SetMeta("nr_cpus", n.ToString(CultureInfo.InvariantCulture));
        if (f.TotalMemKb is { } m) store.SetMeta("total_mem_kb", m.ToString(CultureInfo.InvariantCulture));
        if (f.Cmdline != null) store.SetMeta("cmdline", string.Join(' ', f.Cmdline));
        store.SetMeta("target", r.IsPipe ? "perf.data (pipe mode)" : "perf.data");
    }
}
