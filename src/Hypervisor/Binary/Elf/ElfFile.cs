using System.Buffers.Binary;

namespace XenProf.Hypervisor.Binary.Elf;

/// <summary>A <c>PT_LOAD</c> program header: file bytes <c>[FileOffset, FileOffset+FileSize)</c> are loaded at SVMA <c>[Vaddr, Vaddr+MemSize)</c>.</summary>
/// <param name="FileOffset"><c>p_offset</c>, bytes from the start of the file.</param>
/// <param name="FileSize"><c>p_filesz</c>, bytes.</param>
/// <param name="Vaddr"><c>p_vaddr</c>, SVMA.</param>
/// <param name="MemSize"><c>p_memsz</c>, bytes.</param>
/// <param name="Flags"><c>p_flags</c> (PF_X=1, PF_W=2, PF_R=4).</param>
public readonly record struct LoadSegment(ulong FileOffset, ulong FileSize, ulong Vaddr, ulong MemSize, uint Flags);

/// <summary>A section header (<c>Elf64_Shdr</c>) with its name resolved; the raw view function recovery and
/// disassembly need (<c>.eh_frame</c>, <c>.plt</c>, <c>.rela.plt</c>, <c>.text</c>…).</summary>
/// <param name="Name">Section name from the section-name string table ("" when absent).</param>
/// <param name="Type"><c>sh_type</c>: 1 PROGBITS, 2 SYMTAB, 3 STRTAB, 4 RELA, 8 NOBITS, 11 DYNSYM…</param>
/// <param name="Flags"><c>sh_flags</c> (SHF_ALLOC=2, SHF_EXECINSTR=4).</param>
/// <param name="Address"><c>sh_addr</c>, an SVMA (0 for sections not loaded).</param>
/// <param name="Offset"><c>sh_offset</c>, bytes from the start of the file.</param>
/// <param name="Size"><c>sh_size</c>, bytes.</param>
/// <param name="Link"><c>sh_link</c>: for symbol tables and relocations, the index of the linked section.</param>
/// <param name="Info"><c>sh_info</c>.</param>
/// <param name="EntrySize"><c>sh_entsize</c>.</param>
public readonly record struct ElfSection(string Name, uint Type, ulong Flags, ulong Address, ulong Offset, ulong Size, uint Link, uint Info, ulong EntrySize)
{
    /// <summary>Whether the section holds executable code (<c>SHF_EXECINSTR</c>).</summary>
    public bool IsExecutable => (Flags & 4) != 0;

    /// <summary>Whether <paramref name="address"/> lies in <c>[Address, Address + Size)</c>.</summary>
    public bool Contains(ulong address) => address >= Address && address - Address < Size;
}

/// <summary>
/// One symbol as read from <c>.symtab</c> or <c>.dynsym</c> (an <c>Elf64_Sym</c>/<c>Elf32_Sym</c> that perf 6.1 would keep:
/// a function, a data object or a label, with a name, in an allocated section), before sorting and alias merging.
/// </summary>
/// <param name="Start"><c>st_value</c>: an SVMA.</param>
/// <param name="Size"><c>st_size</c>, bytes (0 when the assembler gave none).</param>
/// <param name="NameOffset"><c>st_name</c>: offset of the NUL-terminated name inside the table's string table.</param>
/// <param name="Bind"><c>ELF64_ST_BIND(st_info)</c>: 0 LOCAL, 1 GLOBAL, 2 WEAK, 10 GNU_UNIQUE.</param>
/// <param name="IsFunction">Whether it is a function (<c>STT_FUNC</c>, <c>STT_GNU_IFUNC</c>), as opposed to a data object or a label.</param>
public readonly record struct ElfSymbolEntry(ulong Start, ulong Size, uint NameOffset, byte Bind, bool IsFunction);

