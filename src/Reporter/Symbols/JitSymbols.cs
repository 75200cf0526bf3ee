using System.Globalization;
using XenProf.Hypervisor.Binary;

namespace XenProf.Reporter.Symbols;

/// <summary>
/// Names (and, from a jitdump, machine code) of the JIT code in one process's anonymous executable memory, which a
/// session names <c>/tmp/perf-PID.map</c> as perf does. Two sources, asked in this order for each address:
/// <list type="number">
/// <item><c>jit-PID.dump</c> in the same directory (<see cref="JitDumpReader"/>): every <see cref="JitCodeLoad"/> gives
/// <c>[code_addr, code_addr + code_size)</c> and its code bytes; a <see cref="JitCodeMove"/> adds the moved range with
/// the same name and code;</item>
/// <item>the perf map itself (<see cref="PerfMapSymbols"/>): names only. It covers what the dump lacks: a dump cut
/// short (the runtime still writing or killed), or one whose writer gave up, as .NET 10.0 up to at least 10.0.12 does
/// after two records with its default stub granularity (dotnet/runtime#132935; <c>DOTNET_PerfMapStubGranularity=2</c>
/// avoids it).</item>
/// </list>
/// Addresses are runtime addresses. When ranges were reused, the range recorded last for a start address wins, as
/// with perf maps (sample times are not consulted). A dump read only in part keeps what was read; the reason is in
/// <see cref="Warning"/>.
/// </summary>
public sealed class JitSymbols : IDisposable
{
    private readonly (ulong Start, ulong End, string Name, long CodeOffset)[] _syms;
    private readonly PerfMapSymbols? _map;
    private readonly Stream? _code;

    private JitSymbols(string source, (ulong, ulong, string, long)[] syms, PerfMapSymbols? map, Stream? code, string? warning)
    {
        SourcePath = source;
        _syms = syms;
        _map = map;
        _code = code;
        Warning = warning;
    }

    /// <summary>The file the symbols came from: a <c>jit-PID.dump</c> or a <c>perf-PID.map</c>.</summary>
    public string SourcePath { get; }

    /// <summary>True when the symbols come from a jitdump (which carries code bytes).</summary>
    public bool HasCode => _code != null;

    /// <summary>Functions known: ranges from the dump plus perf map lines.</summary>
    public int Count => _syms.Length + (_map?.Count ?? 0);

    /// <summary>What was wrong with a jitdump read in part (records or a tail skipped), or null.</summary>
    public string? Warning { get; }

