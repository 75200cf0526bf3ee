using System.Runtime.InteropServices;
using XenProf.Hypervisor.PerfEvents;
using XenProf.Hypervisor.PerfEvents.Records;

namespace XenProf.Sampler.Import.PerfData;

/// <summary>
/// One event of a perf.data file: its <c>perf_event_attr</c> (read as <c>min(attr.size, 136)</c> bytes, the rest
/// zero, as <c>read_attr</c> in tools/perf/util/header.c does), the sample ids perf assigned to it (attrs-section ids in file mode, HEADER_ATTR ids in
/// pipe mode; tools/perf/Documentation/perf.data-file-format.txt) and its name (EVENT_DESC feature or EVENT_UPDATE NAME, else derived from type/config).
/// </summary>
public sealed class PerfDataAttr
{
    internal PerfDataAttr(int index, PerfEventAttr attr, ulong[] ids)
    {
        Index = index;
        Attr = attr;
        Ids = ids;
        Layout = SampleLayout.From(attr);
        Name = DefaultName(attr);
    }

    /// <summary>Position in the file's attr list (perf's evsel index).</summary>
    public int Index { get; }
    /// <summary>The attr as written by perf.</summary>
    public PerfEventAttr Attr { get; }
    /// <summary>Sample ids that belong to this event.</summary>
    public ulong[] Ids { get; internal set; }
    /// <summary>Layout of this event's SAMPLE records and sample_id trailers.</summary>
    public SampleLayout Layout { get; }
    /// <summary>Event name (e.g. <c>cycles:u</c>, <c>cpu-clock</c>).</summary>
    public string Name { get; internal set; }

    /// <summary>Reads an attr from <paramref name="bytes"/>: the first <c>min(len, 136)</c> bytes; an attr.size of 0 means 64 (PERF_ATTR_SIZE_VER0, as <c>read_attr</c> in tools/perf/util/header.c reads it).</summary>
    internal static PerfEventAttr Parse(ReadOnlySpan<byte> bytes)
    {
        var attr = default(PerfEventAttr);
        var dst = MemoryMarshal.AsBytes(MemoryMarshal.CreateSpan(ref attr, 1));
        bytes.Slice(0, Math.Min(bytes.Length, dst.Length)).CopyTo(dst);
        return attr;
    }

    /// <summary>perf's names for the generic hardware and software events (tools/perf/util/evsel.c name tables).</summary>
    internal static string DefaultName(in PerfEventAttr a)
    {
        string[] hw = ["cycles", "instructions", "cache-references", "cache-misses", "branches", "branch-misses", "bus-cycles",
            "stalled-cycles-frontend", "stalled-cycles-backend", "ref-cycles"];
        string[] sw = ["cpu-clock", "task-clock", "page-faults", "context-switches", "cpu-migrations", "minor-faults",
            "major-faults", "alignment-faults", "emulation-faults", "dummy", "bpf-output", "cgroup-switches"];
        return a.Type switch
        {
            (uint)PerfType.Hardware when a.Config < (ulong)hw.Length => hw[a.Config],
            (uint)PerfType.Software when a.Config < (ulong)sw.Length => sw[a.Config],
            (uint)PerfType.Raw => $"r{a.Config:x}",
            _ => $"type{a.Type}/config 0x{a.Config:x}",
        };
    }
}