/// <summary>A string table (<c>SHT_STRTAB</c>) inside a mapped ELF file: bytes <c>[Offset, Offset+Size)</c> of <paramref name="Bytes"/>.</summary>
/// <param name="Bytes">The mapped file.</param>
/// <param name="Offset">File offset of the table, bytes.</param>
/// <param name="Size">Table size, bytes.</param>
public readonly record struct ElfStringTable(MappedBytes Bytes, long Offset, long Size)
{
    /// <summary>The NUL-terminated UTF-8 string at <paramref name="nameOffset"/> inside the table ("" past its end).</summary>
    public string NameAt(uint nameOffset) => Bytes == null || nameOffset >= Size ? "" : Bytes.CString(Offset + nameOffset, Offset + Size);
}

/// <summary>
/// The one ELF reader of XenProf, below both the daemon (build-ids of mapped images) and the reporter (symbols,
/// function recovery, disassembly): an ELF image read through a memory map (no copy of the file) with its header,
/// program headers, section headers, the GNU build-id (<c>NT_GNU_BUILD_ID</c> = 3 note, owner "GNU", from an
/// <c>SHT_NOTE</c> section or a <c>PT_NOTE</c> segment), the <c>.gnu_debuglink</c> name and CRC, and the raw entries of
/// <c>.symtab</c> and <c>.dynsym</c>. Layouts per the System V gABI (<c>Elf64_Ehdr</c>, <c>Elf64_Phdr</c>,
/// <c>Elf64_Shdr</c>, <c>Elf64_Sym</c>, <c>Elf64_Nhdr</c> in glibc's <c>elf.h</c>); ELF64 and ELF32, little-endian only.
/// Symbol entries are filtered as perf 6.1 filters them (<c>tools/perf/util/symbol-elf.c</c>
/// <c>elf_sym__is_function</c>, <c>elf_sym__is_object</c>, <c>elf_sym__is_label</c>). The instance keeps the file
/// mapped until <see cref="Dispose"/>.
/// </summary>
public sealed class ElfFile : IDisposable
{
    private const uint PT_LOAD = 1, PT_NOTE = 4;
    private const uint SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_NOTE = 7, SHT_NOBITS = 8, SHT_DYNSYM = 11;
    private const uint NT_GNU_BUILD_ID = 3;

    private readonly LoadSegment[] _loads;
    private readonly ElfSection[] _sections;

    private ElfFile(string path, MappedBytes bytes, bool headersOnly)
    {
        Path = path;
        Bytes = bytes;
        try
        {
            var p = new Parser(path, bytes, headersOnly);
            p.Run();
            Is64Bit = p.Is64;
            ElfType = p.Type;
            Machine = p.Machine;
            _loads = p.Loads.ToArray();
            _sections = p.Sections.ToArray();
            BuildId = p.BuildId;
            DebugLink = p.DebugLink;
            DebugLinkCrc = p.DebugLinkCrc;
            Symtab = p.Symtab;
            Dynsym = p.Dynsym;
            SymtabStrings = p.SymtabStr;
            DynsymStrings = p.DynsymStr;
            HasSymtab = p.HasSymtabSection;
        }
        catch
        {
            bytes.Dispose();
            throw;
        }
    }

    /// <summary>Opens and parses an ELF file through a read-only memory map, symbol tables included.</summary>
    /// <param name="path">File to open.</param>
    /// <exception cref="MalformedDataException">The bytes are not a well-formed little-endian ELF file; the exception
    /// names the path, the absolute offset and the structure (e.g. <c>Elf64_Sym[412] in .symtab</c>).</exception>
    /// <exception cref="IOException">The file cannot be opened (e.g. <see cref="FileNotFoundException"/>).</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to read the file.</exception>
    public static ElfFile Open(string path) => new(path, MappedBytes.Map(path), headersOnly: false);

    /// <summary>Parses an ELF image held in memory (tests, extracted vdso images). The array is pinned, not copied.</summary>
    /// <param name="data">The whole file.</param>
    /// <param name="path">Name used in messages and as <see cref="Path"/>.</param>
    /// <exception cref="MalformedDataException">As for <see cref="Open(string)"/>.</exception>
    public static ElfFile FromBytes(byte[] data, string path) => new(path, MappedBytes.FromArray(data), headersOnly: false);

