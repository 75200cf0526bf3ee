namespace XenProf.Reporter.Profile;

/// <summary>
/// Where a flame-graph frame executes. Renderers use it for colour and the folded writer for the
/// <c>_[k]</c>/<c>_[j]</c>/<c>_[h]</c>/<c>_[g]</c> annotations; it never affects how stacks merge beyond
/// making two frames with the same name but different kinds distinct.
/// </summary>
public enum FrameKind
{
    /// <summary>The root frame of a stack: the process (comm) name, possibly with <c>-PID</c>.</summary>
    Process,

    /// <summary>User-space native code.</summary>
    User,

    /// <summary>Kernel code (vmlinux or a module) of the domain that was sampled.</summary>
    Kernel,

    /// <summary>Hypervisor (Xen) code.</summary>
    Hypervisor,

    /// <summary>Code generated at run time and named through a JIT map (<c>perf-PID.map</c>).</summary>
    Jit,

    /// <summary>Code running in a guest domain that is profiled passively (seen only as domain images).</summary>
    Guest,

    /// <summary>Could not be classified.</summary>
    Unknown,
}
