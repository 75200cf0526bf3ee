namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// PERF_RECORD_THROTTLE (type 5) or PERF_RECORD_UNTHROTTLE (type 6): u64 time, u64 id, u64 stream_id, then the
/// sample_id trailer (<c>enum perf_event_type</c> in include/uapi/linux/perf_event.h). The kernel throttles an event that samples faster than
/// kernel.perf_event_max_sample_rate allows.
/// </summary>
public readonly struct ThrottleRecord
{
    /// <summary>Fixed body size after the header: 24 bytes.</summary>
    public const int FixedBodySize = 24;

    /// <summary>Creates a value.</summary>
    public ThrottleRecord(bool isUnthrottle, ulong time, ulong id, ulong streamId, SampleId sampleId)
    {
        IsUnthrottle = isUnthrottle; Time = time; Id = id; StreamId = streamId; SampleId = sampleId;
    }

    /// <summary>True for UNTHROTTLE (sampling resumed), false for THROTTLE.</summary>
    public bool IsUnthrottle { get; }
    /// <summary>Time in ns of the perf clock.</summary>
    public ulong Time { get; }
    /// <summary>Event id.</summary>
    public ulong Id { get; }
    /// <summary>Stream id.</summary>
    public ulong StreamId { get; }
    /// <summary>The sample_id trailer (default if none).</summary>
    public SampleId SampleId { get; }

    /// <summary>Decodes the record.</summary>
    /// <exception cref="ArgumentException">Not THROTTLE or UNTHROTTLE.</exception>
    /// <exception cref="Binary.MalformedDataException">Declared size smaller than header + 24-byte body + trailer.</exception>
    public static ThrottleRecord Decode(in RawRecord raw, SampleLayout layout)
    {
        var c = RecordBody.Open(raw, layout, FixedBodySize, PerfRecordType.Throttle, PerfRecordType.Unthrottle);
        return new ThrottleRecord(raw.Type == PerfRecordType.Unthrottle, c.ReadUInt64(), c.ReadUInt64(), c.ReadUInt64(), SampleId.Read(raw, layout));
    }
}
