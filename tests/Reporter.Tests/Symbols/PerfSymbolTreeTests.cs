using Xunit;
using Xunit.Abstractions;
using XenProf.Reporter.Symbols;
using XenProf.Reporter.Symbols.SymbolsInternal;

namespace XenProf.Reporter.Tests.Symbols;

/// <summary>
/// The symbol tree in perf's shape (<see cref="PerfSymbolTree"/>) and perf 6.1's <c>@plt</c> rule
/// (<see cref="PerfPltSymbols"/>). The end-to-end check against perf itself is the conformance test in
/// XenOprof.Tests (SymbolNameConformanceTests, its "plt" and "libc" programs).
/// </summary>
public class PerfSymbolTreeTests(ITestOutputHelper output)
{
    [Fact]
    public void StaysARedBlackTreeInStartOrderThroughInsertsAndRemovals()
    {
        var rng = new Random(12);
        var tree = new PerfSymbolTree();
        var live = new List<int>();
        for (int step = 0; step < 4000; step++)
        {
            if (live.Count > 0 && rng.Next(3) == 0)
            {
                int k = rng.Next(live.Count);
                tree.Remove(live[k]);
                live.RemoveAt(k);
            }
            else
            {
                ulong start = (ulong)rng.Next(500); // many equal starts
                live.Add(tree.Add(start, start + 1));
            }
            tree.Validate();
        }
        // In order by start; equal starts in the order they were added (handles grow with each Add).
        var expected = live.OrderBy(id => tree.Start(id)).ThenBy(id => id).ToList();
        Assert.Equal(expected, tree.InOrder());
    }

    [Fact]
    public void SearchTakesPerfsPathSoAnOverlappingExtentCanBeMissed()
    {
        // Ascending inserts 1..7 rebalance (as __rb_insert does) into 2(1, 4(3, 6(5, 7))).
        var tree = new PerfSymbolTree();
        int one = tree.Add(0x10, 0x80); // extends over everything the others cover
        for (ulong k = 2; k <= 7; k++) tree.Add(k * 0x10, k * 0x10 + 4);
        tree.Validate();
        Assert.Equal(one, tree.Find(0x18));       // the root 0x20 sends it left, to 0x10
        Assert.Equal(3, tree.Find(0x40));         // 0x40 is a node on the right path: found itself
        Assert.Equal(-1, tree.Find(0x48));        // inside 0x10's extent, but the path goes right of the root
        Assert.Equal(-1, tree.Find(0x24));        // after 0x20's end: right of the root, away from 0x10
    }

    [Fact]
    public void AnEmptyExtentHoldsOnlyItsStart()
    {
        var tree = new PerfSymbolTree();
        int a = tree.Add(0x100, 0x100);
        Assert.Equal(a, tree.Find(0x100));
        Assert.Equal(-1, tree.Find(0x101));
    }

    [Fact]
    public void LibcPltEntriesAreNamedInRelocationOrderAsPerf61Does()
    {
        const string libc = "/lib/x86_64-linux-gnu/libc.so.6";
        if (!File.Exists(libc) || !Tools.Has("readelf")) { output.WriteLine($"skipped: no {libc} or readelf"); return; }
        // readelf -rW lists .rela.plt in table order: "OFFSET INFO TYPE [VALUE NAME@VERSION + ADDEND | ADDEND]".
        var expected = new List<string>();
        bool inPlt = false;
        foreach (var line in Tools.Run("readelf", false, "-rW", libc).Split('\n'))
        {
            if (line.StartsWith("Relocation section", StringComparison.Ordinal)) { inPlt = line.Contains("'.rela.plt'", StringComparison.Ordinal); continue; }
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (!inPlt || f.Length < 4 || !f[2].StartsWith("R_X86_64_", StringComparison.Ordinal)) continue;
            string name = f.Length >= 6 && f[^2] == "+" ? f[4] : "";
            int at = name.IndexOf('@');
            expected.Add((at >= 0 ? name[..at] : name) + "@plt");
        }
        Assert.NotEmpty(expected);
        using var f2 = ElfObjectFile.Open(libc);
        var plt = f2.FindSection(".plt")!.Value;
        var got = new List<string>();
        for (int k = 0; k < expected.Count; k++)
        {
            var s = f2.FindSymbol(new Svma(plt.Address + plt.EntrySize * (ulong)(k + 1) + 4));
            got.Add(s?.Name ?? "(none)");
        }
        Assert.Equal(expected, got);
        output.WriteLine($"{expected.Count} entries, {expected.Count(n => n == "@plt")} without a symbol (IRELATIVE)");
    }
}
