namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// <c>perf_event_attr.sample_type</c> bits (<c>enum perf_event_sample_format</c> in include/uapi/linux/perf_event.h;
/// include/uapi/linux/perf_event.h). The same bits select the <c>sample_id</c> trailer of non-SAMPLE records (<c>struct sample_id</c>, same header).
/// </summary>
[Flags]
public enum SampleFormat : ulong
{
    /// <summary>No fields.</summary>
    None = 0,
    /// <summary>PERF_SAMPLE_IP: u64 ip.</summary>
    Ip = 1UL << 0,
    /// <summary>PERF_SAMPLE_TID: u32 pid, u32 tid.</summary>
    Tid = 1UL << 1,
    /// <summary>PERF_SAMPLE_TIME: u64 time (ns, perf clock).</summary>
    Time = 1UL << 2,
    /// <summary>PERF_SAMPLE_ADDR: u64 addr.</summary>
    Addr = 1UL << 3,
    /// <summary>PERF_SAMPLE_READ: a read_format block.</summary>
    Read = 1UL << 4,
    /// <summary>PERF_SAMPLE_CALLCHAIN: u64 nr, u64 ips[nr].</summary>
    Callchain = 1UL << 5,
    /// <summary>PERF_SAMPLE_ID: u64 id.</summary>
    Id = 1UL << 6,
    /// <summary>PERF_SAMPLE_CPU: u32 cpu, u32 reserved.</summary>
    Cpu = 1UL << 7,
    /// <summary>PERF_SAMPLE_PERIOD: u64 period.</summary>
    Period = 1UL << 8,
    /// <summary>PERF_SAMPLE_STREAM_ID: u64 stream_id.</summary>
    StreamId = 1UL << 9,
    /// <summary>PERF_SAMPLE_RAW: u32 size, bytes[size].</summary>
    Raw = 1UL << 10,
    /// <summary>PERF_SAMPLE_BRANCH_STACK: u64 nr, [u64 hw_idx], {from,to,flags}[nr], [u64 counters[nr]].</summary>
    BranchStack = 1UL << 11,
    /// <summary>PERF_SAMPLE_REGS_USER: u64 abi, u64 regs[popcount(sample_regs_user)] if abi ≠ 0.</summary>
    RegsUser = 1UL << 12,
    /// <summary>PERF_SAMPLE_STACK_USER: u64 size, bytes[size], u64 dyn_size if size ≠ 0.</summary>
    StackUser = 1UL << 13,
    /// <summary>PERF_SAMPLE_WEIGHT: u64.</summary>
    Weight = 1UL << 14,
    /// <summary>PERF_SAMPLE_DATA_SRC: u64.</summary>
    DataSrc = 1UL << 15,
    /// <summary>PERF_SAMPLE_IDENTIFIER: u64 id, always first in SAMPLE and last in the trailer.</summary>
    Identifier = 1UL << 16,
    /// <summary>PERF_SAMPLE_TRANSACTION: u64.</summary>
    Transaction = 1UL << 17,
    /// <summary>PERF_SAMPLE_REGS_INTR: like REGS_USER with sample_regs_intr.</summary>
    RegsIntr = 1UL << 18,
    /// <summary>PERF_SAMPLE_PHYS_ADDR: u64.</summary>
    PhysAddr = 1UL << 19,
    /// <summary>PERF_SAMPLE_AUX: u64 size, bytes[size].</summary>
    Aux = 1UL << 20,
    /// <summary>PERF_SAMPLE_CGROUP: u64 cgroup id.</summary>
    Cgroup = 1UL << 21,
    /// <summary>PERF_SAMPLE_DATA_PAGE_SIZE: u64.</summary>
    DataPageSize = 1UL << 22,
    /// <summary>PERF_SAMPLE_CODE_PAGE_SIZE: u64.</summary>
    CodePageSize = 1UL << 23,
    /// <summary>PERF_SAMPLE_WEIGHT_STRUCT: u64 (same slot as WEIGHT).</summary>
    WeightStruct = 1UL << 24,
}

/// <summary>
/// <c>perf_event_attr.read_format</c> bits (<c>enum perf_event_read_format</c> in include/uapi/linux/perf_event.h).
/// </summary>
[Flags]
public enum ReadFormat : ulong
{
    /// <summary>Only the value.</summary>
    None = 0,
    /// <summary>PERF_FORMAT_TOTAL_TIME_ENABLED.</summary>
    TotalTimeEnabled = 1,
    /// <summary>PERF_FORMAT_TOTAL_TIME_RUNNING.</summary>
    TotalTimeRunning = 2,
    /// <summary>PERF_FORMAT_ID.</summary>
    Id = 4,
    /// <summary>PERF_FORMAT_GROUP.</summary>
    Group = 8,
    /// <summary>PERF_FORMAT_LOST (≈6.0).</summary>
    Lost = 16,
}

/// <summary>
/// The <c>perf_event_attr.branch_sample_type</c> bits that change the SAMPLE layout (<c>enum perf_branch_sample_type</c> in include/uapi/linux/perf_event.h).
/// </summary>
public static class BranchSampleType
{
    /// <summary>PERF_SAMPLE_BRANCH_HW_INDEX (1 &lt;&lt; 17): a u64 hw_idx follows the branch count.</summary>
    public const ulong HwIndex = 1UL << 17;
    /// <summary>PERF_SAMPLE_BRANCH_COUNTERS (1 &lt;&lt; 19): u64 counters[nr] follow the branch entries.</summary>
    public const ulong Counters = 1UL << 19;
}
