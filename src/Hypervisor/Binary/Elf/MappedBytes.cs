using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace XenProf.Hypervisor.Binary.Elf;

/// <summary>
/// Read-only bytes of a whole file without copying it: a memory-mapped view for a real file, or a pinned array
/// in tests. Slices are handed out as spans; callers check bounds against <see cref="Length"/> first.
/// </summary>
public sealed unsafe class MappedBytes : IDisposable
{
    private MemoryMappedFile? _file;
    private MemoryMappedViewAccessor? _view;
    private GCHandle _pin;
    private byte* _ptr;

    private MappedBytes(long length) => Length = length;

    /// <summary>Length in bytes.</summary>
    public long Length { get; }

    /// <summary>
    /// Maps <paramref name="path"/> read-only. An empty file gives a zero-length instance. The file descriptor is
    /// closed once the view exists, so .NET's advisory lock does not block writers; files are expected to be
    /// replaced by rename (as package managers do): truncating a mapped file in place makes later reads fault.
    /// </summary>
    /// <exception cref="IOException">The file cannot be opened or mapped.</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to read it.</exception>
    public static MappedBytes Map(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
        if (!fs.CanSeek) throw new IOException($"{path}: not a regular file");
        long len = fs.Length;
        var m = new MappedBytes(len);
        if (len == 0) return m;
        m._file = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        m._view = m._file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        m._view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        m._ptr = p + m._view.PointerOffset;
        return m;
    }

    /// <summary>Wraps an array (pinned until disposed).</summary>
    public static MappedBytes FromArray(byte[] data)
    {
        var m = new MappedBytes(data.Length);
        m._pin = GCHandle.Alloc(data, GCHandleType.Pinned);
        m._ptr = (byte*)m._pin.AddrOfPinnedObject();
        return m;
    }

    /// <summary>Whether <c>[offset, offset+length)</c> lies inside the file.</summary>
    public bool InRange(ulong offset, ulong length) => offset <= (ulong)Length && length <= (ulong)Length - offset;

    /// <summary>A span over <c>[offset, offset+length)</c>; the caller has checked <see cref="InRange"/>.</summary>
    public ReadOnlySpan<byte> Span(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_ptr == null && Length != 0, this);
        return new ReadOnlySpan<byte>(_ptr + offset, length);
    }

    /// <summary>Reads a NUL-terminated UTF-8 string at <paramref name="offset"/>, stopping at <paramref name="limit"/>.</summary>
    public string CString(long offset, long limit)
    {
        long max = Math.Min(limit, Length) - offset;
        if (max <= 0) return "";
        var s = new ReadOnlySpan<byte>(_ptr + offset, (int)Math.Min(max, int.MaxValue));
        int nul = s.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(nul < 0 ? s : s[..nul]);
    }

    /// <summary>Length of the NUL-terminated string at <paramref name="offset"/> (bounded by <paramref name="limit"/>).</summary>
    public int CStringLength(long offset, long limit)
    {
        long max = Math.Min(limit, Length) - offset;
        if (max <= 0) return 0;
        var s = new ReadOnlySpan<byte>(_ptr + offset, (int)Math.Min(max, int.MaxValue));
        int nul = s.IndexOf((byte)0);
        return nul < 0 ? s.Length : nul;
    }

    /// <summary>Unmaps the file (or unpins the array); spans handed out before are invalid afterwards.</summary>
    public void Dispose()
    {
        if (_view != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _file?.Dispose();
            _view = null;
            _file = null;
        }
        if (_pin.IsAllocated) _pin.Free();
        _ptr = null;
    }
}
