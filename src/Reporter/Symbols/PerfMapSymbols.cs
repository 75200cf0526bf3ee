using System.Globalization;
using XenProf.Hypervisor.Binary;

namespace XenProf.Reporter.Symbols;

/// <summary>
/// A JIT symbol map, <c>/tmp/perf-PID.map</c> (tools/perf/Documentation/jit-interface.txt): one <c>START SIZE name</c> per line, START and
/// SIZE in hex (with or without <c>0x</c>), the name the rest of the line. .NET writes it with <c>DOTNET_PerfMapEnabled=1</c>
/// (and needs <c>DOTNET_EnableWriteXorExecute=0</c> so the code runs from the anonymous memory the map describes).
/// Lines that do not parse (perf's parser would stop at them) are skipped and counted in <see cref="SkippedLines"/>,
/// the first described by <see cref="FirstProblem"/>: a missing field, a number that is not hex or does not fit 64
/// bits, or a range whose end passes 2⁶⁴. Blank lines are passed over. Lookups take a runtime address.
/// </summary>
public sealed class PerfMapSymbols
{
    private const string Structure = "perf map line (START SIZE NAME)";
    private readonly (ulong Start, ulong End, string Name)[] _syms;

    private PerfMapSymbols((ulong, ulong, string)[] syms, long skipped, MalformedDataException? first)
    {
        _syms = syms;
        SkippedLines = skipped;
        FirstProblem = first;
    }

    /// <summary>Symbols read.</summary>
    public int Count => _syms.Length;

    /// <summary>Lines that did not parse and were skipped.</summary>
    public long SkippedLines { get; }

    /// <summary>Why the first skipped line was skipped, with the file and line; null when none was.</summary>
    public MalformedDataException? FirstProblem { get; }

    /// <summary>A message for reports when lines were skipped, else null.</summary>
    public string? Warning => SkippedLines == 0 ? null : $"{SkippedLines} perf map lines did not parse and were skipped; the first: {FirstProblem!.Message}";

    /// <summary>Parses map lines; later entries for the same start win (re-JIT), as perf's insertion order does.</summary>
    /// <param name="lines">The map's lines.</param>
    /// <param name="path">File named in problems.</param>
    /// <param name="strict">Throw at the first line that does not parse instead of skipping it.</param>
    /// <exception cref="MalformedDataException"><paramref name="strict"/> and a line does not parse.</exception>
    public static PerfMapSymbols Parse(IEnumerable<string> lines, string path = "perf map", bool strict = false)
    {
        var byStart = new Dictionary<ulong, (ulong, ulong, string)>();
        long lineNo = 0, skipped = 0;
        MalformedDataException? first = null;
        foreach (var line in lines)
        {
            lineNo++;
            if (line.Length == 0) continue;
            if (TryLine(line) is { } problem)
            {
                var e = MalformedDataException.AtLine(path, lineNo, Structure, problem);
                if (strict) throw e;
                first ??= e;
                skipped++;
                continue;
            }
            int a = line.IndexOf(' '), b = line.IndexOf(' ', a + 1);
            TryHex(line.AsSpan(0, a), out var start);
            TryHex(line.AsSpan(a + 1, b - a - 1), out var size);
            byStart[start] = (start, start + size, line[(b + 1)..]);
        }
        return new PerfMapSymbols(byStart.Values.OrderBy(s => s.Item1).ToArray(), skipped, first);
    }

    /// <summary>Null when <paramref name="line"/> is a well-formed map line, else what is wrong with it.</summary>
    private static string? TryLine(string line)
    {
        int a = line.IndexOf(' ');
        if (a <= 0) return "expected START SIZE NAME separated by single spaces";
        int b = line.IndexOf(' ', a + 1);
        if (b <= a + 1) return "expected a SIZE and a NAME after the start address";
        if (!TryHex(line.AsSpan(0, a), out var start)) return $"start '{Clip(line[..a])}' is not a hex number of at most 64 bits";
        if (!TryHex(line.AsSpan(a + 1, b - a - 1), out var size)) return $"size '{Clip(line[(a + 1)..b])}' is not a hex number of at most 64 bits";
        if (size > ulong.MaxValue - start) return $"range 0x{start:x} + 0x{size:x} passes the end of the address space";
        return null;
    }

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "…";

    // perf reads both numbers with strtoull(…, 16), which also takes a 0x prefix; .NET writes one.
    private static bool TryHex(ReadOnlySpan<char> s, out ulong v)
    {
        if (s.StartsWith("0x") || s.StartsWith("0X")) s = s[2..];
        return ulong.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out v);
    }

    /// <summary>Reads <paramref name="path"/>; null when it does not exist or cannot be read. Bad lines are skipped and counted.</summary>
    public static PerfMapSymbols? Load(string path)
    {
        try { return File.Exists(path) ? Parse(File.ReadLines(path), path) : null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>The symbol containing <paramref name="address"/>, or null.</summary>
    public string? Find(ulong address) => FindSymbol(address)?.Name;

    /// <summary>The symbol containing runtime address <paramref name="address"/> with its range, or null.</summary>
    public ResolvedSymbol? FindSymbol(ulong address)
    {
        int lo = 0, hi = _syms.Length - 1, best = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_syms[mid].Start <= address) { best = mid; lo = mid + 1; } else hi = mid - 1;
        }
        if (best < 0 || address >= _syms[best].End) return null;
        var (start, end, name) = _syms[best];
        return new ResolvedSymbol(name, start, end - start, address - start);
    }
}