    /// <summary>
    /// The GNU build-id of <paramref name="path"/> as lowercase hex, reading headers and notes only (no symbol table),
    /// or null when the file is missing, unreadable, not ELF, malformed or has no build-id note. Never throws: the
    /// daemon asks this of every image a process maps.
    /// </summary>
    public static string? TryReadBuildId(string path)
    {
        try
        {
            using var f = new ElfFile(path, MappedBytes.Map(path), headersOnly: true);
            return f.BuildId;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or MalformedDataException or ArgumentException) { return null; }
    }

    /// <summary>The file's path (or the name given to <see cref="FromBytes"/>).</summary>
    public string Path { get; }

    /// <summary>The mapped bytes of the whole file, valid until <see cref="Dispose"/>.</summary>
    public MappedBytes Bytes { get; }

    /// <summary>The GNU build-id as lowercase hex, or null.</summary>
    public string? BuildId { get; }

    /// <summary>File name stored in <c>.gnu_debuglink</c> (no directory), or null.</summary>
    public string? DebugLink { get; }

    /// <summary>CRC-32 stored after the <c>.gnu_debuglink</c> name, or null.</summary>
    public uint? DebugLinkCrc { get; }

    /// <summary>True for ELFCLASS64, false for ELFCLASS32.</summary>
    public bool Is64Bit { get; }

    /// <summary><c>e_type</c>: 1 ET_REL, 2 ET_EXEC, 3 ET_DYN (PIE and shared libraries), 4 ET_CORE.</summary>
    public ushort ElfType { get; }

    /// <summary><c>e_machine</c>: 62 EM_X86_64, 3 EM_386, 183 EM_AARCH64…</summary>
    public ushort Machine { get; }

    /// <summary>The <c>PT_LOAD</c> program headers in file order.</summary>
    public IReadOnlyList<LoadSegment> LoadSegments => _loads;

    /// <summary>The section headers in index order (empty when the file has no section header table).</summary>
    public IReadOnlyList<ElfSection> Sections => _sections;

    /// <summary>Whether the file has a <c>.symtab</c> section (a stripped file has only <c>.dynsym</c>).</summary>
    public bool HasSymtab { get; }

    /// <summary>The kept entries of <c>.symtab</c>, in file order (empty when absent).</summary>
    public ElfSymbolEntry[] Symtab { get; }

    /// <summary>The kept entries of <c>.dynsym</c>, in file order (empty when absent).</summary>
    public ElfSymbolEntry[] Dynsym { get; }

    /// <summary>The string table of <see cref="Symtab"/>.</summary>
    public ElfStringTable SymtabStrings { get; }

    /// <summary>The string table of <see cref="Dynsym"/>.</summary>
    public ElfStringTable DynsymStrings { get; }

    /// <summary>The first section named <paramref name="name"/>, or null.</summary>
    public ElfSection? FindSection(string name)
    {
        foreach (var s in _sections) if (s.Name == name) return s;
        return null;
    }

    /// <summary>The file bytes of <paramref name="section"/>, or an empty span for <c>SHT_NOBITS</c> or a section whose
    /// data lies outside the file. The span is valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> SectionBytes(ElfSection section)
    {
        if (section.Type == SHT_NOBITS || section.Size > int.MaxValue || !Bytes.InRange(section.Offset, section.Size)) return [];
        return Bytes.Span((long)section.Offset, (int)section.Size);
    }

    /// <summary>
    /// The file bytes loaded at SVMAs <c>[start, start + length)</c>, through the <c>PT_LOAD</c> segment containing
    /// <paramref name="start"/>; truncated at the end of the segment's file data. Empty when no segment covers it.
    /// The span is valid until <see cref="Dispose"/>.
    /// </summary>
    public ReadOnlySpan<byte> BytesAt(ulong start, int length)
    {
        foreach (var s in _loads)
        {
            if (start < s.Vaddr || start - s.Vaddr >= s.FileSize) continue;
            ulong off = start - s.Vaddr + s.FileOffset;
            ulong n = Math.Min((ulong)Math.Max(length, 0), s.FileSize - (start - s.Vaddr));
            if (!Bytes.InRange(off, n)) return [];
            return Bytes.Span((long)off, (int)n);
        }
        return [];
    }

