namespace XenProf.Hypervisor.Xenoprof;

/// <summary>
/// A scenario whose functions are address ranges: what <see cref="EmulatedHypervisor"/> runs. Produced from a
/// <see cref="Scenario"/> by a resolver that reads the real images (the Hypervisor layer reads no symbol files).
/// </summary>
public sealed record ResolvedScenario(Scenario Source, IReadOnlyList<ResolvedDomain> Domains, IReadOnlyDictionary<string, string> ImagePaths)
{
    /// <summary>The domain with id <paramref name="id"/>.</summary>
    public ResolvedDomain Domain(int id) => Domains.First(d => d.Id == id);
}

/// <summary>A domain with its workload as address ranges and the guest processes its user functions run in.</summary>
public sealed record ResolvedDomain(int Id, string Name, int Vcpus, IReadOnlyList<int> Pcpus, double Busy,
    IReadOnlyList<ResolvedFunction> Workload, IReadOnlyList<GuestProcess> Processes);

/// <summary>
/// A workload function: [<paramref name="Start"/>, <paramref name="End"/>) in the address space samples carry (absolute
/// for Xen and kernels, the process's runtime addresses for applications), the mode its samples are logged in, weight,
/// caller ranges (outermost first) and, for user code, the pid.
/// </summary>
public sealed record ResolvedFunction(string Name, string Image, XenoprofMode Mode, ulong Start, ulong End, double Weight,
    IReadOnlyList<AddressRange> Callers, int Pid = 0);

/// <summary>An address range [Start, End).</summary>
public readonly record struct AddressRange(ulong Start, ulong End)
{
    /// <summary>True when <paramref name="a"/> lies inside.</summary>
    public bool Contains(ulong a) => a >= Start && a < End;
}

/// <summary>A guest process of an emulated domain: pid, name and its executable mapping (what the domain's own /proc/PID/maps says).</summary>
public sealed record GuestProcess(int Pid, string Comm, string Path, ulong Start, ulong End, ulong Pgoff);
