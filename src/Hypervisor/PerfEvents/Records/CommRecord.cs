namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// PERF_RECORD_COMM (type 3): u32 pid, u32 tid, char comm[] (NUL-padded to 8, at most 15 characters + NUL), then
/// the sample_id trailer (<c>enum perf_event_type</c> in include/uapi/linux/perf_event.h). With attr.comm_exec the kernel sets misc COMM_EXEC when the name
/// changed because of exec.
/// </summary>
public readonly struct CommRecord
{
    /// <summary>Fixed body size after the header, before the name: 8 bytes.</summary>
    public const int FixedBodySize = 8;

    /// <summary>Creates a value.</summary>
    public CommRecord(ushort misc, uint pid, uint tid, string comm, SampleId sampleId)
    {
        Misc = misc; Pid = pid; Tid = tid; Comm = comm; SampleId = sampleId;
    }

    /// <summary>perf_event_header.misc.</summary>
    public ushort Misc { get; }
    /// <summary>True if the name changed because of exec (misc PERF_RECORD_MISC_COMM_EXEC).</summary>
    public bool IsExec => (Misc & PerfRecordMisc.CommExec) != 0;
    /// <summary>Process id.</summary>
    public uint Pid { get; }
    /// <summary>Thread id.</summary>
    public uint Tid { get; }
    /// <summary>Thread name (task comm).</summary>
    public string Comm { get; }
    /// <summary>The sample_id trailer (default if none).</summary>
    public SampleId SampleId { get; }

    /// <summary>Decodes a COMM record.</summary>
    /// <exception cref="ArgumentException">Not a COMM record.</exception>
    /// <exception cref="Binary.MalformedDataException">Declared size smaller than header + 8-byte body + trailer.</exception>
    public static CommRecord Decode(in RawRecord raw, SampleLayout layout)
    {
        var c = RecordBody.Open(raw, layout, FixedBodySize, PerfRecordType.Comm);
        uint pid = c.ReadUInt32(), tid = c.ReadUInt32();
        return new CommRecord(raw.Misc, pid, tid, c.ReadRestAsString(), SampleId.Read(raw, layout));
    }
}
