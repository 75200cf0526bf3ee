using System.Buffers.Binary;
using XenProf.Hypervisor.Binary;
using XenProf.Reporter.Symbols.SymbolsInternal;

namespace XenProf.Reporter.Symbols;

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
/// An ELF image read through a memory map (no copy of the file): header, program headers, section headers,
/// function symbols from <c>.symtab</c> and <c>.dynsym</c>, the GNU build-id and the <c>.gnu_debuglink</c> name.
/// Layouts per the System V gABI (<c>Elf64_Ehdr</c>, <c>Elf64_Phdr</c>, <c>Elf64_Shdr</c>, <c>Elf64_Sym</c>,
/// <c>Elf64_Nhdr</c> in glibc's <c>elf.h</c>); ELF64 and ELF32, little-endian only.
/// Symbols are read as perf 6.1 reads them (<c>tools/perf/util/symbol-elf.c</c> <c>dso__load_sym_internal</c>):
/// functions (<c>STT_FUNC</c> 2, <c>STT_GNU_IFUNC</c> 10; <c>elf_sym__is_function</c>), data objects
/// (<c>STT_OBJECT</c>; <c>elf_sym__is_object</c>) and labels (<c>STT_NOTYPE</c>, not hidden or internal, in a section
/// whose name contains "text" or "data"; <c>elf_sym__is_label</c>), each with a name, in an allocated section
/// (<c>SHF_ALLOC</c>), not <c>SHN_UNDEF</c>/<c>SHN_ABS</c>. Aliases and zero-size symbols are resolved as documented on
/// <see cref="FindSymbol"/>. Names are raw (not demangled) and decoded only when a lookup returns them.
/// The instance keeps the file mapped until <see cref="Dispose"/>.
/// </summary>
public sealed class ElfObjectFile : IObjectFile
{
    private const uint PT_LOAD = 1, PT_NOTE = 4;
    private const uint SHT_SYMTAB = 2, SHT_STRTAB = 3, SHT_NOTE = 7, SHT_NOBITS = 8, SHT_DYNSYM = 11;
    private const uint NT_GNU_BUILD_ID = 3;

    private readonly MappedBytes _bytes;
    private readonly LoadSegment[] _loads;
    private readonly ElfSection[] _sections;
    private readonly RawSymbol[] _symtab, _dynsym;
    private readonly StringTableRef _symtabStr, _dynsymStr;
    private SymbolTable? _table;
    private ElfObjectFile? _debug;
    private readonly DemangleStyle _demangle;

    private ElfObjectFile(string path, MappedBytes bytes, DemangleStyle demangle)
    {
        Path = path;
        _bytes = bytes;
        _demangle = demangle;
        try
        {
            var p = new Parser(path, bytes);
            p.Run();
            Is64Bit = p.Is64;
            ElfType = p.Type;
            Machine = p.Machine;
            _loads = p.Loads.ToArray();
            _sections = p.Sections.ToArray();
            BuildId = p.BuildId;
            DebugLink = p.DebugLink;
            DebugLinkCrc = p.DebugLinkCrc;
            _symtab = p.Symtab;
            _dynsym = p.Dynsym;
            _symtabStr = p.SymtabStr;
            _dynsymStr = p.DynsymStr;
            HasSymtab = p.HasSymtabSection;
        }
        catch
        {
            bytes.Dispose();
            throw;
        }
    }

    /// <summary>Opens and parses an ELF file through a read-only memory map.</summary>
    /// <param name="path">File to open.</param>
    /// <exception cref="MalformedDataException">The bytes are not a well-formed little-endian ELF file; the exception
    /// names the path, the absolute offset and the structure (e.g. <c>Elf64_Sym[412] in .symtab</c>).</exception>
    /// <exception cref="IOException">The file cannot be opened (e.g. <see cref="FileNotFoundException"/>).</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to read the file.</exception>
    public static ElfObjectFile Open(string path) => new(path, MappedBytes.Map(path), DemangleStyle.None);

    /// <summary>As <see cref="Open(string)"/>; aliases are chosen comparing their names as <paramref name="demangle"/>
    /// displays them (perf compares demangled names), so the kept raw name is the one perf would show.</summary>
    /// <exception cref="MalformedDataException">As for <see cref="Open(string)"/>.</exception>
    public static ElfObjectFile Open(string path, DemangleStyle demangle) => new(path, MappedBytes.Map(path), demangle);

    /// <summary>Parses an ELF image held in memory (tests, extracted vdso images). The array is pinned, not copied.</summary>
    /// <param name="data">The whole file.</param>
    /// <param name="path">Name used in messages and as <see cref="Path"/>.</param>
    /// <exception cref="MalformedDataException">As for <see cref="Open(string)"/>.</exception>
    public static ElfObjectFile FromBytes(byte[] data, string path) => new(path, MappedBytes.FromArray(data), DemangleStyle.None);

