using System.Globalization;

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

    /// <summary>Reads <paramref name="modulesPath"/> (default <c>/proc/modules</c>); an unreadable file gives a layout with no modules.</summary>
    public static KernelLayout Load(string modulesPath = "/proc/modules")
    {
        try { return Parse(File.ReadAllLines(modulesPath)); }
        catch (IOException) { return new KernelLayout([]); }
        catch (UnauthorizedAccessException) { return new KernelLayout([]); }
    }

    /// <summary>Parses <c>/proc/modules</c> lines; lines that do not have six fields are skipped.</summary>
    public static KernelLayout Parse(IEnumerable<string> lines)
    {
        var list = new List<(ulong, ulong, string)>();
        foreach (var line in lines)
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 6) continue;
            if (!ulong.TryParse(f[1], out var size)) continue;
            var a = f[5].StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? f[5][2..] : f[5];
            if (!ulong.TryParse(a, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var addr)) continue;
            list.Add((addr, addr + size, "[" + f[0] + "]"));
        }
        return new KernelLayout(list);
    }

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
