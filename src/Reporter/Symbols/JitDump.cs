using System.Buffers.Binary;
using System.Text;
using XenProf.Hypervisor.Binary;

namespace XenProf.Reporter.Symbols;

// Format: "JITDUMP specification version 2" (torvalds/linux tools/perf/Documentation/jitdump-specification.txt,
// revised 09/15/2016). Section numbers below (§III…§IX) are the specification's.

/// <summary>The jitdump file header (spec §III): 40 bytes in the file's byte order.</summary>
/// <param name="Version">Format version; 1 is the only one defined.</param>
/// <param name="TotalSize">Header size in bytes as written (≥ 40; extra bytes are skipped).</param>
/// <param name="ElfMachine">ELF <c>e_machine</c> of the JIT code (62 = x86-64, 183 = AArch64).</param>
/// <param name="Pid">Process id of the JIT runtime.</param>
/// <param name="Timestamp">When the file was created, in the clock of the records (CLOCK_MONOTONIC ns unless
/// <see cref="UsesArchTimestamp"/>).</param>
/// <param name="Flags">Flag bits; bit 0 is <c>JITDUMP_FLAGS_ARCH_TIMESTAMP</c>.</param>
/// <param name="BigEndian">True when the magic read back byte-swapped (<c>0x4454694A</c>): every field is big-endian.</param>
public readonly record struct JitDumpHeader(uint Version, uint TotalSize, uint ElfMachine, uint Pid, ulong Timestamp, ulong Flags, bool BigEndian)
{
    /// <summary>Timestamps are a raw architecture counter (e.g. TSC) rather than CLOCK_MONOTONIC (flag bit 0).</summary>
    public bool UsesArchTimestamp => (Flags & 1) != 0;
}

/// <summary>Record ids (spec §IV).</summary>
public enum JitDumpRecordType : uint
{
    /// <summary><c>JIT_CODE_LOAD</c>: a function was compiled (§V).</summary>
    CodeLoad = 0,
    /// <summary><c>JIT_CODE_MOVE</c>: compiled code moved (§VI).</summary>
    CodeMove = 1,
    /// <summary><c>JIT_CODE_DEBUG_INFO</c>: source lines of the next load at the same address (§VII).</summary>
    CodeDebugInfo = 2,
    /// <summary><c>JIT_CODE_CLOSE</c>: the runtime finished (§VIII).</summary>
    CodeClose = 3,
    /// <summary><c>JIT_CODE_UNWINDING_INFO</c>: <c>.eh_frame_hdr</c> + <c>.eh_frame</c> for a function (§IX).</summary>
    CodeUnwindingInfo = 4,
}

/// <summary>One record of a jitdump file. Subtypes carry the payload of each record kind.</summary>
/// <param name="Offset">File offset of the record header.</param>
/// <param name="Size">The header's <c>total_size</c>: bytes from <paramref name="Offset"/> to the next record.</param>
/// <param name="Timestamp">The header's timestamp (clock as in <see cref="JitDumpHeader.Timestamp"/>).</param>
public abstract record JitDumpRecord(long Offset, uint Size, ulong Timestamp);

/// <summary><c>JIT_CODE_LOAD</c> (spec §V): a compiled function and its machine code.</summary>
/// <param name="Offset">File offset of the record header.</param>
/// <param name="Size">Record size in bytes.</param>
/// <param name="Timestamp">Record timestamp.</param>
/// <param name="Pid">Process id of the runtime.</param>
/// <param name="Tid">Thread that compiled the function.</param>
/// <param name="Vma">Virtual address of the code start.</param>
/// <param name="CodeAddress">Code start address (equal to <paramref name="Vma"/> for every runtime seen; perf uses this one).</param>
/// <param name="CodeSize">Bytes of machine code (0 for an empty function).</param>
/// <param name="CodeIndex">Unique id of this compilation, referred to by <see cref="JitCodeMove"/>.</param>
/// <param name="Name">Function name (the spec says ASCII; decoded as UTF-8).</param>
/// <param name="CodeOffset">File offset of the first code byte; the code is <paramref name="CodeSize"/> bytes from there.</param>
public sealed record JitCodeLoad(long Offset, uint Size, ulong Timestamp, uint Pid, uint Tid, ulong Vma, ulong CodeAddress,
    ulong CodeSize, ulong CodeIndex, string Name, long CodeOffset) : JitDumpRecord(Offset, Size, Timestamp);

