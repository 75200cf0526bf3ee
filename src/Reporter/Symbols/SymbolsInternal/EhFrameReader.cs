using System.Buffers.Binary;

namespace XenProf.Reporter.Symbols.SymbolsInternal;

/// <summary>
/// Reads the code ranges <c>[pc_begin, pc_begin + pc_range)</c> of every FDE in an <c>.eh_frame</c> section.
/// Layout per the LSB Core Specification, "Exception Frames" (§10.6 in LSB 5.0): a sequence of CIEs and FDEs, each
/// <c>length (u32, 0xffffffff → u64 follows)</c>, then <c>CIE_id (u32, 0 for a CIE)</c> or <c>CIE_pointer</c>
/// (distance back from this field to the CIE). A CIE carries version, augmentation string ("zR", "zPLR"…), code and
/// data alignment, return register and, after 'z', the augmentation data: 'R' gives the FDE pointer encoding,
/// 'P' a personality (encoding byte + pointer), 'L' the LSDA encoding. FDE pc_begin uses that encoding; pc_range
/// uses only its value format (low nibble). Pointer encodings (DW_EH_PE_*) from the same chapter: low nibble
/// 0 absptr, 1 uleb128, 2 udata2, 3 udata4, 4 udata8, 9 sleb128, 0xa sdata2, 0xb sdata4, 0xc sdata8; high bits
/// 0x10 pcrel, 0x30 datarel, 0x80 indirect; 0xff omit. A length of 0 terminates the section.
/// Malformed entries end the walk (what was read stays): unwind data is a hint, never a reason to fail a report.
/// </summary>
internal static class EhFrameReader
{
    /// <summary>Appends every FDE range of <paramref name="data"/> (the section bytes, loaded at <paramref name="sectionAddress"/>).</summary>
    public static void ReadRanges(ReadOnlySpan<byte> data, ulong sectionAddress, bool is64, List<(ulong Start, ulong Size)> into)
    {
        var cieEncodings = new Dictionary<int, byte>();
        int pos = 0;
        while (pos + 4 <= data.Length)
        {
            int entryStart = pos;
            ulong length = BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]);
            pos += 4;
            if (length == 0) break;
            if (length == 0xffffffff)
            {
                if (pos + 8 > data.Length) break;
                length = BinaryPrimitives.ReadUInt64LittleEndian(data[pos..]);
                pos += 8;
            }
            if (length > (ulong)(data.Length - pos)) break;
            int idPos = pos;
            int end = pos + (int)length;
            if (pos + 4 > end) break;
            uint id = BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]);
            pos += 4;
            if (id == 0)
            {
                if (TryReadCieEncoding(data[..end], pos, is64, out var enc)) cieEncodings[entryStart] = enc;
            }
            else
            {
                int ciePos = idPos - (int)id;
                if (ciePos >= 0 && !cieEncodings.ContainsKey(ciePos) && ciePos < data.Length)
                {
                    // A CIE after its FDE (allowed, rare): parse it now.
                    if (TryCieAt(data, ciePos, is64, out var e)) cieEncodings[ciePos] = e;
                }
                if (cieEncodings.TryGetValue(ciePos, out var encoding))
                {
                    var span = data[..end];
                    if (TryReadEncoded(span, ref pos, encoding, sectionAddress, is64, out ulong begin)
                        && TryReadEncoded(span, ref pos, (byte)(encoding & 0x0f), sectionAddress, is64, out ulong range)
                        && range > 0 && begin != 0)
                        into.Add((begin, range));
                }
            }
            pos = end;
        }
    }

    private static bool TryCieAt(ReadOnlySpan<byte> data, int at, bool is64, out byte encoding)
    {
        encoding = 0;
        if (at + 8 > data.Length) return false;
        ulong length = BinaryPrimitives.ReadUInt32LittleEndian(data[at..]);
        int pos = at + 4;
        if (length == 0xffffffff) { if (pos + 8 > data.Length) return false; length = BinaryPrimitives.ReadUInt64LittleEndian(data[pos..]); pos += 8; }
        if (length > (ulong)(data.Length - pos) || length < 4) return false;
        int end = pos + (int)length;
        if (BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]) != 0) return false;
        return TryReadCieEncoding(data[..end], pos + 4, is64, out encoding);
    }

    /// <summary>Reads a CIE body (after CIE_id) up to its 'R' augmentation; default encoding absptr.</summary>
    private static bool TryReadCieEncoding(ReadOnlySpan<byte> d, int pos, bool is64, out byte encoding)
    {
        encoding = 0; // DW_EH_PE_absptr when there is no 'R'
        if (pos >= d.Length) return false;
        byte version = d[pos++];
        int nul = d[pos..].IndexOf((byte)0);
        if (nul < 0) return false;
        var aug = d.Slice(pos, nul);
        pos += nul + 1;
        if (aug.IndexOf("eh"u8) >= 0) pos += is64 ? 8 : 4;
        if (!TryUleb(d, ref pos, out _) || !TrySleb(d, ref pos, out _)) return false;
        if (version == 1) pos++; else if (!TryUleb(d, ref pos, out _)) return false;
        if (aug.Length == 0 || aug[0] != (byte)'z') return true;
        if (!TryUleb(d, ref pos, out _)) return false;
        for (int i = 1; i < aug.Length; i++)
        {
            if (pos >= d.Length) return false;
            switch ((char)aug[i])
            {
                case 'R': encoding = d[pos++]; return true;
                case 'L': pos++; break;
                case 'P':
                    byte pe = d[pos++];
                    if (!TryReadEncoded(d, ref pos, (byte)(pe & 0x7f), 0, is64, out _)) return false;
                    break;
                case 'S': case 'B': break;
                default: return true; // unknown augmentation: the rest cannot be interpreted
            }
        }
        return true;
    }

    /// <summary>Reads a DW_EH_PE-encoded pointer at <paramref name="pos"/> (an offset in the section at <paramref name="sectionAddress"/>).</summary>
    internal static bool TryReadEncoded(ReadOnlySpan<byte> d, ref int pos, byte encoding, ulong sectionAddress, bool is64, out ulong value)
    {
        value = 0;
        if (encoding == 0xff) return false;
        int at = pos;
        long v;
        switch (encoding & 0x0f)
        {
            case 0x0: if (is64) { if (pos + 8 > d.Length) return false; v = (long)BinaryPrimitives.ReadUInt64LittleEndian(d[pos..]); pos += 8; }
                      else { if (pos + 4 > d.Length) return false; v = BinaryPrimitives.ReadUInt32LittleEndian(d[pos..]); pos += 4; }
                      break;
            case 0x1: if (!TryUleb(d, ref pos, out var u)) return false; v = (long)u; break;
            case 0x2: if (pos + 2 > d.Length) return false; v = BinaryPrimitives.ReadUInt16LittleEndian(d[pos..]); pos += 2; break;
            case 0x3: if (pos + 4 > d.Length) return false; v = BinaryPrimitives.ReadUInt32LittleEndian(d[pos..]); pos += 4; break;
            case 0x4: if (pos + 8 > d.Length) return false; v = (long)BinaryPrimitives.ReadUInt64LittleEndian(d[pos..]); pos += 8; break;
            case 0x9: if (!TrySleb(d, ref pos, out v)) return false; break;
            case 0xa: if (pos + 2 > d.Length) return false; v = BinaryPrimitives.ReadInt16LittleEndian(d[pos..]); pos += 2; break;
            case 0xb: if (pos + 4 > d.Length) return false; v = BinaryPrimitives.ReadInt32LittleEndian(d[pos..]); pos += 4; break;
            case 0xc: if (pos + 8 > d.Length) return false; v = BinaryPrimitives.ReadInt64LittleEndian(d[pos..]); pos += 8; break;
            default: return false;
        }
        switch (encoding & 0x70)
        {
            case 0x00: break;
            case 0x10: v += (long)(sectionAddress + (ulong)at); break; // pcrel: relative to the field's own address
            default: return false; // textrel/datarel/funcrel do not occur in .eh_frame FDEs on x86
        }
        if ((encoding & 0x80) != 0) return false; // indirect: would need the pointed-to data
        value = is64 ? (ulong)v : (uint)v;
        return true;
    }

    private static bool TryUleb(ReadOnlySpan<byte> d, ref int pos, out ulong value)
    {
        value = 0;
        for (int shift = 0; pos < d.Length && shift < 64; shift += 7)
        {
            byte b = d[pos++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return true;
        }
        return false;
    }

    private static bool TrySleb(ReadOnlySpan<byte> d, ref int pos, out long value)
    {
        value = 0;
        int shift = 0;
        while (pos < d.Length && shift < 64)
        {
            byte b = d[pos++];
            value |= (long)(b & 0x7f) << shift;
            shift += 7;
            if ((b & 0x80) == 0)
            {
                if (shift < 64 && (b & 0x40) != 0) value |= -1L << shift;
                return true;
            }
        }
        return false;
    }
}
