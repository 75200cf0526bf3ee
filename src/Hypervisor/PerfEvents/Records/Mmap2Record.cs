namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// PERF_RECORD_MMAP2 (type 10; <c>enum perf_event_type</c> in include/uapi/linux/perf_event.h):
/// <code>
/// u32 pid, tid; u64 addr, len, pgoff;
/// union { struct { u32 maj, min; u64 ino, ino_generation; };
///         struct { u8 build_id_size, __reserved_1; u16 __reserved_2; u8 build_id[20]; }; }  // misc &amp; MMAP_BUILD_ID
/// u32 prot, flags; char filename[]; struct sample_id;
/// </code>
/// </summary>
public readonly struct Mmap2Record
{
    /// <summary>Fixed body size after the header, before the filename: 64 bytes.</summary>
    public const int FixedBodySize = 64;

    /// <summary>Creates a value.</summary>
    public Mmap2Record(ushort misc, uint pid, uint tid, ulong address, ulong length, ulong pageOffset,
        uint major, uint minor, ulong inode, ulong inodeGeneration, byte[] buildId,
        uint protection, uint flags, string filename, SampleId sampleId)
    {
        Misc = misc; Pid = pid; Tid = tid; Address = address; Length = length; PageOffset = pageOffset;
        Major = major; Minor = minor; Inode = inode; InodeGeneration = inodeGeneration; BuildId = buildId;
        Protection = protection; Flags = flags; Filename = filename; SampleId = sampleId;
    }

    /// <summary>perf_event_header.misc.</summary>
    public ushort Misc { get; }
    /// <summary>CPU mode.</summary>
    public CpuMode CpuMode => PerfRecordMisc.ModeOf(Misc);
    /// <summary>False if misc has PERF_RECORD_MISC_MMAP_DATA (a data mapping, reported with attr.mmap_data).</summary>
    public bool IsExecutable => (Misc & PerfRecordMisc.MmapData) == 0;
    /// <summary>True if the record carries <see cref="BuildId"/> instead of device and inode (misc MMAP_BUILD_ID).</summary>
    public bool HasBuildId => (Misc & PerfRecordMisc.MmapBuildId) != 0;
    /// <summary>Process id.</summary>
    public uint Pid { get; }
    /// <summary>Thread id.</summary>
    public uint Tid { get; }
    /// <summary>Start address.</summary>
    public ulong Address { get; }
    /// <summary>Length in bytes.</summary>
    public ulong Length { get; }
    /// <summary>File offset in bytes of the mapping start.</summary>
    public ulong PageOffset { get; }
    /// <summary>Device major number (0 when <see cref="HasBuildId"/>).</summary>
    public uint Major { get; }
    /// <summary>Device minor number (0 when <see cref="HasBuildId"/>).</summary>
    public uint Minor { get; }
    /// <summary>Inode (0 when <see cref="HasBuildId"/>).</summary>
    public ulong Inode { get; }
    /// <summary>Inode generation (0 when <see cref="HasBuildId"/>).</summary>
    public ulong InodeGeneration { get; }
    /// <summary>Build-id bytes (build_id_size of them, at most 20); empty when not <see cref="HasBuildId"/>.</summary>
    public byte[] BuildId { get; }
    /// <summary>mmap PROT_* bits (PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4).</summary>
    public uint Protection { get; }
    /// <summary>mmap MAP_* flags (MAP_SHARED 1, MAP_PRIVATE 2…).</summary>
    public uint Flags { get; }
    /// <summary>Mapped file or pseudo name.</summary>
    public string Filename { get; }
    /// <summary>The sample_id trailer (default if none).</summary>
    public SampleId SampleId { get; }

    /// <summary>Build-id as lowercase hex, or an empty string.</summary>
    public string BuildIdHex => Convert.ToHexStringLower(BuildId);

    /// <summary>Decodes a MMAP2 record.</summary>
    /// <exception cref="ArgumentException">Not a MMAP2 record.</exception>
    /// <exception cref="Binary.MalformedDataException">Declared size smaller than header + 64-byte body + trailer, or build_id_size &gt; 20.</exception>
    public static Mmap2Record Decode(in RawRecord raw, SampleLayout layout)
    {
        var c = RecordBody.Open(raw, layout, FixedBodySize, PerfRecordType.Mmap2);
        uint pid = c.ReadUInt32(), tid = c.ReadUInt32();
        ulong addr = c.ReadUInt64(), len = c.ReadUInt64(), pgoff = c.ReadUInt64();
        uint maj = 0, min = 0; ulong ino = 0, gen = 0; byte[] buildId = Array.Empty<byte>();
        if ((raw.Misc & PerfRecordMisc.MmapBuildId) != 0)
        {
            long at = c.Offset;
            byte n = c.ReadByte();
            c.Skip(3);
            var bytes = c.ReadBytes(20);
            if (n > 20)
                throw new Binary.MalformedDataException(raw.Path, at, "PERF_RECORD_MMAP2", $"build_id_size {n} exceeds the 20-byte field");
            buildId = bytes.Slice(0, n).ToArray();
        }
        else
        {
            maj = c.ReadUInt32(); min = c.ReadUInt32(); ino = c.ReadUInt64(); gen = c.ReadUInt64();
        }
        uint prot = c.ReadUInt32(), flags = c.ReadUInt32();
        string name = c.ReadRestAsString();
        return new Mmap2Record(raw.Misc, pid, tid, addr, len, pgoff, maj, min, ino, gen, buildId, prot, flags, name, SampleId.Read(raw, layout));
    }
}