/// <summary><c>JIT_CODE_MOVE</c> (spec §VI): the code of load <paramref name="CodeIndex"/> now lives at <paramref name="NewCodeAddress"/>.</summary>
/// <param name="Offset">File offset of the record header.</param>
/// <param name="Size">Record size in bytes.</param>
/// <param name="Timestamp">Record timestamp.</param>
/// <param name="Pid">Process id of the runtime.</param>
/// <param name="Tid">Thread that moved the code.</param>
/// <param name="Vma">New virtual address of the code start.</param>
/// <param name="OldCodeAddress">Previous code address.</param>
/// <param name="NewCodeAddress">New code address.</param>
/// <param name="CodeSize">Code size (cannot change in a move).</param>
/// <param name="CodeIndex">The <see cref="JitCodeLoad.CodeIndex"/> of the function's load.</param>
public sealed record JitCodeMove(long Offset, uint Size, ulong Timestamp, uint Pid, uint Tid, ulong Vma, ulong OldCodeAddress,
    ulong NewCodeAddress, ulong CodeSize, ulong CodeIndex) : JitDumpRecord(Offset, Size, Timestamp);

/// <summary>One source-line entry of a <see cref="JitCodeDebugInfo"/> (spec §VII <c>debug_entry</c>).</summary>
/// <param name="CodeAddress">First code address of the line.</param>
/// <param name="Line">Source line, 1-based.</param>
/// <param name="Discriminator">Column discriminator (0 by default).</param>
/// <param name="FileName">Source file name.</param>
public readonly record struct JitDebugEntry(ulong CodeAddress, uint Line, uint Discriminator, string FileName);

/// <summary><c>JIT_CODE_DEBUG_INFO</c> (spec §VII): source lines of the function at <paramref name="CodeAddress"/>,
/// written before that function's <see cref="JitCodeLoad"/>.</summary>
/// <param name="Offset">File offset of the record header.</param>
/// <param name="Size">Record size in bytes.</param>
/// <param name="Timestamp">Record timestamp.</param>
/// <param name="CodeAddress">Address of the function described.</param>
/// <param name="Entries">The <c>nr_entry</c> line entries, in file order.</param>
public sealed record JitCodeDebugInfo(long Offset, uint Size, ulong Timestamp, ulong CodeAddress, IReadOnlyList<JitDebugEntry> Entries)
    : JitDumpRecord(Offset, Size, Timestamp);

/// <summary><c>JIT_CODE_CLOSE</c> (spec §VIII): the runtime ended; no payload.</summary>
/// <param name="Offset">File offset of the record header.</param>
/// <param name="Size">Record size in bytes.</param>
/// <param name="Timestamp">Record timestamp.</param>
public sealed record JitCodeClose(long Offset, uint Size, ulong Timestamp) : JitDumpRecord(Offset, Size, Timestamp);

/// <summary><c>JIT_CODE_UNWINDING_INFO</c> (spec §IX): unwind tables for the next function.</summary>
/// <param name="Offset">File offset of the record header.</param>
/// <param name="Size">Record size in bytes.</param>
/// <param name="Timestamp">Record timestamp.</param>
/// <param name="UnwindDataSize">Bytes of unwinding data (EH frame header then EH frame).</param>
/// <param name="EhFrameHeaderSize">Bytes of the EH frame header at the start of the data.</param>
/// <param name="MappedSize">Bytes of the data mapped in the process (0 or <paramref name="UnwindDataSize"/>).</param>
/// <param name="DataOffset">File offset of the unwinding data.</param>
public sealed record JitCodeUnwindingInfo(long Offset, uint Size, ulong Timestamp, ulong UnwindDataSize, ulong EhFrameHeaderSize,
    ulong MappedSize, long DataOffset) : JitDumpRecord(Offset, Size, Timestamp);

