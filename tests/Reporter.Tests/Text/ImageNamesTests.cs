using XenProf.Reporter.Profile;
using XenProf.Sampler.Attribution;
using XenProf.Sampler.Store;
using Xunit;

namespace XenProf.Reporter.Tests.Text;

public sealed class ImageNamesTests
{
    private static StoredImage I(string path, ImageKind kind, int domain = 0) => new(new ImageId(1), path, null, kind, domain);

    [Theory]
    // passive domain images: xenoprof's names, from the image's domain and kind
    [InlineData("/boot/xen-syms", ImageKind.Hypervisor, 3, true, "domain3-xen")]
    [InlineData(DomainImages.NoXen, ImageKind.Anonymous, 3, true, "domain3-xen")]
    [InlineData("/srv/guest/kallsyms", ImageKind.KernelImage, 1, true, "domain1-kernel")]
    [InlineData(DomainImages.NoVmlinux, ImageKind.Anonymous, 4242, true, "domain4242-kernel")]
    [InlineData(DomainImages.Apps, ImageKind.Anonymous, 1, true, "domain1-apps")]
    // everything else: opreport's names
    [InlineData("/boot/xen-syms", ImageKind.Hypervisor, 0, false, "xen-syms")]
    [InlineData("/usr/bin/python3.11", ImageKind.Elf, 0, false, "python3.11")]
    [InlineData("[kernel.kallsyms]", ImageKind.Kernel, 0, false, "[kernel.kallsyms]")]
    [InlineData(DomainImages.NoVmlinux, ImageKind.Anonymous, 0, false, "no-vmlinux")]
    public void Display_follows_domain_and_kind(string path, ImageKind kind, int domain, bool passive, string expected) =>
        Assert.Equal(expected, ImageNames.Display(I(path, kind, domain), passive));

    [Fact]
    public void Passive_domains_come_from_meta_and_report_in_dom0()
    {
        var passive = ImageNames.PassiveDomains(new Dictionary<string, string> { [StoreSchema.PassiveDomainsKey] = "1, 3" });
        Assert.Equal([1, 3], passive.Order());
        Assert.Empty(ImageNames.PassiveDomains(new Dictionary<string, string>()));
        Assert.Equal(0, ImageNames.ReportDomain(3, passive));
        Assert.Equal(2, ImageNames.ReportDomain(2, passive));
        Assert.True(ImageNames.IsPassive(I(DomainImages.Apps, ImageKind.Anonymous, 3), passive));
        Assert.False(ImageNames.IsPassive(I("/usr/bin/app", ImageKind.Elf), passive));
    }
}
