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
    /// report minus any passive domain's images; for a passive domain, dom0's report's <c>domainN-xen</c>,
    /// <c>domainN-kernel</c> and <c>domainN-apps</c> rows. Modes follow image kinds: hypervisor images are Xen, kernels
    /// (also <c>no-vmlinux</c>) kernel, the rest user.
    /// </summary>
    public static XenModeTotals FromReport(Profile.Profile report, int domain, bool passive)
    {
        long x = 0, k = 0, u = 0;
        foreach (var r in report.Images)
        {
            var name = r.Image.Path;
            if (passive)
            {
                // Display names follow ImageNames.Display: domainN-xen, domainN-kernel, domainN-apps.
                if (r.Image.Domain != domain) continue;
                if (r.Name == $"domain{domain}-xen") x += r.Counts.Total;
                else if (r.Name == $"domain{domain}-kernel") k += r.Counts.Total;
                else if (r.Name == $"domain{domain}-apps") u += r.Counts.Total;
                continue;
            }
            if (r.Image.Domain != 0) continue; // a passive domain's image inside dom0's report
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
