using System.Buffers.Binary;

namespace XenProf.Reporter.Symbols.SymbolsInternal;

/// <summary>
/// The <c>name@plt</c> symbols perf 6.1 synthesizes for a runtime image (<c>tools/perf/util/symbol-elf.c</c>
/// <c>dso__synthesize_plt_symbols</c>), which are not where the PLT entries really are in every image: perf does not
/// decode the PLT but assumes the n-th relocation of <c>.rela.plt</c> (else <c>.rel.plt</c>) belongs to the n-th
/// entry of <c>.plt</c> after its header. Its rule:
/// <list type="bullet">
/// <item>Only with a <c>.dynsym</c> (<c>SHT_DYNSYM</c>), a <c>.rela.plt</c> or <c>.rel.plt</c> whose <c>sh_link</c>
/// is that <c>.dynsym</c>, a <c>.plt</c>, and a non-empty <c>.dynsym</c> string table; <c>.plt.sec</c> and
/// <c>.plt.got</c> get nothing.</item>
/// <item>Header and entry sizes: ARM 20 and 12, AArch64 32 and 16, SPARC 48 and 12, SPARC V9 128 and 32; any other
/// machine (x86 included) both <c>.plt</c>'s <c>sh_entsize</c>.</item>
/// <item>Relocation i (in table order, whatever its type) names the entry at <c>.plt</c> + header + i × entry size
/// after its <c>.dynsym</c> symbol (<c>ELF64_R_SYM</c>, or <c>ELF32_R_SYM</c>): <c>name@plt</c>. A relocation with
/// symbol 0, such as <c>R_X86_64_IRELATIVE</c>, reads the null symbol, whose name is empty: <c>@plt</c>.</item>
/// </list>
/// So in an image whose IRELATIVE relocations come after its JUMP_SLOT ones but use lower GOT slots (libc.so.6 on
/// Debian 12: 13 JUMP_SLOT, then 40 IRELATIVE), perf's first names land on the IRELATIVE entries and the rest are
/// <c>@plt</c>. Entries are returned in relocation order, the order perf inserts them; names are raw (perf demangles
/// the part before <c>@plt</c>, as the symbolizer does when showing them). Addresses are SVMAs (perf counts from
/// <c>.plt</c>'s file offset, the same place).
/// </summary>
internal static class PerfPltSymbols
{
    private const uint SHT_RELA = 4, SHT_REL = 9, SHT_DYNSYM = 11;
    private const ushort EM_SPARC = 2, EM_ARM = 40, EM_SPARCV9 = 43, EM_AARCH64 = 183;

    /// <summary>Appends (start, size, raw name + "@plt") for each synthesized entry of <paramref name="file"/>.</summary>
    public static void Read(ElfObjectFile file, List<(ulong Start, ulong Size, string Name)> into)
    {
        var sections = file.Sections;
        int dynsymIndex = -1;
        for (int i = 0; i < sections.Count; i++)
            if (sections[i].Name == ".dynsym") { dynsymIndex = i; break; }
        if (dynsymIndex < 0 || sections[dynsymIndex].Type != SHT_DYNSYM) return;
        var dynsym = sections[dynsymIndex];
        var rel = file.FindSection(".rela.plt") ?? file.FindSection(".rel.plt");
        if (rel is not { } r || r.Link != dynsymIndex || r.EntrySize == 0) return;
        if (file.FindSection(".plt") is not { } plt) return;
        if (dynsym.Link >= sections.Count || sections[(int)dynsym.Link].Size == 0) return;
        var syms = file.SectionBytes(dynsym);
        var strs = file.SectionBytes(sections[(int)dynsym.Link]);
        var data = file.SectionBytes(r);
        ulong symSize = dynsym.EntrySize != 0 ? dynsym.EntrySize : file.Is64Bit ? 24UL : 16UL;

        var (header, entry) = file.Machine switch
        {
            EM_ARM => (20UL, 12UL),
            EM_AARCH64 => (32UL, 16UL),
            EM_SPARC => (48UL, 12UL),
            EM_SPARCV9 => (128UL, 32UL),
            _ => (plt.EntrySize, plt.EntrySize),
        };
        bool rela = r.Type == SHT_RELA;
        if (!rela && r.Type != SHT_REL) return;
        ulong count = r.Size / r.EntrySize, at = plt.Address + header;
        int stride = (int)r.EntrySize;
        for (ulong k = 0; k < count; k++, at += entry)
        {
            long off = (long)k * stride;
            if (off + (file.Is64Bit ? 16 : 8) > data.Length) break;
            ulong symIndex = file.Is64Bit
                ? BinaryPrimitives.ReadUInt64LittleEndian(data[(int)(off + 8)..]) >> 32
                : BinaryPrimitives.ReadUInt32LittleEndian(data[(int)(off + 4)..]) >> 8;
            into.Add((at, entry, Name(syms, strs, symIndex, symSize) + "@plt"));
        }
    }

    private static string Name(ReadOnlySpan<byte> syms, ReadOnlySpan<byte> strs, ulong index, ulong symSize)
    {
        ulong at = index * symSize;
        if (at + 4 > (ulong)syms.Length) return "";
        uint nameOff = BinaryPrimitives.ReadUInt32LittleEndian(syms[(int)at..]);
        if (nameOff >= strs.Length) return "";
        var s = strs[(int)nameOff..];
        int nul = s.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(nul < 0 ? s : s[..nul]);
    }
}
