using System.Buffers.Binary;
using System.Text;
using XenProf.Hypervisor.Binary;

namespace XenProf.Sampler.Import.PerfData;

/// <summary>
/// perf.data feature ids (the <c>adds_features</c> bitmap bits, tools/perf/util/header.h <c>enum
/// HEADER_*</c>; the feature sections of tools/perf/Documentation/perf.data-file-format.txt). The same payloads arrive in HEADER_FEATURE records in pipe mode.
/// </summary>
public enum PerfDataFeature
{
    /// <summary>HEADER_TRACING_DATA (1).</summary>
    TracingData = 1,
    /// <summary>HEADER_BUILD_ID (2).</summary>
    BuildId = 2,
    /// <summary>HEADER_HOSTNAME (3).</summary>
    Hostname = 3,
    /// <summary>HEADER_OSRELEASE (4).</summary>
    OsRelease = 4,
    /// <summary>HEADER_VERSION (5).</summary>
    Version = 5,
    /// <summary>HEADER_ARCH (6).</summary>
    Arch = 6,
    /// <summary>HEADER_NRCPUS (7).</summary>
    NrCpus = 7,
    /// <summary>HEADER_CPUDESC (8).</summary>
    CpuDesc = 8,
    /// <summary>HEADER_CPUID (9).</summary>
    CpuId = 9,
    /// <summary>HEADER_TOTAL_MEM (10).</summary>
    TotalMem = 10,
    /// <summary>HEADER_CMDLINE (11).</summary>
    Cmdline = 11,
    /// <summary>HEADER_EVENT_DESC (12).</summary>
    EventDesc = 12,
    /// <summary>HEADER_CPU_TOPOLOGY (13).</summary>
    CpuTopology = 13,
    /// <summary>HEADER_CLOCKID (23).</summary>
    ClockId = 23,
    /// <summary>HEADER_COMPRESSED (27).</summary>
    Compressed = 27,
}

/// <summary>One build-id entry (BUILD_ID feature or HEADER_BUILD_ID record; tools/perf/Documentation/perf.data-file-format.txt, <c>struct build_id_event</c>).</summary>
/// <param name="Pid">-1 for the host.</param>
/// <param name="CpuMode">misc &amp; 7 of the entry (kernel, user, guest…).</param>
/// <param name="BuildId">Lowercase hex.</param>
/// <param name="Filename">Absolute path, <c>[kernel.kallsyms]</c>, <c>[vdso]</c> or a module path.</param>
public sealed record PerfBuildId(int Pid, int CpuMode, string BuildId, string Filename);

/// <summary>
/// What the feature sections say about the recording. Absent sections leave their property null (absent is
/// not malformed); a present but unreadable section is recorded in <see cref="Warnings"/>.
/// </summary>
public sealed class PerfDataFeatures
{
    /// <summary>HOSTNAME (uname -n).</summary>
    public string? Hostname { get; internal set; }
    /// <summary>OSRELEASE (uname -r).</summary>
    public string? OsRelease { get; internal set; }
    /// <summary>VERSION (perf version).</summary>
    public string? PerfVersion { get; internal set; }
    /// <summary>ARCH (uname -m).</summary>
    public string? Arch { get; internal set; }
    /// <summary>NRCPUS: CPUs available.</summary>
    public uint? NrCpusAvailable { get; internal set; }
    /// <summary>NRCPUS: CPUs online.</summary>
    public uint? NrCpusOnline { get; internal set; }
    /// <summary>CPUDESC.</summary>
    public string? CpuDesc { get; internal set; }
    /// <summary>CPUID.</summary>
    public string? CpuId { get; internal set; }
    /// <summary>TOTAL_MEM in kB.</summary>
    public ulong? TotalMemKb { get; internal set; }
    /// <summary>CMDLINE (argv, argv[0] = perf binary).</summary>
    public IReadOnlyList<string>? Cmdline { get; internal set; }
    /// <summary>CLOCKID resolution in ns.</summary>
    public ulong? ClockResolutionNs { get; internal set; }
    /// <summary>COMPRESSED: compression type (1 = zstd).</summary>
    public uint? CompressionType { get; internal set; }
    /// <summary>CPU_TOPOLOGY: sibling core and thread lists.</summary>
    public IReadOnlyList<string>? CpuTopology { get; internal set; }
    /// <summary>EVENT_DESC: (first id, name) per event, used to name attrs.</summary>
    public List<(string Name, ulong[] Ids)> EventDescs { get; } = new();
    /// <summary>BUILD_ID entries (plus HEADER_BUILD_ID records in pipe mode).</summary>
    public List<PerfBuildId> BuildIds { get; } = new();
    /// <summary>Feature ids present in the file (file mode: bitmap; pipe mode: HEADER_FEATURE records).</summary>
    public SortedSet<int> Present { get; } = new();
    /// <summary>Problems with present sections that were skipped.</summary>
    public List<string> Warnings { get; } = new();

