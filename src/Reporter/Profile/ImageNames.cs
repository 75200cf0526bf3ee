using System.Globalization;
using XenProf.Sampler.Attribution;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Profile;

/// <summary>
/// How reports name images and which report a domain's samples belong to. A passive domain (Xen's
/// <c>--passive-domains</c>, a perf kvm guest; listed in the store's <see cref="StoreSchema.PassiveDomainsKey"/> meta)
/// is shown inside dom0's report, its images named as xenoprof names them: <c>domainN-xen</c> (hypervisor code),
/// <c>domainN-kernel</c> (kernel code), <c>domainN-apps</c> (user code), with N the image's domain. Every other image
/// is named as opreport names it: a file's basename, or the bracketed pseudo name (<c>[kernel.kallsyms]</c>, <c>[vdso]</c>).
/// </summary>
public static class ImageNames
{
    /// <summary>The passive domains a session's <paramref name="meta"/> lists (ids separated by commas; absent: none).</summary>
    public static IReadOnlySet<int> PassiveDomains(IReadOnlyDictionary<string, string> meta)
    {
        var set = new HashSet<int>();
        if (meta.TryGetValue(StoreSchema.PassiveDomainsKey, out var csv))
            foreach (var part in csv.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var d) && d != 0) set.Add(d);
        return set;
    }

    /// <summary>Whether <paramref name="image"/> is code of one of the <paramref name="passive"/> domains.</summary>
    public static bool IsPassive(StoredImage image, IReadOnlySet<int> passive) => image.Domain != 0 && passive.Contains(image.Domain);

    /// <summary>
    /// The domain whose report shows samples of <paramref name="domain"/>: dom0 (0) for a passive domain, else itself.
    /// opreport <c>--domain=0</c> and exports selecting domain 0 include passive domains' samples; selecting a passive
    /// domain's own id selects nothing.
    /// </summary>
    public static int ReportDomain(int domain, IReadOnlySet<int> passive) => passive.Contains(domain) ? 0 : domain;

    /// <summary>
    /// The name reports print for <paramref name="image"/>: for a <paramref name="passive"/> domain's image
    /// <c>domainN-xen</c> (kind <see cref="ImageKind.Hypervisor"/> or the pseudo image <see cref="DomainImages.NoXen"/>),
    /// <c>domainN-kernel</c> (a kernel kind or <see cref="DomainImages.NoVmlinux"/>) or <c>domainN-apps</c> (anything
    /// else); otherwise the file's basename for ELF files and for hypervisor or kernel images given by absolute path,
    /// else the path as stored.
    /// </summary>
    public static string Display(StoredImage image, bool passive)
    {
        if (passive)
        {
            string part = image.Kind == ImageKind.Hypervisor || image.Path == DomainImages.NoXen ? "xen"
                : image.Kind is ImageKind.Kernel or ImageKind.KernelImage or ImageKind.KernelModule || image.Path == DomainImages.NoVmlinux ? "kernel"
                : "apps";
            return "domain" + image.Domain.ToString(CultureInfo.InvariantCulture) + "-" + part;
        }
        return image.Kind == ImageKind.Elf || image.Kind is ImageKind.Hypervisor or ImageKind.KernelImage && Path.IsPathRooted(image.Path)
            ? Path.GetFileName(image.Path) : image.Path;
    }
}
