namespace XenProf.Hypervisor.Binary;

/// <summary>
/// The one exception for malformed input (perf.data, ELF, xenoprof buffers, perf maps…). It carries the
/// file <see cref="Path"/>, the absolute byte <see cref="Offset"/> where the problem was found, and the
/// <see cref="Structure"/> being read (for example <c>perf_event_header</c> or <c>Elf64_Sym[412]</c>), so the
/// CLI can print one line such as
/// <c>perf.data: offset 0x1a2f8: PERF_RECORD_MMAP2: declares size 24, smaller than its 40-byte body</c>.
/// Text formats (perf script, perf maps, kallsyms, scenario JSON) name a line instead of a byte offset
/// (<see cref="AtLine"/>, <see cref="Line"/>): <c>out.perf: line 12: perf script event line: pid 99999999999 is out of range</c>.
/// Bugs in our own code use <see cref="InvalidOperationException"/> instead. Malformed input is a user error, so this
/// derives from <see cref="XenProfUserException"/>.
/// </summary>
public sealed class MalformedDataException : XenProfUserException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">File (or pseudo-file such as <c>perf ring cpu 1</c>) that was being read.</param>
    /// <param name="offset">Absolute byte offset in that file; -1 when the problem has no single place (a file that
    /// contradicts itself), and then the message names only the <paramref name="structure"/>.</param>
    /// <param name="structure">Name of the structure being decoded.</param>
    /// <param name="problem">What was wrong and what was expected.</param>
    public MalformedDataException(string path, long offset, string structure, string problem)
        : base(offset >= 0 ? $"{path}: offset 0x{offset:x}: {structure}: {problem}" : $"{path}: {structure}: {problem}")
    {
        Path = path;
        Offset = offset;
        Structure = structure;
        Problem = problem;
    }

    private MalformedDataException(string path, long line, long offset, string structure, string problem)
        : base($"{path}: line {line}: {structure}: {problem}")
    {
        Path = path;
        Line = line;
        Offset = offset;
        Structure = structure;
        Problem = problem;
    }

    /// <summary>The exception for a text file, located by its 1-based <paramref name="line"/>.</summary>
    /// <param name="path">File that was being read.</param>
    /// <param name="line">1-based line number of the problem.</param>
    /// <param name="structure">What the line should have been (e.g. <c>perf script event line</c>).</param>
    /// <param name="problem">What was wrong and what was expected.</param>
    /// <param name="offset">Byte offset of the line in the file, or -1 when the reader does not know it.</param>
    public static MalformedDataException AtLine(string path, long line, string structure, string problem, long offset = -1) =>
        new(path, line, offset, structure, problem);

    /// <summary>1-based line of the problem in a text file; 0 for binary input, located by <see cref="Offset"/> alone.</summary>
    public long Line { get; }

    /// <summary>File that was being read.</summary>
    public string Path { get; }

    /// <summary>Absolute byte offset of the problem in <see cref="Path"/> (-1 for a text line whose offset is not known).</summary>
    public long Offset { get; }

    /// <summary>Structure being decoded, e.g. <c>perf_event_header</c>.</summary>
    public string Structure { get; }

    /// <summary>What was wrong, without the location prefix.</summary>
    public string Problem { get; }
}
