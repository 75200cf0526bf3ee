using System.Buffers.Binary;
using XenProf.Hypervisor.Binary;
using XenProf.Hypervisor.PerfEvents.Records;

namespace XenProf.Sampler.Import.PerfData;

/// <summary>
/// Reads the perf.data container (tools/perf/Documentation/perf.data-file-format.txt; tools/perf/util/header.c, session.c): the file header, the
/// attrs and their ids, the feature sections, then the data section record by record from a forward-only
/// window (<see cref="ByteSource"/>), so memory does not grow with the file. Pipe-mode streams (16-byte header;
/// attrs, features and build-ids as records; "Pipe-mode data" in perf.data-file-format.txt) are read the same way. Kernel records are decoded with the
/// shared decoder of <c>Hypervisor/PerfEvents/Records</c> and handed to an <see cref="IPerfDataSink"/>; the reader
/// interprets nothing beyond the container (docs/architecture.md).
/// <para>
/// Errors: <see cref="MalformedDataException"/> from <see cref="Open(string)"/> when the header or attrs are unusable
/// (with path, offset and structure). Bad bytes inside the data section do not throw: <see cref="Read"/> stops
/// there and reports the error and the bytes skipped in its result, keeping what came before.
/// Big-endian files (ppc64, s390) are rejected with a precise error: not supported yet.
/// </para>
/// </summary>
public sealed class PerfDataReader : IDisposable
{
    /// <summary><c>PERFILE2</c> as a little-endian u64 (tools/perf/util/header.c <c>__perf_magic2</c>).</summary>
    public const ulong Magic2 = 0x32454C4946524550UL;
    /// <summary><c>PERFILE2</c> written by a big-endian producer.</summary>
    public const ulong Magic2Swapped = 0x50455246494C4532UL;
    /// <summary>Legacy v1 magic <c>PERFFILE</c> as a little-endian u64.</summary>
    public const ulong Magic1 = 0x454C494646524550UL;

    private const int FileHeaderSize = 104, PipeHeaderSize = 16;
    private const int FeatureBits = 256;

    private readonly Stream _stream;
    private readonly List<PerfDataAttr> _attrs = new();
    private readonly Dictionary<ulong, int> _attrById = new();
    private readonly List<PerfRecordDecoder> _decoders = new();
    private long _dataOffset, _dataEnd;
    private bool _attrsAnnounced;
    private ZstdRecordStream? _zstd;

    private PerfDataReader(string path, Stream stream) { Path = path; _stream = stream; }

    /// <summary>File being read (used in messages).</summary>
    public string Path { get; }
    /// <summary>True for a pipe-mode stream (perf record -o -).</summary>
    public bool IsPipe { get; private set; }
    /// <summary>The events, in perf's evsel order. In pipe mode complete only once <see cref="IPerfDataSink.OnAttrsReady"/> was called.</summary>
    public IReadOnlyList<PerfDataAttr> Attrs => _attrs;
    /// <summary>Feature sections (file mode: read by <see cref="Open(string)"/>; pipe mode: filled while reading).</summary>
    public PerfDataFeatures Features { get; } = new();
    /// <summary>Length of the input in bytes, when known.</summary>
    public long Length { get; private set; }
    /// <summary>Offset of the first data record.</summary>
    public long DataOffset => _dataOffset;

    /// <summary>Opens <paramref name="path"/> and reads everything before the data section.</summary>
    /// <exception cref="MalformedDataException">Not a perf.data file, or its header/attrs are malformed.</exception>
    public static PerfDataReader Open(string path)
    {
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        try { return Open(path, fs); }
        catch { fs.Dispose(); throw; }
    }

    /// <summary>Opens a stream (seekable for file mode; any stream for pipe mode). The reader owns the stream.</summary>
    public static PerfDataReader Open(string path, Stream stream)
    {
        var r = new PerfDataReader(path, stream);
        r.ReadHeader();
        return r;
    }

    /// <summary>True if <paramref name="path"/> starts with a perf.data magic (any version or byte order).</summary>
    public static bool LooksLikePerfData(string path)
    {
        try
        {
            using var f = File.OpenRead(path);
            Span<byte> b = stackalloc byte[8];
            if (f.ReadAtLeast(b, 8, throwOnEndOfStream: false) < 8) return false;
            ulong m = BinaryPrimitives.ReadUInt64LittleEndian(b);
            return m is Magic2 or Magic2Swapped or Magic1;
        }
        catch (IOException) { return false; }
    }

