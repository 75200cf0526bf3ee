using XenProf.Reporter.Symbols;
using Xunit;

namespace XenProf.Reporter.Tests.Xen;

// Absolute-address images: a System.map / kallsyms text file (a passive domain's kernel) or an ELF (xen-syms, vmlinux).
public sealed class ImageSymbolTableTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-ist-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(0xffffffff81000000UL, "_stext")]
    [InlineData(0xffffffff81000fffUL, "_stext")]
    [InlineData(0xffffffff81001010UL, "net_rx_action")]
    [InlineData(0xffffffff81002000UL, "tcp_sendmsg")]
    public void SystemMapResolvesByAddressAndByName(ulong address, string name)
    {
        var map = Path.Combine(_dir, "System.map");
        File.WriteAllText(map, "ffffffff81000000 T _stext\nffffffff81001000 t net_rx_action\nffffffff81002000 T tcp_sendmsg\nffffffff81003000 D some_data\n");
        using var t = ImageSymbolTable.Open(map);
        Assert.False(t.IsElf);
        Assert.Equal(name, t.Find(address)!.Value.Name);
        var (start, end) = t.Lookup(name)!.Value;
        Assert.InRange(address, start, end - 1);
        Assert.Null(t.Lookup("some_data")); // data symbols are not functions
    }

    [Fact]
    public void ElfImageIsDetectedByMagic()
    {
        using var t = ImageSymbolTable.Open("/proc/self/exe");
        Assert.True(t.IsElf);
    }
}
