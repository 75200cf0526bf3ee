using XenProf.Sampler.Store;

namespace XenProf.Sampler.Session;

/// <summary>
/// Saved sessions, as oprofile's <c>opcontrol --save=NAME</c> keeps them: the current samples are copied to
/// <c>DIR/saved/NAME</c> (a session directory of its own, read by <c>opreport session:NAME</c>) and then cleared.
/// </summary>
public static class SessionArchive
{
    /// <summary>
    /// Saves the samples of <paramref name="dir"/> (no daemon running) as <paramref name="name"/> and clears them.
    /// Returns a one-line summary. Throws <see cref="SessionException"/> when the session has no samples and
    /// <see cref="StoreException"/> when the name is taken or the store is of another version.
    /// </summary>
    public static string Save(SessionDirectory dir, string name)
    {
        if (!File.Exists(dir.StorePath)) throw new SessionException($"{dir.Path}: no samples to save (no session store here)");
        using var store = SessionStore.OpenForAppend(dir.StorePath);
        return Save(dir, store, name);
    }

    /// <summary>Saves what <paramref name="store"/> (the session's store, open for writing, e.g. by its daemon) has committed as <paramref name="name"/>, then clears it. Returns a one-line summary.</summary>
    public static string Save(SessionDirectory dir, SessionStore store, string name)
    {
        store.Commit();
        long n = store.CountSamples();
        var saved = dir.SaveAs(store, name);
        store.ClearSamples();
        return $"saved {n} samples as session:{name} ({saved.Path}); current samples cleared";
    }
}