    private void ReadHeader()
    {
        Length = _stream.CanSeek ? _stream.Length : -1;
        Span<byte> h = stackalloc byte[FileHeaderSize];
        int got = _stream.ReadAtLeast(h.Slice(0, PipeHeaderSize), PipeHeaderSize, throwOnEndOfStream: false);
        if (got < PipeHeaderSize)
            throw new MalformedDataException(Path, 0, "perf_file_header", $"file is {got} bytes long; a perf.data header needs at least 16");
        ulong magic = BinaryPrimitives.ReadUInt64LittleEndian(h);
        if (magic == Magic2Swapped)
            throw new MalformedDataException(Path, 0, "perf_file_header", "big-endian perf.data (magic 2ELIFREP) is not supported; convert it on the recording machine with 'perf inject -i IN -o OUT'");
        if (magic != Magic2 && magic != Magic1)
            throw new MalformedDataException(Path, 0, "perf_file_header", $"magic 0x{magic:x16} is not PERFILE2 or PERFFILE: not a perf.data file");
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(h.Slice(8));
        if (size == PipeHeaderSize)
        {
            IsPipe = true;
            _dataOffset = PipeHeaderSize;
            _dataEnd = long.MaxValue;
            return;
        }
        if (size != FileHeaderSize && size != 72)
            throw new MalformedDataException(Path, 8, "perf_file_header", $"header size {size}; expected 104 (file mode), 72 (old file mode) or 16 (pipe mode)");
        if (!_stream.CanSeek)
            throw new MalformedDataException(Path, 8, "perf_file_header", "file-mode perf.data needs a seekable input; record with 'perf record -o -' to stream");
        got = _stream.ReadAtLeast(h.Slice(PipeHeaderSize, (int)size - PipeHeaderSize), (int)size - PipeHeaderSize, throwOnEndOfStream: false);
        if (got < (int)size - PipeHeaderSize)
            throw new MalformedDataException(Path, PipeHeaderSize + got, "perf_file_header", $"file ends inside the {size}-byte header");
        var c = new SpanCursor(h.Slice(0, (int)size), Path, 0, "perf_file_header");
        c.Skip(16);
        ulong attrSize = c.ReadUInt64();
        ulong attrsOff = c.ReadUInt64(), attrsSize = c.ReadUInt64();
        ulong dataOff = c.ReadUInt64(), dataSize = c.ReadUInt64();
        c.Skip(16); // event_types: ignored by modern perf (perf.data-file-format.txt)
        var features = new ulong[4];
        if (size == FileHeaderSize) for (int i = 0; i < 4; i++) features[i] = c.ReadUInt64();

        CheckSection(attrsOff, attrsSize, 24, "perf_file_header.attrs");
        if (dataOff > (ulong)Length)
            throw new MalformedDataException(Path, 40, "perf_file_header.data", $"data section starts at 0x{dataOff:x}, past the end of the {Length}-byte file");
        if (attrSize < 64 + 16 || attrSize > 4096 || (attrsSize % attrSize) != 0)
            throw new MalformedDataException(Path, 16, "perf_file_header.attr_size",
                $"attr_size {attrSize} with an attrs section of {attrsSize} bytes; expected sizeof(perf_event_attr) + 16 (80..4096) dividing the section");
        _dataOffset = (long)dataOff;
        // data.size 0: the recording was not closed cleanly (perf_session__read_header in tools/perf/util/header.c warns so); read to the end of the file.
        _dataEnd = dataSize == 0 || dataOff + dataSize > (ulong)Length ? Length : (long)(dataOff + dataSize);
        TruncatedData = dataSize != 0 && dataOff + dataSize > (ulong)Length ? (long)(dataOff + dataSize) : 0;

        ReadAttrs((long)attrsOff, (int)(attrsSize / attrSize), (int)attrSize);
        if (dataSize != 0 && TruncatedData == 0) ReadFeatures((long)(dataOff + dataSize), features);
        ApplyEventNames();
    }

    /// <summary>When the header declares a data section past the end of the file: the declared end (else 0).</summary>
    public long TruncatedData { get; private set; }

    private void CheckSection(ulong off, ulong size, long headerField, string structure)
    {
        if (off > (ulong)Length || size > (ulong)Length - off)
            throw new MalformedDataException(Path, headerField, structure, $"section [0x{off:x}, +{size}) lies outside the {Length}-byte file");
    }

