using Xunit;
using XenProf.Reporter.Symbols;
using Xunit.Abstractions;

namespace XenProf.Reporter.Tests.Symbols;

public class KernelSymbolsTests(ITestOutputHelper output)
{
    private const string Kallsyms = """
        ffffffff81000000 T _stext
        ffffffff81000000 T _text
        ffffffff81001000 t do_one_initcall_local
        ffffffff81001100 T schedule
        ffffffff81001100 W schedule_alias_weak
        ffffffff81001180 D some_data
        ffffffff810011c0 T io_schedule
        ffffffff82000000 T _etext
        0000000000000000 A fixed_percpu_data
        ffffffffc0a01000 t nft_do_chain	[nf_tables]
        ffffffffc0a01400 T nft_register_chain	[nf_tables]
        ffffffffc0b00000 t tcp_bbr_init	[tcp_bbr]
        ffffffffc0b00080 t bbr_main	[tcp_bbr]
        """;

    private const string Modules = """
        tcp_bbr 20480 3 - Live 0xffffffffc0b00000
        nf_tables 356352 0 - Live 0xffffffffc0a00000
        """;

    [Fact]
    public void ParsesTextSymbolsWithEndsAtNextSymbol()
    {
        var k = KernelSymbols.Parse(new StringReader(Kallsyms), new StringReader(Modules));
        Assert.False(k.IsRestricted);
        Assert.Null(k.Warning);
        Assert.Equal(9, k.Count); // _stext/_text merged, schedule aliases merged, data and absolute skipped
        var m = k.Find(new KernelAddress(0xffffffff81001150))!.Value;
        Assert.Equal("schedule", m.Name); // global beats weak alias
        Assert.Equal(0xffffffff81001100UL, m.Start.Value);
        Assert.Equal(0xc0UL, m.Size); // data symbol D is ignored: ends at io_schedule
        Assert.Equal(0x50UL, m.Offset);
        Assert.Null(m.Module);
        Assert.Equal("_text", k.Find(new KernelAddress(0xffffffff81000010))!.Value.Name); // shorter alias
        Assert.Null(k.Find(new KernelAddress(0xffffffff80000000)));
    }

    [Fact]
    public void ModulesAreNamedLikePerf()
    {
        var k = KernelSymbols.Parse(new StringReader(Kallsyms), new StringReader(Modules));
        var m = k.Find(new KernelAddress(0xffffffffc0a01404))!.Value;
        Assert.Equal(("nft_register_chain", "nf_tables", 4UL), (m.Name, m.Module, m.Offset));
        // The last symbol of a module ends at the module's end from /proc/modules.
        Assert.Equal(0xffffffffc0a00000UL + 356352 - 0xffffffffc0a01400UL, m.Size);
        Assert.Equal("[nf_tables]", k.ImageNameOf(new KernelAddress(0xffffffffc0a01404)));
        Assert.Equal("[nf_tables]", k.ImageNameOf(new KernelAddress(0xffffffffc0a00010))); // before any symbol: by range
        Assert.Equal("[tcp_bbr]", k.ImageNameOf(new KernelAddress(0xffffffffc0b00090)));
        Assert.Equal("[kernel.kallsyms]", k.ImageNameOf(new KernelAddress(0xffffffff81001104)));
        Assert.Equal(["nf_tables", "tcp_bbr"], k.Modules.Select(r => r.Name));
    }

    [Fact]
    public void ModuleRangesFallBackToKallsymsTags()
    {
        var k = KernelSymbols.Parse(new StringReader(Kallsyms));
        Assert.Equal(["nf_tables", "tcp_bbr"], k.Modules.Select(r => r.Name));
        Assert.Equal(0xffffffffc0a01000UL, k.Modules[0].Start.Value);
        Assert.Equal("[tcp_bbr]", k.ImageNameOf(new KernelAddress(0xffffffffc0b000a0)));
        // Without a module size the last symbol ends at the next page boundary.
        Assert.Equal(0xf80UL, k.Find(new KernelAddress(0xffffffffc0b00080))!.Value.Size);
    }

    [Fact]
    public void AllZeroAddressesMeanKptrRestrict()
    {
        var text = "0000000000000000 T _stext\n0000000000000000 T schedule\n0000000000000000 t nft_do_chain\t[nf_tables]\n";
        var mods = "nf_tables 356352 0 - Live 0x0000000000000000\n";
        var k = KernelSymbols.Parse(new StringReader(text), new StringReader(mods));
        Assert.True(k.IsRestricted);
        Assert.Contains("kptr_restrict", k.Warning);
        Assert.Null(k.Find(new KernelAddress(0)));
        Assert.Null(k.Find(new KernelAddress(0xffffffff81000000)));
        Assert.Empty(k.Modules);
    }

    [Fact]
    public void SymbolizerReportsKptrRestrictOnce()
    {
        var path = Path.Combine(Path.GetTempPath(), $"xenprof-kallsyms-{Environment.ProcessId}");
        File.WriteAllText(path, "0000000000000000 T _stext\n0000000000000000 T schedule\n");
        try
        {
            using var s = new Symbolizer(new SymbolizerOptions { KallsymsPath = path, ModulesPath = null });
            Assert.Null(s.Resolve("[kernel.kallsyms]", ObjectKind.Kernel, 0xffffffff81000000));
            Assert.Null(s.Resolve("[kernel.kallsyms]", ObjectKind.Kernel, 0xffffffff81000010));
            var w = Assert.Single(s.Warnings);
            Assert.Equal("[kernel.kallsyms]", w.Image);
            Assert.Contains("kptr_restrict", w.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void RealKallsymsResolvesSchedule()
    {
        var k = KernelSymbols.Load();
        if (k.IsRestricted) { output.WriteLine("skipped: " + k.Warning); return; }
        var line = File.ReadLines("/proc/kallsyms").First(l => l.EndsWith(" T schedule", StringComparison.Ordinal));
        ulong addr = Convert.ToUInt64(line[..line.IndexOf(' ')], 16);
        var m = k.Find(new KernelAddress(addr + 8))!.Value;
        Assert.Equal("schedule", m.Name);
        Assert.Equal(addr, m.Start.Value);
        Assert.Equal(8UL, m.Offset);
        Assert.True(m.Size > 8 && m.Size < 4096);
        Assert.Equal("[kernel.kallsyms]", k.ImageNameOf(new KernelAddress(addr)));
        using var s = new Symbolizer();
        var r = s.Resolve("[kernel.kallsyms]", ObjectKind.Kernel, addr + 8);
        Assert.Equal(new ResolvedSymbol("schedule", addr, m.Size, 8), r);
        output.WriteLine($"{k.Count} kernel text symbols, {k.Modules.Count} modules; schedule at 0x{addr:x} size {m.Size}");
    }
}