    /// <summary>
    /// Parses one feature payload. Unknown features are only noted as present. A malformed payload throws
    /// <see cref="MalformedDataException"/>; callers decide whether that is fatal.
    /// </summary>
    internal void Parse(int feature, ReadOnlySpan<byte> p, string path, long offset)
    {
        Present.Add(feature);
        var c = new SpanCursor(p, path, offset, "feature " + (Enum.IsDefined((PerfDataFeature)feature) ? "HEADER_" + ((PerfDataFeature)feature).ToString().ToUpperInvariant() : feature.ToString()));
        switch ((PerfDataFeature)feature)
        {
            case PerfDataFeature.Hostname: Hostname = ReadString(ref c); break;
            case PerfDataFeature.OsRelease: OsRelease = ReadString(ref c); break;
            case PerfDataFeature.Version: PerfVersion = ReadString(ref c); break;
            case PerfDataFeature.Arch: Arch = ReadString(ref c); break;
            case PerfDataFeature.CpuDesc: CpuDesc = ReadString(ref c); break;
            case PerfDataFeature.CpuId: CpuId = ReadString(ref c); break;
            case PerfDataFeature.NrCpus: NrCpusAvailable = c.ReadUInt32(); NrCpusOnline = c.ReadUInt32(); break;
            case PerfDataFeature.TotalMem: TotalMemKb = c.ReadUInt64(); break;
            case PerfDataFeature.ClockId: ClockResolutionNs = c.ReadUInt64(); break;
            case PerfDataFeature.Cmdline: Cmdline = ReadStringList(ref c); break;
            case PerfDataFeature.CpuTopology: CpuTopology = [.. ReadStringList(ref c), .. ReadStringList(ref c)]; break;
            case PerfDataFeature.Compressed: c.ReadUInt32(); CompressionType = c.ReadUInt32(); break;
            case PerfDataFeature.EventDesc: ParseEventDesc(ref c); break;
            case PerfDataFeature.BuildId: ParseBuildIds(p, path, offset, BuildIds); break;
        }
    }

    /// <summary>perf string (<c>struct perf_header_string</c>, perf.data-file-format.txt): u32 len, then len bytes, text up to the first NUL.</summary>
    internal static string ReadString(ref SpanCursor c)
    {
        uint len = c.ReadUInt32();
        if (len > (uint)c.Remaining) throw new MalformedDataException(c.Path, c.Offset - 4, c.Structure, $"string length {len} exceeds the {c.Remaining} bytes left in the section");
        return c.ReadFixedString((int)len);
    }

    private static List<string> ReadStringList(ref SpanCursor c)
    {
        uint nr = c.ReadUInt32();
        if (nr > (uint)c.Remaining / 4) throw new MalformedDataException(c.Path, c.Offset - 4, c.Structure, $"string count {nr} exceeds what the section can hold");
        var list = new List<string>((int)nr);
        for (uint i = 0; i < nr; i++) list.Add(ReadString(ref c));
        return list;
    }

    // EVENT_DESC: u32 nr, u32 attr_size; nr × {attr[attr_size], u32 nr_ids, string name, u64 ids[nr_ids]} (HEADER_EVENT_DESC, perf.data-file-format.txt).
    private void ParseEventDesc(ref SpanCursor c)
    {
        uint nr = c.ReadUInt32(), attrSize = c.ReadUInt32();
        if (attrSize > (uint)c.Remaining) throw new MalformedDataException(c.Path, c.Offset - 4, c.Structure, $"attr_size {attrSize} exceeds the section");
        for (uint i = 0; i < nr; i++)
        {
            c.Skip((int)attrSize);
            uint nrIds = c.ReadUInt32();
            string name = ReadString(ref c);
            if (nrIds > (uint)c.Remaining / 8) throw new MalformedDataException(c.Path, c.Offset, c.Structure, $"nr_ids {nrIds} exceeds the section");
            var ids = new ulong[nrIds];
            for (int k = 0; k < ids.Length; k++) ids[k] = c.ReadUInt64();
            EventDescs.Add((name, ids));
        }
    }

    /// <summary>
    /// Build-id entries: perf_event_header (misc: cpumode, 0x8000 = size byte valid), s32 pid, u8 build_id[24]
    /// (20 data + u8 size + 3 pad), filename to header.size (<c>struct build_id_event</c>, HEADER_BUILD_ID in perf.data-file-format.txt). Padding varies by perf version, so every
    /// entry is walked by its own header.size.
    /// </summary>
    internal static void ParseBuildIds(ReadOnlySpan<byte> p, string path, long offset, List<PerfBuildId> into)
    {
        int pos = 0;
        while (p.Length - pos >= 8)
        {
            ushort misc = BinaryPrimitives.ReadUInt16LittleEndian(p.Slice(pos + 4));
            ushort size = BinaryPrimitives.ReadUInt16LittleEndian(p.Slice(pos + 6));
            if (size < 8 + 4 + 24 || size > p.Length - pos)
                throw new MalformedDataException(path, offset + pos, "build_id_event", $"entry declares size {size}; needs at least 36 bytes and at most the {p.Length - pos} left");
            into.Add(ParseBuildId(p.Slice(pos, size), misc));
            pos += size;
        }
    }

    /// <summary>Decodes one build-id entry (header included).</summary>
    internal static PerfBuildId ParseBuildId(ReadOnlySpan<byte> e, ushort misc)
    {
        int pid = BinaryPrimitives.ReadInt32LittleEndian(e.Slice(8));
        var raw = e.Slice(12, 20);
        int n;
        if ((misc & 0x8000) != 0) n = Math.Min((int)e[32], 20); // PERF_RECORD_MISC_BUILD_ID_SIZE
        else
        {
            n = 20;
            while (n >= 4 && raw.Slice(n - 4, 4).IndexOfAnyExcept((byte)0) < 0) n -= 4;
        }
        var name = e.Slice(36);
        int nul = name.IndexOf((byte)0);
        return new PerfBuildId(pid, misc & 7, Convert.ToHexStringLower(raw.Slice(0, n)), Encoding.UTF8.GetString(nul < 0 ? name : name.Slice(0, nul)));
    }
}
