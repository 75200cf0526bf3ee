using XenProf.Hypervisor.Binary;

namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// The <c>sample_id</c> trailer that the kernel appends to non-SAMPLE records when <c>attr.sample_id_all</c> = 1
/// (<c>struct sample_id</c> in include/uapi/linux/perf_event.h). Each field is present only if
/// its bit is in <see cref="Fields"/>; absent fields read as 0. Records synthesized by perf from /proc carry a
/// zero-filled trailer (time 0).
/// </summary>
public readonly struct SampleId
{
    /// <summary>Creates a trailer value.</summary>
    public SampleId(SampleFormat fields, uint pid, uint tid, ulong time, ulong id, ulong streamId, uint cpu)
    {
        Fields = fields; Pid = pid; Tid = tid; Time = time; Id = id; StreamId = streamId; Cpu = cpu;
    }

    /// <summary>Which of TID, TIME, ID/IDENTIFIER, STREAM_ID and CPU were present; <see cref="SampleFormat.None"/> if there was no trailer.</summary>
    public SampleFormat Fields { get; }
    /// <summary>Process id (PERF_SAMPLE_TID).</summary>
    public uint Pid { get; }
    /// <summary>Thread id (PERF_SAMPLE_TID).</summary>
    public uint Tid { get; }
    /// <summary>Time in ns of the perf clock (PERF_SAMPLE_TIME).</summary>
    public ulong Time { get; }
    /// <summary>Event id (PERF_SAMPLE_ID or PERF_SAMPLE_IDENTIFIER), as returned by PERF_EVENT_IOC_ID.</summary>
    public ulong Id { get; }
    /// <summary>Stream id (PERF_SAMPLE_STREAM_ID).</summary>
    public ulong StreamId { get; }
    /// <summary>CPU number (PERF_SAMPLE_CPU).</summary>
    public uint Cpu { get; }

    /// <summary>True if a trailer was present at all.</summary>
    public bool IsPresent => Fields != SampleFormat.None;
    /// <summary>True if <see cref="Pid"/> and <see cref="Tid"/> are valid.</summary>
    public bool HasTid => (Fields & SampleFormat.Tid) != 0;
    /// <summary>True if <see cref="Time"/> is valid.</summary>
    public bool HasTime => (Fields & SampleFormat.Time) != 0;
    /// <summary>True if <see cref="Id"/> is valid.</summary>
    public bool HasId => (Fields & (SampleFormat.Id | SampleFormat.Identifier)) != 0;
    /// <summary>True if <see cref="StreamId"/> is valid.</summary>
    public bool HasStreamId => (Fields & SampleFormat.StreamId) != 0;
    /// <summary>True if <see cref="Cpu"/> is valid.</summary>
    public bool HasCpu => (Fields & SampleFormat.Cpu) != 0;

    /// <summary>
    /// Decodes the trailer at the end of <paramref name="raw"/> (its size is fixed by the layout; it is located
    /// backwards from <c>header.size</c>, never by string length). Returns a default value when the layout has no
    /// trailer or the record is a perf-tool record (type ≥ 64).
    /// </summary>
    /// <exception cref="MalformedDataException">The record is shorter than header + trailer.</exception>
    public static SampleId Read(in RawRecord raw, SampleLayout layout)
    {
        int n = layout.TrailerSize;
        if (n == 0 || (uint)raw.Type >= 64) return default;
        if (raw.Size < PerfEventHeader.Size + n)
            throw new MalformedDataException(raw.Path, raw.Offset, "sample_id",
                $"{PerfRecordNames.Of(raw.Type)} declares size {raw.Size}, smaller than header plus its {n}-byte sample_id trailer");
        var c = new SpanCursor(raw.Bytes.Slice(raw.Size - n, n), raw.Path, raw.Offset + raw.Size - n, "sample_id");
        var t = layout.SampleType;
        uint pid = 0, tid = 0, cpu = 0; ulong time = 0, id = 0, stream = 0;
        // Order per struct sample_id (include/uapi/linux/perf_event.h): TID, TIME, ID, STREAM_ID, CPU, IDENTIFIER.
        if ((t & SampleFormat.Tid) != 0) { pid = c.ReadUInt32(); tid = c.ReadUInt32(); }
        if ((t & SampleFormat.Time) != 0) time = c.ReadUInt64();
        if ((t & SampleFormat.Id) != 0) id = c.ReadUInt64();
        if ((t & SampleFormat.StreamId) != 0) stream = c.ReadUInt64();
        if ((t & SampleFormat.Cpu) != 0) { cpu = c.ReadUInt32(); c.ReadUInt32(); }
        if ((t & SampleFormat.Identifier) != 0) id = c.ReadUInt64();
        return new SampleId(t & SampleLayout.TrailerFields, pid, tid, time, id, stream, cpu);
    }
}
