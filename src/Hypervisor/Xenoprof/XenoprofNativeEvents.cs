namespace XenProf.Hypervisor.Xenoprof;

/// <summary>
/// The event-select codes a real Xen programs into the counters, per <c>cpu_type</c> as XENOPROF_init reports it: Xen
/// writes <c>xenoprof_counter.event</c> and <c>unit_mask</c> straight into the PMU's event-select MSR
/// (xen/arch/x86/oprofile/op_model_athlon.c, op_model_ppro.c), so they are the CPU's own numbers, not perf's generic
/// ids. Codes per oprofile's events/x86-64/hammer/events (also valid for the later AMD families, whose files repeat
/// them) and events/i386/arch_perfmon/events (Intel's architectural events, Intel SDM vol. 3 table "UMask and Event
/// Select Encodings for Pre-Defined Architectural Performance Events").
/// </summary>
public static class XenoprofNativeEvents
{
    private static readonly Dictionary<string, (uint Event, uint UnitMask)> Amd = new(StringComparer.OrdinalIgnoreCase)
    {
        ["CPU_CLK_UNHALTED"] = (0x76, 0), // "Cycles outside of halt state"
        ["INST_RETIRED"] = (0xc0, 0),     // RETIRED_INSNS
        ["RETIRED_INSNS"] = (0xc0, 0),
        ["BRANCH_INSTRUCTIONS"] = (0xc2, 0), // RETIRED_BRANCHES
        ["RETIRED_BRANCHES"] = (0xc2, 0),
        ["BRANCH_MISSES"] = (0xc3, 0),    // RETIRED_BRANCHES_MISPREDICTED
        ["RETIRED_BRANCHES_MISPREDICTED"] = (0xc3, 0),
    };

    private static readonly Dictionary<string, (uint Event, uint UnitMask)> Intel = new(StringComparer.OrdinalIgnoreCase)
    {
        ["CPU_CLK_UNHALTED"] = (0x3c, 0),
        ["INST_RETIRED"] = (0xc0, 0),
        ["LLC_REFS"] = (0x2e, 0x4f),
        ["LLC_MISSES"] = (0x2e, 0x41),
        ["BRANCH_INSTRUCTIONS"] = (0xc4, 0),
        ["BR_INST_RETIRED"] = (0xc4, 0),
        ["BRANCH_MISSES"] = (0xc5, 0),
        ["BR_MISS_PRED_RETIRED"] = (0xc5, 0),
    };

    /// <summary>
    /// The event code and default unit mask of <paramref name="name"/> (an oprofile name, e.g. <c>CPU_CLK_UNHALTED</c>)
    /// on <paramref name="cpuType"/> (<c>x86-64/hammer</c>, <c>x86-64/family10</c>…, <c>i386/arch_perfmon</c>,
    /// <c>i386/core_2</c>…). Throws <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/> naming what is known when there is no mapping.
    /// </summary>
    public static (uint Event, uint UnitMask) Resolve(string cpuType, string name)
    {
        var table = cpuType.StartsWith("x86-64/", StringComparison.Ordinal) ? Amd
            : cpuType.StartsWith("i386/", StringComparison.Ordinal) && cpuType != "i386/p4" && cpuType != "i386/p4-ht" ? Intel
            : null;
        if (table == null) throw new XenProf.Hypervisor.Binary.XenProfUserException($"XenProf has no event codes for Xen's cpu_type {cpuType}; known: x86-64/* (AMD) and i386/arch_perfmon, i386/core*, i386/core_2 (Intel)");
        if (table.TryGetValue(name, out var code)) return code;
        throw new XenProf.Hypervisor.Binary.XenProfUserException($"event {name} has no code for cpu_type {cpuType}; known: {string.Join(", ", table.Keys)}");
    }
}
