using XenProf.Hypervisor.Binary;

namespace XenProf.Reporter.Symbols;

/// <summary>
/// Symbols of an image addressed absolutely, whatever its file format: an ELF file (xen-syms, a guest vmlinux) whose
/// SVMAs are the run-time addresses, or a text symbol map in kallsyms / <c>System.map</c> format
/// (<c>address type name</c>). Used for the hypervisor image and for passive domains' kernels, and to turn workload
/// function names into address ranges.
/// </summary>
public sealed class ImageSymbolTable : XenProf.Sampler.Xenoprof.IImageFunctionLookup
{
    private readonly ElfObjectFile? _elf;
    private readonly KernelSymbols? _map;
    private Dictionary<string, ObjectSymbol>? _elfByName;

    private ImageSymbolTable(string path, ElfObjectFile? elf, KernelSymbols? map) { Path = path; _elf = elf; _map = map; }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>True when the file is an ELF image.</summary>
    public bool IsElf => _elf != null;

    /// <summary>
    /// Opens <paramref name="path"/>: ELF when it starts with the ELF magic, otherwise a kallsyms/System.map text file.
    /// Throws <see cref="FileNotFoundException"/>, <see cref="IOException"/> or <see cref="MalformedDataException"/>.
    /// </summary>
    public static ImageSymbolTable Open(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        int n;
        using (var fs = File.OpenRead(path)) n = fs.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (n == 4 && magic[0] == 0x7f && magic[1] == (byte)'E' && magic[2] == (byte)'L' && magic[3] == (byte)'F')
            return new ImageSymbolTable(path, ElfObjectFile.Open(path), null);
        return new ImageSymbolTable(path, null, KernelSymbols.Load(path, null));
    }

    /// <summary>The function containing absolute address <paramref name="address"/>, or null.</summary>
    public ResolvedSymbol? Find(ulong address)
    {
        if (_elf != null)
            return _elf.FindSymbol(new Svma(address)) is { } s ? new ResolvedSymbol(s.Name, s.Start.Value, s.Size, address - s.Start.Value) : null;
        return _map!.Find(new KernelAddress(address)) is { } m ? new ResolvedSymbol(m.Name, m.Start.Value, m.Size, m.Offset) : null;
    }

    /// <summary>[start, end) of function <paramref name="name"/>, or null when the image has no such function.</summary>
    public (ulong Start, ulong End)? Lookup(string name)
    {
        if (_elf != null)
        {
            _elfByName ??= BuildIndex(_elf);
            return _elfByName.TryGetValue(name, out var s) ? (s.Start.Value, s.Start.Value + Math.Max(1, s.Size)) : null;
        }
        return _map!.FindByName(name) is { } m ? (m.Start.Value, m.Start.Value + Math.Max(1, m.Size)) : null;
    }

    private static Dictionary<string, ObjectSymbol> BuildIndex(ElfObjectFile f)
    {
        var d = new Dictionary<string, ObjectSymbol>(StringComparer.Ordinal);
        foreach (var s in f.Symbols) d.TryAdd(s.Name, s);
        return d;
    }

    /// <summary>Unmaps an ELF image.</summary>
    public void Dispose() => _elf?.Dispose();
}
