namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// PERF_RECORD_LOST_SAMPLES (type 13): u64 lost, then the sample_id trailer (<c>enum perf_event_type</c> in include/uapi/linux/perf_event.h). Samples lost
/// inside the PMU driver (for example PEBS), not ring overflow.
/// </summary>
public readonly struct LostSamplesRecord
{
    /// <summary>Fixed body size after the header: 8 bytes.</summary>
    public const int FixedBodySize = 8;

    /// <summary>Creates a value.</summary>
    public LostSamplesRecord(ushort misc, ulong lost, SampleId sampleId) { Misc = misc; Lost = lost; SampleId = sampleId; }

    /// <summary>perf_event_header.misc.</summary>
    public ushort Misc { get; }
    /// <summary>Number of samples lost.</summary>
    public ulong Lost { get; }
    /// <summary>The sample_id trailer (default if none).</summary>
    public SampleId SampleId { get; }

    /// <summary>Decodes the record.</summary>
    /// <exception cref="ArgumentException">Wrong record type.</exception>
    /// <exception cref="Binary.MalformedDataException">Declared size smaller than header + 8-byte body + trailer.</exception>
    public static LostSamplesRecord Decode(in RawRecord raw, SampleLayout layout)
    {
        var c = RecordBody.Open(raw, layout, FixedBodySize, PerfRecordType.LostSamples);
        return new LostSamplesRecord(raw.Misc, c.ReadUInt64(), SampleId.Read(raw, layout));
    }
}