    /// <summary>Releases the memory map.</summary>
    public void Dispose() => Bytes.Dispose();

    /// <summary>Reads the headers; every bounds failure becomes a <see cref="MalformedDataException"/>.</summary>
    private sealed class Parser(string path, MappedBytes bytes, bool headersOnly)
    {
        private readonly string _path = path;
        private readonly MappedBytes _b = bytes;
        public bool Is64;
        public ushort Type, Machine;
        public readonly List<LoadSegment> Loads = [];
        public string? BuildId, DebugLink;
        public uint? DebugLinkCrc;
        public ElfSymbolEntry[] Symtab = [], Dynsym = [];
        public ElfStringTable SymtabStr, DynsymStr;
        public bool HasSymtabSection;
        public readonly List<ElfSection> Sections = [];

        private record struct Section(string Name, uint Type, ulong Flags, ulong Addr, ulong Offset, ulong Size, uint Link, ulong EntSize, long HeaderOffset, uint Info = 0);

        private string Ehdr => Is64 ? "Elf64_Ehdr" : "Elf32_Ehdr";
        private string Shdr => Is64 ? "Elf64_Shdr" : "Elf32_Shdr";

        public void Run()
        {
            var id = new SpanCursor(_b.Span(0, (int)Math.Min(_b.Length, 64)), _path, 0, "e_ident");
            var magic = id.ReadBytes(4);
            if (magic[0] != 0x7f || magic[1] != (byte)'E' || magic[2] != (byte)'L' || magic[3] != (byte)'F')
                throw new MalformedDataException(_path, 0, "e_ident", $"not an ELF file: magic {Convert.ToHexString(magic)}, expected 7F454C46");
            byte cls = id.ReadByte(), data = id.ReadByte();
            if (cls is not (1 or 2)) throw new MalformedDataException(_path, 4, "e_ident", $"EI_CLASS {cls}, expected 1 (ELFCLASS32) or 2 (ELFCLASS64)");
            if (data != 1) throw new MalformedDataException(_path, 5, "e_ident", $"EI_DATA {data}: only little-endian (1, ELFDATA2LSB) is supported");
            Is64 = cls == 2;

            var h = new SpanCursor(_b.Span(0, (int)Math.Min(_b.Length, 64)), _path, 0, Ehdr);
            h.Skip(16);
            Type = h.ReadUInt16();
            Machine = h.ReadUInt16();
            h.ReadUInt32(); // e_version
            ulong phoff, shoff;
            if (Is64) { h.ReadUInt64(); phoff = h.ReadUInt64(); shoff = h.ReadUInt64(); }
            else { h.ReadUInt32(); phoff = h.ReadUInt32(); shoff = h.ReadUInt32(); }
            h.ReadUInt32(); // e_flags
            h.ReadUInt16(); // e_ehsize
            ushort phentsize = h.ReadUInt16(), phnum = h.ReadUInt16(), shentsize = h.ReadUInt16(), shnum16 = h.ReadUInt16(), shstrndx16 = h.ReadUInt16();

            ReadProgramHeaders(phoff, phentsize, phnum);
            var sections = ReadSectionHeaders(shoff, shentsize, shnum16, shstrndx16);
            foreach (var s in sections) Sections.Add(new ElfSection(s.Name, s.Type, s.Flags, s.Addr, s.Offset, s.Size, s.Link, s.Info, s.EntSize));

            foreach (var s in sections)
            {
                if (s.Type == SHT_NOTE && BuildId == null) BuildId = FindBuildId(s.Offset, s.Size, $"{Shdr} {s.Name} note");
                else if (s.Name == ".gnu_debuglink" && s.Type != SHT_NOBITS) ReadDebugLink(s);
            }
            if (BuildId == null)
            {
                // Fall back to PT_NOTE segments (sections may be stripped from the header table).
                foreach (var n in _notes) { BuildId = FindBuildId(n.Offset, n.Size, "PT_NOTE"); if (BuildId != null) break; }
            }
            for (int i = 0; i < sections.Count; i++)
            {
                var s = sections[i];
                if (s.Type is not (SHT_SYMTAB or SHT_DYNSYM)) continue;
                if (headersOnly) { if (s.Type == SHT_SYMTAB) HasSymtabSection = true; continue; }
                if (s.Type == SHT_SYMTAB) HasSymtabSection = true;
                var syms = ReadSymbols(sections, i, out var str);
                if (s.Type == SHT_SYMTAB) { Symtab = syms; SymtabStr = str; }
                else { Dynsym = syms; DynsymStr = str; }
            }
        }

