using System.Buffers.Binary;
using System.Text;
using XenProf.Hypervisor.Binary;

namespace XenProf.Sampler.Import.NetTrace;

/// <summary>
/// A pass over a <c>.nettrace</c> file before TraceEvent reads it, which refuses the damage TraceEvent answers by
/// allocating what the file declares: a block larger than the rest of the file, and above all a metadata record whose
/// field count is far beyond the bytes it has. TraceEvent 4.0's metadata parser
/// (<c>EventPipeMetadata.ParseFields</c>) allocates two arrays of the declared Int32 count before it reads a field, so a
/// 4 KB file whose count reads <c>0x7fffffff</c> makes it commit tens of GB, and the kernel's OOM killer ends the process
/// (found by fuzzing; regression input <c>tests/Sampler.Tests/Data/fuzz/nettrace-field-count.nettrace</c>).
/// <para>
/// Layout per the NetTrace format of TraceEvent's repository (<c>src/TraceEvent/EventPipe/NetTraceFormat_v5.md</c>): the
/// <c>Nettrace</c> magic, the <c>!FastSerialization.1</c> header, a <c>Trace</c> object (its type's version is the file
/// format version), then <c>EventBlock</c>/<c>MetadataBlock</c>/<c>StackBlock</c>/<c>SPBlock</c> objects, each an Int32
/// size, zero padding to a 4-byte file offset and that many bytes. A metadata block holds event blobs (compressed headers
/// when its flags have bit 0) whose payloads are metadata records: id, provider name, event id, event name, keywords,
/// version, level, then a V1 field list (Int32 count; per field an Int32 type code, nested fields for type code 1, a
/// UTF-16 name) and tags (Int32 length, a kind byte; kind 2 holds a V2 field list: Int32 count; per field an Int32 size
/// that includes itself).
/// </para>
/// <para>
/// Only format versions 4 and 5 are walked (version 6 counts fields in 16 bits, which bounds the arrays). The walk
/// follows TraceEvent's reading order and stops silently wherever TraceEvent itself would throw a format error (that
/// is then TraceEvent's to report), so a file TraceEvent reads is never refused; a count is refused only when it
/// exceeds both <see cref="HarmlessFieldCount"/> and what the record's remaining bytes could hold (6 bytes per V1
/// field, 4 per V2 field).
/// </para>
/// </summary>
internal static class NetTraceMetadataGuard
{
    /// <summary>Field counts up to this are let through whatever the record's size (arrays of this many entries cost
    /// about 3 MB, and TraceEvent then ignores the event's fields when it finds them short).</summary>
    public const int HarmlessFieldCount = 65536;

    private const byte BeginObject = 5, EndObject = 6, NullReference = 1;

