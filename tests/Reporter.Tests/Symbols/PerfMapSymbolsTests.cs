using XenProf.Reporter.Symbols;
using Xunit;

namespace XenProf.Reporter.Tests.Symbols;

/// <summary>perf-PID.map lines as perf and .NET write them (tools/perf/Documentation/jit-interface.txt), one case per line.</summary>
public sealed class PerfMapSymbolsTests
{
    [Fact]
    public void FindsByRuntimeAddressWithOrWithout0x()
    {
        var map = PerfMapSymbols.Parse([
            "0x7f1489820000 110 stub InitThreadManagerPerfMapData<JIT_CopiedWriteBarriers>", // .NET: 0x prefix
            "7f14898a0000 20 instance bool [App] App.Hot::Loop(int32)[OptimizedTier1]",       // perf-map-agent: none
            "not a line",
            "7f14898b0000 zz bad size",
        ]);
        Assert.Equal(2, map.Count);
        Assert.Equal("stub InitThreadManagerPerfMapData<JIT_CopiedWriteBarriers>", map.Find(0x7f1489820000));
        Assert.Equal("stub InitThreadManagerPerfMapData<JIT_CopiedWriteBarriers>", map.Find(0x7f148982010f));
        Assert.Null(map.Find(0x7f1489820110));
        Assert.Equal("instance bool [App] App.Hot::Loop(int32)[OptimizedTier1]", map.Find(0x7f14898a001f));
        Assert.Null(map.Find(0x1000));
    }
}
