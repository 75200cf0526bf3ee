namespace XenProf.Sampler.Session;

/// <summary>
/// What the opcontrol <see cref="Daemon"/> drives: a sample source with a store behind it. <see cref="LiveProfiler"/>
/// (perf_event) and the xenoprof profiler implement it. Calls are serialized by the daemon.
/// </summary>
public interface IDaemonProfiler : IDisposable
{
    /// <summary>Samples written to the store so far.</summary>
    long Samples { get; }

    /// <summary>Samples the source reported lost.</summary>
    long LostSamples { get; }

    /// <summary>True while counting.</summary>
    bool IsEnabled { get; }

    /// <summary>Event names being sampled.</summary>
    IReadOnlyList<string> EventNames { get; }

    /// <summary>Starts counting.</summary>
    void Enable();

    /// <summary>Stops counting and drains what is buffered.</summary>
    void Disable();

    /// <summary>Waits up to <paramref name="timeout"/> for data.</summary>
    void Wait(TimeSpan timeout);

    /// <summary>One drain pass; returns records or entries read.</summary>
    int Drain();

    /// <summary>Drains everything and commits the store.</summary>
    void Dump();

    /// <summary>Deletes the samples taken so far (after a dump, so nothing buffered survives the reset).</summary>
    void Reset()
    {
        Dump();
        Store.ClearSamples();
    }

    /// <summary>The store samples are written into (for <c>--save</c>; the daemon serializes its use).</summary>
    XenProf.Sampler.Store.SessionStore Store { get; }
}
