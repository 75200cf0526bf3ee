using XenProf.Hypervisor.Binary;
using XenProf.Hypervisor.Binary.Elf;
using XenProf.Reporter.Symbols.SymbolsInternal;

namespace XenProf.Reporter.Symbols;

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
    private readonly ElfFile _elf;
    private SymbolTable? _table;
    private ElfObjectFile? _debug;
    private readonly DemangleStyle _demangle;

    private ElfObjectFile(ElfFile elf, DemangleStyle demangle) { _elf = elf; _demangle = demangle; }

    /// <summary>Opens and parses an ELF file through a read-only memory map.</summary>
    /// <param name="path">File to open.</param>
    /// <exception cref="MalformedDataException">The bytes are not a well-formed little-endian ELF file; the exception
    /// names the path, the absolute offset and the structure (e.g. <c>Elf64_Sym[412] in .symtab</c>).</exception>
    /// <exception cref="IOException">The file cannot be opened (e.g. <see cref="FileNotFoundException"/>).</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to read the file.</exception>
    public static ElfObjectFile Open(string path) => new(ElfFile.Open(path), DemangleStyle.None);

    /// <summary>As <see cref="Open(string)"/>; aliases are chosen comparing their names as <paramref name="demangle"/>
    /// displays them (perf compares demangled names), so the kept raw name is the one perf would show.</summary>
    /// <exception cref="MalformedDataException">As for <see cref="Open(string)"/>.</exception>
    public static ElfObjectFile Open(string path, DemangleStyle demangle) => new(ElfFile.Open(path), demangle);

    /// <summary>Parses an ELF image held in memory (tests, extracted vdso images). The array is pinned, not copied.</summary>
    /// <param name="data">The whole file.</param>
    /// <param name="path">Name used in messages and as <see cref="Path"/>.</param>
    /// <exception cref="MalformedDataException">As for <see cref="Open(string)"/>.</exception>
    public static ElfObjectFile FromBytes(byte[] data, string path) => new(ElfFile.FromBytes(data, path), DemangleStyle.None);

    /// <summary>The parsed ELF file underneath (headers, sections, raw symbol entries).</summary>
    public ElfFile Elf => _elf;

    /// <inheritdoc/>
    public string Path => _elf.Path;

    /// <inheritdoc/>
    public string? BuildId => _elf.BuildId;

    /// <summary>File name stored in <c>.gnu_debuglink</c> (no directory), or null.</summary>
    public string? DebugLink => _elf.DebugLink;

    /// <summary>CRC-32 stored after the <c>.gnu_debuglink</c> name, or null.</summary>
    public uint? DebugLinkCrc => _elf.DebugLinkCrc;

    /// <summary>True for ELFCLASS64, false for ELFCLASS32.</summary>
    public bool Is64Bit => _elf.Is64Bit;

    /// <summary><c>e_type</c>: 1 ET_REL, 2 ET_EXEC, 3 ET_DYN (PIE and shared libraries), 4 ET_CORE.</summary>
    public ushort ElfType => _elf.ElfType;

    /// <summary><c>e_machine</c>: 62 EM_X86_64, 3 EM_386, 183 EM_AARCH64…</summary>
    public ushort Machine => _elf.Machine;

    /// <summary>The <c>PT_LOAD</c> program headers in file order.</summary>
    public IReadOnlyList<LoadSegment> LoadSegments => _elf.LoadSegments;

    /// <summary>The section headers in index order (empty when the file has no section header table).</summary>
    public IReadOnlyList<ElfSection> Sections => _elf.Sections;

    /// <summary>The first section named <paramref name="name"/>, or null.</summary>
    public ElfSection? FindSection(string name) => _elf.FindSection(name);

    /// <summary>The file bytes of <paramref name="section"/> (<see cref="ElfFile.SectionBytes"/>), valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> SectionBytes(ElfSection section) => _elf.SectionBytes(section);

    /// <summary>The file bytes loaded at SVMAs <c>[start, start + length)</c> (<see cref="ElfFile.BytesAt"/>), valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> BytesAt(Svma start, int length) => _elf.BytesAt(start.Value, length);

    /// <summary>Whether the file has a <c>.symtab</c> section (a stripped file has only <c>.dynsym</c>).</summary>
    public bool HasSymtab => _elf.HasSymtab;

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
        ? Build(_demangle, Plt(), (_debug._elf.Symtab, _debug._elf.SymtabStrings))
        : Build(_demangle, Plt(), (_elf.Symtab, _elf.SymtabStrings), (_elf.Dynsym, _elf.DynsymStrings));

    // perf synthesizes name@plt symbols from this (the runtime) file's PLT relocations, also when a debug file
    // supplies the other symbols (debug files have .plt as SHT_NOBITS), by perf 6.1's rule (PerfPltSymbols), not
    // where objdump finds the entries (PltNames, which function recovery uses).
    private List<(ulong Start, ulong Size, string Name)> Plt()
    {
        var plt = new List<(ulong Start, ulong Size, string Name)>();
        PerfPltSymbols.Read(this, plt);
        return plt;
    }

    /// <inheritdoc/>
    /// <remarks>Picks the first <c>PT_LOAD</c> with <c>p_offset ≤ off &lt; p_offset + p_filesz</c>; failing that, one
    /// whose page-rounded (4 KiB) file range contains it, since a mapping covers whole pages.</remarks>
    public bool TryFileOffsetToSvma(FileOffset offset, out Svma svma)
    {
        ulong off = offset.Value;
        foreach (var s in _elf.LoadSegments)
            if (off >= s.FileOffset && off - s.FileOffset < s.FileSize) { svma = new Svma(off - s.FileOffset + s.Vaddr); return true; }
        foreach (var s in _elf.LoadSegments)
        {
            ulong lo = s.FileOffset & ~0xfffUL, hi = (s.FileOffset + s.FileSize + 0xfff) & ~0xfffUL;
            if (off >= lo && off < hi) { svma = new Svma(unchecked(off - s.FileOffset + s.Vaddr)); return true; }
        }
        svma = default;
        return false;
    }

    /// <summary>
    /// Finds the symbol for <paramref name="address"/> as perf 6.1 would: the file's <c>.symtab</c> is loaded,
    /// then its <c>.dynsym</c> (<c>dso__load_sym</c>); with a separate debug file attached, that file's <c>.symtab</c>
    /// alone (its <c>.dynsym</c> is <c>SHT_NOBITS</c>, and perf reads no other table once it has picked the debug
    /// file). Symbols sharing a start address are aliases and one is kept by perf's <c>choose_best_symbol</c>
    /// (non-empty, then not weak, then global, then fewer leading underscores, then the longer name); a zero-size
    /// symbol ends where the next symbol starts (<c>symbols__fixup_end</c>). Names carry whatever the string table
    /// holds, e.g. the <c>@GLIBC_2.15</c> the assembler writes into <c>.symtab</c> names of non-default symbol
    /// versions; perf 6.1 appends no version from <c>.gnu.version</c> itself. The result can be a data object or a
    /// label when the address falls in one, as in perf, or a <c>name@plt</c> entry synthesized from the PLT
    /// relocations by perf 6.1's rule (<c>dso__synthesize_plt_symbols</c>: the n-th <c>.rela.plt</c> relocation names
    /// the n-th <c>.plt</c> entry; a relocation without a symbol, such as IRELATIVE, gives <c>@plt</c>). Where
    /// extents overlap (a zero-size <c>_init</c> extended over the PLT, nested symbols) the answer is the one perf's
    /// red-black tree search gives, which may be another overlapping symbol or none at all.
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

    private static SymbolTable Build(DemangleStyle demangle, List<(ulong Start, ulong Size, string Name)> plt, params (ElfSymbolEntry[] Syms, ElfStringTable Str)[] parts)
    {
        int total = 0;
        foreach (var p in parts) total += p.Syms.Length;
        if (total == 0 && plt.Count == 0) return SymbolTable.Empty;
        var passes = new RawSymbol[parts.Length][];
        var strs = new ElfStringTable[parts.Length];
        for (int s = 0; s < parts.Length; s++)
        {
            strs[s] = parts[s].Str;
            passes[s] = new RawSymbol[parts[s].Syms.Length];
            for (int k = 0; k < passes[s].Length; k++)
            {
                var e = parts[s].Syms[k];
                passes[s][k] = new RawSymbol { Start = e.Start, Size = e.Size, NameOffset = e.NameOffset, Bind = e.Bind, IsFunction = e.IsFunction, Source = (byte)s };
            }
        }
        return new SymbolTable(passes, strs, demangle == DemangleStyle.None ? null : n => Demangler.Demangle(n, demangle), plt);
    }

    /// <summary>Releases the memory map (and that of an attached debug file).</summary>
    public void Dispose()
    {
        _debug?.Dispose();
        _elf.Dispose();
    }

}
