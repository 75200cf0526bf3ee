using System.Globalization;
using XenProf.Hypervisor.Binary;

namespace XenProf.Reporter.Symbols;

/// <summary>A kernel symbol found for an address.</summary>
/// <param name="Name">Symbol name as in kallsyms.</param>
/// <param name="Start">Address of the symbol.</param>
/// <param name="Size">Extent in bytes (to the next text symbol; see <see cref="KernelSymbols"/>).</param>
/// <param name="Offset">Address minus <paramref name="Start"/>, in bytes.</param>
/// <param name="Module">Module name (e.g. <c>nf_tables</c>) or null for the kernel image.</param>
public readonly record struct KernelSymbolMatch(string Name, KernelAddress Start, ulong Size, ulong Offset, string? Module);

/// <summary>A loaded module's address range <c>[Start, Start+Size)</c>.</summary>
/// <param name="Name">Module name as in <c>/proc/modules</c>.</param>
/// <param name="Start">Load address.</param>
/// <param name="Size">Size in bytes.</param>
public readonly record struct KernelModuleRange(string Name, KernelAddress Start, ulong Size);

/// <summary>
/// Kernel text symbols from <c>/proc/kallsyms</c> (lines <c>ADDR TYPE NAME [\t[MODULE]]</c>, ADDR in hex without
/// <c>0x</c>; format of <c>kernel/kallsyms.c</c> <c>s_show</c>) and module ranges from <c>/proc/modules</c>
/// (lines <c>NAME SIZE REFCOUNT DEPS STATE ADDRESS [TAINT]</c>, <c>kernel/module/procfs.c</c> <c>m_show</c>).
/// Only text symbols are kept (types <c>T t W w</c>, perf's <c>kallsyms__is_function</c>); data symbols are
/// ignored. A symbol ends where the next text symbol starts; at the boundary between images (kernel/module or
/// module/module) it ends at the module's end when known, else at the next 4 KiB page boundary. Symbols sharing an
/// address keep one name: global (<c>T</c>) over weak (<c>W w</c>) over local (<c>t</c>), then shortest, then ordinal.
/// With <c>kernel.kptr_restrict</c> in force kallsyms shows all addresses as zero: then <see cref="IsRestricted"/>
/// is true, <see cref="Warning"/> explains it, and every lookup returns null instead of a wrong name.
/// </summary>
public sealed class KernelSymbols
{
    private readonly ulong[] _starts;
    private readonly ulong[] _ends;
    private readonly string[] _names;
    private readonly string?[] _modules;
    private readonly KernelModuleRange[] _ranges;

    private KernelSymbols(ulong[] starts, ulong[] ends, string[] names, string?[] modules, KernelModuleRange[] ranges, bool restricted, string? warning)
    {
        _starts = starts; _ends = ends; _names = names; _modules = modules; _ranges = ranges;
        IsRestricted = restricted;
        Warning = warning;
    }

    /// <summary>Number of distinct text symbols.</summary>
    public int Count => _starts.Length;

    /// <summary>True when kallsyms showed only zero addresses (kptr_restrict); lookups then return null.</summary>
    public bool IsRestricted { get; }

    /// <summary>A message for the report when symbols are unusable or partial (e.g. kptr_restrict, lines that did not parse), else null.</summary>
    public string? Warning { get; }

    /// <summary>kallsyms and modules lines that did not parse and were skipped.</summary>
    public long SkippedLines { get; private init; }

    /// <summary>Module ranges, sorted by start: from <c>/proc/modules</c> where it was read with real addresses,
    /// otherwise spanning each module's kallsyms symbols.</summary>
    public IReadOnlyList<KernelModuleRange> Modules => _ranges;

