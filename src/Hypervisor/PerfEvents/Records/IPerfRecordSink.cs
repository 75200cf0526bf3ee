namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// Receives decoded records, one method per kind, from the live ring reader or a perf.data reader. Every method
/// has a no-op default, so a consumer implements only what it needs. Records arrive in the order of their
/// source (per ring, or per file); the values are only valid for the duration of the call except where they
/// are immutable (all typed records are; <see cref="RawRecord"/> is not and must be copied to be kept).
/// </summary>
public interface IPerfRecordSink
{
    /// <summary>A SAMPLE of event <paramref name="eventIndex"/> (index in the caller's event list; -1 if its id is unknown).</summary>
    void OnSample(int eventIndex, in SampleRecord sample) { }
    /// <summary>
    /// A SAMPLE as decoders deliver it: <paramref name="sample"/>'s <see cref="SampleRecord.Callchain"/> is empty and
    /// <paramref name="callchain"/> holds the entries, valid only during the call. The default copies them and calls
    /// <see cref="OnSample(int, in SampleRecord)"/>; a sink that keeps callchains its own way overrides this to avoid the copy.
    /// </summary>
    void OnSample(int eventIndex, in SampleRecord sample, ReadOnlySpan<ulong> callchain) =>
        OnSample(eventIndex, callchain.IsEmpty ? sample : sample.WithCallchain(callchain.ToArray()));
    /// <summary>A MMAP record.</summary>
    void OnMmap(in MmapRecord mmap) { }
    /// <summary>A MMAP2 record.</summary>
    void OnMmap2(in Mmap2Record mmap) { }
    /// <summary>A COMM record.</summary>
    void OnComm(in CommRecord comm) { }
    /// <summary>A FORK record.</summary>
    void OnFork(in ForkRecord fork) { }
    /// <summary>An EXIT record.</summary>
    void OnExit(in ExitRecord exit) { }
    /// <summary>A LOST record (ring overflow).</summary>
    void OnLost(in LostRecord lost) { }
    /// <summary>A LOST_SAMPLES record.</summary>
    void OnLostSamples(in LostSamplesRecord lost) { }
    /// <summary>A THROTTLE or UNTHROTTLE record.</summary>
    void OnThrottle(in ThrottleRecord throttle) { }
    /// <summary>Any other record type, undecoded (valid only during the call).</summary>
    void OnUnknown(in RawRecord raw) { }
}