    /// <summary>The jitdump a runtime writes beside <paramref name="perfMapPath"/>: <c>DIR/perf-PID.map</c> → <c>DIR/jit-PID.dump</c>;
    /// null when the name is not of that form.</summary>
    public static string? JitDumpPathFor(string perfMapPath)
    {
        var file = Path.GetFileName(perfMapPath);
        if (!file.StartsWith("perf-", StringComparison.Ordinal) || !file.EndsWith(".map", StringComparison.Ordinal)) return null;
        var pid = file["perf-".Length..^".map".Length];
        if (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out _)) return null;
        return Path.Combine(Path.GetDirectoryName(perfMapPath) ?? "/", "jit-" + pid + ".dump");
    }

    /// <summary>
    /// Loads the symbols for <paramref name="perfMapPath"/>: its <c>jit-PID.dump</c> when it exists and has a valid header,
    /// backed by the perf map for addresses the dump does not cover; the perf map alone otherwise; null when neither can
    /// be read. Never throws for missing, unreadable or malformed files (an unusable dump is ignored and
    /// <see cref="Warning"/> says why).
    /// </summary>
    public static JitSymbols? Open(string perfMapPath)
    {
        string? why = null;
        var map = PerfMapSymbols.Load(perfMapPath);
        if (JitDumpPathFor(perfMapPath) is { } dump && File.Exists(dump))
        {
            try
            {
                var r = JitDumpReader.Open(dump);
                try { return FromReader(r, ownsReader: true, fallback: map); }
                catch { r.Dispose(); throw; }
            }
            catch (MalformedDataException e) { why = $"{e.Message}; using {perfMapPath} instead"; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { why = $"cannot read {dump} ({e.Message}); using {perfMapPath} instead"; }
        }
        if (map?.Warning is { } mapWarning) why = why == null ? mapWarning : why + "; " + mapWarning;
        return map == null ? null : new JitSymbols(perfMapPath, [], map, null, why);
    }

    /// <summary>
    /// Reads every remaining record of <paramref name="reader"/> into a symbol table. Code bytes are read later, on
    /// demand, from the reader's <see cref="JitDumpReader.BaseStream"/> when it can seek (so it must stay open while
    /// <see cref="ReadCode"/> is used).
    /// </summary>
    /// <param name="reader">A reader positioned after the header.</param>
    /// <param name="ownsReader">Dispose <paramref name="reader"/> (and the stream it owns) with this table.</param>
    /// <param name="fallback">Names for addresses no load of the dump covers (the perf map written beside it), or null.</param>
    /// <exception cref="IOException">Reading failed.</exception>
    public static JitSymbols FromReader(JitDumpReader reader, bool ownsReader = false, PerfMapSymbols? fallback = null)
    {
        var byStart = new Dictionary<ulong, (ulong, ulong, string, long)>();
        var byIndex = new Dictionary<ulong, JitCodeLoad>();
        foreach (var rec in reader.ReadAll())
        {
            switch (rec)
            {
                case JitCodeLoad l:
                    byStart[l.CodeAddress] = (l.CodeAddress, l.CodeAddress + Math.Max(1, l.CodeSize), l.Name, l.CodeSize == 0 ? -1 : l.CodeOffset);
                    byIndex[l.CodeIndex] = l;
                    break;
                case JitCodeMove m when byIndex.TryGetValue(m.CodeIndex, out var l):
                    byStart[m.NewCodeAddress] = (m.NewCodeAddress, m.NewCodeAddress + Math.Max(1, l.CodeSize), l.Name, l.CodeSize == 0 ? -1 : l.CodeOffset);
                    break;
            }
        }
        string? warning = null;
        if (reader.SkippedBytes > 0)
            warning = $"{reader.SkippedBytes} bytes of {reader.Path} skipped"
                + (reader.UnknownRecords > 0 ? $" ({reader.UnknownRecords} records of unknown type)" : "")
                + (reader.Problems.Count > 0 ? ": " + string.Join("; ", reader.Problems.Take(3).Select(p => p.Message)) + (reader.Problems.Count > 3 ? $"; and {reader.Problems.Count - 3} more" : "") : "");
        var syms = byStart.Values.OrderBy(s => s.Item1).ToArray();
        var code = reader.BaseStream.CanSeek ? reader.BaseStream : null;
        if (warning != null && fallback != null) warning += "; names it lacks come from the perf map";
        if (fallback?.Warning is { } mapWarning) warning = warning == null ? mapWarning : warning + "; " + mapWarning;
        return new JitSymbols(reader.Path, syms, fallback, code, warning) { _owned = ownsReader ? reader : null };
    }

    private JitDumpReader? _owned;

    /// <summary>The function containing runtime address <paramref name="address"/>, or null. <see cref="ResolvedSymbol.Start"/>
    /// is the function's runtime address.</summary>
    public ResolvedSymbol? Find(ulong address)
    {
        int i = IndexOf(address);
        if (i >= 0) return new ResolvedSymbol(_syms[i].Name, _syms[i].Start, _syms[i].End - _syms[i].Start, address - _syms[i].Start);
        return _map?.FindSymbol(address);
    }

    /// <summary>
    /// Up to <paramref name="length"/> code bytes at runtime address <paramref name="address"/>, from the jitdump's
    /// <c>JIT_CODE_LOAD</c> covering it (never past that function's end); null without a jitdump, when no function covers
    /// the address, or when reading fails.
    /// </summary>
    public byte[]? ReadCode(ulong address, int length)
    {
        if (_code == null || length <= 0) return null;
        int i = IndexOf(address);
        if (i < 0 || _syms[i].CodeOffset < 0) return null;
        var s = _syms[i];
        int n = (int)Math.Min((ulong)length, s.End - address);
        var buf = new byte[n];
        try
        {
            _code.Position = s.CodeOffset + (long)(address - s.Start);
            int got = _code.ReadAtLeast(buf, n, throwOnEndOfStream: false);
            return got == 0 ? null : buf[..got];
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { return null; }
    }

    private int IndexOf(ulong address)
    {
        int lo = 0, hi = _syms.Length - 1, best = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_syms[mid].Start <= address) { best = mid; lo = mid + 1; } else hi = mid - 1;
        }
        return best >= 0 && address < _syms[best].End ? best : -1;
    }

    /// <summary>Closes the jitdump when this table owns it.</summary>
    public void Dispose()
    {
        _owned?.Dispose();
    }
}
