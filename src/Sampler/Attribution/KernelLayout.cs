using System.Globalization;
using XenProf.Hypervisor.Binary;

namespace XenProf.Sampler.Attribution;

/// <summary>
/// Which kernel image an address belongs to: a loaded module (named <c>[modname]</c>, as perf names
/// modules) or the kernel itself (<c>[kernel.kallsyms]</c>). Module ranges come from <c>/proc/modules</c>
/// (fields: name, size in bytes, refcount, dependencies, state, load address; the address reads 0 when
/// <c>kptr_restrict</c> hides it).
/// </summary>
public sealed class KernelLayout
{
    /// <summary>Image name perf and XenProf give the kernel proper.</summary>
    public const string KernelImageName = "[kernel.kallsyms]";

    private readonly (ulong Start, ulong End, string Name)[] _modules;

    /// <summary>Creates a layout from module ranges ([Start, End) absolute addresses).</summary>
    public KernelLayout(IEnumerable<(ulong Start, ulong End, string Name)> modules)
    {
        _modules = modules.Where(m => m.Start != 0 && m.End > m.Start).OrderBy(m => m.Start).ToArray();
    }

    /// <summary>Module ranges, sorted by start address.</summary>
    public IReadOnlyList<(ulong Start, ulong End, string Name)> Modules => _modules;

    /// <summary>Lines of the modules file that did not parse and were skipped.</summary>
    public long SkippedLines { get; private init; }

    /// <summary>Why the first skipped line was skipped, with the file and line; null when none was.</summary>
    public MalformedDataException? FirstProblem { get; private init; }

    /// <summary>Reads <paramref name="modulesPath"/> (default <c>/proc/modules</c>); an unreadable file gives a layout with no modules.</summary>
    public static KernelLayout Load(string modulesPath = "/proc/modules")
    {
        try { return Parse(File.ReadAllLines(modulesPath), modulesPath); }
        catch (IOException) { return new KernelLayout([]); }
        catch (UnauthorizedAccessException) { return new KernelLayout([]); }
    }

    /// <summary>Parses <c>/proc/modules</c> lines; lines that do not parse (<see cref="ParseModuleLine"/>) are skipped and
    /// counted in <see cref="SkippedLines"/>, or with <paramref name="strict"/> throw.</summary>
    /// <exception cref="MalformedDataException"><paramref name="strict"/> and a line does not parse.</exception>
    public static KernelLayout Parse(IEnumerable<string> lines, string path = "/proc/modules", bool strict = false)
    {
        var list = new List<(ulong, ulong, string)>();
        long lineNo = 0, skipped = 0;
        MalformedDataException? first = null;
        foreach (var line in lines)
        {
            lineNo++;
            if (line.Length == 0) continue;
            if (ParseModuleLine(line, out var name, out var addr, out var size) is { } problem)
            {
                var e = MalformedDataException.AtLine(path, lineNo, ModulesLine, problem);
                if (strict) throw e;
                first ??= e;
                skipped++;
                continue;
            }
            list.Add((addr, addr + size, "[" + name + "]"));
        }
        return new KernelLayout(list) { SkippedLines = skipped, FirstProblem = first };
    }

    private const string ModulesLine = "modules line (NAME SIZE REFS DEPS STATE ADDRESS)";

    /// <summary>
    /// Splits a <c>/proc/modules</c> line (<c>NAME SIZE REFCOUNT DEPS STATE ADDRESS [TAINT]</c>, <c>kernel/module/procfs.c</c>
    /// <c>m_show</c>): null when it parses, else what is wrong (too few fields, a size that is not a decimal u64, an address
    /// that is not a hex u64, a range passing 2⁶⁴). The address reads 0 under kptr_restrict; that parses.
    /// </summary>
    public static string? ParseModuleLine(string line, out string name, out ulong start, out ulong size)
    {
        name = "";
        start = size = 0;
        var p = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (p.Length < 6) return $"expected at least 6 fields, found {p.Length}";
        name = p[0];
        if (!ulong.TryParse(p[1], NumberStyles.None, CultureInfo.InvariantCulture, out size)) return $"size '{Clip(p[1])}' is not a decimal number of at most 64 bits";
        var a = p[5].StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? p[5][2..] : p[5];
        if (!ulong.TryParse(a, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out start)) return $"address '{Clip(p[5])}' is not a hex number of at most 64 bits";
        if (size > ulong.MaxValue - start) return $"module range 0x{start:x} + {size} passes the end of the address space";
        return null;
    }

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "…";

    /// <summary>True for addresses in the upper canonical half, where x86-64 Linux places the kernel.</summary>
    public static bool IsKernelAddress(ulong address) => address >= 0xffff_8000_0000_0000UL;

    /// <summary>Returns the image name for a kernel address: a module's <c>[name]</c> or <see cref="KernelImageName"/>.</summary>
    public string ImageFor(ulong address)
    {
        int lo = 0, hi = _modules.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var m = _modules[mid];
            if (address < m.Start) hi = mid - 1;
            else if (address >= m.End) lo = mid + 1;
            else return m.Name;
        }
        return KernelImageName;
    }
}
