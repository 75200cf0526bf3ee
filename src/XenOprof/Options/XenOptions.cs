using System.CommandLine;
using XenProf.Sampler.Session;
using XenProf.Sampler.Xenoprof;

namespace XenProf.Cli.Options;

/// <summary>opcontrol's Xen setup options (oprofile's opcontrol(1), doc/opcontrol.1.in), spelled as oprofile and the xenoprof patch spelled them.</summary>
internal sealed class XenOptions
{
    private readonly Option<string?> _xen = new("--xen") { Description = "Xen image (xen-syms) for hypervisor symbols" };
    private readonly Option<string?> _vmlinux = new("--vmlinux") { Description = "dom0 kernel image (vmlinux or System.map); default: the session's kallsyms snapshot" };
    private readonly Option<bool> _noVmlinux = new("--no-vmlinux") { Description = "Put kernel samples in the pseudo image no-vmlinux" };
    private readonly Option<string?> _active = new("--active-domains") { Description = "Domains that run their own profiler (list, e.g. 1,3); dom0 is always active" };
    private readonly Option<string?> _passive = new("--passive-domains") { Description = "Domains profiled from dom0 (list); reported as domainN-kernel/-xen/-apps" };
    private readonly Option<string?> _passiveImages = new("--passive-images") { Description = "One kernel image per passive domain, same order (vmlinux, System.map or kallsyms copy)" };
    private readonly Option<string?> _hypervisor = new("--hypervisor") { Description = "Xen sample source: emulated:SCENARIO.json or privcmd (a real dom0)" };

    /// <summary>Adds the options to <paramref name="cmd"/>.</summary>
    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { _xen, _vmlinux, _noVmlinux, _active, _passive, _passiveImages, _hypervisor }) cmd.Options.Add(o);
    }

    /// <summary>Adds the Xen setup to <paramref name="config"/> when <c>--hypervisor</c> or any Xen option is given; throws a <see cref="XenProf.Hypervisor.Binary.XenProfUserException"/> for bad values.</summary>
    public SessionConfig Apply(ParseResult pr, SessionConfig config)
    {
        var hv = pr.GetValue(_hypervisor);
        bool anyXen = pr.GetValue(_xen) != null || pr.GetValue(_active) != null || pr.GetValue(_passive) != null || pr.GetValue(_passiveImages) != null;
        if (hv == null)
        {
            if (anyXen) throw new UserErrorException("Xen options need --hypervisor=emulated:SCENARIO (or privcmd on a real dom0)");
            return config;
        }
        var options = new XenSessionOptions
        {
            XenImage = pr.GetValue(_xen) is { } x ? Path.GetFullPath(x) : null,
            Vmlinux = pr.GetValue(_vmlinux) is { } v ? Path.GetFullPath(v) : null,
            NoVmlinux = pr.GetValue(_noVmlinux),
            ActiveDomains = XenSessionOptions.ParseDomainList(pr.GetValue(_active)),
            PassiveDomains = XenSessionOptions.ParseDomainList(pr.GetValue(_passive)),
            PassiveImages = (pr.GetValue(_passiveImages) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Path.GetFullPath).ToList(),
            CallgraphDepth = config.CallgraphDepth,
            Events = config.Events,
            Separate = config.Separate,
        };
        options.Validate();
        return config with { Hypervisor = XenDaemonProfilers.Normalize(hv), Xen = options };
    }
}
