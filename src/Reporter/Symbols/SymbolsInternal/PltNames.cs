using System.Buffers.Binary;
using Iced.Intel;

namespace XenProf.Reporter.Symbols.SymbolsInternal;

/// <summary>
/// Names PLT entries <c>name@plt</c> the way objdump does, without assuming a PLT layout: every instruction of
/// <c>.plt</c>, <c>.plt.sec</c> and <c>.plt.got</c> is decoded, and an indirect <c>jmp *GOT(%rip)</c> names the
/// entry holding it after the symbol whose relocation targets that GOT slot (<c>.rela.plt</c> JUMP_SLOT,
/// <c>.rela.dyn</c> GLOB_DAT for <c>.plt.got</c>; IRELATIVE slots are named <c>*ABS*+0xADDEND@plt</c>, as objdump
/// prints them). An entry starts at the section start plus a multiple of <c>sh_entsize</c> (16 when unset).
/// Relocation layout: <c>Elf64_Rela</c> {r_offset, r_info = sym &lt;&lt; 32 | type, r_addend} (gABI); x86-64 only.
/// PLT0 (the resolver trampoline) has no relocation and gets no entry.
/// </summary>
internal static class PltNames
{
    private const uint SHT_RELA = 4;
    private const uint R_X86_64_GLOB_DAT = 6, R_X86_64_JUMP_SLOT = 7, R_X86_64_IRELATIVE = 37;

    /// <summary>Appends (start, size, name) for every named PLT entry of <paramref name="file"/>.</summary>
    public static void Read(ElfObjectFile file, List<(ulong Start, ulong Size, string Name)> into)
    {
        if (!file.Is64Bit || file.Machine != 62) return;
        var got = GotSlotNames(file);
        if (got.Count == 0) return;
        foreach (var sec in file.Sections)
        {
            if (sec.Name is not (".plt" or ".plt.sec" or ".plt.got") || !sec.IsExecutable) continue;
            var bytes = file.SectionBytes(sec);
            if (bytes.IsEmpty) continue;
            ulong entSize = sec.EntrySize is >= 8 and <= 64 ? sec.EntrySize : 16;
            var decoder = Decoder.Create(64, new ByteArrayCodeReader(bytes.ToArray()), sec.Address, DecoderOptions.None);
            ulong end = sec.Address + (ulong)bytes.Length, lastEntry = ulong.MaxValue;
            while (decoder.IP < end)
            {
                decoder.Decode(out var ins);
                if (ins.IsInvalid) continue;
                if (ins.FlowControl != FlowControl.IndirectBranch || !ins.IsIPRelativeMemoryOperand) continue;
                ulong entry = sec.Address + (ins.IP - sec.Address) / entSize * entSize;
                if (entry == lastEntry || !got.TryGetValue(ins.IPRelativeMemoryAddress, out var name)) continue;
                lastEntry = entry;
                into.Add((entry, entSize, name + "@plt"));
            }
        }
    }

    private static Dictionary<ulong, string> GotSlotNames(ElfObjectFile file)
    {
        var map = new Dictionary<ulong, string>();
        var sections = file.Sections;
        foreach (var rela in sections)
        {
            if (rela.Type != SHT_RELA || rela.Link >= sections.Count) continue;
            var symtab = sections[(int)rela.Link];
            if (symtab.Link >= sections.Count) continue;
            var syms = file.SectionBytes(symtab);
            var strs = file.SectionBytes(sections[(int)symtab.Link]);
            var data = file.SectionBytes(rela);
            for (int at = 0; at + 24 <= data.Length; at += 24)
            {
                ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(data[at..]);
                ulong info = BinaryPrimitives.ReadUInt64LittleEndian(data[(at + 8)..]);
                long addend = BinaryPrimitives.ReadInt64LittleEndian(data[(at + 16)..]);
                uint type = (uint)info, sym = (uint)(info >> 32);
                if (type == R_X86_64_IRELATIVE) { map.TryAdd(offset, $"*ABS*+0x{addend:x}"); continue; }
                if (type is not (R_X86_64_JUMP_SLOT or R_X86_64_GLOB_DAT)) continue;
                var name = SymbolName(syms, strs, sym);
                if (name != null) map.TryAdd(offset, name);
            }
        }
        return map;
    }

    private static string? SymbolName(ReadOnlySpan<byte> syms, ReadOnlySpan<byte> strs, uint index)
    {
        long at = (long)index * 24;
        if (index == 0 || at + 24 > syms.Length) return null;
        uint nameOff = BinaryPrimitives.ReadUInt32LittleEndian(syms[(int)at..]);
        if (nameOff == 0 || nameOff >= strs.Length) return null;
        var s = strs[(int)nameOff..];
        int nul = s.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(nul < 0 ? s : s[..nul]);
    }
}
