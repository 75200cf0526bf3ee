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
        var rows = new List<CachedSymbol>();
        foreach (var f in store.ReadFrames().Values)
        {
            if (named.ContainsKey(f.Id)) continue;
            var image = images[f.Image];
            rows.Add(frames.Locate(image, f.Offset) is { } l
                ? new CachedSymbol(f.Image, f.Offset, l.Name, true, l.Start, l.Size, l.Address)
                : new CachedSymbol(f.Image, f.Offset, frames.Symbolize(image, f.Offset), false, 0, 0, 0));
        }
        store.WriteSymbolCache(rows, ConfigurationOf(options)!, frames.Warnings);
        store.Commit();
        return rows.Count;
    }

    /// <summary>
    /// <paramref name="frames"/>, answered from <paramref name="store"/>'s symbol cache where it has one made with
    /// <paramref name="symbolizer"/>'s configuration; else <paramref name="frames"/> itself.
    /// </summary>
    public static IFrameSymbolizer Wrap(SessionStore store, Symbolizer symbolizer, StoreFrameSymbolizer frames) =>
        ConfigurationOf(symbolizer.Options) is { } cfg && store.ReadSymbolCache(cfg) is { } cache
            ? new CachedFrameSymbolizer(cache, store.ReadMeta().GetValueOrDefault(SessionStore.SymbolCacheWarningsKey), frames)
            : frames;
}

/// <summary>
/// A frame symbolizer that answers from a saved symbol cache and asks <paramref name="fallback"/> only for frames the
/// cache lacks (added after it was made). Warnings are the cached ones plus the fallback's.
/// </summary>
public sealed class CachedFrameSymbolizer(
    IReadOnlyDictionary<(ImageId Image, ulong Offset), CachedSymbol> cache, string? cachedWarnings, StoreFrameSymbolizer fallback)
    : IFrameSymbolizer, IFrameAddressSymbolizer
{
    /// <inheritdoc/>
    public string? Symbolize(StoredImage image, ulong offset) =>
        cache.TryGetValue((image.Id, offset), out var s) ? s.Name : fallback.Symbolize(image, offset);

    /// <inheritdoc/>
    public FrameSymbol? Locate(StoredImage image, ulong offset)
    {
        if (!cache.TryGetValue((image.Id, offset), out var s)) return fallback.Locate(image, offset);
        return s.Located ? new FrameSymbol(s.Name!, s.Start, s.Size, s.Address) : null;
    }

    /// <inheritdoc/>
    public IReadOnlyList<string> Warnings =>
        (cachedWarnings ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries).Concat(fallback.Warnings).Distinct().ToList();
}
