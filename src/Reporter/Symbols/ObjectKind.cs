namespace XenProf.Reporter.Symbols;

/// <summary>
/// What kind of image a mapping (or a frame's image name) refers to; it decides how a frame's offset is
/// interpreted: a <see cref="FileOffset"/> for <see cref="Elf"/> and <see cref="Vdso"/>, a
/// <see cref="KernelAddress"/> for <see cref="Kernel"/> and <see cref="KernelModule"/>.
/// </summary>
public enum ObjectKind
{
    /// <summary>A file-backed ELF image (executable or shared library) named by its absolute path.</summary>
    Elf,

    /// <summary>The kernel image; perf names it <c>[kernel.kallsyms]</c>.</summary>
    Kernel,

    /// <summary>A kernel module; perf names it <c>[modname]</c> (e.g. <c>[nf_tables]</c>) or by its <c>.ko</c> path.</summary>
    KernelModule,

    /// <summary>The virtual dynamic shared object the kernel maps into each process: <c>[vdso]</c>, <c>[vdso32]</c>, <c>[vdsox32]</c>.</summary>
    Vdso,

    /// <summary>Memory with no file behind it: <c>//anon</c>, <c>[anon:…]</c>, <c>[heap]</c>, <c>[stack]</c>,
    /// <c>/memfd:…</c>, <c>/dev/zero</c>, <c>/anon_hugepage</c>, <c>/SYSV…</c>, or an empty name. JIT code lives here
    /// (resolved through <c>perf-PID.map</c>, not by this kind).</summary>
    Anonymous,

    /// <summary>A name that is none of the above (e.g. <c>[vsyscall]</c>, <c>[uprobes]</c>, a relative path).</summary>
    Unknown,
}

/// <summary>Classifies mapping file names the way perf's <c>util/map.c</c> and <c>util/dso.c</c> do.</summary>
public static class ObjectKinds
{
    /// <summary>perf's name for the kernel image.</summary>
    public const string KernelImageName = "[kernel.kallsyms]";

    /// <summary>
    /// Classifies a mapping's file name (as in <c>/proc/PID/maps</c>, <c>PERF_RECORD_MMAP2</c> or a perf.data
    /// build-id table). Rules, first match wins:
    /// <c>[kernel.kallsyms]…</c> or <c>[guest.kernel.kallsyms…]</c> → Kernel;
    /// <c>[vdso]</c>/<c>[vdso32]</c>/<c>[vdsox32]</c> → Vdso;
    /// empty, <c>//anon</c>, <c>[anon…</c>, <c>[heap]</c>, <c>[stack…</c>, <c>/memfd:</c>, <c>/dev/zero</c>,
    /// <c>/anon_hugepage</c>, <c>/SYSV</c> → Anonymous;
    /// <c>[vsyscall]</c>, <c>[vvar]</c>, <c>[uprobes]</c> → Unknown;
    /// any other <c>[name]</c> → KernelModule; a path ending in <c>.ko</c> (optionally <c>.gz</c>/<c>.xz</c>/<c>.zst</c>)
    /// → KernelModule; any other absolute path → Elf (including one with a <c>" (deleted)"</c> suffix);
    /// anything else → Unknown.
    /// </summary>
    /// <param name="mappingName">The mapping's file name; null is treated as empty.</param>
    /// <returns>The kind; never throws.</returns>
    public static ObjectKind Classify(string? mappingName)
    {
        var n = mappingName ?? "";
        if (n.Length == 0) return ObjectKind.Anonymous;
        if (n.StartsWith("[kernel.kallsyms]", StringComparison.Ordinal) || n.StartsWith("[guest.kernel.kallsyms", StringComparison.Ordinal))
            return ObjectKind.Kernel;
        if (n is "[vdso]" or "[vdso32]" or "[vdsox32]") return ObjectKind.Vdso;
        if (n.StartsWith("//anon", StringComparison.Ordinal) || n.StartsWith("[anon", StringComparison.Ordinal)
            || n == "[heap]" || n.StartsWith("[stack", StringComparison.Ordinal)
            || n.StartsWith("/memfd:", StringComparison.Ordinal) || n.StartsWith("/dev/zero", StringComparison.Ordinal)
            || n.StartsWith("/anon_hugepage", StringComparison.Ordinal) || n.StartsWith("/SYSV", StringComparison.Ordinal))
            return ObjectKind.Anonymous;
        if (n is "[vsyscall]" or "[vvar]" or "[vvar_vclock]" or "[uprobes]") return ObjectKind.Unknown;
        if (n.Length > 2 && n[0] == '[' && n[^1] == ']') return ObjectKind.KernelModule;
        if (n.EndsWith(".ko", StringComparison.Ordinal) || n.EndsWith(".ko.gz", StringComparison.Ordinal)
            || n.EndsWith(".ko.xz", StringComparison.Ordinal) || n.EndsWith(".ko.zst", StringComparison.Ordinal))
            return ObjectKind.KernelModule;
        if (n[0] == '/') return ObjectKind.Elf;
        return ObjectKind.Unknown;
    }

    /// <summary>perf's image name for a kernel module: <c>[modname]</c>.</summary>
    /// <param name="module">Module name as in <c>/proc/modules</c>, e.g. <c>nf_tables</c>.</param>
    public static string ModuleImageName(string module) => "[" + module + "]";
}