/// <summary>A record whose id this reader does not know; kept raw (its body is skipped) and counted, not an error.</summary>
/// <param name="Offset">File offset of the record header.</param>
/// <param name="Size">Record size in bytes.</param>
/// <param name="Timestamp">Record timestamp.</param>
/// <param name="Id">The record id.</param>
public sealed record JitUnknownRecord(long Offset, uint Size, ulong Timestamp, uint Id) : JitDumpRecord(Offset, Size, Timestamp);

/// <summary>
/// A streaming reader of perf's jitdump format (<c>jit-PID.dump</c>; spec: torvalds/linux
/// <c>tools/perf/Documentation/jitdump-specification.txt</c>), which JIT runtimes write beside
/// <c>/tmp/perf-PID.map</c> (.NET with <c>DOTNET_PerfMapEnabled=1</c> or <c>2</c>). The file is a 40-byte header then
/// records of <c>{u32 id, u32 total_size, u64 timestamp}</c> + payload, no padding, in the byte order the magic reveals.
/// <para>Records are read one at a time with <see cref="TryRead"/>; code bytes are not loaded (a
/// <see cref="JitCodeLoad"/> gives their file offset). Errors:</para>
/// <list type="bullet">
/// <item>a bad header (wrong magic, unknown version, header size under 40, file shorter than its header) throws
/// <see cref="MalformedDataException"/> from the constructor, naming the file, offset and what was expected;</item>
/// <item>a file that ends inside a record (the runtime is still writing, or was killed) or a record header that cannot
/// be right (<c>total_size</c> under 16) ends reading: what was read is kept, the bytes left are added to
/// <see cref="SkippedBytes"/> and <see cref="Problems"/> says why and where;</item>
/// <item>a record whose payload contradicts its size or itself (a name without its NUL, code running past the record,
/// a code range passing the end of the address space) is skipped whole, counted in <see cref="SkippedBytes"/> and described in <see cref="Problems"/>; reading goes on.</item>
/// </list>
/// </summary>
public sealed class JitDumpReader : IDisposable
{
    /// <summary>Header magic, <c>"JiTD"</c> as a u32 in the writer's byte order (spec §III).</summary>
    public const uint Magic = 0x4A695444;

    /// <summary>Size of the header fields defined by version 1 (spec §III).</summary>
    public const int HeaderSize = 40;

    /// <summary>Size of a record header (spec §IV).</summary>
    public const int RecordHeaderSize = 16;

    // A record is read into memory whole; no runtime writes one near this size (code of one function, or its unwind data).
    private const uint MaxRecordSize = 256u << 20;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly bool _be;
    private readonly List<MalformedDataException> _problems = [];
    private byte[] _buffer = new byte[4096];
    private long _position;
    private bool _done;

