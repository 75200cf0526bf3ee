namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// Counters kept while records are delivered: records per type, records of types with no typed decoder
/// (unknown), samples whose event id matched no event, and the number of samples/records the kernel reported
/// lost (sum of LOST.lost and LOST_SAMPLES.lost). Not thread-safe; one instance per reader.
/// </summary>
public sealed class PerfRecordCounts
{
    private readonly Dictionary<PerfRecordType, long> _byType = new();
    private readonly long[] _small = new long[128]; // types below 128 (every kernel and perf-tool type): no hashing per record

    /// <summary>Records seen of <paramref name="type"/>.</summary>
    public long this[PerfRecordType type] => (uint)type < (uint)_small.Length ? _small[(int)type] : _byType.TryGetValue(type, out var n) ? n : 0;
    /// <summary>Snapshot of records per type.</summary>
    public IReadOnlyDictionary<PerfRecordType, long> ByType
    {
        get
        {
            var d = new Dictionary<PerfRecordType, long>(_byType);
            for (int t = 0; t < _small.Length; t++) if (_small[t] != 0) d[(PerfRecordType)t] = _small[t];
            return d;
        }
    }
    /// <summary>All records seen.</summary>
    public long Total { get; private set; }
    /// <summary>Records delivered through <see cref="IPerfRecordSink.OnUnknown"/>.</summary>
    public long Unknown { get; private set; }
    /// <summary>Samples whose id matched no event (delivered with event index -1).</summary>
    public long UnattributedSamples { get; private set; }
    /// <summary>Total lost, from LOST (ring overflow) and LOST_SAMPLES records.</summary>
    public ulong Lost { get; private set; }
    /// <summary>THROTTLE records seen.</summary>
    public long Throttles => this[PerfRecordType.Throttle];

    /// <summary>Counts one record of <paramref name="type"/> (any value, known to this decoder or not).</summary>
    public void Add(PerfRecordType type)
    {
        if ((uint)type < (uint)_small.Length) _small[(int)type]++;
        else _byType[type] = this[type] + 1;
        Total++;
    }

    internal void AddUnknown() => Unknown++;
    internal void AddUnattributed() => UnattributedSamples++;
    internal void AddLost(ulong n) => Lost += n;

    /// <summary>Adds another set of counts into this one.</summary>
    public void Add(PerfRecordCounts other)
    {
        foreach (var (t, n) in other._byType) _byType[t] = this[t] + n;
        for (int t = 0; t < _small.Length; t++) _small[t] += other._small[t];
        Total += other.Total; Unknown += other.Unknown; UnattributedSamples += other.UnattributedSamples; Lost += other.Lost;
    }
}
