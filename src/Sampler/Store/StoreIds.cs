namespace XenProf.Sampler.Store;

/// <summary>Row id of an event in the session store; 0 is reserved for "none".</summary>
public readonly record struct EventId(long Value);

/// <summary>Row id of an image (executable file, kernel, module, pseudo image); 0 is reserved.</summary>
public readonly record struct ImageId(long Value);

/// <summary>Row id of a frame, an (image, offset) pair; 0 is reserved.</summary>
public readonly record struct FrameId(long Value);

/// <summary>Row id of a stack prefix-tree node; 0 means "the empty stack" (the root's parent).</summary>
public readonly record struct StackId(long Value);

/// <summary>What an image is, which decides how its frame offsets are read (stored as an integer; never renumber).</summary>
public enum ImageKind
{
    /// <summary>No mapping covered the address; offset is the raw address.</summary>
    Unknown = 0,
    /// <summary>A file-backed ELF object; frame offsets are file offsets.</summary>
    Elf = 1,
    /// <summary>The running kernel, perf's <c>[kernel.kallsyms]</c>; offsets are absolute kernel addresses.</summary>
    Kernel = 2,
    /// <summary>A kernel module, named <c>[modname]</c> as perf names it; offsets are absolute kernel addresses.</summary>
    KernelModule = 3,
    /// <summary>The vDSO; offsets are offsets from its mapping start.</summary>
    Vdso = 4,
    /// <summary>Anonymous or special memory (JIT code, heap, memfd); offsets are raw addresses.</summary>
    Anonymous = 5,
    /// <summary>A hypervisor image (xen-syms); offsets are absolute hypervisor addresses. A pseudo name such as
    /// <c>domain1-xen</c> finds its file through the <c>image_file:NAME</c> meta key.</summary>
    Hypervisor = 6,
    /// <summary>A kernel given as a file (a vmlinux, System.map or kallsyms copy), e.g. a passive domain's
    /// <c>domainN-kernel</c>; offsets are absolute kernel addresses; the file is the path itself or meta <c>image_file:NAME</c>.</summary>
    KernelImage = 7,
    /// <summary>
    /// A managed (.NET) module as an EventPipe trace names it (<c>System.Private.CoreLib</c>, the program's assembly);
    /// its frames carry their method names in <c>frame_names</c>, offsets are the JIT-code address when known, else an ordinal.
    /// </summary>
    Managed = 8,
}

/// <summary>CPU mode a sample was taken in (per <c>perf_event_header.misc &amp; PERF_RECORD_MISC_CPUMODE_MASK</c>, include/uapi/linux/perf_event.h; xenoprof modes map onto it).</summary>
public enum SampleMode
{
    /// <summary>Unknown mode.</summary>
    Unknown = 0,
    /// <summary>Kernel mode.</summary>
    Kernel = 1,
    /// <summary>User mode.</summary>
    User = 2,
    /// <summary>Hypervisor mode.</summary>
    Hypervisor = 3,
    /// <summary>Guest kernel (passive domain).</summary>
    GuestKernel = 4,
    /// <summary>Guest user (passive domain).</summary>
    GuestUser = 5,
}