    private byte[] ReadAt(long offset, int count)
    {
        var b = new byte[count];
        _stream.Seek(offset, SeekOrigin.Begin);
        _stream.ReadExactly(b);
        return b;
    }

    private void ReadAttrs(long offset, int count, int stride)
    {
        if (count == 0) throw new MalformedDataException(Path, 24, "perf_file_header.attrs", "no events in the attrs section");
        var all = ReadAt(offset, count * stride);
        for (int i = 0; i < count; i++)
        {
            var entry = all.AsSpan(i * stride, stride);
            var attr = PerfDataAttr.Parse(entry.Slice(0, stride - 16));
            long at = offset + i * stride;
            ulong idsOff = BinaryPrimitives.ReadUInt64LittleEndian(entry.Slice(stride - 16));
            ulong idsSize = BinaryPrimitives.ReadUInt64LittleEndian(entry.Slice(stride - 8));
            CheckSection(idsOff, idsSize, at + stride - 16, $"perf_file_attr[{i}].ids");
            if (idsSize % 8 != 0) throw new MalformedDataException(Path, at + stride - 8, $"perf_file_attr[{i}].ids", $"ids size {idsSize} is not a multiple of 8");
            var idBytes = ReadAt((long)idsOff, (int)idsSize);
            var ids = new ulong[idsSize / 8];
            for (int k = 0; k < ids.Length; k++) ids[k] = BinaryPrimitives.ReadUInt64LittleEndian(idBytes.AsSpan(k * 8));
            AddAttr(attr, ids, at);
        }
    }

    private void AddAttr(Hypervisor.PerfEvents.PerfEventAttr attr, ulong[] ids, long at)
    {
        if ((attr.SampleType >> 25) != 0)
            throw new MalformedDataException(Path, at + 24, "perf_event_attr.sample_type", $"sample_type 0x{attr.SampleType:x} has bits this reader does not know (above PERF_SAMPLE_WEIGHT_STRUCT); their sizes are unknown");
        int index = _attrs.Count;
        _attrs.Add(new PerfDataAttr(index, attr, ids));
        foreach (var id in ids) _attrById.TryAdd(id, index);
        RebuildDecoders();
    }

    private void RebuildDecoders()
    {
        _decoders.Clear();
        foreach (var a in _attrs) _decoders.Add(new PerfRecordDecoder(a.Layout, _attrs.Count == 1 ? null : _attrById));
    }

    private void ReadFeatures(long indexOffset, ulong[] bitmap)
    {
        var bits = new List<int>();
        for (int b = 0; b < FeatureBits; b++) if ((bitmap[b / 64] & (1UL << (b % 64))) != 0) bits.Add(b);
        if (bits.Count == 0) return;
        if (indexOffset + bits.Count * 16L > Length)
        {
            Features.Warnings.Add($"{Path}: offset 0x{indexOffset:x}: feature index ({bits.Count} entries) runs past the end of the file; features ignored");
            return;
        }
        var index = ReadAt(indexOffset, bits.Count * 16);
        for (int i = 0; i < bits.Count; i++)
        {
            ulong off = BinaryPrimitives.ReadUInt64LittleEndian(index.AsSpan(i * 16));
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(index.AsSpan(i * 16 + 8));
            if (off > (ulong)Length || size > (ulong)Length - off || size > 256 << 20)
            {
                Features.Warnings.Add($"{Path}: offset 0x{indexOffset + i * 16:x}: feature {bits[i]} section [0x{off:x}, +{size}) lies outside the file; skipped");
                continue;
            }
            try { Features.Parse(bits[i], ReadAt((long)off, (int)size), Path, (long)off); }
            catch (MalformedDataException e) { Features.Warnings.Add(e.Message + "; section skipped"); }
        }
    }

    private void ApplyEventNames()
    {
        // EVENT_DESC names events by their ids (HEADER_EVENT_DESC in perf.data-file-format.txt: match by first id); without ids, by position.
        for (int i = 0; i < Features.EventDescs.Count; i++)
        {
            var (name, ids) = Features.EventDescs[i];
            int target = ids.Length > 0 && _attrById.TryGetValue(ids[0], out var t) ? t : i < _attrs.Count && Features.EventDescs.Count == _attrs.Count ? i : -1;
            if (target >= 0 && name.Length > 0) _attrs[target].Name = name;
        }
    }

