using System.Buffers.Binary;

namespace XenProf.Reporter.Symbols;

/// <summary>
/// Where the machine code of a sampled function comes from, per kind of image:
/// <list type="bullet">
/// <item>ELF images (user binaries, libraries) and hypervisor images (<c>xen-syms</c>): the file on disk, through its
/// <c>PT_LOAD</c> segments (<see cref="ElfObjectFile.BytesAt"/>), opened via the <see cref="Symbolizer"/>'s cache.</item>
/// <item>The kernel and modules: a <c>vmlinux</c> given by the caller (its SVMAs are the unrelocated kernel
/// addresses, right only without KASLR), else <c>/proc/kcore</c> (an ELF core file whose <c>PT_LOAD</c> segments map
/// kernel virtual addresses; readable by root only), read with positioned reads since it cannot be mapped.</item>
/// <item>JIT code (<see cref="ObjectKind.Anonymous"/> named <c>/tmp/perf-PID.map</c>): the code bytes the runtime
/// wrote into <c>jit-PID.dump</c> (<see cref="Symbolizer.GetJit"/>), at runtime addresses.</item>
/// </list>
/// Anything else (anonymous memory without a jitdump) has no code: <see cref="Read"/> returns null and
/// <see cref="Why"/> says why.
/// </summary>
public sealed class CodeBytes(Symbolizer symbolizer, string? vmlinux = null, string kcorePath = "/proc/kcore") : IDisposable
{
    private List<(ulong Vaddr, ulong Offset, ulong Size)>? _kcore;

    /// <summary>The kernel image kernel code is read from instead of <c>/proc/kcore</c>, or null.</summary>
    public string? Vmlinux => vmlinux;
    private FileStream? _kcoreStream;
    private string? _kcoreError;

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="address"/> of image <paramref name="imagePath"/>.</summary>
    /// <param name="imagePath">Image path (ELF, hypervisor), <c>[kernel.kallsyms]</c>/<c>[module]</c>, or a JIT image's
    /// <c>/tmp/perf-PID.map</c>.</param>
    /// <param name="kind">What the image is; decides how <paramref name="address"/> is read (an SVMA for ELF, an absolute
    /// address for kernel and hypervisor, a runtime address for <see cref="ObjectKind.Anonymous"/> JIT code).</param>
    /// <param name="address">First byte.</param>
    /// <param name="length">Bytes wanted (the result may be shorter at the end of a segment).</param>
    /// <returns>The bytes, or null when this kind of image has no readable code here.</returns>
    public byte[]? Read(string imagePath, ObjectKind kind, ulong address, int length)
    {
        switch (kind)
        {
            case ObjectKind.Elf:
                return symbolizer.GetImage(imagePath)?.BytesAt(new Svma(address), length).ToArray() is { Length: > 0 } b ? b : null;
            case ObjectKind.Kernel:
            case ObjectKind.KernelModule:
                if (vmlinux != null && kind == ObjectKind.Kernel)
                    return symbolizer.GetImage(vmlinux)?.BytesAt(new Svma(address), length).ToArray() is { Length: > 0 } v ? v : null;
                return ReadKcore(address, length);
            case ObjectKind.Anonymous:
                return symbolizer.GetJit(imagePath)?.ReadCode(address, length);
            default:
                return null;
        }
    }

    /// <summary>Why code of <paramref name="kind"/> could not be read (for the note printed instead of a listing).</summary>
    public string Why(ObjectKind kind) => kind switch
    {
        ObjectKind.Kernel or ObjectKind.KernelModule => _kcoreError ?? $"{kcorePath} has no segment covering the function (pass --vmlinux)",
        ObjectKind.Elf => "the image is missing or no loadable segment covers the function",
        ObjectKind.Anonymous => "no jit-PID.dump holds this JIT code (a perf map has names only; .NET writes the dump with DOTNET_PerfMapEnabled=1 or 2)",
        _ => "no code bytes were captured for this kind of image (anonymous memory)",
    };

    private byte[]? ReadKcore(ulong address, int length)
    {
        try
        {
            if (_kcore == null)
            {
                _kcore = [];
                _kcoreStream = new FileStream(kcorePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
                // Elf64_Ehdr: e_phoff at 32, e_phentsize at 54, e_phnum at 56; Elf64_Phdr: p_type 0, p_offset 8, p_vaddr 16, p_filesz 32.
                var eh = new byte[64];
                if (_kcoreStream.Read(eh, 0, 64) != 64 || eh[0] != 0x7f || eh[4] != 2) { _kcoreError = $"{kcorePath}: not a 64-bit ELF core"; return null; }
                ulong phoff = BinaryPrimitives.ReadUInt64LittleEndian(eh.AsSpan(32));
                int phentsize = BinaryPrimitives.ReadUInt16LittleEndian(eh.AsSpan(54)), phnum = BinaryPrimitives.ReadUInt16LittleEndian(eh.AsSpan(56));
                var ph = new byte[phentsize * phnum];
                RandomAccess.Read(_kcoreStream.SafeFileHandle, ph, (long)phoff);
                for (int i = 0; i < phnum; i++)
                {
                    var p = ph.AsSpan(i * phentsize);
                    if (BinaryPrimitives.ReadUInt32LittleEndian(p) != 1) continue;
                    _kcore.Add((BinaryPrimitives.ReadUInt64LittleEndian(p[16..]), BinaryPrimitives.ReadUInt64LittleEndian(p[8..]), BinaryPrimitives.ReadUInt64LittleEndian(p[32..])));
                }
            }
            if (_kcoreStream == null) return null;
            foreach (var (vaddr, offset, size) in _kcore)
            {
                if (address < vaddr || address - vaddr >= size) continue;
                int n = (int)Math.Min((ulong)length, size - (address - vaddr));
                var buf = new byte[n];
                int got = RandomAccess.Read(_kcoreStream.SafeFileHandle, buf, (long)(offset + (address - vaddr)));
                return got > 0 ? buf[..got] : null;
            }
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _kcoreError = $"cannot read {kcorePath} ({e.Message}); kernel code needs root or --vmlinux";
            _kcore ??= [];
            return null;
        }
    }

    /// <summary>Closes <c>/proc/kcore</c> if it was opened (images stay with the symbolizer).</summary>
    public void Dispose() => _kcoreStream?.Dispose();
}
