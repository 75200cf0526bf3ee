namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// <c>perf_event_header.type</c>: kernel record types 1–22 (<c>enum perf_event_type</c> in
/// <c>enum perf_event_type</c> in include/uapi/linux/perf_event.h) and perf-tool record types 64–83 written by perf
/// record/inject/stat into perf.data, never by the kernel (<c>enum perf_user_event_type</c> in tools/lib/perf/include/perf/event.h; perf.data-file-format.txt).
/// Values not listed here are legal input: they are kept raw and counted as unknown.
/// </summary>
public enum PerfRecordType : uint
{
    /// <summary>PERF_RECORD_MMAP: an executable mapping (pid, tid, addr, len, pgoff, filename).</summary>
    Mmap = 1,
    /// <summary>PERF_RECORD_LOST: the kernel dropped records (id, lost count).</summary>
    Lost = 2,
    /// <summary>PERF_RECORD_COMM: a thread changed its name (pid, tid, comm).</summary>
    Comm = 3,
    /// <summary>PERF_RECORD_EXIT: a thread exited (pid, ppid, tid, ptid, time).</summary>
    Exit = 4,
    /// <summary>PERF_RECORD_THROTTLE: sampling throttled (time, id, stream_id).</summary>
    Throttle = 5,
    /// <summary>PERF_RECORD_UNTHROTTLE: sampling resumed (time, id, stream_id).</summary>
    Unthrottle = 6,
    /// <summary>PERF_RECORD_FORK: a thread was created (pid, ppid, tid, ptid, time).</summary>
    Fork = 7,
    /// <summary>PERF_RECORD_READ: counter values (pid, tid, read_format block).</summary>
    Read = 8,
    /// <summary>PERF_RECORD_SAMPLE: one sample, fields chosen by <c>sample_type</c>.</summary>
    Sample = 9,
    /// <summary>PERF_RECORD_MMAP2: a mapping with device/inode or build-id, prot and flags.</summary>
    Mmap2 = 10,
    /// <summary>PERF_RECORD_AUX: new data in the AUX area.</summary>
    Aux = 11,
    /// <summary>PERF_RECORD_ITRACE_START.</summary>
    ItraceStart = 12,
    /// <summary>PERF_RECORD_LOST_SAMPLES: samples lost inside the PMU driver (lost count).</summary>
    LostSamples = 13,
    /// <summary>PERF_RECORD_SWITCH: context switch of the monitored task.</summary>
    Switch = 14,
    /// <summary>PERF_RECORD_SWITCH_CPU_WIDE: context switch seen system-wide.</summary>
    SwitchCpuWide = 15,
    /// <summary>PERF_RECORD_NAMESPACES.</summary>
    Namespaces = 16,
    /// <summary>PERF_RECORD_KSYMBOL: a kernel symbol (BPF, out-of-line code) registered or removed.</summary>
    Ksymbol = 17,
    /// <summary>PERF_RECORD_BPF_EVENT.</summary>
    BpfEvent = 18,
    /// <summary>PERF_RECORD_CGROUP.</summary>
    Cgroup = 19,
    /// <summary>PERF_RECORD_TEXT_POKE.</summary>
    TextPoke = 20,
    /// <summary>PERF_RECORD_AUX_OUTPUT_HW_ID.</summary>
    AuxOutputHwId = 21,
    /// <summary>PERF_RECORD_CALLCHAIN_DEFERRED (<c>enum perf_event_type</c> of kernels after 6.16 only).</summary>
    CallchainDeferred = 22,

    /// <summary>PERF_RECORD_HEADER_ATTR (perf tool).</summary>
    HeaderAttr = 64,
    /// <summary>PERF_RECORD_HEADER_EVENT_TYPE (perf tool, deprecated).</summary>
    HeaderEventType = 65,
    /// <summary>PERF_RECORD_HEADER_TRACING_DATA (perf tool; payload follows outside header.size).</summary>
    HeaderTracingData = 66,
    /// <summary>PERF_RECORD_HEADER_BUILD_ID (perf tool).</summary>
    HeaderBuildId = 67,
    /// <summary>PERF_RECORD_FINISHED_ROUND (perf tool): records before it may be sorted and flushed.</summary>
    FinishedRound = 68,
    /// <summary>PERF_RECORD_ID_INDEX (perf tool).</summary>
    IdIndex = 69,
    /// <summary>PERF_RECORD_AUXTRACE_INFO (perf tool).</summary>
    AuxtraceInfo = 70,
    /// <summary>PERF_RECORD_AUXTRACE (perf tool; payload follows outside header.size).</summary>
    Auxtrace = 71,
    /// <summary>PERF_RECORD_AUXTRACE_ERROR (perf tool).</summary>
    AuxtraceError = 72,
    /// <summary>PERF_RECORD_THREAD_MAP (perf tool).</summary>
    ThreadMap = 73,
    /// <summary>PERF_RECORD_CPU_MAP (perf tool).</summary>
    CpuMap = 74,
    /// <summary>PERF_RECORD_STAT_CONFIG (perf tool).</summary>
    StatConfig = 75,
    /// <summary>PERF_RECORD_STAT (perf tool).</summary>
    Stat = 76,
    /// <summary>PERF_RECORD_STAT_ROUND (perf tool).</summary>
    StatRound = 77,
    /// <summary>PERF_RECORD_EVENT_UPDATE (perf tool).</summary>
    EventUpdate = 78,
    /// <summary>PERF_RECORD_TIME_CONV (perf tool).</summary>
    TimeConv = 79,
    /// <summary>PERF_RECORD_HEADER_FEATURE (perf tool, pipe mode).</summary>
    HeaderFeature = 80,
    /// <summary>PERF_RECORD_COMPRESSED (perf tool, zstd).</summary>
    Compressed = 81,
    /// <summary>PERF_RECORD_FINISHED_INIT (perf tool).</summary>
    FinishedInit = 82,
    /// <summary>PERF_RECORD_COMPRESSED2 (perf tool, zstd, ≈6.15).</summary>
    Compressed2 = 83,
}
