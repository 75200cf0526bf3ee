using XenProf.Reporter.Symbols;
using XenProf.Sampler.Fleet;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Profile;

/// <summary>Pushes a session directory into the fleet database with its frames named here, where its binaries are.</summary>
public static class SessionPush
{
    /// <summary>
    /// Pushes the session in <paramref name="sessionDir"/> (<see cref="FleetPush.Push"/>): what the database lacks of it.
    /// Throws <see cref="StoreException"/> when the directory holds no store, <see cref="ClickHouseException"/> when the server fails.
    /// </summary>
    public static FleetPushResult Push(string sessionDir, ClickHouseHttp ch, FleetPushOptions options, CancellationToken ct = default)
    {
        using var pusher = new SessionPusher(sessionDir);
        return pusher.Push(ch, options, ct);
    }
}

/// <summary>
/// Pushes one session directory, again and again as it grows (the opcontrol daemon streaming its dumps): the store is
/// opened for reading once, each frame is named once, and each push reads the frames and stack nodes added since the
/// last (<see cref="FleetPushCache"/>). Each frame gets the name a local <c>opreport -l</c> would print
/// (the source's own name, else the session's symbol cache or the symbolizer with the session's kallsyms snapshot) and,
/// where known, its place in its function (<c>opreport -d</c>). Not thread-safe: one push at a time.
/// </summary>
public sealed class SessionPusher : IDisposable
{
    private readonly SessionStore _store;
    private readonly Symbolizer _symbolizer;
    private readonly StoreFrameSymbolizer _frames;
    private readonly Dictionary<FrameId, CachedSymbol> _named = new();
    private readonly FleetPushCache _cache = new();
    private IFrameSymbolizer? _names;
    private IReadOnlyDictionary<FrameId, string?> _own = new Dictionary<FrameId, string?>();

    /// <summary>Opens the session store in <paramref name="sessionDir"/> for reading. Throws <see cref="StoreException"/> when there is none.</summary>
    public SessionPusher(string sessionDir)
    {
        var dir = new SessionDirectory(sessionDir);
        _store = SessionStore.OpenRead(dir.StorePath);
        _symbolizer = new Symbolizer(SessionProfiles.SymbolizerOptionsFor(sessionDir));
        _frames = new StoreFrameSymbolizer(_symbolizer, _store.ReadMeta());
    }

    /// <summary>
    /// Pushes what the database lacks of the session as committed now (<see cref="FleetPush.Push"/>). Throws
    /// <see cref="ClickHouseException"/> when the server fails; the next push sends what this one could not.
    /// </summary>
    public FleetPushResult Push(ClickHouseHttp ch, FleetPushOptions options, CancellationToken ct = default)
    {
        // The frames' own names and the symbol cache, read again: the daemon adds frames between pushes.
        _own = _store.ReadFrameNames();
        _names = SymbolCache.Wrap(_store, _symbolizer, _frames);
        return FleetPush.Push(ch, _store, Name, options, ct, _cache);
    }

    private CachedSymbol Name(StoredImage image, StoredFrame frame)
    {
        if (_named.TryGetValue(frame.Id, out var known)) return known;
        CachedSymbol s;
        if (_own.TryGetValue(frame.Id, out var named)) s = new CachedSymbol(image.Id, frame.Offset, named, false, 0, 0, 0);
        else if (_names is CachedFrameSymbolizer cached) s = cached.Resolve(image, frame.Offset);
        else
        {
            var name = _names!.Symbolize(image, frame.Offset);
            s = ((IFrameAddressSymbolizer)_names).Locate(image, frame.Offset) is { } l
                ? new CachedSymbol(image.Id, frame.Offset, name, true, l.Start, l.Size, l.Address)
                : new CachedSymbol(image.Id, frame.Offset, name, false, 0, 0, 0);
        }
        return _named[frame.Id] = s;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _frames.Dispose();
        _symbolizer.Dispose();
        _store.Dispose();
    }
}