    /// <summary>
    /// Reads the data section (or the rest of a pipe stream) and delivers every record to <paramref name="sink"/>.
    /// Malformed data ends the read early; the result says where and how many bytes were skipped.
    /// </summary>
    /// <param name="sink">Receiver of records.</param>
    /// <param name="progress">Optional: fraction of the input read, reported every few MiB.</param>
    /// <param name="ct">Cancels between records (throws <see cref="OperationCanceledException"/>).</param>
    public PerfDataReadResult Read(IPerfDataSink sink, IProgress<double>? progress = null, CancellationToken ct = default)
    {
        var result = new PerfDataReadResult();
        if (_stream.CanSeek) _stream.Seek(_dataOffset, SeekOrigin.Begin);
        var src = new ByteSource(_stream, _dataOffset);
        long nextProgress = 0;
        try
        {
            while (src.Offset < _dataEnd)
            {
                if (!src.Ensure(8))
                {
                    if (src.Available == 0 && (IsPipe || _dataEnd == Length)) break;
                    throw new MalformedDataException(Path, src.Offset, "perf_event_header", $"data ends after {src.Available} bytes inside a record header; expected 8");
                }
                var hdr = src.Peek(8);
                uint type = BinaryPrimitives.ReadUInt32LittleEndian(hdr);
                int size = BinaryPrimitives.ReadUInt16LittleEndian(hdr.Slice(6));
                if (size < 8)
                    throw new MalformedDataException(Path, src.Offset, "perf_event_header", $"{PerfRecordNames.Of((PerfRecordType)type)} declares size {size}, smaller than the 8-byte header");
                if (src.Offset + size > _dataEnd || !src.Ensure(size))
                    throw new MalformedDataException(Path, src.Offset, PerfRecordNames.Of((PerfRecordType)type),
                        $"record of {size} bytes runs past the end of the data at 0x{Math.Min(_dataEnd, src.Offset + src.Available):x}");
                var raw = new RawRecord(src.Peek(size), Path, src.Offset);
                long extra = Handle(raw, sink, result);
                src.Skip(size);
                if (extra > 0 && src.Skip(extra) < extra)
                    throw new MalformedDataException(Path, src.Offset, PerfRecordNames.Of((PerfRecordType)type), $"the {extra} payload bytes that follow the record run past the end of the input");
                if (progress != null && src.Offset >= nextProgress && Length > 0)
                {
                    progress.Report((double)(src.Offset - _dataOffset) / Math.Max(1, _dataEnd - _dataOffset));
                    nextProgress = src.Offset + (8 << 20);
                    ct.ThrowIfCancellationRequested();
                }
            }
            if (TruncatedData > 0)
                throw new MalformedDataException(Path, Length, "perf_file_header.data",
                    $"the header declares data up to 0x{TruncatedData:x} but the file ends at 0x{Length:x} (truncated)");
        }
        catch (MalformedDataException e)
        {
            result.Error = e;
            long end = TruncatedData > 0 ? TruncatedData : _dataEnd == long.MaxValue ? (Length > 0 ? Length : src.Offset + src.Available) : _dataEnd;
            result.BytesSkipped = Math.Max(0, end - Math.Min(e.Offset, end));
        }
        if (!_attrsAnnounced && _attrs.Count > 0) { _attrsAnnounced = true; ApplyEventNames(); sink.OnAttrsReady(_attrs); }
        return result;
    }

