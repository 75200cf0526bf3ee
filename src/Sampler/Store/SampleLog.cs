using System.Buffers.Binary;

namespace XenProf.Sampler.Store;

/// <summary>
/// The per-sample half of a session store: an append-only file of fixed-size little-endian records next to the
/// database (<c>samples.db-samples</c>), one per sample, in the order they were written. Schema v5 records are 48 bytes:
/// <code>
///  0  i64 time_ns     source clock, ns
///  8  i64 weight      samples this record stands for (≥ 1)
/// 16  u32 stack_id    leaf stack node (stacks.id)
/// 20  i32 pid
/// 24  i32 tid
/// 28  u32 comm_id     comms.id: the thread's name at the sample (0 unknown)
/// 32  u16 event_id    events.id
/// 34  u16 cpu
/// 36  u16 domain      Xen domain id (0 = dom0 / native)
/// 38  u8  mode        <see cref="SampleMode"/>
/// 39  u8  reserved    0
/// 40  i64 period      events the record stands for, in the event's unit (perf's sample period summed over weight)
/// </code>
/// Schema v3/v4 records are the first 40 bytes alone. A v4 store migrated in place keeps its records as they are:
/// the log then starts with <c>meta.sample_log_v4_bytes</c> bytes of 40-byte records (their period is their weight
/// times their event's configured count) followed by 48-byte ones, so no byte of a recorded session is rewritten.
/// The database holds how many bytes of it are committed (<c>meta.sample_log_bytes</c>), updated in the same
/// transaction as the stacks and totals the records refer to: readers never read past it, so a crash between
/// the append and the commit leaves a tail that is ignored (and cut off when the store is reopened for
/// appending). Writes are buffered; <see cref="Flush"/> hands them to the file.
/// </summary>
internal sealed class SampleLog : IDisposable
{
    /// <summary>Size of one record in bytes (schema v5).</summary>
    public const int RecordSize = 48;

    /// <summary>Size of a schema v3/v4 record in bytes (no period).</summary>
    public const int LegacyRecordSize = 40;
    private const int BufferRecords = 8192;

    private readonly FileStream? _writer;
    private readonly byte[] _buffer;
    private int _buffered;

    private SampleLog(string path, FileStream? writer)
    {
        Path = path;
        _writer = writer;
        _buffer = writer != null ? new byte[BufferRecords * RecordSize] : [];
    }

    /// <summary>File path of the log.</summary>
    public string Path { get; }

    /// <summary>Bytes appended so far (handed to the file or still buffered).</summary>
    public long Length { get; private set; }

    /// <summary>The log file that belongs to the database at <paramref name="dbPath"/>.</summary>
    public static string PathFor(string dbPath) => dbPath + "-samples";

