using System.Runtime.CompilerServices;
using XenProf.Hypervisor.Binary;
using XenProf.Hypervisor.PerfEvents.Internal;
using XenProf.Hypervisor.PerfEvents.Records;

namespace XenProf.Hypervisor.PerfEvents;

/// <summary>
/// One perf ring buffer: a <c>struct perf_event_mmap_page</c> control page followed by 2^n data pages
/// (<c>struct perf_event_mmap_page</c> in include/uapi/linux/perf_event.h). Reads follow the kernel protocol: load-acquire <c>data_head</c> (offset 1024), read
/// records from <c>data_tail</c> (offset 1032) up to it, then store-release the new tail. Records that wrap past
/// the ring end are copied into a reusable buffer; all others are views straight into the mapping.
/// The reading logic works over any memory laid out like a ring (<see cref="PerfRing(IntPtr, long, int, string)"/>),
/// so it can be tested without a kernel. Not thread-safe: one reader per ring.
/// </summary>
public sealed unsafe class PerfRing : IDisposable
{
    private const int DataHeadOffset = 1024, DataTailOffset = 1032, DataOffsetOffset = 1040, DataSizeOffset = 1048;

    private readonly byte* _base;
    private readonly long _mappedLength;
    private readonly bool _owned;
    private readonly byte* _data;
    private readonly ulong _mask;
    private ulong _head, _tail;
    private byte[] _copy = new byte[256];
    private bool _disposed;

    /// <summary>
    /// Reads a ring laid out in memory the caller owns (the mapping is not released by <see cref="Dispose"/>).
    /// If data_offset/data_size (offsets 1040/1048) are 0, as on kernels before ≈4.1, the data area is taken to
    /// start at <paramref name="pageSize"/> and span the rest of <paramref name="length"/>.
    /// </summary>
    /// <param name="memory">Start of the control page.</param>
    /// <param name="length">Bytes mapped (control page + data pages).</param>
    /// <param name="pageSize">Page size in bytes.</param>
    /// <param name="name">Name for error messages, e.g. <c>perf ring cpu 1</c>.</param>
    /// <exception cref="ArgumentException">The data size is not a power of two, or does not fit in <paramref name="length"/>.</exception>
    public PerfRing(IntPtr memory, long length, int pageSize, string name) : this((byte*)memory, length, pageSize, name, owned: false) { }

    private PerfRing(byte* memory, long length, int pageSize, string name, bool owned)
    {
        _base = memory; _mappedLength = length; _owned = owned; Name = name;
        ulong dataOffset = *(ulong*)(memory + DataOffsetOffset);
        ulong dataSize = *(ulong*)(memory + DataSizeOffset);
        if (dataSize == 0) { dataOffset = (ulong)pageSize; dataSize = (ulong)(length - pageSize); }
        if (dataSize == 0 || (dataSize & (dataSize - 1)) != 0 || dataOffset + dataSize > (ulong)length)
            throw new ArgumentException($"{name}: data area offset {dataOffset} size {dataSize} is not a power of two inside the {length}-byte mapping");
        _data = memory + dataOffset;
        DataSize = dataSize;
        _mask = dataSize - 1;
        _tail = Volatile.Read(ref *(ulong*)(memory + DataTailOffset));
        _head = _tail;
    }

