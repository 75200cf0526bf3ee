namespace XenProf.Hypervisor.PerfEvents.Records;

/// <summary>
/// Callchain context markers (<c>enum perf_callchain_context</c> in include/uapi/linux/perf_event.h;
/// <c>enum perf_callchain_context</c> in include/uapi/linux/perf_event.h). Entries ≥ <see cref="Max"/> are markers that set the mode of the entries after them, not
/// addresses.
/// </summary>
public static class PerfContext
{
    /// <summary>PERF_CONTEXT_HV (-32).</summary>
    public const ulong Hv = unchecked((ulong)-32L);
    /// <summary>PERF_CONTEXT_KERNEL (-128).</summary>
    public const ulong Kernel = unchecked((ulong)-128L);
    /// <summary>PERF_CONTEXT_USER (-512).</summary>
    public const ulong User = unchecked((ulong)-512L);
    /// <summary>PERF_CONTEXT_USER_DEFERRED (-640; <c>enum perf_callchain_context</c> of kernels after 6.16 only).</summary>
    public const ulong UserDeferred = unchecked((ulong)-640L);
    /// <summary>PERF_CONTEXT_GUEST (-2048).</summary>
    public const ulong Guest = unchecked((ulong)-2048L);
    /// <summary>PERF_CONTEXT_GUEST_KERNEL (-2176).</summary>
    public const ulong GuestKernel = unchecked((ulong)-2176L);
    /// <summary>PERF_CONTEXT_GUEST_USER (-2560).</summary>
    public const ulong GuestUser = unchecked((ulong)-2560L);
    /// <summary>PERF_CONTEXT_MAX (-4095): every value ≥ this is a marker.</summary>
    public const ulong Max = unchecked((ulong)-4095L);

    /// <summary>True if <paramref name="entry"/> is a context marker rather than an address.</summary>
    public static bool IsMarker(ulong entry) => entry >= Max;

    /// <summary>
    /// Splits a raw callchain (leaf first, markers included) into frames with their mode. Entries before the
    /// first marker take <paramref name="initialMode"/> (use the sample's <see cref="SampleRecord.CpuMode"/>).
    /// HV → Hypervisor, KERNEL → Kernel, USER and USER_DEFERRED → User, GUEST and GUEST_KERNEL → GuestKernel,
    /// GUEST_USER → GuestUser; other marker values are dropped without changing the mode.
    /// </summary>
    /// <example>[KERNEL, 0xffffffff81000010, USER, 0x401000] → (Kernel, 0xffffffff81000010), (User, 0x401000).</example>
    public static CallchainFrame[] Split(ReadOnlySpan<ulong> callchain, CpuMode initialMode)
    {
        var frames = new List<CallchainFrame>(callchain.Length);
        var mode = initialMode;
        foreach (ulong e in callchain)
        {
            if (!IsMarker(e)) { frames.Add(new CallchainFrame(mode, e)); continue; }
            mode = e switch
            {
                Hv => CpuMode.Hypervisor,
                Kernel => CpuMode.Kernel,
                User or UserDeferred => CpuMode.User,
                Guest or GuestKernel => CpuMode.GuestKernel,
                GuestUser => CpuMode.GuestUser,
                _ => mode,
            };
        }
        return frames.ToArray();
    }
}

/// <summary>One callchain frame: the mode set by the last context marker, and the address (leaf IP or return address).</summary>
/// <param name="Mode">CPU mode of <paramref name="Address"/>.</param>
/// <param name="Address">Instruction address; non-leaf frames are return addresses.</param>
public readonly record struct CallchainFrame(CpuMode Mode, ulong Address);
