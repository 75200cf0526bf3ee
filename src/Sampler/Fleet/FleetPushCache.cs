using XenProf.Sampler.Store;

namespace XenProf.Sampler.Fleet;

/// <summary>
/// What <see cref="FleetPush.Push"/> remembers of one session from one push to the next, so that a push of a session
/// that grew (the opcontrol daemon's stream) reads only the frames and stack nodes added since: each frame read so far,
/// and each stack node's own frame (its leaf frame when a sample ends there). Ids are the store's, dense from 1, kept
/// in arrays indexed by id (8 bytes a stack node, 24 a frame). A new session id (another store, or the samples after a
/// reset) starts it afresh. Not thread-safe: one push at a time.
/// </summary>
public sealed class FleetPushCache
{
    private StoredFrame[] _frames = [];
    private long[] _leaf = [];

    /// <summary>The session the cache holds.</summary>
    internal string? Session { get; private set; }

    /// <summary>The highest frame id read.</summary>
    internal long LastFrame { get; private set; }

    /// <summary>The highest stack node id read.</summary>
    internal long LastStack { get; private set; }

    /// <summary>Starts afresh when <paramref name="session"/> is not the session held.</summary>
    internal void Use(string session)
    {
        if (Session == session) return;
        Session = session;
        _frames = [];
        _leaf = [];
        LastFrame = LastStack = 0;
    }

    /// <summary>
    /// The frames with an id from <paramref name="from"/> on, read from <paramref name="store"/> (those not yet held are
    /// remembered). Throws <see cref="StoreException"/> for an id beyond 2^31 (no store makes one).
    /// </summary>
    internal List<StoredFrame> FramesFrom(SessionStore store, long from)
    {
        var rows = store.ReadFramesAfter(Math.Min(from - 1, LastFrame));
        foreach (var f in rows)
        {
            if (f.Id.Value <= LastFrame) continue;
            Put(ref _frames, f.Id.Value, f);
            LastFrame = f.Id.Value;
        }
        return rows.Count > 0 && rows[0].Id.Value < from ? rows.FindAll(f => f.Id.Value >= from) : rows;
    }

    /// <summary>The stack nodes with an id from <paramref name="from"/> on, read from <paramref name="store"/> (those not yet held are remembered).</summary>
    internal List<StoredStack> StacksFrom(SessionStore store, long from)
    {
        var rows = store.ReadStacksAfter(Math.Min(from - 1, LastStack));
        foreach (var s in rows)
        {
            if (s.Id.Value <= LastStack) continue;
            Put(ref _leaf, s.Id.Value, s.Frame.Value);
            LastStack = s.Id.Value;
        }
        return rows.Count > 0 && rows[0].Id.Value < from ? rows.FindAll(s => s.Id.Value >= from) : rows;
    }

    /// <summary>The frame of stack node <paramref name="stack"/>, when both have been read.</summary>
    internal bool TryLeaf(long stack, out StoredFrame frame)
    {
        frame = default;
        if (stack <= 0 || stack >= _leaf.Length || _leaf[stack] <= 0 || _leaf[stack] >= _frames.Length) return false;
        frame = _frames[_leaf[stack]];
        return frame.Id.Value != 0;
    }

    private static void Put<T>(ref T[] items, long id, T value)
    {
        if (id <= 0 || id > int.MaxValue - 1) throw new StoreException($"id {id} beyond what a push indexes (1 to 2^31)");
        if (id >= items.Length) Array.Resize(ref items, (int)Math.Min(int.MaxValue - 1, Math.Max(id + 1, items.Length * 2L)));
        items[id] = value;
    }
}
