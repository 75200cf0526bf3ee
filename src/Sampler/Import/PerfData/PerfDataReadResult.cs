using XenProf.Hypervisor.Binary;
using XenProf.Hypervisor.PerfEvents.Records;

namespace XenProf.Sampler.Import.PerfData;

/// <summary>
/// What reading a perf.data stream produced: records per type (kernel and perf-tool types, the records inside
/// COMPRESSED ones included, as <c>perf report --stats</c> counts them), samples whose id matched no event, and,
/// when the data ended in malformed bytes, the error and how many bytes were skipped after the last good record.
/// </summary>
public sealed class PerfDataReadResult
{
    private readonly PerfRecordCounts _counts = new();

    /// <summary>Records read, by type (a snapshot).</summary>
    public SortedDictionary<uint, long> RecordsByType => new(_counts.ByType.ToDictionary(kv => (uint)kv.Key, kv => kv.Value));
    /// <summary>All records read.</summary>
    public long Records => _counts.Total;
    /// <summary>SAMPLE records delivered.</summary>
    public long Samples => _counts[PerfRecordType.Sample] - UnattributedSamples;
    /// <summary>SAMPLE records dropped because their id belongs to no attr (perf drops them too).</summary>
    public long UnattributedSamples { get; internal set; }
    /// <summary>The malformed data that stopped the read, or null if the data section was read to its end.</summary>
    public MalformedDataException? Error { get; internal set; }

    /// <summary>Records skipped because their body was malformed although their size framed them soundly.</summary>
    public long MalformedRecords { get; internal set; }

    /// <summary>The first of <see cref="MalformedRecords"/>, naming its offset and structure; null when none.</summary>
    public MalformedDataException? FirstMalformedRecord { get; internal set; }
    /// <summary>Bytes of the data section not read because of <see cref="Error"/>.</summary>
    public long BytesSkipped { get; internal set; }

    internal void Count(uint type) => _counts.Add((PerfRecordType)type);
}
