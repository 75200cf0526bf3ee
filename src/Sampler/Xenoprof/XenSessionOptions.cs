namespace XenProf.Sampler.Xenoprof;

/// <summary>
/// What opcontrol sets up for a Xen session (oprofile's opcontrol(1), doc/opcontrol.1.in): the Xen image (<c>--xen</c>), dom0's kernel
/// (<c>--vmlinux</c> / <c>--no-vmlinux</c>), active and passive domains with one image per passive domain (same order),
/// call-graph depth and events. Domain 0 is always active, as the Linux dom0 driver makes it (xenlinux drivers/xen/xenoprof/xenoprofile.c).
/// </summary>
public sealed record XenSessionOptions
{
    /// <summary>xen-syms path, or null: Xen samples then go to the pseudo image <c>no-xen</c>.</summary>
    public string? XenImage { get; set; }
    /// <summary>dom0 kernel image file (vmlinux or System.map), or null to use the session's kallsyms snapshot.</summary>
    public string? Vmlinux { get; set; }
    /// <summary>Kernel samples go to the pseudo image <c>no-vmlinux</c>.</summary>
    public bool NoVmlinux { get; set; }
    /// <summary>Domains profiled actively besides dom0 (each runs its own profiler and maps its own buffers).</summary>
    public List<int> ActiveDomains { get; set; } = new();
    /// <summary>Domains profiled passively (their buffers are drained by dom0).</summary>
    public List<int> PassiveDomains { get; set; } = new();
    /// <summary>One kernel image per passive domain, same order as <see cref="PassiveDomains"/> (kallsyms, System.map or vmlinux).</summary>
    public List<string> PassiveImages { get; set; } = new();
    /// <summary>Call-chain depth (<c>--callgraph=N</c>), 0 = off.</summary>
    public int CallgraphDepth { get; set; }
    /// <summary>Event specs <c>NAME:COUNT[:UNITMASK[:KERNEL[:USER]]]</c>; at most 8 (one per counter).</summary>
    public List<string> Events { get; set; } = new();
    /// <summary>opcontrol <c>--separate</c> value as given (also recorded in the session's meta); the report default itself is read from <see cref="XenProf.Sampler.Session.SessionConfig.Separate"/>.</summary>
    public string? Separate { get; set; }
    /// <summary>Entries asked per active-domain VCPU buffer (the Linux driver asks 16).</summary>
    public int ActiveBufferSamples { get; set; } = Hypervisor.Xenoprof.XenoprofAbi.ActiveBufferSamples;
    /// <summary>Entries asked per passive-domain VCPU buffer (the Linux driver asks 2048).</summary>
    public int PassiveBufferSamples { get; set; } = Hypervisor.Xenoprof.XenoprofAbi.PassiveBufferSamples;

    /// <summary>Checks the options; throws <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/> with a user-facing message.</summary>
    public void Validate()
    {
        if (PassiveImages.Count > 0 && PassiveImages.Count != PassiveDomains.Count)
            throw new XenProf.Hypervisor.Binary.XenProfUserException($"--passive-images lists {PassiveImages.Count} image(s) for {PassiveDomains.Count} passive domain(s); give one per domain, in the same order");
        var both = ActiveDomains.Intersect(PassiveDomains).ToList();
        if (both.Count > 0) throw new XenProf.Hypervisor.Binary.XenProfUserException($"domain {both[0]} is both active and passive; Xen profiles a domain in one mode only");
        if (PassiveDomains.Contains(0)) throw new XenProf.Hypervisor.Binary.XenProfUserException("domain 0 is the primary profiler and is always active; it cannot be passive");
        if (ActiveDomains.Count + 1 > Hypervisor.Xenoprof.XenoprofAbi.MaxDomains || PassiveDomains.Count > Hypervisor.Xenoprof.XenoprofAbi.MaxDomains)
            throw new XenProf.Hypervisor.Binary.XenProfUserException($"at most {Hypervisor.Xenoprof.XenoprofAbi.MaxDomains} active and {Hypervisor.Xenoprof.XenoprofAbi.MaxDomains} passive domains");
        if (Events.Count > Hypervisor.Xenoprof.XenoprofAbi.MaxCounters) throw new XenProf.Hypervisor.Binary.XenProfUserException($"at most {Hypervisor.Xenoprof.XenoprofAbi.MaxCounters} events (one per counter)");
    }

    /// <summary>Parses a domain list as opcontrol accepts it: ids separated by commas, spaces or other punctuation.</summary>
    public static List<int> ParseDomainList(string? text)
    {
        var list = new List<int>();
        if (string.IsNullOrWhiteSpace(text)) return list;
        foreach (var part in text.Split([',', ' ', ';', ':'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var d) || d > 0x7fef)
                throw new XenProf.Hypervisor.Binary.XenProfUserException($"'{part}' in domain list '{text}' is not a domain id");
            if (!list.Contains(d)) list.Add(d);
        }
        return list;
    }
}
