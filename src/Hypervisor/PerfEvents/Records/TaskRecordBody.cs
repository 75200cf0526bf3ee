namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>The body FORK and EXIT share: u32 pid, u32 ppid, u32 tid, u32 ptid, u64 time (PERF_RECORD_FORK/EXIT in include/uapi/linux/perf_event.h).</summary>
internal static class TaskRecordBody
{
    public const int FixedBodySize = 24;

    public static (uint Pid, uint Ppid, uint Tid, uint Ptid, ulong Time) Read(in RawRecord raw, SampleLayout layout, PerfRecordType expected)
    {
        var c = RecordBody.Open(raw, layout, FixedBodySize, expected);
        return (c.ReadUInt32(), c.ReadUInt32(), c.ReadUInt32(), c.ReadUInt32(), c.ReadUInt64());
    }
}
