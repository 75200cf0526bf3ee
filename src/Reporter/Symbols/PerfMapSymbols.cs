using System.Globalization;

namespace XenProf.Reporter.Symbols;

/// <summary>
/// A JIT symbol map, <c>/tmp/perf-PID.map</c> (tools/perf/Documentation/jit-interface.txt): one <c>START SIZE name</c> per line, START and
/// SIZE in hex (with or without <c>0x</c>), the name the rest of the line. .NET writes it with <c>DOTNET_PerfMapEnabled=1</c>
/// (and needs <c>DOTNET_EnableWriteXorExecute=0</c> so the code runs from the anonymous memory the map describes).
/// Lines perf's parser would stop at are skipped. Lookups take a runtime address.
/// </summary>
public sealed class PerfMapSymbols
{
    private readonly (ulong Start, ulong End, string Name)[] _syms;

    private PerfMapSymbols((ulong, ulong, string)[] syms) => _syms = syms;

    /// <summary>Symbols read.</summary>
    public int Count => _syms.Length;

    /// <summary>Parses map lines; later entries for the same start win (re-JIT), as perf's insertion order does.</summary>
    public static PerfMapSymbols Parse(IEnumerable<string> lines)
    {
        var byStart = new Dictionary<ulong, (ulong, ulong, string)>();
        foreach (var line in lines)
        {
            int a = line.IndexOf(' ');
            if (a <= 0) continue;
            int b = line.IndexOf(' ', a + 1);
            if (b <= a + 1) continue;
            if (!TryHex(line.AsSpan(0, a), out var start) || !TryHex(line.AsSpan(a + 1, b - a - 1), out var size)) continue;
            byStart[start] = (start, start + size, line[(b + 1)..]);
        }
        return new PerfMapSymbols(byStart.Values.OrderBy(s => s.Item1).ToArray());
    }

    // perf reads both numbers with strtoull(…, 16), which also takes a 0x prefix; .NET writes one.
    private static bool TryHex(ReadOnlySpan<char> s, out ulong v)
    {
        if (s.StartsWith("0x") || s.StartsWith("0X")) s = s[2..];
        return ulong.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out v);
    }

    /// <summary>Reads <paramref name="path"/>; null when it does not exist or cannot be read.</summary>
    public static PerfMapSymbols? Load(string path)
    {
        try { return File.Exists(path) ? Parse(File.ReadLines(path)) : null; }
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
