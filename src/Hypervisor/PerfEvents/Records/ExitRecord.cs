namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// PERF_RECORD_EXIT (type 4): a thread exited (attr.task). Body: u32 pid, u32 ppid, u32 tid, u32 ptid, u64 time, then the sample_id trailer (<c>enum perf_event_type</c> in include/uapi/linux/perf_event.h).
/// </summary>
public readonly struct ExitRecord
{
    /// <summary>Fixed body size after the header: 24 bytes.</summary>
    public const int FixedBodySize = TaskRecordBody.FixedBodySize;

    /// <summary>Creates a value.</summary>
    public ExitRecord(uint pid, uint ppid, uint tid, uint ptid, ulong time, SampleId sampleId)
    {
        Pid = pid; ParentPid = ppid; Tid = tid; ParentTid = ptid; Time = time; SampleId = sampleId;
    }

    /// <summary>Process id.</summary>
    public uint Pid { get; }
    /// <summary>Parent process id.</summary>
    public uint ParentPid { get; }
    /// <summary>Thread id.</summary>
    public uint Tid { get; }
    /// <summary>Parent thread id.</summary>
    public uint ParentTid { get; }
    /// <summary>Time in ns of the perf clock.</summary>
    public ulong Time { get; }
    /// <summary>The sample_id trailer (default if none).</summary>
    public SampleId SampleId { get; }

    /// <summary>Decodes the record.</summary>
    /// <exception cref="ArgumentException">Wrong record type.</exception>
    /// <exception cref="Binary.MalformedDataException">Declared size smaller than header + 24-byte body + trailer.</exception>
    public static ExitRecord Decode(in RawRecord raw, SampleLayout layout)
    {
        var b = TaskRecordBody.Read(raw, layout, PerfRecordType.Exit);
        return new ExitRecord(b.Pid, b.Ppid, b.Tid, b.Ptid, b.Time, SampleId.Read(raw, layout));
    }
}