    /// <summary>Opens a reader on <paramref name="stream"/> (read from its current position, which must be the file start) and reads the header.</summary>
    /// <param name="stream">The file's bytes; read forward only.</param>
    /// <param name="path">File name used in errors.</param>
    /// <param name="ownsStream">Whether <see cref="Dispose"/> closes <paramref name="stream"/>.</param>
    /// <exception cref="MalformedDataException">The header is missing or invalid.</exception>
    public JitDumpReader(Stream stream, string path, bool ownsStream = false)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        Path = path;
        var head = new byte[HeaderSize];
        int n = stream.ReadAtLeast(head, HeaderSize, throwOnEndOfStream: false);
        if (n < 4) throw new MalformedDataException(path, n, "jitheader", $"file ends after {n} bytes; a jitdump starts with the 4-byte magic 'JiTD' (0x4A695444)");
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(head);
        if (magic == Magic) _be = false;
        else if (magic == BinaryPrimitives.ReverseEndianness(Magic)) _be = true;
        else throw new MalformedDataException(path, 0, "jitheader.magic", $"0x{magic:X8} is not the jitdump magic 0x4A695444 ('JiTD', either byte order)");
        if (n < HeaderSize) throw new MalformedDataException(path, n, "jitheader", $"file ends after {n} bytes, inside the {HeaderSize}-byte header");
        var c = new SpanCursor(head, path, 0, "jitheader");
        c.Skip(4);
        uint version = U32(ref c), totalSize = U32(ref c), mach = U32(ref c);
        c.Skip(4); // pad1
        uint pid = U32(ref c);
        ulong ts = U64(ref c), flags = U64(ref c);
        if (version != 1) throw new MalformedDataException(path, 4, "jitheader.version", $"version {version}; only version 1 is defined (perf rejects newer ones too)");
        if (totalSize < HeaderSize) throw new MalformedDataException(path, 8, "jitheader.total_size", $"header size {totalSize} is under the {HeaderSize} bytes of version 1");
        Header = new JitDumpHeader(version, totalSize, mach, pid, ts, flags, _be);
        _position = HeaderSize;
        if (totalSize > HeaderSize)
        {
            long extra = totalSize - HeaderSize;
            long skipped = SkipBytes(extra);
            _position += skipped;
            if (skipped < extra) End($"file ends inside the {totalSize}-byte header", HeaderSize, "jitheader");
        }
    }

    /// <summary>Opens <paramref name="path"/> for reading while a runtime may still append to it.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="IOException">It cannot be read.</exception>
    /// <exception cref="MalformedDataException">The header is missing or invalid.</exception>
    public static JitDumpReader Open(string path)
    {
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        try { return new JitDumpReader(fs, path, ownsStream: true); }
        catch { fs.Dispose(); throw; }
    }

    /// <summary>File name used in errors.</summary>
    public string Path { get; }

    /// <summary>The stream read (code bytes can be read from it at <see cref="JitCodeLoad.CodeOffset"/> when it seeks).</summary>
    public Stream BaseStream => _stream;

    /// <summary>The file header.</summary>
    public JitDumpHeader Header { get; }

    /// <summary>Offset of the next record to read.</summary>
    public long Position => _position;

    /// <summary>Bytes not decoded so far: records skipped as malformed, records of unknown type, and the tail after a
    /// truncation or a corrupt record header.</summary>
    public long SkippedBytes { get; private set; }

    /// <summary>Records of unknown type met so far (also counted in <see cref="SkippedBytes"/>).</summary>
    public int UnknownRecords { get; private set; }

    /// <summary>Why records or bytes were skipped, each with the file, offset and structure, in file order.</summary>
    public IReadOnlyList<MalformedDataException> Problems => _problems;

    /// <summary>Reads the next record.</summary>
    /// <param name="record">The record, when the result is true.</param>
    /// <returns>False at the end of the file, or when the rest cannot be read (see <see cref="Problems"/>).</returns>
    /// <exception cref="IOException">Reading the stream failed.</exception>
    public bool TryRead(out JitDumpRecord record)
    {
        record = null!;
        while (!_done)
        {
            long at = _position;
            int n = _stream.ReadAtLeast(_buffer.AsSpan(0, RecordHeaderSize), RecordHeaderSize, throwOnEndOfStream: false);
            if (n == 0) { _done = true; return false; }
            if (n < RecordHeaderSize)
            {
                SkippedBytes += n;
                End($"file ends {n} bytes into a {RecordHeaderSize}-byte record header", at, "jr_prefix");
                return false;
            }
            var h = new SpanCursor(_buffer.AsSpan(0, RecordHeaderSize), Path, at, "jr_prefix");
            uint id = U32(ref h), size = U32(ref h);
            ulong ts = U64(ref h);
            if (size < RecordHeaderSize || size > MaxRecordSize)
            {
                SkippedBytes += n;
                _position += n;
                End(size < RecordHeaderSize ? $"total_size {size} is under the {RecordHeaderSize}-byte record header; the rest of the file cannot be framed"
                    : $"total_size {size} exceeds the {MaxRecordSize >> 20} MiB a record may take; the rest of the file cannot be framed", at, "jr_prefix.total_size");
                return false;
            }
            int body = (int)size - RecordHeaderSize;
            int got = ReadBody(body);
            if (got < body)
            {
                SkippedBytes += RecordHeaderSize + got;
                _position += RecordHeaderSize + got;
                End($"file ends {got} bytes into the {body}-byte payload of a record with id {id} (truncated: the runtime may still be writing)", at, RecordName(id));
                return false;
            }
            _position += size;
            try
            {
                var jr = Decode(id, size, ts, at, _buffer.AsSpan(0, body));
                if (jr is JitUnknownRecord) { UnknownRecords++; SkippedBytes += size; }
                record = jr;
                return true;
            }
            catch (MalformedDataException e)
            {
                // The frame is sound, its payload is not: drop this record and read on.
                _problems.Add(e);
                SkippedBytes += size;
            }
        }
        return false;
    }

    /// <summary>
    /// Reads up to <paramref name="body"/> bytes into the buffer; returns how many came. The buffer grows only as bytes
    /// arrive, so a corrupt <c>total_size</c> near the 256 MiB limit costs no 256 MiB allocation (found by fuzzing: each
    /// such record took seconds).
    /// </summary>
    private int ReadBody(int body)
    {
        if (_stream.CanSeek) body = (int)Math.Min(body, Math.Max(0, _stream.Length - _stream.Position));
        int got = 0;
        while (got < body)
        {
            if (_buffer.Length == got) Array.Resize(ref _buffer, (int)Math.Min(body, Math.Max(2L * _buffer.Length, 4096)));
            int n = _stream.Read(_buffer, got, Math.Min(_buffer.Length, body) - got);
            if (n <= 0) break;
            got += n;
        }
        return got;
    }

    /// <summary>Reads every remaining record.</summary>
    public IEnumerable<JitDumpRecord> ReadAll()
    {
        while (TryRead(out var r)) yield return r;
    }

    private JitDumpRecord Decode(uint id, uint size, ulong ts, long at, ReadOnlySpan<byte> body)
    {
        var c = new SpanCursor(body, Path, at + RecordHeaderSize, RecordName(id));
        switch ((JitDumpRecordType)id)
        {
            case JitDumpRecordType.CodeLoad:
            {
                uint pid = U32(ref c), tid = U32(ref c);
                ulong vma = U64(ref c), addr = U64(ref c), codeSize = U64(ref c), index = U64(ref c);
                if (Math.Max(1, codeSize) > ulong.MaxValue - addr)
                    throw new MalformedDataException(Path, c.Offset - 16, c.Structure + ".code_size", $"code_addr 0x{addr:x} + code_size {codeSize} passes the end of the address space");
                string name = CString(ref c, "function name");
                if (codeSize != (ulong)c.Remaining)
                {
                    if (codeSize > (ulong)c.Remaining)
                        throw new MalformedDataException(Path, c.Offset, c.Structure, $"code_size {codeSize} but only {c.Remaining} bytes remain in the {size}-byte record");
                    // Extra bytes after the code are allowed by §V ("record specific variable data").
                }
                return new JitCodeLoad(at, size, ts, pid, tid, vma, addr, codeSize, index, name, c.Offset);
            }
            case JitDumpRecordType.CodeMove:
            {
                uint pid = U32(ref c), tid = U32(ref c);
                ulong vma = U64(ref c), oldAddr = U64(ref c), newAddr = U64(ref c), codeSize = U64(ref c), index = U64(ref c);
                if (Math.Max(1, codeSize) > ulong.MaxValue - newAddr)
                    throw new MalformedDataException(Path, c.Offset - 16, c.Structure + ".code_size", $"new_code_addr 0x{newAddr:x} + code_size {codeSize} passes the end of the address space");
                return new JitCodeMove(at, size, ts, pid, tid, vma, oldAddr, newAddr, codeSize, index);
            }
            case JitDumpRecordType.CodeDebugInfo:
            {
                ulong addr = U64(ref c), count = U64(ref c);
                // Each entry takes at least 17 bytes (u64, u32, u32, NUL), which bounds an honest count.
                if (count > (ulong)c.Remaining / 17)
                    throw new MalformedDataException(Path, c.Offset - 8, c.Structure + ".nr_entry", $"nr_entry {count} cannot fit in the {c.Remaining} payload bytes left (17 or more each)");
                var entries = new JitDebugEntry[(int)count];
                for (int i = 0; i < entries.Length; i++)
                {
                    c.Structure = $"{RecordName(id)}.debug_entry[{i}]";
                    ulong a = U64(ref c);
                    uint line = U32(ref c), disc = U32(ref c);
                    entries[i] = new JitDebugEntry(a, line, disc, CString(ref c, "file name"));
                }
                return new JitCodeDebugInfo(at, size, ts, addr, entries);
            }
            case JitDumpRecordType.CodeClose:
                return new JitCodeClose(at, size, ts);
            case JitDumpRecordType.CodeUnwindingInfo:
            {
                ulong dataSize = U64(ref c), hdrSize = U64(ref c), mapped = U64(ref c);
                if (dataSize > (ulong)c.Remaining)
                    throw new MalformedDataException(Path, c.Offset - 24, c.Structure + ".unwind_data_size", $"unwind_data_size {dataSize} but only {c.Remaining} bytes remain in the {size}-byte record");
                if (hdrSize > dataSize)
                    throw new MalformedDataException(Path, c.Offset - 16, c.Structure + ".eh_frame_hdr_size", $"eh_frame_hdr_size {hdrSize} exceeds unwind_data_size {dataSize}");
                return new JitCodeUnwindingInfo(at, size, ts, dataSize, hdrSize, mapped, c.Offset);
            }
            default:
                return new JitUnknownRecord(at, size, ts, id);
        }
    }

    private static string RecordName(uint id) => id switch
    {
        0 => "JIT_CODE_LOAD",
        1 => "JIT_CODE_MOVE",
        2 => "JIT_CODE_DEBUG_INFO",
        3 => "JIT_CODE_CLOSE",
        4 => "JIT_CODE_UNWINDING_INFO",
        _ => $"jitdump record {id}",
    };

    private string CString(ref SpanCursor c, string what)
    {
        long start = c.Offset;
        var rest = c.ReadBytes(c.Remaining);
        int nul = rest.IndexOf((byte)0);
        if (nul < 0) throw new MalformedDataException(Path, start, c.Structure, $"{what} has no terminating NUL before the record ends");
        c.Position -= rest.Length - nul - 1;
        return Encoding.UTF8.GetString(rest[..nul]);
    }

    private uint U32(ref SpanCursor c) { uint v = c.ReadUInt32(); return _be ? BinaryPrimitives.ReverseEndianness(v) : v; }

    private ulong U64(ref SpanCursor c) { ulong v = c.ReadUInt64(); return _be ? BinaryPrimitives.ReverseEndianness(v) : v; }

    private long SkipBytes(long count)
    {
        long done = 0;
        while (done < count)
        {
            int n = _stream.Read(_buffer, 0, (int)Math.Min(_buffer.Length, count - done));
            if (n == 0) break;
            done += n;
        }
        return done;
    }

    private void End(string problem, long offset, string structure)
    {
        _done = true;
        // Whatever follows cannot be framed: count it as skipped when the stream can say how much there is.
        if (_stream.CanSeek)
        {
            long rest = Math.Max(0, _stream.Length - _stream.Position);
            SkippedBytes += rest;
            _position += rest;
        }
        _problems.Add(new MalformedDataException(Path, offset, structure, problem));
    }

    /// <summary>Closes the stream when the reader owns it.</summary>
    public void Dispose()
    {
        if (_ownsStream) _stream.Dispose();
    }
}
