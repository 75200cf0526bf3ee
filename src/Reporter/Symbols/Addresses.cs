namespace XenProf.Reporter.Symbols;

/// <summary>
/// A byte offset into an image file on disk, in bytes from the start of the file. For a sampled user-space frame
/// the daemon computes it as <c>runtime_addr - mapping_start + mapping_pgoff</c>, so it is independent of where
/// the image was loaded (ASLR) and of whether the image is PIE, a shared library or a fixed-address executable.
/// Convert to a <see cref="Svma"/> with <see cref="IObjectFile.TryFileOffsetToSvma"/>.
/// </summary>
/// <param name="Value">Offset in bytes from the start of the file.</param>
public readonly record struct FileOffset(ulong Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"file+0x{Value:x}";
}

/// <summary>
/// A "stated virtual memory address": an address as written in the ELF file itself (<c>st_value</c>,
/// <c>p_vaddr</c>, <c>sh_addr</c>), before any load bias. A separate debug file (<c>objcopy --only-keep-debug</c>)
/// shares the SVMA space of the image it was split from.
/// </summary>
/// <param name="Value">The address as stated in the ELF file.</param>
public readonly record struct Svma(ulong Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"svma 0x{Value:x}";
}

/// <summary>
/// An absolute kernel virtual address (the space of <c>/proc/kallsyms</c>), used for samples in the kernel image
/// and in kernel modules. It includes KASLR: it only makes sense against the kallsyms of the same boot.
/// </summary>
/// <param name="Value">Absolute kernel virtual address.</param>
public readonly record struct KernelAddress(ulong Value)
{
    /// <inheritdoc/>
    public override string ToString() => $"kernel 0x{Value:x}";
}
