using System.Globalization;
using Iced.Intel;
using XenProf.Reporter.Symbols.SymbolsInternal;

namespace XenProf.Reporter.Symbols;

/// <summary>Where a recovered function range came from, strongest evidence first.</summary>
public enum RecoveredFrom
{
    /// <summary>A PLT entry, named <c>name@plt</c> after the relocation of the GOT slot it jumps through.</summary>
    Plt = 1,
    /// <summary>An FDE in <c>.eh_frame</c>: exact start and size (every function with unwind info has one).</summary>
    EhFrame = 2,
    /// <summary>The target of a direct <c>call</c> found by disassembling executable sections; it extends to the
    /// next known function start (or the end of its section).</summary>
    CallTarget = 3,
}

/// <summary>A function range recovered from what a stripped image still carries.</summary>
/// <param name="Name">Display name: <c>name@plt</c> for PLT entries, otherwise <see cref="FunctionRecovery.NameFor"/>
/// (<c>liblzma.so.5.4.1+0x15b40</c>).</param>
/// <param name="Start">First address (SVMA).</param>
/// <param name="Size">Extent in bytes.</param>
/// <param name="Source">The evidence it came from.</param>
public readonly record struct RecoveredFunction(string Name, Svma Start, ulong Size, RecoveredFrom Source)
{
    /// <summary>Whether <paramref name="address"/> lies in <c>[Start, Start + Size)</c>.</summary>
    public bool Contains(Svma address) => address.Value >= Start.Value && address.Value - Start.Value < Size;
}

/// <summary>
/// Function ranges of an ELF image beyond its symbol tables, recovered from (in order of precedence):
/// PLT entries (<see cref="RecoveredFrom.Plt"/>), <c>.eh_frame</c> FDE ranges (<see cref="RecoveredFrom.EhFrame"/>)
/// and direct call targets found with Iced (<see cref="RecoveredFrom.CallTarget"/>). Ranges whose start is already a
/// symbol's start are left out (the symbol names them); a call target inside a symbol or FDE range is not a new
/// function. Lookup (<see cref="Find"/>) tries the tiers in that order, so a PLT entry wins over the single FDE that
/// usually covers the whole <c>.plt</c>.
/// <para>Naming convention: a recovered function without a name is called <c>&lt;image basename&gt;+0x&lt;start&gt;</c>,
/// where start is the SVMA in lowercase hex without leading zeros, the address <c>objdump -d</c> prints for the
/// same instruction (for shared libraries and PIE this is also the offset perf prints for an unresolved sample).
/// Example: <c>liblzma.so.5.4.1+0x15b40</c>.</para>
/// Immutable once built; thread-safe for lookups.
/// </summary>
public sealed class FunctionRecovery
{
    private readonly Tier[] _tiers;

    private IReadOnlyList<RecoveredFunction>? _all;

    private FunctionRecovery(string imageName, Tier[] tiers)
    {
        ImageName = imageName;
        _tiers = tiers;
    }

    /// <summary>The image basename used in generated names.</summary>
    public string ImageName { get; }

    /// <summary>Every recovered function, sorted by source then start (listed, and unnamed ones named, when first asked).</summary>
    public IReadOnlyList<RecoveredFunction> Functions
    {
        get
        {
            if (_all != null) return _all;
            var all = new List<RecoveredFunction>();
            foreach (var t in _tiers) for (int i = 0; i < t.Count; i++) all.Add(t.At(i, ImageName));
            return _all = all;
        }
    }

    /// <summary>Number of recovered functions from <paramref name="source"/>.</summary>
    public int Count(RecoveredFrom source) => Functions.Count(f => f.Source == source);

    /// <summary>The generated name of an unnamed function: <c>basename+0xSTART</c>.</summary>
    public static string NameFor(string imageName, ulong start) => Path.GetFileName(imageName) + "+0x" + start.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>The recovered function containing <paramref name="address"/>, or null.</summary>
    public RecoveredFunction? Find(Svma address)
    {
        foreach (var t in _tiers)
        {
            int i = t.IndexOf(address.Value);
            if (i >= 0) return t.At(i, ImageName);
        }
        return null;
    }

    /// <summary>An empty result (nothing recovered), e.g. for an image that is not x86 code.</summary>
    public static FunctionRecovery Empty(string imageName) => new(Path.GetFileName(imageName), []);

    /// <summary>
    /// Recovers function ranges from <paramref name="file"/>. Reads <c>.eh_frame</c>, relocation tables and PLT
    /// sections, and decodes every executable section once (x86-64 and x86-32 images; others get FDE ranges only).
    /// Never throws for odd input: unreadable parts contribute nothing.
    /// </summary>
    /// <param name="file">The image (its symbols, including an attached debug file, count as known).</param>
    /// <param name="useCallTargets">Whether to disassemble for call targets (the slowest step).</param>
    public static FunctionRecovery Recover(ElfObjectFile file, bool useCallTargets = true)
    {
        string image = Path.GetFileName(file.Path);
        var symbolStarts = new HashSet<ulong>();
        var symbolRanges = new List<(ulong Start, ulong End)>();
        foreach (var s in file.Symbols)
        {
            symbolStarts.Add(s.Start.Value);
            symbolRanges.Add((s.Start.Value, s.Start.Value + s.Size));
        }

        var plt = new List<(ulong Start, ulong Size, string Name)>();
        PltNames.Read(file, plt);
        plt.RemoveAll(p => symbolStarts.Contains(p.Start));

        var fdes = new List<(ulong Start, ulong Size)>();
        foreach (var sec in file.Sections)
            if (sec.Name == ".eh_frame" && sec.Address != 0)
                EhFrameReader.ReadRanges(file.SectionBytes(sec), sec.Address, file.Is64Bit, fdes);
        var pltStarts = new HashSet<ulong>(plt.Select(p => p.Start));
        fdes.RemoveAll(f => symbolStarts.Contains(f.Start) || pltStarts.Contains(f.Start));
        fdes = fdes.Distinct().ToList();

        var calls = new List<(ulong Start, ulong Size)>();
        if (useCallTargets && file.Machine is 62 or 3)
            calls = CallTargets(file, symbolRanges, symbolStarts, plt, fdes);

        var tiers = new[]
        {
            Tier.Build(plt.Select(p => (p.Start, p.Size, (string?)p.Name)), RecoveredFrom.Plt),
            Tier.Build(fdes.Select(f => (f.Start, f.Size, (string?)null)), RecoveredFrom.EhFrame),
            Tier.Build(calls.Select(c => (c.Start, c.Size, (string?)null)), RecoveredFrom.CallTarget),
        };
        return new FunctionRecovery(image, tiers);
    }

