using XenProf.Sampler.Store;

namespace XenProf.Reporter.Xen;

/// <summary>Samples a report shows for one Xen domain, split as xenoprof modes split them.</summary>
public readonly record struct XenModeTotals(long Xen, long Kernel, long User)
{
    /// <summary>All modes.</summary>
    public long Total => Xen + Kernel + User;

    /// <summary><c>xen X, kernel K, user U</c>.</summary>
    public override string ToString() => $"xen {Xen}, kernel {Kernel}, user {User}";

    /// <summary>
    /// Reads the totals of domain <paramref name="domain"/> off a report's image rows: for an active domain, its own
    /// report minus any passive <c>domainN-*</c> images; for a passive domain, dom0's report's <c>domainN-xen</c>,
    /// <c>domainN-kernel</c> and <c>domainN-apps</c> rows. Modes follow image kinds: hypervisor images are Xen, kernels
    /// (also <c>no-vmlinux</c>) kernel, the rest user.
    /// </summary>
    public static XenModeTotals FromReport(Profile.Profile report, int domain, bool passive)
    {
        long x = 0, k = 0, u = 0;
        foreach (var r in report.Images)
        {
            var name = r.Image.Path;
            bool isPassiveImage = name.StartsWith("domain", StringComparison.Ordinal) && name.Contains('-') && !name.Contains('/');
            if (passive)
            {
                if (name == $"domain{domain}-xen") x += r.Counts.Total;
                else if (name == $"domain{domain}-kernel") k += r.Counts.Total;
                else if (name == $"domain{domain}-apps") u += r.Counts.Total;
                continue;
            }
            if (isPassiveImage) continue;
            switch (r.Image.Kind)
            {
                case ImageKind.Hypervisor: x += r.Counts.Total; break;
                case ImageKind.Kernel or ImageKind.KernelModule or ImageKind.KernelImage: k += r.Counts.Total; break;
                default:
                    if (name is "no-vmlinux") k += r.Counts.Total;
                    else if (name is "no-xen") x += r.Counts.Total;
                    else u += r.Counts.Total;
                    break;
            }
        }
        return new XenModeTotals(x, k, u);
    }
}