    /// <summary>Handles one record; returns the number of payload bytes that follow it outside header.size (TRACING_DATA, AUXTRACE).</summary>
    private long Handle(in RawRecord raw, IPerfDataSink sink, PerfDataReadResult result)
    {
        result.Count((uint)raw.Type);
        switch (raw.Type)
        {
            case PerfRecordType.HeaderAttr:
            {
                // perf_event_attr (attr.size bytes, 0 ⇒ 64) then u64 ids[] to the end of the record (PERF_RECORD_HEADER_ATTR, perf.data-file-format.txt).
                var body = raw.Body;
                if (body.Length < 8) throw new MalformedDataException(Path, raw.Offset, "PERF_RECORD_HEADER_ATTR", $"declares size {raw.Size}, too small for an attr");
                int asz = (int)BinaryPrimitives.ReadUInt32LittleEndian(body.Slice(4));
                if (asz == 0) asz = 64;
                if (asz < 64 || asz > body.Length || (body.Length - asz) % 8 != 0)
                    throw new MalformedDataException(Path, raw.Offset + 12, "PERF_RECORD_HEADER_ATTR", $"attr.size {asz} does not fit the {body.Length}-byte body with whole u64 ids after it");
                var ids = new ulong[(body.Length - asz) / 8];
                for (int i = 0; i < ids.Length; i++) ids[i] = BinaryPrimitives.ReadUInt64LittleEndian(body.Slice(asz + 8 * i));
                AddAttr(PerfDataAttr.Parse(body.Slice(0, asz)), ids, raw.Offset + 8);
                return 0;
            }
            case PerfRecordType.HeaderTracingData:
            {
                // u32 size; followed by size bytes (8-aligned) not counted in header.size (PERF_RECORD_HEADER_TRACING_DATA, perf.data-file-format.txt).
                if (raw.Body.Length < 4) throw new MalformedDataException(Path, raw.Offset, "PERF_RECORD_HEADER_TRACING_DATA", "too small for its u32 size");
                uint sz = BinaryPrimitives.ReadUInt32LittleEndian(raw.Body);
                return (sz + 7L) & ~7L;
            }
            case PerfRecordType.Auxtrace:
            {
                if (raw.Body.Length < 8) throw new MalformedDataException(Path, raw.Offset, "PERF_RECORD_AUXTRACE", "too small for its u64 size");
                ulong sz = BinaryPrimitives.ReadUInt64LittleEndian(raw.Body);
                if (sz > long.MaxValue / 2) throw new MalformedDataException(Path, raw.Offset + 8, "PERF_RECORD_AUXTRACE", $"AUX payload size {sz} is impossible");
                return (long)sz;
            }
            case PerfRecordType.HeaderBuildId:
                if (raw.Size < 36) throw new MalformedDataException(Path, raw.Offset, "PERF_RECORD_HEADER_BUILD_ID", $"declares size {raw.Size}, smaller than its 36-byte minimum");
                Features.BuildIds.Add(PerfDataFeatures.ParseBuildId(raw.Bytes, raw.Misc));
                return 0;
            case PerfRecordType.HeaderFeature:
            {
                if (raw.Body.Length < 8) throw new MalformedDataException(Path, raw.Offset, "PERF_RECORD_HEADER_FEATURE", "too small for its u64 feat_id");
                ulong feat = BinaryPrimitives.ReadUInt64LittleEndian(raw.Body);
                if (feat < FeatureBits)
                {
                    try { Features.Parse((int)feat, raw.Body.Slice(8), Path, raw.Offset + 16); }
                    catch (MalformedDataException e) { Features.Warnings.Add(e.Message + "; feature skipped"); }
                }
                return 0;
            }
            case PerfRecordType.EventUpdate:
            {
                // u64 type (2 = NAME), u64 id, payload (struct perf_record_event_update, tools/lib/perf/include/perf/event.h).
                if (raw.Body.Length >= 16 && BinaryPrimitives.ReadUInt64LittleEndian(raw.Body) == 2)
                {
                    ulong id = BinaryPrimitives.ReadUInt64LittleEndian(raw.Body.Slice(8));
                    var name = raw.Body.Slice(16);
                    int nul = name.IndexOf((byte)0);
                    if (_attrById.TryGetValue(id, out var idx))
                        _attrs[idx].Name = System.Text.Encoding.UTF8.GetString(nul < 0 ? name : name.Slice(0, nul));
                }
                return 0;
            }
            case PerfRecordType.FinishedRound:
                sink.OnFinishedRound();
                return 0;
            case PerfRecordType.Compressed:
            case PerfRecordType.Compressed2:
                Decompress(raw, sink, result);
                return 0;
        }
        if ((uint)raw.Type >= 64) return 0; // other perf-tool records: counted only
        DeliverKernelRecord(raw, sink, result);
        return 0;
    }