    /// <summary>
    /// Rebuilds a recovery from saved functions (the on-disk cache): (start, size, name) per source; a null name is
    /// generated (<see cref="NameFor"/>) when first asked for.
    /// </summary>
    internal static FunctionRecovery FromFunctions(string imageName, IReadOnlyDictionary<RecoveredFrom, List<(ulong Start, ulong Size, string? Name)>> functions)
    {
        var tiers = new[] { RecoveredFrom.Plt, RecoveredFrom.EhFrame, RecoveredFrom.CallTarget }
            .Select(src => Tier.Build(functions.TryGetValue(src, out var l) ? l : [], src))
            .ToArray();
        return new FunctionRecovery(imageName, tiers);
    }

    private static List<(ulong, ulong)> CallTargets(ElfObjectFile file, List<(ulong Start, ulong End)> symbols, HashSet<ulong> symbolStarts,
        List<(ulong Start, ulong Size, string Name)> plt, List<(ulong Start, ulong Size)> fdes)
    {
        var exec = file.Sections.Where(s => s.IsExecutable && s.Address != 0 && s.Type != 8).ToList();
        int bitness = file.Machine == 62 ? 64 : 32;
        var targets = new HashSet<ulong>();
        foreach (var sec in exec)
        {
            if (sec.Name.StartsWith(".plt", StringComparison.Ordinal)) continue;
            var bytes = file.SectionBytes(sec);
            if (bytes.IsEmpty) continue;
            var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(bytes.ToArray()), sec.Address, DecoderOptions.None);
            ulong end = sec.Address + (ulong)bytes.Length;
            while (decoder.IP < end)
            {
                decoder.Decode(out var ins);
                if (ins.FlowControl == FlowControl.Call && ins.Op0Kind is OpKind.NearBranch64 or OpKind.NearBranch32)
                    targets.Add(ins.NearBranchTarget);
            }
        }
        // Known ranges a call target may fall into (then it is not a new function).
        var known = new List<(ulong Start, ulong End)>(symbols);
        known.AddRange(plt.Select(p => (p.Start, p.Start + p.Size)));
        known.AddRange(fdes.Select(f => (f.Start, f.Start + f.Size)));
        var covered = Tier.Build(known.Select(k => (k.Start, k.End - k.Start, (string?)null)), RecoveredFrom.EhFrame);
        var fresh = targets.Where(t => exec.Any(s => s.Contains(t)) && !symbolStarts.Contains(t) && covered.IndexOf(t) < 0).ToList();
        if (fresh.Count == 0) return [];
        var starts = new SortedSet<ulong>(known.Select(k => k.Start));
        foreach (var t in fresh) starts.Add(t);
        var ordered = starts.ToArray();
        var result = new List<(ulong, ulong)>();
        foreach (var t in fresh)
        {
            var sec = exec.First(s => s.Contains(t));
            int i = Array.BinarySearch(ordered, t);
            ulong end = sec.Address + sec.Size;
            if (i + 1 < ordered.Length && ordered[i + 1] < end) end = ordered[i + 1];
            result.Add((t, end - t));
        }
        return result;
    }

    /// <summary>One tier: sorted, possibly nested ranges with optional names.</summary>
    private sealed class Tier
    {
        private readonly ulong[] _starts, _sizes;
        private readonly string?[] _names;
        private readonly RecoveredFrom _source;

        private Tier(ulong[] starts, ulong[] sizes, string?[] names, RecoveredFrom source) { _starts = starts; _sizes = sizes; _names = names; _source = source; }

        public int Count => _starts.Length;

        public static Tier Build(IEnumerable<(ulong Start, ulong Size, string? Name)> ranges, RecoveredFrom source)
        {
            var arr = ranges.Where(r => r.Size > 0).OrderBy(r => r.Start).ThenByDescending(r => r.Size).ToArray();
            return new Tier(arr.Select(r => r.Start).ToArray(), arr.Select(r => r.Size).ToArray(), arr.Select(r => r.Name).ToArray(), source);
        }

        public int IndexOf(ulong address)
        {
            int lo = 0, hi = _starts.Length;
            while (lo < hi)
            {
                int mid = (int)((uint)(lo + hi) >> 1);
                if (_starts[mid] <= address) lo = mid + 1; else hi = mid;
            }
            for (int k = lo - 1; k >= 0 && k >= lo - 16; k--)
                if (address - _starts[k] < _sizes[k]) return k;
            return -1;
        }

        public RecoveredFunction At(int i, string image) =>
            new(_names[i] ??= NameFor(image, _starts[i]), new Svma(_starts[i]), _sizes[i], _source);
    }
}
