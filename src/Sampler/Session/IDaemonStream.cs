namespace XenProf.Sampler.Session;

/// <summary>
/// Where the opcontrol <see cref="Daemon"/> streams its session as it dumps (opcontrol <c>--clickhouse URL</c>: the
/// fleet database). Called on the daemon's thread; an implementation does its work on its own thread, so that sampling
/// never waits for the network, and reports failures in the daemon's log rather than throwing.
/// </summary>
public interface IDaemonStream : IDisposable
{
    /// <summary>
    /// The store was committed. <paramref name="asked"/>: by a <c>dump</c>, <c>stop</c> or <c>shutdown</c> request (send
    /// now); else by the daemon's periodic commit (send when the last send is old enough).
    /// </summary>
    void Committed(bool asked);

    /// <summary>Sends everything committed and waits for it, up to <paramref name="timeout"/> (before a <c>reset</c> or <c>save</c> clears the samples). Returns whether it finished.</summary>
    bool Flush(TimeSpan timeout);

    /// <summary>One line for <c>status</c>: where the session goes and how the last send went.</summary>
    string Status { get; }
}
