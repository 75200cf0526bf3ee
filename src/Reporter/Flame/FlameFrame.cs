using XenProf.Reporter.Profile;
namespace XenProf.Reporter.Flame;

/// <summary>
/// One frame of a flame-graph stack: a display name (already symbolized, e.g. <c>tcp_sendmsg</c> or
/// <c>[libc.so.6]</c>) and the <see cref="FrameKind"/> that colours it. Two frames are the same frame when both the
/// name (ordinal) and the kind are equal. A <see langword="null"/> name is treated as empty by the writers.
/// </summary>
/// <param name="Name">Display name; may contain any character (writers sanitize or escape as their format needs).</param>
/// <param name="Kind">Where the frame executes.</param>
public readonly record struct FlameFrame(string Name, FrameKind Kind);