        private readonly List<(ulong Offset, ulong Size)> _notes = [];

        private void ReadProgramHeaders(ulong phoff, ushort entsize, ushort num)
        {
            if (num == 0) return;
            string st = Is64 ? "Elf64_Phdr" : "Elf32_Phdr";
            int need = Is64 ? 56 : 32;
            if (entsize < need) throw new MalformedDataException(_path, Is64 ? 54 : 42, Ehdr, $"e_phentsize {entsize}, expected at least {need}");
            ulong total = (ulong)entsize * num;
            if (!_b.InRange(phoff, total)) throw new MalformedDataException(_path, (long)Math.Min(phoff, (ulong)long.MaxValue), $"{st} table", $"{num} entries of {entsize} bytes at 0x{phoff:x} exceed the file size 0x{_b.Length:x}");
            for (int i = 0; i < num; i++)
            {
                long at = (long)phoff + (long)i * entsize;
                var c = new SpanCursor(_b.Span(at, entsize), _path, at, $"{st}[{i}]");
                uint type = c.ReadUInt32();
                ulong off, vaddr, filesz, memsz; uint flags;
                if (Is64) { flags = c.ReadUInt32(); off = c.ReadUInt64(); vaddr = c.ReadUInt64(); c.ReadUInt64(); filesz = c.ReadUInt64(); memsz = c.ReadUInt64(); }
                else { off = c.ReadUInt32(); vaddr = c.ReadUInt32(); c.ReadUInt32(); filesz = c.ReadUInt32(); memsz = c.ReadUInt32(); flags = c.ReadUInt32(); }
                if (type == PT_LOAD) Loads.Add(new LoadSegment(off, filesz, vaddr, memsz, flags));
                else if (type == PT_NOTE && _b.InRange(off, filesz)) _notes.Add((off, filesz));
            }
        }

        private List<Section> ReadSectionHeaders(ulong shoff, ushort entsize, ushort shnum16, ushort shstrndx16)
        {
            var list = new List<Section>();
            if (shoff == 0) return list;
            int need = Is64 ? 64 : 40;
            if (entsize < need) throw new MalformedDataException(_path, Is64 ? 58 : 46, Ehdr, $"e_shentsize {entsize}, expected at least {need}");
            if (!_b.InRange(shoff, entsize)) throw new MalformedDataException(_path, (long)Math.Min(shoff, (ulong)long.MaxValue), $"{Shdr} table", $"e_shoff 0x{shoff:x} is beyond the file size 0x{_b.Length:x}");
            // Extended numbering (gABI): e_shnum 0 → count in sh_size of section 0; e_shstrndx SHN_XINDEX → in its sh_link.
            var s0 = ReadShdr(shoff, entsize, 0);
            ulong num = shnum16 != 0 ? shnum16 : s0.Size;
            uint strndx = shstrndx16 == 0xffff ? s0.Link : shstrndx16;
            if (num > 1_000_000 || !_b.InRange(shoff, num * entsize))
                throw new MalformedDataException(_path, (long)shoff, $"{Shdr} table", $"{num} entries of {entsize} bytes at 0x{shoff:x} exceed the file size 0x{_b.Length:x}");
            var raw = new Section[num];
            for (int i = 0; i < (int)num; i++) raw[i] = ReadShdr(shoff, entsize, i);
            Section? strtab = strndx < num ? raw[strndx] : null;
            if (strtab is { } t && t.Type != SHT_NOBITS && !_b.InRange(t.Offset, t.Size))
                throw new MalformedDataException(_path, (long)(shoff + strndx * (ulong)entsize), $"{Shdr}[{strndx}] (section names)", $"data 0x{t.Offset:x}+0x{t.Size:x} exceeds the file size 0x{_b.Length:x}");
            for (int i = 0; i < (int)num; i++)
            {
                var s = raw[i];
                string name = strtab is { } st && st.Type != SHT_NOBITS && s.Name.Length > 0 && uint.TryParse(s.Name, out var no) && no < st.Size
                    ? _b.CString((long)(st.Offset + no), (long)(st.Offset + st.Size)) : "";
                list.Add(s with { Name = name });
            }
            return list;
        }

