using XenProf.Reporter.Symbols;
using XenProf.Sampler.Fleet;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Profile;

/// <summary>Pushes a session directory into the fleet database with its frames named here, where its binaries are.</summary>
public static class SessionPush
{
    /// <summary>
    /// Pushes the session in <paramref name="sessionDir"/> (<see cref="FleetPush.Push"/>). Each frame gets the name a local
    /// <c>opreport -l</c> would print (the source's own name, else the session's symbol cache or the symbolizer with the
    /// session's kallsyms snapshot) and, where known, its place in its function (<c>opreport -d</c>).
    /// Throws <see cref="StoreException"/> when the directory holds no store, <see cref="ClickHouseException"/> when the server fails.
    /// </summary>
    public static FleetPushResult Push(string sessionDir, ClickHouseHttp ch, FleetPushOptions options, CancellationToken ct = default)
    {
        var dir = new SessionDirectory(sessionDir);
        using var store = SessionStore.OpenRead(dir.StorePath);
        using var symbolizer = new Symbolizer(SessionProfiles.SymbolizerOptionsFor(sessionDir));
        using var frames = new StoreFrameSymbolizer(symbolizer, store.ReadMeta());
        var names = SymbolCache.Wrap(store, symbolizer, frames);
        var locator = (IFrameAddressSymbolizer)names;
        var own = store.ReadFrameNames();
        // The import's sums per leaf image and symbol, named as below (the source's names, else the cache's), when they
        // cover every committed sample; else the push sums the stack totals itself.
        var leafTotals = SymbolCache.ConfigurationOf(symbolizer.Options) is { } cfg && store.HasSymbolCache(cfg) ? store.ReadLeafTotals(cfg) : null;
        return FleetPush.Push(ch, store, (image, frame) =>
        {
            if (own.TryGetValue(frame.Id, out var named)) return new CachedSymbol(image.Id, frame.Offset, named, false, 0, 0, 0);
            if (names is CachedFrameSymbolizer cached) return cached.Resolve(image, frame.Offset);
            var name = names.Symbolize(image, frame.Offset);
            return locator.Locate(image, frame.Offset) is { } l
                ? new CachedSymbol(image.Id, frame.Offset, name, true, l.Start, l.Size, l.Address)
                : new CachedSymbol(image.Id, frame.Offset, name, false, 0, 0, 0);
        }, options, ct, leafTotals);
    }
}
