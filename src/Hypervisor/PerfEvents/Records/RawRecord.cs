using XenProf.Hypervisor.Binary;

namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// Step one of decoding: a record's header plus its bytes, not yet interpreted (<c>struct perf_event_header</c>, include/uapi/linux/perf_event.h). It is a view
/// over memory the caller owns (a ring, a reusable copy buffer, a file block) and is valid only as long as that
/// memory is. <see cref="Offset"/> is the absolute position of the record's first byte in <see cref="Path"/> (a
/// file offset, or the free-running ring counter for live input) and is used in every error message. Step two is
/// the <c>Decode</c> method of each typed record (<see cref="SampleRecord.Decode(in RawRecord, SampleLayout)"/>, <see cref="Mmap2Record.Decode"/>…).
/// </summary>
public readonly ref struct RawRecord
{
    /// <summary>Wraps a whole record (header included).</summary>
    /// <param name="bytes">Exactly <c>header.size</c> bytes, header first.</param>
    /// <param name="path">File or pseudo-file for messages.</param>
    /// <param name="offset">Absolute offset of <paramref name="bytes"/>[0].</param>
    /// <exception cref="MalformedDataException">The header is short, declares size &lt; 8, or declares more bytes than given.</exception>
    public RawRecord(ReadOnlySpan<byte> bytes, string path, long offset)
    {
        var h = PerfEventHeader.Read(bytes, path, offset);
        if (h.RecordSize > bytes.Length)
            throw new MalformedDataException(path, offset, "perf_event_header",
                $"{PerfRecordNames.Of(h.Type)} declares size {h.RecordSize} but only {bytes.Length} bytes are available");
        Header = h;
        Bytes = bytes.Slice(0, h.RecordSize);
        Path = path;
        Offset = offset;
    }

    /// <summary>The decoded header.</summary>
    public PerfEventHeader Header { get; }
    /// <summary>Record type.</summary>
    public PerfRecordType Type => Header.Type;
    /// <summary>misc bits (<see cref="PerfRecordMisc"/>).</summary>
    public ushort Misc => Header.Misc;
    /// <summary>Record size in bytes, header included.</summary>
    public int Size => Header.RecordSize;
    /// <summary>CPU mode from <c>misc &amp; 7</c>.</summary>
    public CpuMode CpuMode => PerfRecordMisc.ModeOf(Header.Misc);
    /// <summary>The whole record, header included (<see cref="Size"/> bytes).</summary>
    public ReadOnlySpan<byte> Bytes { get; }
    /// <summary>The record after its 8-byte header.</summary>
    public ReadOnlySpan<byte> Body => Bytes.Slice(PerfEventHeader.Size);
    /// <summary>File or pseudo-file the record came from.</summary>
    public string Path { get; }
    /// <summary>Absolute offset of the record's first byte.</summary>
    public long Offset { get; }

    /// <summary>A cursor positioned after the header, for decoding the body.</summary>
    public SpanCursor BodyCursor(string structure) =>
        new(Body, Path, Offset + PerfEventHeader.Size, structure);

    /// <summary>
    /// Checks that the record holds at least the 8-byte header, <paramref name="fixedBody"/> bytes and the
    /// <paramref name="trailer"/>; otherwise throws naming the record, e.g.
    /// <c>PERF_RECORD_MMAP2: declares size 24, smaller than its 80-byte minimum (header 8 + body 64 + sample_id 8)</c>.
    /// </summary>
    /// <exception cref="MalformedDataException">The record is too small.</exception>
    public void RequireSize(int fixedBody, int trailer)
    {
        int min = PerfEventHeader.Size + fixedBody + trailer;
        if (Size < min)
            throw new MalformedDataException(Path, Offset, PerfRecordNames.Of(Type),
                $"declares size {Size}, smaller than its {min}-byte minimum (header 8 + body {fixedBody}" +
                (trailer > 0 ? $" + sample_id {trailer})" : ")"));
    }

    /// <summary>Event id of this record per the layout (SAMPLE: IDENTIFIER or ID position; others: trailer), if the layout has one.</summary>
    public bool TryGetId(SampleLayout layout, out ulong id) => layout.TryGetId(this, out id);
}
