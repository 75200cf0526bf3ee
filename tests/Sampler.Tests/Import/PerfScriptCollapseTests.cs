using System.Text;
using XenProf.Sampler.Import.PerfScript;
using Xunit;

namespace XenProf.Sampler.Tests.Import;

/// <summary>
/// stackcollapse-perf.pl's <c>--inline</c> and <c>--context</c> (FlameGraph @41fee1f, its <c>inline()</c>), with the
/// binutils faked: which frames go to addr2line, how its pairs of lines become one <c>outer;…;inner</c> frame, the nm
/// retry for <c>sym+0xOFF</c>, the fallbacks to perf's name, and one addr2line run per (address, dso).
/// </summary>
public sealed class PerfScriptCollapseTests
{
    private sealed class FakeBinutils(Dictionary<(string, string), string> addr2line, Dictionary<string, string>? nm = null) : IBinutils
    {
        public List<string> Calls { get; } = [];
        public string Addr2Line(string pc, string module) { Calls.Add($"addr2line {pc} {module}"); return addr2line.GetValueOrDefault((pc, module), ""); }
        public string Nm(string module) { Calls.Add($"nm {module}"); return nm?.GetValueOrDefault(module) ?? ""; }
    }

    private const string Input =
        "app 10/11 1.000001: 100 cycles:\n" +
        "\t4005d0 leaf+0x10 (/bin/app)\n" +
        "\t4006aa hot+0x10 (/bin/app)\n" +
        "\t4007bb nothing (/bin/app)\n" +
        "\t7f00 Lambda (/tmp/perf-10.map)\n" +
        "\tffffffff81000130 entry_SYSCALL_64 ([kernel.kallsyms])\n" +
        "\t8c3453 tcp_sendmsg (/lib/modules/6.1/kernel.ko)\n" +
        "\n" +
        "app 10/11 1.000002: 50 cycles:\n" +
        "\t4005d0 leaf+0x10 (/bin/app)\n" +
        "\n";

    private static FakeBinutils Tools() => new(new()
    {
        [("4005d0", "/bin/app")] = "0x00000000004005d0\ninner\nx.c:3\nmid\nx.c:9 (discriminator 2)\nouter\nx.c:20\n",
        [("4006aa", "/bin/app")] = "0x00000000004006aa\n??\n??:0\n",
        [("0x1140", "/bin/app")] = "0x0000000000001140\nhot\nh.c:7\n",
        [("4007bb", "/bin/app")] = "0x00000000004007bb\n??\n??:0\n",
    }, new() { ["/bin/app"] = "                 U puts\n0000000000001130 T hot\n0000000000001200 T nothing\n" });

    private static string Fold(CollapseOptions o)
    {
        var ms = new MemoryStream();
        PerfScriptCollapse.Collapse(new MemoryStream(Encoding.Latin1.GetBytes(Input)), ms, o);
        return Encoding.Latin1.GetString(ms.ToArray());
    }

    [Fact]
    public void Inline_ExpandsFramesOfFilesThroughAddr2Line()
    {
        var tools = Tools();
        var text = Fold(new CollapseOptions { Inline = true, Binutils = tools });
        // Root first: kernel module path has "kernel." so it is not looked up; the perf map and [kernel.kallsyms] neither.
        Assert.Equal(
            "app;outer;mid;inner 50\n" +
            "app;tcp_sendmsg;entry_SYSCALL_64;Lambda;nothing;hot;outer;mid;inner 100\n", text);
        // One addr2line per (pc, dso); the ?? of hot+0x10 is retried at nm's hot (0x1130) + 0x10; "nothing" has no offset to retry with.
        Assert.Equal(["addr2line 4005d0 /bin/app", "addr2line 4006aa /bin/app", "nm /bin/app", "addr2line 0x1140 /bin/app", "addr2line 4007bb /bin/app"], tools.Calls);
    }

    [Fact]
    public void Context_AddsFileAndLineToEachInlineFrame()
    {
        var text = Fold(new CollapseOptions { Inline = true, Context = true, Binutils = Tools() });
        Assert.Contains("app;outer:x.c:20;mid:x.c:9;inner:x.c:3 50\n", text);
        Assert.Contains(";hot:h.c:7;outer:x.c:20;mid:x.c:9;inner:x.c:3 100\n", text);
    }

    [Fact]
    public void Inline_WithoutBinutilsOutput_KeepsPerfNames()
    {
        var text = Fold(new CollapseOptions { Inline = true, Binutils = new FakeBinutils([]) });
        Assert.Equal(Fold(new CollapseOptions()), text);
        Assert.Equal("app;leaf 50\napp;tcp_sendmsg;entry_SYSCALL_64;Lambda;nothing;hot;leaf 100\n", text);
    }

    [Fact]
    public void Weights_ArePeriodsUnlessCountingSamples()
    {
        Assert.Equal("app;leaf 50\napp;tcp_sendmsg;entry_SYSCALL_64;Lambda;nothing;hot;leaf 100\n", Fold(new CollapseOptions()));
        Assert.Equal("app;leaf 1\napp;tcp_sendmsg;entry_SYSCALL_64;Lambda;nothing;hot;leaf 1\n", Fold(new CollapseOptions { CountSamples = true }));
    }
}
