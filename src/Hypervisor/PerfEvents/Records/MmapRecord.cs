namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// PERF_RECORD_MMAP (type 1): u32 pid, u32 tid, u64 addr, u64 len, u64 pgoff, char filename[] (NUL-padded to 8),
/// then the sample_id trailer (<c>enum perf_event_type</c> in include/uapi/linux/perf_event.h).
/// </summary>
public readonly struct MmapRecord
{
    /// <summary>Fixed body size after the header, before the filename: 32 bytes.</summary>
    public const int FixedBodySize = 32;

    /// <summary>Creates a value.</summary>
    public MmapRecord(ushort misc, uint pid, uint tid, ulong address, ulong length, ulong pageOffset, string filename, SampleId sampleId)
    {
        Misc = misc; Pid = pid; Tid = tid; Address = address; Length = length; PageOffset = pageOffset; Filename = filename; SampleId = sampleId;
    }

    /// <summary>perf_event_header.misc.</summary>
    public ushort Misc { get; }
    /// <summary>CPU mode (Kernel for kernel/module maps, User for process maps).</summary>
    public CpuMode CpuMode => PerfRecordMisc.ModeOf(Misc);
    /// <summary>False if misc has PERF_RECORD_MISC_MMAP_DATA (a data mapping).</summary>
    public bool IsExecutable => (Misc & PerfRecordMisc.MmapData) == 0;
    /// <summary>Process id (-1 as u32 for kernel maps synthesized by perf).</summary>
    public uint Pid { get; }
    /// <summary>Thread id.</summary>
    public uint Tid { get; }
    /// <summary>Start address of the mapping.</summary>
    public ulong Address { get; }
    /// <summary>Length in bytes.</summary>
    public ulong Length { get; }
    /// <summary>File offset (bytes, despite the name pgoff) of the mapping start.</summary>
    public ulong PageOffset { get; }
    /// <summary>Mapped file, or a pseudo name such as <c>[vdso]</c>, <c>//anon</c>.</summary>
    public string Filename { get; }
    /// <summary>The sample_id trailer (default if none).</summary>
    public SampleId SampleId { get; }

    /// <summary>Decodes a MMAP record.</summary>
    /// <exception cref="ArgumentException">Not a MMAP record.</exception>
    /// <exception cref="Binary.MalformedDataException">Declared size smaller than header + 32-byte body + trailer.</exception>
    public static MmapRecord Decode(in RawRecord raw, SampleLayout layout)
    {
        var c = RecordBody.Open(raw, layout, FixedBodySize, PerfRecordType.Mmap);
        uint pid = c.ReadUInt32(), tid = c.ReadUInt32();
        ulong addr = c.ReadUInt64(), len = c.ReadUInt64(), pgoff = c.ReadUInt64();
        string name = c.ReadRestAsString();
        return new MmapRecord(raw.Misc, pid, tid, addr, len, pgoff, name, SampleId.Read(raw, layout));
    }
}
