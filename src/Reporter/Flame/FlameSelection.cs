namespace XenProf.Reporter.Flame;

/// <summary>
/// Which samples an export draws, shared by every format: a domain, an event, a process, a thread and a
/// time window. Null means "no restriction" everywhere; the defaults select every sample of every event
/// (formats that show one event at a time take the session's first event when <see cref="Event"/> is null).
/// </summary>
public sealed record FlameSelection
{
    /// <summary>Every sample.</summary>
    public static FlameSelection All { get; } = new();

    /// <summary>Only this Xen domain (0 = dom0 or the native host).</summary>
    public int? Domain { get; init; }

    /// <summary>Only this event, by name (case-insensitive).</summary>
    public string? Event { get; init; }

    /// <summary>Only this process (thread-group id).</summary>
    public int? Pid { get; init; }

    /// <summary>Only this thread.</summary>
    public int? Tid { get; init; }

    /// <summary>Only samples at or after this time, in the session clock's nanoseconds.</summary>
    public long? FromNs { get; init; }

    /// <summary>Only samples before this time, in the session clock's nanoseconds.</summary>
    public long? ToNs { get; init; }
}