    /// <summary>Reads kallsyms (and, if <paramref name="modulesPath"/> exists and is readable, the module list).</summary>
    /// <param name="kallsymsPath">Path of a kallsyms file; default the running kernel's.</param>
    /// <param name="modulesPath">Path of a <c>/proc/modules</c>-format file, or null to derive module ranges from kallsyms only.
    /// Ignored when missing or unreadable.</param>
    /// <exception cref="IOException">kallsyms cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">No permission to read kallsyms.</exception>
    public static KernelSymbols Load(string kallsymsPath = "/proc/kallsyms", string? modulesPath = "/proc/modules")
    {
        using var k = new StreamReader(kallsymsPath);
        TextReader? m = null;
        try
        {
            if (modulesPath != null && File.Exists(modulesPath))
            {
                try { m = new StringReader(File.ReadAllText(modulesPath)); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
            return Parse(k, m, kallsymsPath);
        }
        finally { m?.Dispose(); }
    }

    /// <summary>
    /// Parses kallsyms text (and optionally <c>/proc/modules</c> text). Lines that do not parse (fewer fields, a type that
    /// is not a letter, an address that is not hex or does not fit 64 bits; a module whose size is not a decimal number
    /// or whose range passes 2⁶⁴) are skipped, counted in <see cref="SkippedLines"/> and named in <see cref="Warning"/>.
    /// </summary>
    /// <param name="kallsyms">kallsyms lines.</param>
    /// <param name="modules"><c>/proc/modules</c> lines, or null.</param>
    /// <param name="sourceName">Name of the kallsyms file, used in <see cref="Warning"/> and problems.</param>
    /// <param name="strict">Throw at the first line that does not parse instead of skipping it.</param>
    /// <param name="modulesName">Name of the modules file in problems.</param>
    /// <exception cref="MalformedDataException"><paramref name="strict"/> and a line does not parse.</exception>
    public static KernelSymbols Parse(TextReader kallsyms, TextReader? modules = null, string sourceName = "/proc/kallsyms", bool strict = false,
        string modulesName = "/proc/modules")
    {
        var syms = new List<(ulong Addr, int Rank, string Name, string? Module)>();
        var moduleNames = new Dictionary<string, string>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        int textLines = 0, zero = 0;
        long lineNo = 0, skipped = 0;
        MalformedDataException? first = null;
        void Bad(string file, string structure, string problem)
        {
            var e = MalformedDataException.AtLine(file, lineNo, structure, problem);
            if (strict) throw e;
            first ??= e;
            skipped++;
        }
        // One read of the whole text, then lines as spans: a kallsyms has ~200k lines, and a string per line is garbage
        // that stops every thread of the process to collect.
        string text = kallsyms.ReadToEnd();
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            lineNo++;
            // ADDR TYPE NAME [\t[MODULE]], split by hand: most lines are data symbols, skipped before any allocation.
            ReadOnlySpan<char> rest = line.TrimStart(" \t");
            if (rest.IsEmpty) continue;
            int sp = rest.IndexOfAny(' ', '\t');
            if (sp <= 0) { Bad(sourceName, KallsymsLine, "expected ADDRESS TYPE NAME"); continue; }
            var addrText = rest[..sp];
            rest = rest[sp..].TrimStart(" \t");
            if (rest.Length < 2 || (rest[1] != ' ' && rest[1] != '\t') || !char.IsAsciiLetter(rest[0]))
            {
                Bad(sourceName, KallsymsLine, "expected a one-letter symbol type and a name after the address");
                continue;
            }
            int rank = rest[0] switch { 'T' => 0, 'W' or 'w' => 1, 't' => 2, _ => -1 };
            if (rank < 0)
            {
                // A data symbol: not kept, but its address must still be one.
                if (!ulong.TryParse(addrText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _)) Bad(sourceName, KallsymsLine, BadAddress(addrText));
                continue;
            }
            rest = rest[1..].TrimStart(" \t");
            sp = rest.IndexOfAny(' ', '\t');
            var nameText = sp < 0 ? rest : rest[..sp];
            if (nameText.Length == 0) { Bad(sourceName, KallsymsLine, "expected a symbol name after the type"); continue; }
            if (!ulong.TryParse(addrText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var addr)) { Bad(sourceName, KallsymsLine, BadAddress(addrText)); continue; }
            textLines++;
            if (addr == 0) { zero++; continue; }
            string? mod = null;
            if (sp >= 0)
            {
                var m = rest[sp..].Trim(" \t");
                int end = m.IndexOfAny(' ', '\t');
                if (end >= 0) m = m[..end];
                if (m.Length > 2 && m[0] == '[' && m[^1] == ']')
                {
                    m = m[1..^1];
                    if (!moduleNames.TryGetValue(m, out mod)) moduleNames[m] = mod = m.ToString();
                }
            }
            syms.Add((addr, rank, nameText.ToString(), mod));
        }

        var ranges = new List<KernelModuleRange>();
        if (modules != null)
        {
            string? line;
            lineNo = 0;
            while ((line = modules.ReadLine()) != null)
            {
                lineNo++;
                if (line.Length == 0) continue;
                if (Sampler.Attribution.KernelLayout.ParseModuleLine(line, out var name, out var start, out var size) is { } problem) { Bad(modulesName, ModulesLine, problem); continue; }
                if (start == 0) continue; // kptr_restrict hides module addresses
                ranges.Add(new KernelModuleRange(name, new KernelAddress(start), size));
            }
        }

        if (textLines > 0 && syms.Count == 0)
        {
            string w = $"{sourceName}: all {textLines} text symbol addresses are zero (kernel.kptr_restrict is set, or the reader lacks CAP_SYSLOG); "
                + "kernel samples stay unresolved. Run as root or 'sysctl kernel.kptr_restrict=0', or pass a kallsyms copy taken when profiling.";
            if (skipped > 0) w += $" Also {skipped} kallsyms or modules lines did not parse and were skipped; the first: {first!.Message}";
            return new KernelSymbols([], [], [], [], ranges.ToArray(), true, w) { SkippedLines = skipped };
        }

        syms.Sort((x, y) =>
        {
            int c = x.Addr.CompareTo(y.Addr);
            if (c != 0) return c;
            c = x.Rank.CompareTo(y.Rank);
            if (c != 0) return c;
            c = x.Name.Length.CompareTo(y.Name.Length);
            return c != 0 ? c : string.CompareOrdinal(x.Name, y.Name);
        });
        var uniq = new List<(ulong Addr, int Rank, string Name, string? Module)>(syms.Count);
        foreach (var s in syms) if (uniq.Count == 0 || uniq[^1].Addr != s.Addr) uniq.Add(s);

        if (ranges.Count == 0)
        {
            // No usable /proc/modules: span each module's symbols (end of last one fixed below).
            var byMod = new Dictionary<string, (ulong Lo, ulong Hi)>();
            foreach (var s in uniq)
                if (s.Module != null)
                    byMod[s.Module] = byMod.TryGetValue(s.Module, out var r) ? (Math.Min(r.Lo, s.Addr), Math.Max(r.Hi, s.Addr)) : (s.Addr, s.Addr);
            foreach (var (name, r) in byMod) ranges.Add(new KernelModuleRange(name, new KernelAddress(r.Lo), (((r.Hi + 4096) & ~4095UL) - r.Lo)));
        }
        ranges.Sort((a, b) => a.Start.Value.CompareTo(b.Start.Value));
        var rangeEnd = new Dictionary<string, ulong>();
        foreach (var r in ranges) rangeEnd[r.Name] = r.Start.Value + r.Size;

        int n = uniq.Count;
        var starts = new ulong[n]; var ends = new ulong[n]; var names = new string[n]; var mods = new string?[n];
        for (int i = 0; i < n; i++)
        {
            var s = uniq[i];
            starts[i] = s.Addr; names[i] = s.Name; mods[i] = s.Module;
            ulong next = i + 1 < n ? uniq[i + 1].Addr : ulong.MaxValue;
            if (i + 1 < n && uniq[i + 1].Module == s.Module) ends[i] = next;
            else
            {
                ulong bound = s.Module != null && rangeEnd.TryGetValue(s.Module, out var e) && e > s.Addr ? e : (s.Addr + 4096) & ~4095UL;
                if (bound <= s.Addr) bound = s.Addr + 1;
                ends[i] = Math.Min(next, bound);
            }
        }
        string? warn = zero > 0 ? $"{sourceName}: {zero} of {textLines} text symbols have address zero and were ignored" : null;
        if (skipped > 0)
            warn = (warn == null ? "" : warn + "; ") + $"{skipped} kallsyms or modules lines did not parse and were skipped; the first: {first!.Message}";
        return new KernelSymbols(starts, ends, names, mods, ranges.ToArray(), false, warn) { SkippedLines = skipped };
    }

    private const string KallsymsLine = "kallsyms line (ADDRESS TYPE NAME [[MODULE]])", ModulesLine = "modules line (NAME SIZE REFS DEPS STATE ADDRESS)";

    private static string BadAddress(ReadOnlySpan<char> text) =>
        $"address '{(text.Length > 40 ? text[..40].ToString() + "…" : text.ToString())}' is not a hex number of at most 64 bits";

    /// <summary>Finds the text symbol containing <paramref name="address"/>, or null (also when <see cref="IsRestricted"/>).</summary>
    public KernelSymbolMatch? Find(KernelAddress address)
    {
        ulong a = address.Value;
        int lo = 0, hi = _starts.Length;
        while (lo < hi) { int mid = (lo + hi) >>> 1; if (_starts[mid] <= a) lo = mid + 1; else hi = mid; }
        int i = lo - 1;
        if (i < 0 || a >= _ends[i]) return null;
        return new KernelSymbolMatch(_names[i], new KernelAddress(_starts[i]), _ends[i] - _starts[i], a - _starts[i], _modules[i]);
    }

    /// <summary>
    /// Finds a text symbol by exact name (the first in address order when a name repeats, as static functions may),
    /// or null. Used to turn workload function names into address ranges.
    /// </summary>
    public KernelSymbolMatch? FindByName(string name)
    {
        for (int i = 0; i < _names.Length; i++)
            if (_names[i] == name) return new KernelSymbolMatch(_names[i], new KernelAddress(_starts[i]), _ends[i] - _starts[i], 0, _modules[i]);
        return null;
    }

    /// <summary>
    /// perf's image name for a kernel address: <c>[modname]</c> when the address is in a module (by its symbol's
    /// module tag, else by module range), otherwise <c>[kernel.kallsyms]</c>.
    /// </summary>
    public string ImageNameOf(KernelAddress address)
    {
        if (Find(address) is { Module: { } m }) return ObjectKinds.ModuleImageName(m);
        foreach (var r in _ranges)
            if (address.Value >= r.Start.Value && address.Value - r.Start.Value < r.Size) return ObjectKinds.ModuleImageName(r.Name);
        return ObjectKinds.KernelImageName;
    }
}
