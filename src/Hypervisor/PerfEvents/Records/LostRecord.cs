namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// PERF_RECORD_LOST (type 2): u64 id, u64 lost, then the sample_id trailer (<c>enum perf_event_type</c> in include/uapi/linux/perf_event.h). The ring was full
/// and <see cref="Lost"/> records of event <see cref="Id"/> were dropped.
/// </summary>
public readonly struct LostRecord
{
    /// <summary>Fixed body size after the header: 16 bytes.</summary>
    public const int FixedBodySize = 16;

    /// <summary>Creates a value.</summary>
    public LostRecord(ulong id, ulong lost, SampleId sampleId) { Id = id; Lost = lost; SampleId = sampleId; }

    /// <summary>Event id whose records were dropped.</summary>
    public ulong Id { get; }
    /// <summary>Number of records dropped.</summary>
    public ulong Lost { get; }
    /// <summary>The sample_id trailer (default if none).</summary>
    public SampleId SampleId { get; }

    /// <summary>Decodes the record.</summary>
    /// <exception cref="ArgumentException">Wrong record type.</exception>
    /// <exception cref="Binary.MalformedDataException">Declared size smaller than header + 16-byte body + trailer.</exception>
    public static LostRecord Decode(in RawRecord raw, SampleLayout layout)
    {
        var c = RecordBody.Open(raw, layout, FixedBodySize, PerfRecordType.Lost);
        return new LostRecord(c.ReadUInt64(), c.ReadUInt64(), SampleId.Read(raw, layout));
    }
}