    /// <summary>Walks <paramref name="path"/>; returns normally when TraceEvent may read it.</summary>
    /// <exception cref="MalformedDataException">A block declares more bytes than the file has left, or a metadata
    /// record declares more fields than it can hold (the offset of the size or count, the value, the bytes left).</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static void Check(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        var walker = new Walker(file, path);
        walker.Run();
    }

    private sealed class Walker(FileStream file, string path)
    {
        private readonly byte[] _small = new byte[64];

        public void Run()
        {
            long length = file.Length;
            if (!ReadExact(_small, 32) || Encoding.ASCII.GetString(_small, 0, 8) != "Nettrace" ||
                BinaryPrimitives.ReadInt32LittleEndian(_small.AsSpan(8)) != 20 ||
                Encoding.ASCII.GetString(_small, 12, 20) != "!FastSerialization.1")
                return; // not NetTrace (or netperf): TraceEvent says what it is
            if (!ReadTypeHeader(out int version, out var name) || name != "Trace") return;
            if (version is < 4 or > 5) return;
            if (!Skip(48) || ReadByte() != EndObject) return;
            while (file.Position < length)
            {
                int tag = ReadByte();
                if (tag != BeginObject) return; // NullReference ends the stream; anything else is TraceEvent's to report
                if (!ReadTypeHeader(out _, out var block, objectTagRead: true)) return;
                long sizeAt = file.Position;
                if (!ReadExact(_small, 4)) return;
                int size = BinaryPrimitives.ReadInt32LittleEndian(_small);
                long start = Align4(file.Position);
                // TraceEvent allocates a block's declared size before reading it: refuse what the file cannot hold.
                if (size < 0 || start + size > length)
                    throw new MalformedDataException(path, sizeAt, "nettrace " + block,
                        $"the block declares {size} bytes but the file has {Math.Max(0, length - start)} left (a cut or damaged trace)");
                if (block == "MetadataBlock")
                {
                    var bytes = new byte[size];
                    file.Position = start;
                    if (!ReadExact(bytes, size)) return;
                    CheckBlock(bytes, start);
                }
                else
                    file.Position = start + size;
                if (ReadByte() != EndObject) return;
            }
        }

        private void CheckBlock(byte[] block, long fileOffset)
        {
            var r = new Cursor(block, 0);
            if (!r.Int16(out short headerSize) || !r.Int16(out short flags) || headerSize < 4 || headerSize > block.Length) return;
            r.Pos = headerSize;
            bool compressed = (flags & 1) != 0;
            long payloadSize = 0;
            while (r.Pos < block.Length)
            {
                if (compressed)
                {
                    if (!r.Byte(out byte f)) return;
                    if ((f & 1) != 0 && !r.VarInt(out _)) return;
                    if ((f & 2) != 0 && !(r.VarInt(out _) && r.VarInt(out _) && r.VarInt(out _))) return;
                    if ((f & 4) != 0 && !r.VarInt(out _)) return;
                    if ((f & 8) != 0 && !r.VarInt(out _)) return;
                    if (!r.VarInt(out _)) return; // timestamp
                    if ((f & 16) != 0 && !r.Skip(16)) return;
                    if ((f & 32) != 0 && !r.Skip(16)) return;
                    if ((f & 128) != 0 && !r.VarInt(out payloadSize)) return;
                }
                else
                {
                    // EventSize, MetadataId, SequenceNumber, ThreadId, CaptureThreadId, ProcessorNumber, StackId,
                    // TimeStamp, ActivityID, RelatedActivityID (4+4+4+8+8+4+4+8+16+16), then PayloadSize.
                    if (!r.Skip(76) || !r.Int32(out int ps)) return;
                    payloadSize = ps;
                }
                if (payloadSize < 0 || payloadSize > block.Length - r.Pos) return;
                CheckRecord(new Cursor(block, r.Pos, r.Pos + (int)payloadSize), fileOffset);
                r.Pos += (int)payloadSize;
                if (!compressed) r.Pos = (int)(Align4(fileOffset + r.Pos) - fileOffset);
            }
        }

        private void CheckRecord(Cursor r, long fileOffset)
        {
            // MetaDataId, ProviderName, EventId, EventName, Keywords, Version, Level.
            if (!r.Skip(4) || !r.Utf16z() || !r.Skip(4) || !r.Utf16z() || !r.Skip(16)) return;
            if (r.Remaining == 0) return;
            // TraceEvent catches a format error in the V1 list and goes on to the tags from where it stopped, as here.
            Fields(ref r, v2: false, fileOffset);
            while (r.Remaining > 0)
            {
                if (!r.Int32(out int tagLength) || !r.Byte(out byte kind) || tagLength < 0 || tagLength > r.Remaining) return;
                var tag = new Cursor(r.Data, r.Pos, r.Pos + tagLength);
                r.Pos += tagLength;
                if (kind == 2) Fields(ref tag, v2: true, fileOffset);
            }
        }

        /// <summary>One field list as TraceEvent reads it; false where TraceEvent would stop with a format error.</summary>
        private bool Fields(ref Cursor r, bool v2, long fileOffset)
        {
            int at = r.Pos;
            if (!r.Int32(out int count) || count < 0) return false;
            long capacity = r.Remaining / (v2 ? 4 : 6);
            if (count > HarmlessFieldCount && count > capacity)
                throw new MalformedDataException(path, fileOffset + at, "nettrace metadata",
                    $"the record declares {count} fields but has {r.Remaining} bytes left (at most {capacity} fields)");
            for (int i = 0; i < count; i++)
            {
                if (v2)
                {
                    if (!r.Int32(out int size) || size < 4 || size - 4 > r.Remaining) return false;
                    var field = new Cursor(r.Data, r.Pos, r.Pos + size - 4);
                    r.Pos += size - 4;
                    if (!field.Utf16z() || !Type(ref field, v2, fileOffset)) return false;
                }
                else if (!Type(ref r, v2, fileOffset) || !r.Utf16z()) return false;
            }
            return true;
        }

        private bool Type(ref Cursor r, bool v2, long fileOffset)
        {
            if (!r.Int32(out int code)) return false;
            return code switch
            {
                1 => Fields(ref r, v2, fileOffset),            // an embedded struct
                19 => v2 && Type(ref r, v2, fileOffset),       // an array (V2 only) of its element type
                >= 3 and <= 18 => true,
                _ => false,
            };
        }

        private static long Align4(long offset) => (offset + 3) & ~3L;

        /// <summary>An object's opening: BeginPrivateObject (unless already read), then its type object (BeginPrivateObject,
        /// NullReference, version, minimum reader version, name, EndObject).</summary>
        private bool ReadTypeHeader(out int version, out string name, bool objectTagRead = false)
        {
            version = 0;
            name = "";
            if ((!objectTagRead && ReadByte() != BeginObject) || ReadByte() != BeginObject || ReadByte() != NullReference) return false;
            if (!ReadExact(_small, 12)) return false;
            version = BinaryPrimitives.ReadInt32LittleEndian(_small);
            int nameLength = BinaryPrimitives.ReadInt32LittleEndian(_small.AsSpan(8));
            if (nameLength is < 0 or > 64 || !ReadExact(_small, nameLength)) return false;
            name = Encoding.ASCII.GetString(_small, 0, nameLength);
            return ReadByte() == EndObject;
        }

        private int ReadByte() => file.ReadByte();

        private bool Skip(int n)
        {
            if (file.Length - file.Position < n) return false;
            file.Position += n;
            return true;
        }

        private bool ReadExact(byte[] buffer, int n)
        {
            try { file.ReadExactly(buffer, 0, n); return true; }
            catch (EndOfStreamException) { return false; }
        }
    }

    /// <summary>A bounded little-endian reader over part of a byte array; every read says whether it fit.</summary>
    private struct Cursor(byte[] data, int pos, int end = -1)
    {
        public readonly byte[] Data = data;
        public int Pos = pos;
        private readonly int _end = end < 0 ? data.Length : end;

        public readonly int Remaining => Math.Max(0, _end - Pos);

        /// <summary>Claims the next <paramref name="n"/> bytes, starting at <paramref name="at"/>; false (and nothing
        /// claimed) when fewer are left.</summary>
        private bool Take(int n, out int at)
        {
            at = Pos;
            if (n < 0 || n > Remaining) return false;
            Pos += n;
            return true;
        }

        public bool Skip(int n) => Take(n, out _);

        public bool Byte(out byte value)
        {
            bool ok = Take(1, out int at);
            value = ok ? Data[at] : (byte)0;
            return ok;
        }

        public bool Int16(out short value)
        {
            bool ok = Take(2, out int at);
            value = ok ? BinaryPrimitives.ReadInt16LittleEndian(Data.AsSpan(at)) : (short)0;
            return ok;
        }

        public bool Int32(out int value)
        {
            bool ok = Take(4, out int at);
            value = ok ? BinaryPrimitives.ReadInt32LittleEndian(Data.AsSpan(at)) : 0;
            return ok;
        }

        /// <summary>A LEB128-style variable-length integer of up to 10 bytes.</summary>
        public bool VarInt(out long value)
        {
            value = 0;
            for (int shift = 0; shift < 70; shift += 7)
            {
                if (!Byte(out byte b)) return false;
                value |= (long)(b & 0x7f) << shift;
                if ((b & 0x80) == 0) return true;
            }
            return false;
        }

        /// <summary>A NUL-terminated UTF-16 string (skipped).</summary>
        public bool Utf16z()
        {
            while (Remaining >= 2)
            {
                bool nul = Data[Pos] == 0 && Data[Pos + 1] == 0;
                Pos += 2;
                if (nul) return true;
            }
            return false;
        }
    }
}
