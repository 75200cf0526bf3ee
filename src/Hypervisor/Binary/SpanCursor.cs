using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;

namespace XenProf.Hypervisor.Binary;

/// <summary>
/// A forward-only little-endian reader over a span that knows where the span sits in its file
/// (<see cref="BaseOffset"/>), so every failure names an absolute offset. Reads past the end throw
/// <see cref="MalformedDataException"/> naming <see cref="Path"/> and <see cref="Structure"/>.
/// </summary>
public ref struct SpanCursor
{
    private readonly ReadOnlySpan<byte> _span;
    private int _pos;

    /// <summary>Creates a cursor.</summary>
    /// <param name="span">Bytes to read.</param>
    /// <param name="path">File name used in error messages.</param>
    /// <param name="baseOffset">Absolute file offset of <paramref name="span"/>[0].</param>
    /// <param name="structure">Structure name used in error messages.</param>
    public SpanCursor(ReadOnlySpan<byte> span, string path, long baseOffset, string structure)
    {
        _span = span;
        _pos = 0;
        Path = path;
        BaseOffset = baseOffset;
        Structure = structure;
    }

    /// <summary>File name used in error messages.</summary>
    public string Path { get; }

    /// <summary>Absolute file offset of the first byte of the span.</summary>
    public long BaseOffset { get; }

    /// <summary>Structure name used in error messages; may be changed while reading.</summary>
    public string Structure { get; set; }

    /// <summary>Position inside the span, in bytes.</summary>
    public int Position { readonly get => _pos; set { if ((uint)value > (uint)_span.Length) Fail(value, "seek past end"); _pos = value; } }

    /// <summary>Absolute file offset of the next byte.</summary>
    public readonly long Offset => BaseOffset + _pos;

    /// <summary>Bytes left to read.</summary>
    public readonly int Remaining => _span.Length - _pos;

    /// <summary>Reads a u8.</summary>
    public byte ReadByte() { Need(1); return _span[_pos++]; }

    /// <summary>Reads a little-endian u16.</summary>
    public ushort ReadUInt16() { Need(2); var v = BinaryPrimitives.ReadUInt16LittleEndian(_span.Slice(_pos)); _pos += 2; return v; }

    /// <summary>Reads a little-endian u32.</summary>
    public uint ReadUInt32() { Need(4); var v = BinaryPrimitives.ReadUInt32LittleEndian(_span.Slice(_pos)); _pos += 4; return v; }

    /// <summary>Reads a little-endian s32.</summary>
    public int ReadInt32() => (int)ReadUInt32();

    /// <summary>Reads a little-endian u64.</summary>
    public ulong ReadUInt64() { Need(8); var v = BinaryPrimitives.ReadUInt64LittleEndian(_span.Slice(_pos)); _pos += 8; return v; }

    /// <summary>Reads <paramref name="count"/> bytes as a slice (no copy).</summary>
    public ReadOnlySpan<byte> ReadBytes(int count) { if (count < 0) Fail(_pos, $"negative length {count}"); Need(count); var s = _span.Slice(_pos, count); _pos += count; return s; }

    /// <summary>Skips <paramref name="count"/> bytes.</summary>
    public void Skip(int count) => ReadBytes(count);

    /// <summary>Reads a NUL-terminated string stored in a field of exactly <paramref name="fieldLength"/> bytes (UTF-8).</summary>
    public string ReadFixedString(int fieldLength)
    {
        var s = ReadBytes(fieldLength);
        int nul = s.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? s : s.Slice(0, nul));
    }

    /// <summary>Reads the rest of the span as a NUL-terminated string (UTF-8), consuming everything.</summary>
    public string ReadRestAsString() => ReadFixedString(Remaining);

    // Inlined into every read: the check is one compare; the message is built only on the failure path.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Need(int n)
    {
        if (_span.Length - _pos < n) FailNeed(n);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void FailNeed(int n) => Fail(_pos, $"needs {n} more bytes but only {_span.Length - _pos} remain");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private readonly void Fail(int pos, string problem) => throw new MalformedDataException(Path, BaseOffset + pos, Structure, problem);
}
