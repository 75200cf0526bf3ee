using XenProf.Reporter.Symbols;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Profile;

/// <summary>
/// Saves what the symbolizer answers for every frame of a finished session in its store (<c>symbol_cache</c>), so that
/// later reports on it (a cached import of a perf.data, reported again) read names instead of parsing kallsyms and
/// the images: the warm half of <c>opreport FILE</c>. Only a symbolizer with the default configuration reads or
/// writes it (<see cref="ConfigurationOf"/>); <c>--no-recovery</c> and other options symbolize afresh. Frames the
/// source named itself (<c>frame_names</c>) are not cached: they never reach the symbolizer.
/// </summary>
public static class SymbolCache
{
    /// <summary>The configuration string stored with a cache made by the default symbolizer.</summary>
    public const string DefaultConfiguration = "symbolizer-v2;recover-functions;debug-files;system-debug-root;running-vdso;demangle-normal";

    /// <summary>The cache configuration <paramref name="options"/> read and write, or null when they are not the defaults (no cache).</summary>
    public static string? ConfigurationOf(SymbolizerOptions options) =>
        options is { RecoverFunctions: true, UseDebugFiles: true, UseSystemDebugRoot: true, UseRunningVdso: true, DebugDirectories.Count: 0, Demangle: DemangleStyle.Normal }
            ? DefaultConfiguration : null;

    /// <summary>
    /// Resolves every frame of the session in <paramref name="sessionDir"/> with the default symbolizer (the session's own
    /// kallsyms snapshot) and saves the answers and the symbolizer's warnings. Returns the number of frames saved.
    /// Throws <see cref="StoreException"/> when the directory holds no store. <paramref name="kernel"/>, when given,
    /// supplies the session's kernel symbols already parsed (<see cref="SymbolizerOptions.KernelLoader"/>).
    /// </summary>
    public static int Fill(string sessionDir, Func<KernelSymbols>? kernel = null)
    {
        var dir = new SessionDirectory(sessionDir);
        var options = SessionProfiles.SymbolizerOptionsFor(sessionDir) with { KernelLoader = kernel, Demangle = DemangleStyle.Normal };
        using var symbolizer = new Symbolizer(options);
        using var store = SessionStore.OpenForAppend(dir.StorePath);
        using var frames = new StoreFrameSymbolizer(symbolizer, store.ReadMeta());
        var images = store.ReadImages();
        var named = store.ReadFrameNames();
        var allFrames = store.ReadFrames();
        var rows = new List<CachedSymbol>();
        // Every frame's name, the source's or the symbolizer's: what the leaf totals are summed by.
        var nameOf = new Dictionary<FrameId, string?>(allFrames.Count);
        foreach (var f in allFrames.Values)
        {
            if (named.TryGetValue(f.Id, out var given)) { nameOf[f.Id] = given; continue; }
            var image = images[f.Image];
            var row = frames.Locate(image, f.Offset) is { } l
                ? new CachedSymbol(f.Image, f.Offset, l.Name, true, l.Start, l.Size, l.Address)
                : new CachedSymbol(f.Image, f.Offset, frames.Symbolize(image, f.Offset), false, 0, 0, 0);
            rows.Add(row);
            nameOf[f.Id] = row.Name;
        }
        var configuration = ConfigurationOf(options)!;
        store.WriteSymbolCache(rows, configuration, frames.Warnings);
        store.WriteLeafTotals(LeafTotals(store, nameOf, allFrames), configuration, store.CountSamples());
        store.Commit();
        return rows.Count;
    }

    /// <summary>
    /// The session's samples summed per leaf (image, symbol), the symbol as <paramref name="nameOf"/> names the leaf frame:
    /// what a flat report of the session reads (<see cref="SessionStore.WriteLeafTotals"/>).
    /// </summary>
    private static IEnumerable<LeafTotal> LeafTotals(SessionStore store, Dictionary<FrameId, string?> nameOf,
        IReadOnlyDictionary<FrameId, StoredFrame> frames)
    {
        var sums = new Dictionary<(EventId, int, int, CommId, ImageId, string?), (long Samples, long Weight, long Period, double Squares)>();
        foreach (var t in store.ReadLeafFrameTotals())
        {
            var f = frames[t.Frame];
            var name = nameOf.GetValueOrDefault(t.Frame);
            ref var s = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(sums, (t.Event, t.Domain, t.Pid, t.Comm, f.Image, name), out _);
            s.Samples += t.Samples;
            s.Weight += t.Weight;
            s.Period += t.Period;
            s.Squares += t.PeriodSquares;
        }
        return sums.Select(kv => new LeafTotal(kv.Key.Item1, kv.Key.Item2, kv.Key.Item3, kv.Key.Item4, kv.Key.Item5, kv.Key.Item6,
            kv.Value.Samples, kv.Value.Weight, kv.Value.Period, kv.Value.Squares));
    }