    /// <summary>Opens (creating or truncating to <paramref name="committedBytes"/>) the log for appending.</summary>
    public static SampleLog OpenForAppend(string dbPath, long committedBytes)
    {
        var path = PathFor(dbPath);
        var fs = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1);
        if (fs.Length != committedBytes) fs.SetLength(Math.Min(fs.Length, committedBytes)); // drop an uncommitted tail
        fs.Seek(0, SeekOrigin.End);
        return new SampleLog(path, fs) { Length = fs.Length };
    }

    /// <summary>Appends one sample.</summary>
    public void Append(in StoredSample s)
    {
        if (_buffered == _buffer.Length) Flush();
        Encode(s, _buffer.AsSpan(_buffered, RecordSize));
        _buffered += RecordSize;
        Length += RecordSize;
    }

    /// <summary>Hands buffered records to the file (the OS); <paramref name="durable"/> also syncs it to disk.</summary>
    public void Flush(bool durable = false)
    {
        if (_writer == null) return;
        if (_buffered > 0)
        {
            _writer.Write(_buffer, 0, _buffered);
            _buffered = 0;
        }
        _writer.Flush(durable);
    }

    /// <summary>Drops every record (opcontrol --reset).</summary>
    public void Clear()
    {
        if (_writer == null) return;
        _buffered = 0;
        _writer.SetLength(0);
        _writer.Seek(0, SeekOrigin.Begin);
        Length = 0;
    }

    /// <summary>Writes one record's 48 bytes.</summary>
    private static void Encode(in StoredSample s, Span<byte> b)
    {
        BinaryPrimitives.WriteInt64LittleEndian(b, s.TimeNs);
        BinaryPrimitives.WriteInt64LittleEndian(b[8..], s.Weight);
        BinaryPrimitives.WriteUInt32LittleEndian(b[16..], checked((uint)s.Stack.Value));
        BinaryPrimitives.WriteInt32LittleEndian(b[20..], s.Pid);
        BinaryPrimitives.WriteInt32LittleEndian(b[24..], s.Tid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[28..], (uint)s.Comm.Value);
        BinaryPrimitives.WriteUInt16LittleEndian(b[32..], checked((ushort)s.Event.Value));
        BinaryPrimitives.WriteUInt16LittleEndian(b[34..], checked((ushort)s.Cpu));
        BinaryPrimitives.WriteUInt16LittleEndian(b[36..], checked((ushort)s.Domain));
        b[38] = (byte)s.Mode;
        b[39] = 0;
        BinaryPrimitives.WriteInt64LittleEndian(b[40..], s.Period);
    }

    /// <summary>Decodes one record: a v5 record of <see cref="RecordSize"/> bytes, or a v4 one of <see cref="LegacyRecordSize"/> with period 0.</summary>
    public static StoredSample Decode(ReadOnlySpan<byte> b) => new(
        BinaryPrimitives.ReadInt64LittleEndian(b),
        BinaryPrimitives.ReadUInt16LittleEndian(b[34..]),
        BinaryPrimitives.ReadUInt16LittleEndian(b[36..]),
        BinaryPrimitives.ReadInt32LittleEndian(b[20..]),
        BinaryPrimitives.ReadInt32LittleEndian(b[24..]),
        new EventId(BinaryPrimitives.ReadUInt16LittleEndian(b[32..])),
        new StackId(BinaryPrimitives.ReadUInt32LittleEndian(b[16..])),
        (SampleMode)b[38],
        BinaryPrimitives.ReadInt64LittleEndian(b[8..]),
        new CommId((int)BinaryPrimitives.ReadUInt32LittleEndian(b[28..])),
        b.Length >= RecordSize ? BinaryPrimitives.ReadInt64LittleEndian(b[40..]) : 0);

    /// <summary>Number of records in the first <paramref name="committedBytes"/> bytes of a log whose first <paramref name="legacyBytes"/> are v4 records.</summary>
    public static long Count(long committedBytes, long legacyBytes)
    {
        long legacy = Math.Min(legacyBytes, committedBytes);
        return legacy / LegacyRecordSize + (committedBytes - legacy) / RecordSize;
    }

    /// <summary>
    /// Streams the first <paramref name="committedBytes"/> bytes of the log at <paramref name="dbPath"/> in storage
    /// order; the first <paramref name="legacyBytes"/> are v4 records, whose period <paramref name="legacyPeriod"/> gives
    /// (from the sample's event and weight). A log shorter than the database says (a store copied without it, or cut
    /// by a crash of the machine before the file reached the disk) ends the stream early; <paramref name="onShort"/> is
    /// told how many bytes are missing. The first <paramref name="skipRecords"/> records are not read (the file is
    /// opened at the next one).
    /// </summary>
    public static IEnumerable<StoredSample> Read(string dbPath, long committedBytes, long legacyBytes = 0,
        Func<EventId, long, long>? legacyPeriod = null, Action<long>? onShort = null, long skipRecords = 0)
    {
        long legacyRecords = Math.Min(legacyBytes, committedBytes) / LegacyRecordSize;
        long skipBytes = skipRecords <= legacyRecords ? skipRecords * LegacyRecordSize
            : legacyRecords * LegacyRecordSize + (skipRecords - legacyRecords) * RecordSize;
        if (committedBytes - skipBytes <= 0) yield break;
        var path = PathFor(dbPath);
        FileStream fs;
        try { fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan); }
        catch (FileNotFoundException) { onShort?.Invoke(committedBytes); yield break; }
        using (fs)
        {
            var buf = new byte[BufferRecords * RecordSize];
            long legacyLeft = Math.Max(0, Math.Min(legacyBytes, committedBytes) - skipBytes), left = committedBytes - skipBytes;
            if (skipBytes > 0) fs.Seek(skipBytes, SeekOrigin.Begin);
            while (left > 0)
            {
                int size = legacyLeft > 0 ? LegacyRecordSize : RecordSize;
                long span = legacyLeft > 0 ? legacyLeft : left;
                int want = (int)Math.Min(BufferRecords * size, span);
                int got = fs.ReadAtLeast(buf.AsSpan(0, want), want, throwOnEndOfStream: false);
                got -= got % size;
                for (int i = 0; i < got; i += size)
                {
                    var s = Decode(buf.AsSpan(i, size));
                    yield return size == RecordSize ? s : s with { Period = legacyPeriod?.Invoke(s.Event, s.Weight) ?? s.Weight };
                }
                left -= got;
                if (legacyLeft > 0) legacyLeft -= got;
                if (got < want) { onShort?.Invoke(left); yield break; }
            }
        }
    }

    /// <summary>Copies the first <paramref name="bytes"/> bytes of the log at <paramref name="from"/> to a new file <paramref name="to"/> (a saved session's log).</summary>
    public static void CopyPrefix(string from, string to, long bytes)
    {
        using var src = new FileStream(from, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        using var dst = new FileStream(to, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        var buf = new byte[1 << 16];
        for (long left = bytes; left > 0;)
        {
            int n = src.Read(buf, 0, (int)Math.Min(buf.Length, left));
            if (n == 0) throw new IOException($"{from}: sample log ends at {bytes - left} bytes, {bytes} committed");
            dst.Write(buf, 0, n);
            left -= n;
        }
        dst.Flush(true);
    }

    /// <summary>Closes the file after flushing what is buffered.</summary>
    public void Dispose()
    {
        if (_writer == null) return;
        Flush();
        _writer.Dispose();
    }

    /// <summary>Closes the file dropping what is still buffered (a store that can no longer commit: the file system is full).</summary>
    public void DisposeDiscarding()
    {
        _buffered = 0;
        _writer?.Dispose();
    }
}