    private void DeliverKernelRecord(in RawRecord raw, IPerfDataSink sink, PerfDataReadResult result)
    {
        if (_attrs.Count == 0)
            throw new MalformedDataException(Path, raw.Offset, PerfRecordNames.Of(raw.Type), "kernel record before any PERF_RECORD_HEADER_ATTR; the stream does not say how to decode it");
        if (!_attrsAnnounced)
        {
            _attrsAnnounced = true;
            ApplyEventNames();
            sink.OnAttrsReady(_attrs);
        }
        int index = 0;
        if (_attrs.Count > 1)
        {
            // perf requires every attr to put the id in the same place (evlist id_pos/is_pos), so the first
            // attr's layout finds it; records without a known id go to the first attr, samples are dropped (evlist__event2evsel in tools/perf/util/evlist.c).
            if (_attrs[0].Layout.TryGetId(raw, out var id) && _attrById.TryGetValue(id, out var i)) index = i;
            else if (raw.Type == PerfRecordType.Sample) { result.UnattributedSamples++; return; }
        }
        if (raw.Type == PerfRecordType.Sample && (_attrs[index].Layout.SampleType & SampleFormat.Read) != 0
            && (_attrs[index].Layout.ReadFormat & ReadFormat.Id) != 0)
        {
            DeliverSampleRead(raw, index, sink, result);
            return;
        }
        // A record whose frame (header.size) is sound but whose body is not is skipped and counted: the stream
        // stays in step, so one bad record does not cost the rest of the file.
        try { _decoders[index].Deliver(raw, sink); }
        catch (MalformedDataException e)
        {
            result.MalformedRecords++;
            result.FirstMalformedRecord ??= e;
        }
    }

    private readonly Dictionary<ulong, ulong> _lastReadValue = new();

    /// <summary>
    /// A sample carrying counter values (PERF_SAMPLE_READ, e.g. <c>-e '{a,b}:S'</c>) stands for one sample per value,
    /// of the event that value's id belongs to, with the count since that event's previous value as period; a zero
    /// delta gives no sample (perf's <c>deliver_sample_group</c>/<c>deliver_sample_value</c>, tools/perf/util/session.c).
    /// </summary>
    private void DeliverSampleRead(in RawRecord raw, int index, IPerfDataSink sink, PerfDataReadResult result)
    {
        var s = SampleRecord.Decode(raw, _attrs[index].Layout);
        for (int i = 0; i < s.ReadValues.Length && i < s.ReadIds.Length; i++)
        {
            ulong id = s.ReadIds[i], v = s.ReadValues[i];
            if (!_attrById.TryGetValue(id, out var ev)) { result.UnattributedSamples++; continue; }
            ulong delta = v - _lastReadValue.GetValueOrDefault(id);
            _lastReadValue[id] = v;
            if (delta == 0) continue;
            sink.OnSample(ev, s.WithEvent(id, delta));
        }
    }

    private void Decompress(in RawRecord raw, IPerfDataSink sink, PerfDataReadResult result)
    {
        _zstd ??= new ZstdRecordStream(Path);
        ReadOnlySpan<byte> payload;
        if (raw.Type == PerfRecordType.Compressed2)
        {
            // u64 data_size, zstd bytes[data_size], zero pad to 8 (PERF_RECORD_COMPRESSED2, perf.data-file-format.txt).
            if (raw.Body.Length < 8) throw new MalformedDataException(Path, raw.Offset, "PERF_RECORD_COMPRESSED2", "too small for its u64 data_size");
            ulong n = BinaryPrimitives.ReadUInt64LittleEndian(raw.Body);
            if (n > (ulong)raw.Body.Length - 8) throw new MalformedDataException(Path, raw.Offset + 8, "PERF_RECORD_COMPRESSED2", $"data_size {n} exceeds the {raw.Body.Length - 8} bytes of the record");
            payload = raw.Body.Slice(8, (int)n);
        }
        else payload = raw.Body;
        long at = raw.Offset;
        _zstd.Feed(payload, at, bytes =>
        {
            // Complete records from the decompressed stream; the tail stays for the next COMPRESSED record.
            int pos = 0;
            while (bytes.Length - pos >= 8)
            {
                int size = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(pos + 6));
                if (size < 8) throw new MalformedDataException(Path, at, "PERF_RECORD_COMPRESSED", $"decompressed record at byte {pos} declares size {size}, smaller than the 8-byte header");
                if (bytes.Length - pos < size) break;
                var inner = new RawRecord(bytes.Slice(pos, size), Path, at);
                if (Handle(inner, sink, result) != 0)
                    throw new MalformedDataException(Path, at, "PERF_RECORD_COMPRESSED", $"compressed {PerfRecordNames.Of(inner.Type)} carries payload outside its record; not supported");
                pos += size;
            }
            return pos;
        });
    }

    /// <summary>Closes the input.</summary>
    public void Dispose()
    {
        _zstd?.Dispose();
        _stream.Dispose();
    }
}
