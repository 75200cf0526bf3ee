using Xunit;
using XenProf.Reporter.Symbols;

namespace XenProf.Reporter.Tests.Symbols;

public class ObjectKindTests
{
    [Theory]
    [InlineData("[kernel.kallsyms]", ObjectKind.Kernel)]
    [InlineData("[kernel.kallsyms]_text", ObjectKind.Kernel)]
    [InlineData("[guest.kernel.kallsyms]", ObjectKind.Kernel)]
    [InlineData("[nf_tables]", ObjectKind.KernelModule)]
    [InlineData("/lib/modules/6.1.0/kernel/net/netfilter/nf_tables.ko", ObjectKind.KernelModule)]
    [InlineData("/lib/modules/6.1.0/kernel/fs/ext4/ext4.ko.xz", ObjectKind.KernelModule)]
    [InlineData("[vdso]", ObjectKind.Vdso)]
    [InlineData("[vdso32]", ObjectKind.Vdso)]
    [InlineData("//anon", ObjectKind.Anonymous)]
    [InlineData("[anon:dalvik-main space]", ObjectKind.Anonymous)]
    [InlineData("[heap]", ObjectKind.Anonymous)]
    [InlineData("[stack]", ObjectKind.Anonymous)]
    [InlineData("[stack:1234]", ObjectKind.Anonymous)]
    [InlineData("/memfd:doublemapper (deleted)", ObjectKind.Anonymous)]
    [InlineData("/dev/zero (deleted)", ObjectKind.Anonymous)]
    [InlineData("/anon_hugepage (deleted)", ObjectKind.Anonymous)]
    [InlineData("/SYSV00000000 (deleted)", ObjectKind.Anonymous)]
    [InlineData("", ObjectKind.Anonymous)]
    [InlineData(null, ObjectKind.Anonymous)]
    [InlineData("[vsyscall]", ObjectKind.Unknown)]
    [InlineData("[uprobes]", ObjectKind.Unknown)]
    [InlineData("relative/path.so", ObjectKind.Unknown)]
    [InlineData("/usr/lib/x86_64-linux-gnu/libc.so.6", ObjectKind.Elf)]
    [InlineData("/usr/bin/python3.11 (deleted)", ObjectKind.Elf)]
    public void ClassifiesLikePerf(string? name, ObjectKind expected) => Assert.Equal(expected, ObjectKinds.Classify(name));

    [Fact]
    public void ModuleImageNameIsBracketed() => Assert.Equal("[nf_tables]", ObjectKinds.ModuleImageName("nf_tables"));
}
