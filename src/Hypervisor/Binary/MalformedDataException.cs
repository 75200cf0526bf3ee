namespace XenProf.Hypervisor.Binary;

/// <summary>
/// The one exception for malformed input (perf.data, ELF, xenoprof buffers, perf maps…). It carries the
/// file <see cref="Path"/>, the absolute byte <see cref="Offset"/> where the problem was found, and the
/// <see cref="Structure"/> being read (for example <c>perf_event_header</c> or <c>Elf64_Sym[412]</c>), so the
/// CLI can print one line such as
/// <c>perf.data: offset 0x1a2f8: PERF_RECORD_MMAP2: declares size 24, smaller than its 40-byte body</c>.
/// Bugs in our own code use <see cref="InvalidOperationException"/> instead. Malformed input is a user error, so this
/// derives from <see cref="XenProfUserException"/>.
/// </summary>
public sealed class MalformedDataException : XenProfUserException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">File (or pseudo-file such as <c>perf ring cpu 1</c>) that was being read.</param>
    /// <param name="offset">Absolute byte offset in that file.</param>
    /// <param name="structure">Name of the structure being decoded.</param>
    /// <param name="problem">What was wrong and what was expected.</param>
    public MalformedDataException(string path, long offset, string structure, string problem)
        : base($"{path}: offset 0x{offset:x}: {structure}: {problem}")
    {
        Path = path;
        Offset = offset;
        Structure = structure;
        Problem = problem;
    }

    /// <summary>File that was being read.</summary>
    public string Path { get; }

    /// <summary>Absolute byte offset of the problem in <see cref="Path"/>.</summary>
    public long Offset { get; }

    /// <summary>Structure being decoded, e.g. <c>perf_event_header</c>.</summary>
    public string Structure { get; }

    /// <summary>What was wrong, without the location prefix.</summary>
    public string Problem { get; }
}
