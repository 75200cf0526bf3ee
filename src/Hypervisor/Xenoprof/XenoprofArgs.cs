using System.Buffers.Binary;
using System.Text;

namespace XenProf.Hypervisor.Xenoprof;

// Hypercall argument structures, byte-exact for the native x86_64 ABI and the 32-bit PV compat ABI
// (xen/include/public/xenoprof.h; compat offsets use 4-byte-aligned u64, as Xen's -m32 generated headers do).
// Each has Size(compat), Write(span, compat) and Read(span, compat); PrivcmdHypercalls passes these bytes to Xen.

/// <summary><c>struct xenoprof_init</c> (72 bytes both ABIs): <c>num_events</c> i32 @0, <c>is_primary</c> i32 @4, <c>cpu_type</c> char[64] @8.</summary>
public sealed record XenoprofInit(int NumEvents, bool IsPrimary, string CpuType)
{
    /// <summary>Size in bytes.</summary>
    public const int Size = 72;

    /// <summary>Encodes into <paramref name="b"/> (at least <see cref="Size"/> bytes).</summary>
    public void Write(Span<byte> b)
    {
        b[..Size].Clear();
        BinaryPrimitives.WriteInt32LittleEndian(b, NumEvents);
        BinaryPrimitives.WriteInt32LittleEndian(b[4..], IsPrimary ? 1 : 0);
        var n = Encoding.ASCII.GetBytes(CpuType.AsSpan(0, Math.Min(CpuType.Length, XenoprofAbi.CpuTypeSize - 1)), b[8..]);
        b[8 + n] = 0;
    }

    /// <summary>Decodes from <paramref name="b"/>; <c>cpu_type</c> ends at its NUL.</summary>
    public static XenoprofInit Read(ReadOnlySpan<byte> b)
    {
        var name = b.Slice(8, XenoprofAbi.CpuTypeSize);
        int nul = name.IndexOf((byte)0);
        return new XenoprofInit(BinaryPrimitives.ReadInt32LittleEndian(b), BinaryPrimitives.ReadInt32LittleEndian(b[4..]) != 0,
            Encoding.ASCII.GetString(nul < 0 ? name : name[..nul]));
    }
}

/// <summary>
/// <c>struct xenoprof_get_buffer</c> (24 bytes native, 20 compat): <c>max_samples</c> i32 @0 (in), <c>nbuf</c> i32 @4,
/// <c>bufsize</c> i32 @8, <c>buf_gmaddr</c> u64 @16 native / @12 compat (out).
/// </summary>
public sealed record XenoprofGetBuffer(int MaxSamples, int NBuf = 0, int BufSize = 0, ulong BufGmaddr = 0)
{
    /// <summary>Size in bytes.</summary>
    public static int Size(bool compat) => compat ? 20 : 24;
    /// <summary>Offset of <c>buf_gmaddr</c>.</summary>
    public static int GmaddrOffset(bool compat) => compat ? 12 : 16;

    /// <summary>Encodes into <paramref name="b"/>.</summary>
    public void Write(Span<byte> b, bool compat = false)
    {
        b[..Size(compat)].Clear();
        BinaryPrimitives.WriteInt32LittleEndian(b, MaxSamples);
        BinaryPrimitives.WriteInt32LittleEndian(b[4..], NBuf);
        BinaryPrimitives.WriteInt32LittleEndian(b[8..], BufSize);
        BinaryPrimitives.WriteUInt64LittleEndian(b[GmaddrOffset(compat)..], BufGmaddr);
    }

    /// <summary>Decodes from <paramref name="b"/>.</summary>
    public static XenoprofGetBuffer Read(ReadOnlySpan<byte> b, bool compat = false) => new(
        BinaryPrimitives.ReadInt32LittleEndian(b), BinaryPrimitives.ReadInt32LittleEndian(b[4..]),
        BinaryPrimitives.ReadInt32LittleEndian(b[8..]), BinaryPrimitives.ReadUInt64LittleEndian(b[GmaddrOffset(compat)..]));
}

/// <summary>
/// <c>struct xenoprof_passive</c> (24 bytes both ABIs): <c>domain_id</c> u16 @0, <c>max_samples</c> i32 @4, <c>nbuf</c> i32 @8,
/// <c>bufsize</c> i32 @12, <c>buf_gmaddr</c> u64 @16.
/// </summary>
public sealed record XenoprofPassive(ushort DomainId, int MaxSamples, int NBuf = 0, int BufSize = 0, ulong BufGmaddr = 0)
{
    /// <summary>Size in bytes.</summary>
    public const int Size = 24;