    /// <inheritdoc/>
    public string Path { get; }

    /// <inheritdoc/>
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
        if (section.Type == SHT_NOBITS || section.Size > int.MaxValue || !_bytes.InRange(section.Offset, section.Size)) return [];
        return _bytes.Span((long)section.Offset, (int)section.Size);
    }

    /// <summary>
    /// The file bytes loaded at SVMAs <c>[start, start + length)</c>, through the <c>PT_LOAD</c> segment containing
    /// <paramref name="start"/>; truncated at the end of the segment's file data. Empty when no segment covers it.
    /// The span is valid until <see cref="Dispose"/>.
    /// </summary>
    public ReadOnlySpan<byte> BytesAt(Svma start, int length)
    {
        foreach (var s in _loads)
        {
            if (start.Value < s.Vaddr || start.Value - s.Vaddr >= s.FileSize) continue;
            ulong off = start.Value - s.Vaddr + s.FileOffset;
            ulong n = Math.Min((ulong)Math.Max(length, 0), s.FileSize - (start.Value - s.Vaddr));
            if (!_bytes.InRange(off, n)) return [];
            return _bytes.Span((long)off, (int)n);
        }
        return [];
    }

    /// <summary>Whether the file has a <c>.symtab</c> section (a stripped file has only <c>.dynsym</c>).</summary>
    public bool HasSymtab { get; }

    /// <summary>Path of the separate debug file whose <c>.symtab</c> was merged in by <see cref="AttachDebugFile"/>, or null.</summary>
    public string? DebugFilePath => _debug?.Path;

    /// <summary>Number of distinct symbols (functions, objects and labels, after alias merging).</summary>
    public int SymbolCount => Table.Count;

    /// <summary>All function symbols (<c>STT_FUNC</c>, <c>STT_GNU_IFUNC</c>) in address order, after alias merging
    /// (names decoded on enumeration); data objects and labels are left out.</summary>
    public IEnumerable<ObjectSymbol> Symbols
    {
        get
        {
            var t = Table;
            for (int i = 0; i < t.Count; i++)
                if (t.IsFunctionAt(i)) yield return new ObjectSymbol(t.NameAt(i), new Svma(t.StartAt(i)), t.SizeAt(i));
        }
    }

    /// <summary>Every symbol kept, functions, data objects and labels alike, in address order: the set perf 6.1 holds
    /// for the file (what <c>perf probe -F</c> lists, less the synthesized <c>@plt</c> entries).</summary>
    public IEnumerable<ObjectSymbol> AllSymbols
    {
        get
        {
            var t = Table;
            for (int i = 0; i < t.Count; i++) yield return new ObjectSymbol(t.NameAt(i), new Svma(t.StartAt(i)), t.SizeAt(i));
        }
    }

    // Built on first use: opening an image for its build-id alone reads no symbols.
    private SymbolTable Table => _table ??= _debug != null
        ? Build(_demangle, Plt(), (_debug._symtab, _debug._symtabStr))
        : Build(_demangle, Plt(), (_symtab, _symtabStr), (_dynsym, _dynsymStr));

    // perf synthesizes name@plt symbols from this (the runtime) file's PLT relocations, also when a debug file
    // supplies the other symbols (debug files have .plt as SHT_NOBITS).
    private List<(ulong Start, ulong Size, string Name)> Plt()
    {
        var plt = new List<(ulong Start, ulong Size, string Name)>();
        PltNames.Read(this, plt);
        return plt;
    }

    /// <inheritdoc/>
    /// <remarks>Picks the first <c>PT_LOAD</c> with <c>p_offset ≤ off &lt; p_offset + p_filesz</c>; failing that, one
    /// whose page-rounded (4 KiB) file range contains it, since a mapping covers whole pages.</remarks>
    public bool TryFileOffsetToSvma(FileOffset offset, out Svma svma)
    {
        ulong off = offset.Value;
        foreach (var s in _loads)
            if (off >= s.FileOffset && off - s.FileOffset < s.FileSize) { svma = new Svma(off - s.FileOffset + s.Vaddr); return true; }
        foreach (var s in _loads)
        {
            ulong lo = s.FileOffset & ~0xfffUL, hi = (s.FileOffset + s.FileSize + 0xfff) & ~0xfffUL;
            if (off >= lo && off < hi) { svma = new Svma(unchecked(off - s.FileOffset + s.Vaddr)); return true; }
        }
        svma = default;
        return false;
    }

    /// <summary>
    /// Finds the symbol containing <paramref name="address"/>, as perf 6.1 would: the file's <c>.symtab</c> is loaded,
    /// then its <c>.dynsym</c> (<c>dso__load_sym</c>); with a separate debug file attached, that file's <c>.symtab</c>
    /// alone (its <c>.dynsym</c> is <c>SHT_NOBITS</c>, and perf reads no other table once it has picked the debug
    /// file). Symbols sharing a start address are aliases and one is kept by perf's <c>choose_best_symbol</c>
    /// (non-empty, then not weak, then global, then fewer leading underscores, then the longer name); a zero-size
    /// symbol ends where the next symbol starts (<c>symbols__fixup_end</c>). Names carry whatever the string table
    /// holds, e.g. the <c>@GLIBC_2.15</c> the assembler writes into <c>.symtab</c> names of non-default symbol
    /// versions; perf 6.1 appends no version from <c>.gnu.version</c> itself. The result can be a data object or a
    /// label when the address falls in one, as in perf, or a <c>name@plt</c> entry synthesized from the PLT
    /// relocations (perf's <c>dso__synthesize_plt_symbols</c>; without them a zero-size <c>_init</c> would cover the
    /// PLT, which follows <c>.init</c>).
    /// </summary>
    public ObjectSymbol? FindSymbol(Svma address)
    {
        var t = Table;
        int i = t.IndexOf(address.Value);
        return i < 0 ? null : new ObjectSymbol(t.NameAt(i), new Svma(t.StartAt(i)), t.SizeAt(i));
    }

    /// <summary>
    /// Takes the symbols of a separate debug file (same SVMA space, e.g. made by <c>objcopy --only-keep-debug</c>):
    /// from now on lookups use its <c>.symtab</c> instead of this image's tables, as perf does once it finds a debug
    /// file. This instance takes ownership of <paramref name="debug"/> and disposes it.
    /// </summary>
    /// <exception cref="ArgumentException">Both files have a build-id and they differ.</exception>
    public void AttachDebugFile(ElfObjectFile debug)
    {
        ArgumentNullException.ThrowIfNull(debug);
        if (BuildId != null && debug.BuildId != null && BuildId != debug.BuildId)
            throw new ArgumentException($"{debug.Path}: build-id {debug.BuildId} does not match {Path} ({BuildId})", nameof(debug));
        _debug?.Dispose();
        _debug = debug;
        _table = null;
    }

    private static SymbolTable Build(DemangleStyle demangle, List<(ulong Start, ulong Size, string Name)> plt, params (RawSymbol[] Syms, StringTableRef Str)[] parts)
    {
        int total = 0;
        foreach (var p in parts) total += p.Syms.Length;
        if (total == 0 && plt.Count == 0) return SymbolTable.Empty;
        var passes = new RawSymbol[parts.Length][];
        var strs = new StringTableRef[parts.Length];
        for (int s = 0; s < parts.Length; s++)
        {
            strs[s] = parts[s].Str;
            passes[s] = new RawSymbol[parts[s].Syms.Length];
            for (int k = 0; k < passes[s].Length; k++) { passes[s][k] = parts[s].Syms[k]; passes[s][k].Source = (byte)s; }
        }
        return new SymbolTable(passes, strs, demangle == DemangleStyle.None ? null : n => Demangler.Demangle(n, demangle), plt);
    }

    /// <summary>Releases the memory map (and that of an attached debug file).</summary>
    public void Dispose()
    {
        _debug?.Dispose();
        _bytes.Dispose();
    }

    /// <summary>Reads the headers; every bounds failure becomes a <see cref="MalformedDataException"/>.</summary>
    private sealed class Parser(string path, MappedBytes bytes)
    {
        private readonly string _path = path;
        private readonly MappedBytes _b = bytes;
        public bool Is64;
        public ushort Type, Machine;
        public readonly List<LoadSegment> Loads = [];
        public string? BuildId, DebugLink;
        public uint? DebugLinkCrc;
        public RawSymbol[] Symtab = [], Dynsym = [];
        public StringTableRef SymtabStr, DynsymStr;
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

        private RawSymbol[] ReadSymbols(List<Section> sections, int index, out StringTableRef strRef)
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
            strRef = new StringTableRef(_b, (long)str.Offset, (long)str.Size);

            long count = (long)(s.Size / (ulong)entSize);
            var list = new List<RawSymbol>((int)Math.Min(count, 1 << 20));
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
                    list.Add(new RawSymbol { Start = value, Size = size, NameOffset = nameOff, Bind = (byte)(info >> 4), IsFunction = function });
                }
            }
            return list.ToArray();
        }
    }
}