    /// <summary>
    /// <paramref name="frames"/>, answered from <paramref name="store"/>'s symbol cache where it has one made with
    /// <paramref name="symbolizer"/>'s configuration; else <paramref name="frames"/> itself. The cache is read at the first
    /// frame asked for (a flat report from the leaf totals asks none), so <paramref name="store"/> must stay open while
    /// the answer is used.
    /// </summary>
    public static IFrameSymbolizer Wrap(SessionStore store, Symbolizer symbolizer, StoreFrameSymbolizer frames) =>
        ConfigurationOf(symbolizer.Options) is { } cfg && store.HasSymbolCache(cfg)
            ? new CachedFrameSymbolizer(() => store.ReadSymbolCache(cfg) ?? new Dictionary<(ImageId, ulong), CachedSymbol>(),
                store.ReadMeta().GetValueOrDefault(SessionStore.SymbolCacheWarningsKey), frames, cfg)
            : frames;
}

/// <summary>
/// A frame symbolizer that answers from a saved symbol cache and asks its fallback only for frames the cache lacks (added
/// after it was made). Warnings are the cached ones plus the fallback's.
/// </summary>
public sealed class CachedFrameSymbolizer : IFrameSymbolizer, IFrameAddressSymbolizer
{
    private readonly Lazy<IReadOnlyDictionary<(ImageId Image, ulong Offset), CachedSymbol>> _cache;
    private readonly string? _cachedWarnings;
    private readonly StoreFrameSymbolizer _fallback;

    /// <summary>Answers from <paramref name="cache"/>, then <paramref name="fallback"/>; <paramref name="cachedWarnings"/>: the cache's warnings, one per line.</summary>
    public CachedFrameSymbolizer(IReadOnlyDictionary<(ImageId Image, ulong Offset), CachedSymbol> cache, string? cachedWarnings, StoreFrameSymbolizer fallback)
        : this(() => cache, cachedWarnings, fallback, null) { }

    /// <summary>
    /// As the other constructor, the cache read by <paramref name="cache"/> at the first frame asked for;
    /// <paramref name="configuration"/> is the symbolizer configuration it was made with (<see cref="SymbolCache.ConfigurationOf"/>).
    /// </summary>
    internal CachedFrameSymbolizer(Func<IReadOnlyDictionary<(ImageId Image, ulong Offset), CachedSymbol>> cache, string? cachedWarnings,
        StoreFrameSymbolizer fallback, string? configuration)
    {
        _cache = new Lazy<IReadOnlyDictionary<(ImageId Image, ulong Offset), CachedSymbol>>(cache, LazyThreadSafetyMode.ExecutionAndPublication);
        _cachedWarnings = cachedWarnings;
        _fallback = fallback;
        Configuration = configuration;
    }

    /// <summary>
    /// The symbolizer configuration the cache was made with, null when not known. The store's leaf totals made with the
    /// same configuration name every leaf as this symbolizer would (<see cref="SessionStore.ReadLeafTotals"/>).
    /// </summary>
    public string? Configuration { get; }

    /// <inheritdoc/>
    public string? Symbolize(StoredImage image, ulong offset) =>
        _cache.Value.TryGetValue((image.Id, offset), out var s) ? s.Name : _fallback.Symbolize(image, offset);

    /// <inheritdoc/>
    public FrameSymbol? Locate(StoredImage image, ulong offset)
    {
        if (!_cache.Value.TryGetValue((image.Id, offset), out var s)) return _fallback.Locate(image, offset);
        return s.Located ? new FrameSymbol(s.Name!, s.Start, s.Size, s.Address) : null;
    }

    /// <summary>
    /// The frame at <paramref name="offset"/> in <paramref name="image"/> as the cache holds it (one lookup for its name
    /// and its place in its function), else as the fallback symbolizer answers.
    /// </summary>
    public CachedSymbol Resolve(StoredImage image, ulong offset)
    {
        if (_cache.Value.TryGetValue((image.Id, offset), out var s)) return s;
        return _fallback.Locate(image, offset) is { } l
            ? new CachedSymbol(image.Id, offset, l.Name, true, l.Start, l.Size, l.Address)
            : new CachedSymbol(image.Id, offset, _fallback.Symbolize(image, offset), false, 0, 0, 0);
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> Warnings =>
        (_cachedWarnings ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries).Concat(_fallback.Warnings).Distinct().ToList();
}
