namespace XenProf.Sampler.Store;

public sealed partial class SessionStore
{
    /// <summary>
    /// Every sample in storage order (no sorting, no grouping), optionally of one domain and a time window
    /// [<paramref name="fromNs"/>, <paramref name="toNs"/>), streamed from the sample log. The cheapest full read:
    /// for aggregations that need no time order. A log shorter than committed ends the stream early and sets
    /// <see cref="SampleLogBytesMissing"/>.
    /// </summary>
    public IEnumerable<StoredSample> ReadSamplesUnordered(int? domain = null, long? fromNs = null, long? toNs = null)
    {
        long committed = CommittedLogBytes(), legacy = LegacyLogBytes();
        SampleLogBytesMissing = 0;
        Func<EventId, long, long>? legacyPeriod = legacy > 0 ? (ev, weight) => weight * ConfiguredPeriod(ev) : null;
        foreach (var s in SampleLog.Read(Path, committed, legacy, legacyPeriod, missing => SampleLogBytesMissing = missing))
        {
            if (domain != null && s.Domain != domain) continue;
            if (fromNs != null && s.TimeNs < fromNs) continue;
            if (toNs != null && s.TimeNs >= toNs) continue;
            yield return s;
        }
    }

    /// <summary>
    /// The samples from position <paramref name="first"/> (0: the first sample in storage order) to the end of the
    /// committed log, in storage order; the log is read from that record on. A short log ends the stream early (see
    /// <see cref="ReadSamplesUnordered"/>).
    /// </summary>
    public IEnumerable<StoredSample> ReadSamplesFrom(long first)
    {
        long committed = CommittedLogBytes(), legacy = LegacyLogBytes();
        SampleLogBytesMissing = 0;
        Func<EventId, long, long>? legacyPeriod = legacy > 0 ? (ev, weight) => weight * ConfiguredPeriod(ev) : null;
        return SampleLog.Read(Path, committed, legacy, legacyPeriod, missing => SampleLogBytesMissing = missing, Math.Max(0, first));
    }
}
