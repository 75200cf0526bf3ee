using System.Buffers.Binary;
using XenProf.Hypervisor.Binary;

namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// <c>struct perf_event_header</c>: u32 type, u16 misc, u16 size (8 bytes; size includes the header, at most
/// 65535). <c>struct perf_event_header</c> in include/uapi/linux/perf_event.h.
/// </summary>
public readonly struct PerfEventHeader
{
    /// <summary>Size of the header in bytes (8).</summary>
    public const int Size = 8;

    /// <summary>Creates a header value.</summary>
    public PerfEventHeader(PerfRecordType type, ushort misc, ushort size) { Type = type; Misc = misc; RecordSize = size; }

    /// <summary>Record type.</summary>
    public PerfRecordType Type { get; }
    /// <summary>misc bits (<see cref="PerfRecordMisc"/>).</summary>
    public ushort Misc { get; }
    /// <summary>Total record size in bytes including this header.</summary>
    public ushort RecordSize { get; }

    /// <summary>
    /// Reads a header from the first 8 bytes of <paramref name="bytes"/>.
    /// </summary>
    /// <param name="bytes">At least 8 bytes.</param>
    /// <param name="path">File (or <c>perf ring cpu N</c>) for error messages.</param>
    /// <param name="offset">Absolute offset of <paramref name="bytes"/>[0].</param>
    /// <exception cref="MalformedDataException">Fewer than 8 bytes, or a declared size below 8.</exception>
    public static PerfEventHeader Read(ReadOnlySpan<byte> bytes, string path, long offset)
    {
        if (bytes.Length < Size)
            throw new MalformedDataException(path, offset, "perf_event_header", $"needs 8 bytes but only {bytes.Length} remain");
        var h = new PerfEventHeader((PerfRecordType)BinaryPrimitives.ReadUInt32LittleEndian(bytes),
            BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(4)), BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(6)));
        if (h.RecordSize < Size)
            throw new MalformedDataException(path, offset, "perf_event_header",
                $"{PerfRecordNames.Of(h.Type)} declares size {h.RecordSize}, smaller than the 8-byte header");
        return h;
    }
}

/// <summary>Kernel-style names of record types for messages (<c>PERF_RECORD_MMAP2</c>, <c>PERF_RECORD_TYPE_99</c>).</summary>
public static class PerfRecordNames
{
    /// <summary>The PERF_RECORD_* name of <paramref name="type"/>, or <c>PERF_RECORD_TYPE_n</c> when unknown.</summary>
    public static string Of(PerfRecordType type) => type switch
    {
        PerfRecordType.Mmap => "PERF_RECORD_MMAP",
        PerfRecordType.Lost => "PERF_RECORD_LOST",
        PerfRecordType.Comm => "PERF_RECORD_COMM",
        PerfRecordType.Exit => "PERF_RECORD_EXIT",
        PerfRecordType.Throttle => "PERF_RECORD_THROTTLE",
        PerfRecordType.Unthrottle => "PERF_RECORD_UNTHROTTLE",
        PerfRecordType.Fork => "PERF_RECORD_FORK",
        PerfRecordType.Read => "PERF_RECORD_READ",
        PerfRecordType.Sample => "PERF_RECORD_SAMPLE",
        PerfRecordType.Mmap2 => "PERF_RECORD_MMAP2",
        PerfRecordType.LostSamples => "PERF_RECORD_LOST_SAMPLES",
        _ => Enum.IsDefined(type) ? "PERF_RECORD_" + ToUpperSnake(type.ToString()) : $"PERF_RECORD_TYPE_{(uint)type}",
    };

    private static string ToUpperSnake(string s)
    {
        var b = new System.Text.StringBuilder(s.Length + 8);
        for (int i = 0; i < s.Length; i++)
        {
            if (i > 0 && char.IsUpper(s[i]) && !char.IsUpper(s[i - 1])) b.Append('_');
            b.Append(char.ToUpperInvariant(s[i]));
        }
        return b.ToString();
    }
}