        private Section ReadShdr(ulong shoff, ushort entsize, int i)
        {
            long at = (long)shoff + (long)i * entsize;
            var c = new SpanCursor(_b.Span(at, entsize), _path, at, $"{Shdr}[{i}]");
            uint name = c.ReadUInt32(), type = c.ReadUInt32();
            if (Is64)
            {
                ulong flags = c.ReadUInt64(), addr = c.ReadUInt64(), off = c.ReadUInt64(), size = c.ReadUInt64();
                uint link = c.ReadUInt32(), info = c.ReadUInt32(); c.ReadUInt64();
                return new Section(name.ToString(), type, flags, addr, off, size, link, c.ReadUInt64(), at, info);
            }
            else
            {
                ulong flags = c.ReadUInt32(), addr = c.ReadUInt32(), off = c.ReadUInt32(), size = c.ReadUInt32();
                uint link = c.ReadUInt32(), info = c.ReadUInt32(); c.ReadUInt32();
                return new Section(name.ToString(), type, flags, addr, off, size, link, c.ReadUInt32(), at, info);
            }
        }

        private string? FindBuildId(ulong offset, ulong size, string structure)
        {
            if (!_b.InRange(offset, size) || size > int.MaxValue) return null;
            var c = new SpanCursor(_b.Span((long)offset, (int)size), _path, (long)offset, structure);
            while (c.Remaining >= 12)
            {
                uint namesz = c.ReadUInt32(), descsz = c.ReadUInt32(), type = c.ReadUInt32();
                var name = c.ReadBytes((int)Math.Min(namesz, int.MaxValue));
                c.Position = Math.Min(c.Position + Pad4(namesz), c.Position + c.Remaining);
                var desc = c.ReadBytes((int)Math.Min(descsz, int.MaxValue));
                c.Position = Math.Min(c.Position + Pad4(descsz), c.Position + c.Remaining);
                if (type == NT_GNU_BUILD_ID && name.SequenceEqual("GNU\0"u8) && descsz > 0)
                    return Convert.ToHexStringLower(desc);
            }
            return null;
        }

        private static int Pad4(uint n) => (int)((4 - (n & 3)) & 3);

        private void ReadDebugLink(Section s)
        {
            if (!_b.InRange(s.Offset, s.Size) || s.Size < 5 || s.Size > 4096) return;
            var span = _b.Span((long)s.Offset, (int)s.Size);
            int nul = span.IndexOf((byte)0);
            if (nul <= 0) return;
            DebugLink = System.Text.Encoding.UTF8.GetString(span[..nul]);
            int crcAt = (nul + 1 + 3) & ~3;
            if (crcAt + 4 <= span.Length) DebugLinkCrc = BinaryPrimitives.ReadUInt32LittleEndian(span[crcAt..]);
        }