    /// <summary>Encodes into <paramref name="b"/>.</summary>
    public void Write(Span<byte> b)
    {
        b[..Size].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(b, DomainId);
        BinaryPrimitives.WriteInt32LittleEndian(b[4..], MaxSamples);
        BinaryPrimitives.WriteInt32LittleEndian(b[8..], NBuf);
        BinaryPrimitives.WriteInt32LittleEndian(b[12..], BufSize);
        BinaryPrimitives.WriteUInt64LittleEndian(b[16..], BufGmaddr);
    }

    /// <summary>Decodes from <paramref name="b"/>.</summary>
    public static XenoprofPassive Read(ReadOnlySpan<byte> b) => new(
        BinaryPrimitives.ReadUInt16LittleEndian(b), BinaryPrimitives.ReadInt32LittleEndian(b[4..]), BinaryPrimitives.ReadInt32LittleEndian(b[8..]),
        BinaryPrimitives.ReadInt32LittleEndian(b[12..]), BinaryPrimitives.ReadUInt64LittleEndian(b[16..]));
}

/// <summary>
/// <c>struct xenoprof_counter</c> (48 bytes native / 40 compat): <c>ind</c> u32 @0, <c>count</c> u64 @8|@4, <c>enabled</c> u32
/// @16|@12, <c>event</c> u32 @20|@16, <c>hypervisor</c> u32 @24|@20, <c>kernel</c> u32 @28|@24, <c>user</c> u32 @32|@28,
/// <c>unit_mask</c> u64 @40|@32. Xen never reads <c>hypervisor</c> (<c>xenoprof_arch_counter</c> in xen/arch/x86/oprofile/xenoprof.c).
/// </summary>
public sealed record XenoprofCounter(uint Ind, ulong Count, bool Enabled, uint Event, bool Hypervisor, bool Kernel, bool User, ulong UnitMask)
{
    /// <summary>Size in bytes.</summary>
    public static int Size(bool compat) => compat ? 40 : 48;

    /// <summary>Field offsets in order ind, count, enabled, event, hypervisor, kernel, user, unit_mask.</summary>
    public static ReadOnlySpan<int> Offsets(bool compat) => compat ? [0, 4, 12, 16, 20, 24, 28, 32] : [0, 8, 16, 20, 24, 28, 32, 40];

    /// <summary>Encodes into <paramref name="b"/>.</summary>
    public void Write(Span<byte> b, bool compat = false)
    {
        var o = Offsets(compat);
        b[..Size(compat)].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(b[o[0]..], Ind);
        BinaryPrimitives.WriteUInt64LittleEndian(b[o[1]..], Count);
        BinaryPrimitives.WriteUInt32LittleEndian(b[o[2]..], Enabled ? 1u : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(b[o[3]..], Event);
        BinaryPrimitives.WriteUInt32LittleEndian(b[o[4]..], Hypervisor ? 1u : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(b[o[5]..], Kernel ? 1u : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(b[o[6]..], User ? 1u : 0);
        BinaryPrimitives.WriteUInt64LittleEndian(b[o[7]..], UnitMask);
    }

    /// <summary>Decodes from <paramref name="b"/>.</summary>
    public static XenoprofCounter Read(ReadOnlySpan<byte> b, bool compat = false)
    {
        var o = Offsets(compat);
        return new XenoprofCounter(BinaryPrimitives.ReadUInt32LittleEndian(b[o[0]..]), BinaryPrimitives.ReadUInt64LittleEndian(b[o[1]..]),
            BinaryPrimitives.ReadUInt32LittleEndian(b[o[2]..]) != 0, BinaryPrimitives.ReadUInt32LittleEndian(b[o[3]..]),
            BinaryPrimitives.ReadUInt32LittleEndian(b[o[4]..]) != 0, BinaryPrimitives.ReadUInt32LittleEndian(b[o[5]..]) != 0,
            BinaryPrimitives.ReadUInt32LittleEndian(b[o[6]..]) != 0, BinaryPrimitives.ReadUInt64LittleEndian(b[o[7]..]));
    }
}
