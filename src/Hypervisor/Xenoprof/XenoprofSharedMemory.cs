using System.IO.MemoryMappedFiles;

namespace XenProf.Hypervisor.Xenoprof;

/// <summary>
/// Memory both sides of the xenoprof ABI see: a memory-mapped file standing in for the xenheap pages Xen shares with
/// a profiling domain. The emulator writes samples here; the daemon maps the same file and reads it exactly as it
/// would read pages shared by Xen. Addresses handed out as <c>buf_gmaddr</c> are byte offsets into this region.
/// </summary>
public sealed unsafe class XenoprofSharedMemory : IXenoprofBufferMemory, IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;

    /// <summary>Creates (or replaces) the backing file <paramref name="path"/> of <paramref name="length"/> bytes, zeroed.</summary>
    public XenoprofSharedMemory(string path, long length)
    {
        Path = path;
        Length = length;
        using (var fs = new FileStream(path, FileMode.Create, FileAccess.ReadWrite)) fs.SetLength(length);
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, length, MemoryMappedFileAccess.ReadWrite);
        _view = _file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset;
    }

    /// <summary>Backing file.</summary>
    public string Path { get; }

    /// <summary>Bytes mapped.</summary>
    public long Length { get; }

    /// <summary>The bytes [<paramref name="offset"/>, offset + <paramref name="length"/>).</summary>
    public Span<byte> Slice(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset + length > Length) throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) outside the {Length}-byte shared region");
        return new Span<byte>(_base + offset, length);
    }

    /// <summary>Unmaps the region (the file stays for inspection).</summary>
    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}

/// <summary>
/// Bytes that hold xenoprof buffers, addressed from 0: the emulator's <see cref="XenoprofSharedMemory"/> (where
/// offsets are the <c>buf_gmaddr</c> values it hands out) or Xen's pages mapped into dom0 by
/// <see cref="PrivcmdHypercalls.MapBuffers"/> (offset 0 = the first mapped page).
/// </summary>
public interface IXenoprofBufferMemory
{
    /// <summary>Bytes mapped.</summary>
    long Length { get; }

    /// <summary>The bytes [<paramref name="offset"/>, offset + <paramref name="length"/>); throws <see cref="ArgumentOutOfRangeException"/> outside <see cref="Length"/>.</summary>
    Span<byte> Slice(long offset, int length);
}

/// <summary>
/// A domain's VCPU buffers as a profiling domain sees them after get_buffer or set_passive: <see cref="NBuf"/>
/// contiguous buffers of <see cref="BufSize"/> bytes. Consumers index by each header's <c>vcpu_id</c>, not by position.
/// </summary>
/// <remarks><paramref name="gmaddr"/> is the first buffer's offset in <paramref name="memory"/>.</remarks>
public sealed class XenoprofBufferSet(IXenoprofBufferMemory memory, ulong gmaddr, int nbuf, int bufSize, int domainId, bool passive)
{
    /// <summary>Number of buffers (one per VCPU).</summary>
    public int NBuf => nbuf;

    /// <summary>Bytes per buffer.</summary>
    public int BufSize => bufSize;

    /// <summary>Domain the buffers belong to.</summary>
    public int DomainId => domainId;

    /// <summary>True for a passive domain's buffers shared with the primary.</summary>
    public bool Passive => passive;

    /// <summary>Buffer number <paramref name="i"/> in memory order.</summary>
    public Span<byte> Buffer(int i) => memory.Slice((long)gmaddr + (long)i * bufSize, bufSize);
}
