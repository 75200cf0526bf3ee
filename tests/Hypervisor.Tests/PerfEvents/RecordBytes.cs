using System.Buffers.Binary;
using System.Text;
using XenProf.Hypervisor.PerfEvents.Records;

namespace XenProf.Hypervisor.Tests.PerfEvents;

/// <summary>Builds perf records byte by byte, little-endian, as the kernel lays them out (<c>enum perf_event_type</c> in include/uapi/linux/perf_event.h).</summary>
internal sealed class RecordBytes
{
    private readonly List<byte> _b = new();
    private readonly PerfRecordType _type;
    private readonly ushort _misc;

    public RecordBytes(PerfRecordType type, ushort misc = 0) { _type = type; _misc = misc; }

    public RecordBytes U8(byte v) { _b.Add(v); return this; }
    public RecordBytes U16(ushort v) { Span<byte> s = stackalloc byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(s, v); _b.AddRange(s.ToArray()); return this; }
    public RecordBytes U32(uint v) { Span<byte> s = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(s, v); _b.AddRange(s.ToArray()); return this; }
    public RecordBytes U64(ulong v) { Span<byte> s = stackalloc byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(s, v); _b.AddRange(s.ToArray()); return this; }
    public RecordBytes Bytes(params byte[] v) { _b.AddRange(v); return this; }
    public RecordBytes Zeros(int n) { _b.AddRange(new byte[n]); return this; }

    /// <summary>A NUL-terminated string zero-padded to a multiple of 8.</summary>
    public RecordBytes Str(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        _b.AddRange(bytes);
        int padded = (bytes.Length + 1 + 7) / 8 * 8;
        _b.AddRange(new byte[padded - bytes.Length]);
        return this;
    }

    /// <summary>A trailer with TID, TIME, CPU, IDENTIFIER (the sampler's layout).</summary>
    public RecordBytes Trailer(uint pid, uint tid, ulong time, uint cpu, ulong id) =>
        U32(pid).U32(tid).U64(time).U32(cpu).U32(0).U64(id);

    /// <summary>The record with its header; <paramref name="declaredSize"/> overrides header.size.</summary>
    public byte[] Build(int? declaredSize = null)
    {
        var r = new byte[8 + _b.Count];
        BinaryPrimitives.WriteUInt32LittleEndian(r, (uint)_type);
        BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(4), _misc);
        BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(6), (ushort)(declaredSize ?? r.Length));
        _b.CopyTo(r, 8);
        return r;
    }
}
