using XenProf.Hypervisor.Binary;
using XenProf.Hypervisor.Xenoprof;
using XenProf.Reporter.Symbols;
using Xunit;

namespace XenProf.Reporter.Tests.Symbols;

/// <summary>
/// Symbol files and scenarios with numbers out of range: a bad line is skipped and counted (never a symbol with a
/// wrapped range), strict parsing names the file and line, and a jitdump record whose code range wraps is dropped.
/// </summary>
public sealed class TextSymbolRangeTests
{
    [Theory]
    [InlineData("10000000000000000 10 too_wide_start", "start '10000000000000000' is not a hex number of at most 64 bits")]
    [InlineData("1000 10000000000000000 too_wide_size", "size '10000000000000000' is not a hex number of at most 64 bits")]
    [InlineData("ffffffffffffff00 200 wraps", "range 0xffffffffffffff00 + 0x200 passes the end of the address space")]
    [InlineData("-1000 10 negative", "start '-1000' is not a hex number")]
    [InlineData("1000", "expected START SIZE NAME")]
    public void PerfMap_BadLineIsSkippedCountedAndNamed(string bad, string problem)
    {
        var map = PerfMapSymbols.Parse(["1000 10 good", bad, "2000 10 also_good"], "perf-1.map");
        Assert.Equal(2, map.Count);
        Assert.Equal(1, map.SkippedLines);
        Assert.StartsWith("perf-1.map: line 2: perf map line (START SIZE NAME): " + problem, map.FirstProblem!.Message);
        Assert.Contains("1 perf map lines did not parse", map.Warning);
        Assert.Null(map.Find(0xffffffffffffff10)); // no wrapped range matches low or high addresses
        Assert.Equal("also_good", map.Find(0x2005));
        var e = Assert.Throws<MalformedDataException>(() => PerfMapSymbols.Parse(["1000 10 good", bad], "perf-1.map", strict: true));
        Assert.Equal(2, e.Line);
    }

    [Theory]
    [InlineData("10000000000000000 T too_wide", "address '10000000000000000' is not a hex number of at most 64 bits")]
    [InlineData("zz T not_hex", "address 'zz' is not a hex number")]
    [InlineData("ffffffff81000000 7 bad_type", "expected a one-letter symbol type")]
    [InlineData("ffffffff81000000", "expected ADDRESS TYPE NAME")]
    [InlineData("1ffffffff82000000 D data_too_wide", "address '1ffffffff82000000' is not a hex number")]
    public void Kallsyms_BadLineIsSkippedCountedAndNamed(string bad, string problem)
    {
        var text = "ffffffff81000000 T _stext\n" + bad + "\nffffffff81001000 T schedule\n";
        var k = KernelSymbols.Parse(new StringReader(text), null, "kallsyms.txt");
        Assert.Equal(2, k.Count);
        Assert.Equal(1, k.SkippedLines);
        Assert.Contains("kallsyms.txt: line 2: kallsyms line (ADDRESS TYPE NAME [[MODULE]]): " + problem, k.Warning);
        var e = Assert.Throws<MalformedDataException>(() => KernelSymbols.Parse(new StringReader(text), null, "kallsyms.txt", strict: true));
        Assert.Equal(2, e.Line);
    }

    [Theory]
    [InlineData("big 99999999999999999999 0 - Live 0xffffffffc0000000", "size '99999999999999999999' is not a decimal number of at most 64 bits")]
    [InlineData("wrap 8192 0 - Live 0xfffffffffffff000", "module range 0xfffffffffffff000 + 8192 passes the end of the address space")]
    [InlineData("short 8192 0 -", "expected at least 6 fields, found 4")]
    public void Modules_BadLineIsSkippedCountedAndNamed(string bad, string problem)
    {
        var modules = "nf_tables 348160 0 - Live 0xffffffffc0100000\n" + bad + "\n";
        var k = KernelSymbols.Parse(new StringReader("ffffffff81000000 T _stext\n"), new StringReader(modules), "kallsyms.txt", modulesName: "modules.txt");
        Assert.Equal(["nf_tables"], k.Modules.Select(m => m.Name));
        Assert.Contains("modules.txt: line 2: modules line (NAME SIZE REFS DEPS STATE ADDRESS): " + problem, k.Warning);
        var layout = XenProf.Sampler.Attribution.KernelLayout.Parse(modules.Split('\n'), "modules.txt");
        Assert.Equal(["[nf_tables]"], layout.Modules.Select(m => m.Name));
        Assert.Equal(1, layout.SkippedLines);
        Assert.Equal("modules.txt: line 2: modules line (NAME SIZE REFS DEPS STATE ADDRESS): " + problem, layout.FirstProblem!.Message);
        Assert.Throws<MalformedDataException>(() => XenProf.Sampler.Attribution.KernelLayout.Parse(modules.Split('\n'), "modules.txt", strict: true));
    }

    [Fact]
    public void JitDump_CodeRangePastTheAddressSpace_DropsTheRecordOnly()
    {
        var bytes = new JitDumpBuilder().Header()
            .Load(0xfffffffffffffff0, "Wraps()", new byte[32], index: 1)
            .Load(0x1000, "Fine()", [0xc3], index: 2)
            .Move(0x1000, 0xffffffffffffffff, 1, index: 2)
            .Bytes();
        var reader = new JitDumpReader(new MemoryStream(bytes), "jit-1.dump");
        var loads = reader.ReadAll().ToList();
        Assert.Equal(["Fine()"], loads.OfType<JitCodeLoad>().Select(l => l.Name));
        Assert.Empty(loads.OfType<JitCodeMove>());
        Assert.Equal(2, reader.Problems.Count);
        Assert.Contains("JIT_CODE_LOAD.code_size: code_addr 0xfffffffffffffff0 + code_size 32 passes the end of the address space", reader.Problems[0].Message);
        Assert.Contains("JIT_CODE_MOVE.code_size: new_code_addr 0xffffffffffffffff + code_size 1 passes the end", reader.Problems[1].Message);
    }
}