        private ElfSymbolEntry[] ReadSymbols(List<Section> sections, int index, out ElfStringTable strRef)
        {
            var s = sections[index];
            string shName = s.Name.Length > 0 ? s.Name : (s.Type == SHT_SYMTAB ? ".symtab" : ".dynsym");
            string sym = Is64 ? "Elf64_Sym" : "Elf32_Sym";
            int entSize = Is64 ? 24 : 16;
            strRef = default;
            if (s.Type == SHT_NOBITS || s.Size == 0) return [];
            long shAt = s.HeaderOffset;
            if (!_b.InRange(s.Offset, s.Size))
                throw new MalformedDataException(_path, shAt, $"{Shdr}[{index}] ({shName})", $"data 0x{s.Offset:x}+0x{s.Size:x} exceeds the file size 0x{_b.Length:x}");
            if (s.EntSize != 0 && s.EntSize != (ulong)entSize)
                throw new MalformedDataException(_path, shAt, $"{Shdr}[{index}] ({shName})", $"sh_entsize {s.EntSize}, expected {entSize}");
            if (s.Link >= sections.Count)
                throw new MalformedDataException(_path, shAt, $"{Shdr}[{index}] ({shName})", $"sh_link {s.Link} names no section (there are {sections.Count})");
            var str = sections[(int)s.Link];
            if (str.Type != SHT_STRTAB || !_b.InRange(str.Offset, str.Size))
                throw new MalformedDataException(_path, (long)Math.Min(str.Offset, (ulong)long.MaxValue), $"{Shdr}[{s.Link}] (string table of {shName})", $"type {str.Type} at 0x{str.Offset:x}+0x{str.Size:x}: not a string table inside the file (size 0x{_b.Length:x})");
            strRef = new ElfStringTable(_b, (long)str.Offset, (long)str.Size);

            long count = (long)(s.Size / (ulong)entSize);
            var list = new List<ElfSymbolEntry>((int)Math.Min(count, 1 << 20));
            for (long i = 0; i < count; i += 65536)
            {
                int chunk = (int)Math.Min(65536, count - i);
                long at = (long)s.Offset + i * entSize;
                var span = _b.Span(at, chunk * entSize);
                for (int k = 0; k < chunk; k++)
                {
                    var e = span.Slice(k * entSize, entSize);
                    uint nameOff; byte info; ushort shndx; ulong value, size;
                    if (Is64)
                    {
                        nameOff = BinaryPrimitives.ReadUInt32LittleEndian(e);
                        info = e[4]; shndx = BinaryPrimitives.ReadUInt16LittleEndian(e[6..]);
                        value = BinaryPrimitives.ReadUInt64LittleEndian(e[8..]); size = BinaryPrimitives.ReadUInt64LittleEndian(e[16..]);
                    }
                    else
                    {
                        nameOff = BinaryPrimitives.ReadUInt32LittleEndian(e);
                        value = BinaryPrimitives.ReadUInt32LittleEndian(e[4..]); size = BinaryPrimitives.ReadUInt32LittleEndian(e[8..]);
                        info = e[12]; shndx = BinaryPrimitives.ReadUInt16LittleEndian(e[14..]);
                    }
                    int type = info & 0xf;
                    byte other = Is64 ? e[5] : e[13];
                    // perf's elf_sym__is_function / _is_object / _is_label: a name, a defined section; SHN_ABS and
                    // other reserved indexes (>= SHN_LORESERVE 0xff00) are skipped, as is a section without SHF_ALLOC.
                    bool function = type is 2 or 10, label = type == 0 && (other & 3) is not (1 or 2); // STV_INTERNAL, STV_HIDDEN
                    if ((!function && type != 1 && !label) || nameOff == 0 || shndx == 0 || shndx >= 0xff00 || shndx >= sections.Count) continue;
                    var sec = sections[shndx];
                    if ((sec.Flags & 2) == 0) continue; // SHF_ALLOC
                    if (label && !sec.Name.Contains("text", StringComparison.Ordinal) && !sec.Name.Contains("data", StringComparison.Ordinal)) continue;
                    if (nameOff >= str.Size)
                        throw new MalformedDataException(_path, at + (long)k * entSize, $"{sym}[{i + k}] in {shName}", $"st_name 0x{nameOff:x} is beyond its string table (size 0x{str.Size:x})");
                    list.Add(new ElfSymbolEntry(value, size, nameOff, (byte)(info >> 4), function));
                }
            }
            return list.ToArray();
        }
    }
}
