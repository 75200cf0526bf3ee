namespace XenProf.Reporter.Symbols;

/// <summary>
/// A function symbol inside an image: <c>[Start, Start + Size)</c> in the image's SVMA space.
/// </summary>
/// <param name="Name">Raw (mangled) symbol name as stored in the string table.</param>
/// <param name="Start">First address of the symbol.</param>
/// <param name="Size">Extent in bytes: <c>st_size</c>, or for a zero-size symbol the distance to the next symbol
/// (bounded by the end of its section).</param>
public readonly record struct ObjectSymbol(string Name, Svma Start, ulong Size)
{
    /// <summary>Whether <paramref name="address"/> lies in <c>[Start, Start + Size)</c>.</summary>
    public bool Contains(Svma address) => address.Value >= Start.Value && address.Value - Start.Value < Size;
}

/// <summary>
/// The seam between the symbolizer and an object file format (ELF today; a fake in tests). Small on purpose:
/// identity, address translation and symbol lookup. Implementations own their backing memory, hence
/// <see cref="IDisposable"/>.
/// </summary>
public interface IObjectFile : IDisposable
{
    /// <summary>Path the object was opened from.</summary>
    string Path { get; }

    /// <summary>GNU build-id as lowercase hex (2 characters per byte, 40 for SHA-1 ids), or null if the file has none.</summary>
    string? BuildId { get; }

    /// <summary>
    /// Converts a file offset to the SVMA it is loaded at, through the <c>PT_LOAD</c> program header containing it:
    /// <c>svma = off - p_offset + p_vaddr</c>. Correct for PIE, shared libraries and fixed-address executables.
    /// </summary>
    /// <param name="offset">Offset in the file.</param>
    /// <param name="svma">The stated address, when the result is true.</param>
    /// <returns>False if no loadable segment covers the offset.</returns>
    bool TryFileOffsetToSvma(FileOffset offset, out Svma svma);

    /// <summary>Finds the function symbol containing <paramref name="address"/>, or null.</summary>
    ObjectSymbol? FindSymbol(Svma address);
}