    /// <summary>
    /// Maps the ring of perf event <paramref name="fd"/>: (1 + <paramref name="dataPages"/>) pages, read-write
    /// (non-overwrite mode: the kernel drops records and emits PERF_RECORD_LOST when it is full).
    /// </summary>
    /// <param name="fd">perf_event_open fd.</param>
    /// <param name="dataPages">Data pages, a power of two.</param>
    /// <param name="name">Name for messages.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dataPages"/> is not a power of two.</exception>
    /// <exception cref="PerfEventOpenException">mmap failed (errno carried).</exception>
    public static PerfRing Map(int fd, int dataPages, string name)
    {
        if (dataPages <= 0 || (dataPages & (dataPages - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(dataPages), dataPages, "must be a power of two");
        int page = Environment.SystemPageSize;
        long len = (long)(1 + dataPages) * page;
        var p = PerfNative.Mmap(IntPtr.Zero, (nuint)len, PerfNative.PROT_READ | PerfNative.PROT_WRITE, PerfNative.MAP_SHARED, fd, 0);
        if (p == new IntPtr(-1))
        {
            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            throw new PerfEventOpenException(name, errno, $"mmap of {len} bytes for {name} failed ({PerfNative.ErrnoName(errno)})" +
                (errno == 1 || errno == 12 ? "; the locked-memory limit may be too low (see /proc/sys/kernel/perf_event_mlock_kb)" : ""));
        }
        return new PerfRing((byte*)p, len, page, name, owned: true);
    }

    /// <summary>Name used in messages and as the <see cref="RawRecord.Path"/> of records.</summary>
    public string Name { get; }
    /// <summary>Size in bytes of the data area (a power of two).</summary>
    public ulong DataSize { get; }
    /// <summary>Records that wrapped past the ring end and were copied.</summary>
    public long WrappedRecords { get; private set; }
    /// <summary>Bytes not yet consumed (as of the last head load).</summary>
    public ulong Pending => _head - _tail;

    /// <summary>
    /// Returns the next record, loading <c>data_head</c> (acquire) when the cached head is reached. The record
    /// is valid until the next call or <see cref="Release"/>. Its <see cref="RawRecord.Offset"/> is the
    /// free-running ring position.
    /// </summary>
    /// <exception cref="MalformedDataException">A header declares a size below 8 or beyond the available data.</exception>
    public bool TryRead(out RawRecord record)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_tail == _head)
        {
            _head = Volatile.Read(ref *(ulong*)(_base + DataHeadOffset));
            if (_tail == _head) { record = default; return false; }
        }
        ulong avail = _head - _tail;
        if (avail < (ulong)PerfEventHeader.Size)
            throw new MalformedDataException(Name, (long)_tail, "perf_event_header", $"only {avail} bytes before data_head");
        Span<byte> hdr = stackalloc byte[PerfEventHeader.Size];
        CopyOut(_tail, hdr);
        var h = PerfEventHeader.Read(hdr, Name, (long)_tail);
        if (h.RecordSize > avail)
            throw new MalformedDataException(Name, (long)_tail, "perf_event_header",
                $"{PerfRecordNames.Of(h.Type)} declares size {h.RecordSize} but only {avail} bytes precede data_head");
        ulong start = _tail & _mask;
        ReadOnlySpan<byte> bytes;
        if (start + h.RecordSize <= DataSize)
            bytes = new ReadOnlySpan<byte>(_data + start, h.RecordSize);
        else
        {
            if (_copy.Length < h.RecordSize) _copy = new byte[Math.Max(h.RecordSize, _copy.Length * 2)];
            CopyOut(_tail, _copy.AsSpan(0, h.RecordSize));
            bytes = _copy.AsSpan(0, h.RecordSize);
            WrappedRecords++;
        }
        record = new RawRecord(bytes, Name, (long)_tail);
        _tail += h.RecordSize;
        return true;
    }

    /// <summary>Hands consumed space back to the kernel: full barrier, then store-release <c>data_tail</c>.</summary>
    public void Release()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Interlocked.MemoryBarrier();
        Volatile.Write(ref *(ulong*)(_base + DataTailOffset), _tail);
    }

    /// <summary>Reads every available record into <paramref name="decoder"/> and <paramref name="sink"/>, releasing space as it goes; returns the number of records.</summary>
    /// <exception cref="MalformedDataException">A record is malformed (the ring is left positioned after the records already delivered).</exception>
    public int Drain(PerfRecordDecoder decoder, IPerfRecordSink sink)
    {
        int n = 0;
        while (TryRead(out var r))
        {
            decoder.Deliver(r, sink);
            n++;
            if ((n & 255) == 0) Release();
        }
        Release();
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CopyOut(ulong position, Span<byte> dest)
    {
        ulong start = position & _mask;
        int first = (int)Math.Min((ulong)dest.Length, DataSize - start);
        new ReadOnlySpan<byte>(_data + start, first).CopyTo(dest);
        if (first < dest.Length) new ReadOnlySpan<byte>(_data, dest.Length - first).CopyTo(dest.Slice(first));
    }

    /// <summary>Unmaps the ring if this instance mapped it.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_owned) PerfNative.Munmap((IntPtr)_base, (nuint)_mappedLength);
    }
}
