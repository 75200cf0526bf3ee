using System.Text.RegularExpressions;
using Xunit;
using XenProf.Reporter.Symbols;
using Xunit.Abstractions;

namespace XenProf.Reporter.Tests.Symbols;

/// <summary>
/// Function recovery in stripped images, checked against binutils: the unstripped symbol table (<c>nm -S</c>),
/// FDE ranges (<c>readelf --debug-dump=frames</c>) and PLT labels (<c>objdump -d</c>).
/// </summary>
public partial class FunctionRecoveryTests(CProgramFixture prog, ITestOutputHelper output) : IClassFixture<CProgramFixture>
{
    private bool Skip()
    {
        if (prog.SkipReason == null) return false;
        output.WriteLine(prog.SkipReason);
        return true;
    }

    [GeneratedRegex(@"pc=([0-9a-f]+)\.\.([0-9a-f]+)")]
    private static partial Regex FdeLine();

    [GeneratedRegex(@"^([0-9a-f]+) <(.+@plt)>:$", RegexOptions.Multiline)]
    private static partial Regex PltLabel();

    /// <summary>FDE ranges as readelf prints them.</summary>
    internal static List<(ulong Start, ulong End)> ReadelfFdes(string path) =>
        FdeLine().Matches(Tools.Run("readelf", false, "--debug-dump=frames", path))
            .Select(m => (Convert.ToUInt64(m.Groups[1].Value, 16), Convert.ToUInt64(m.Groups[2].Value, 16))).ToList();

    [Fact]
    public void StrippedRecoveryEqualsSymbolTableForEveryFunctionWithAnFde()
    {
        if (Skip()) return;
        // nm -S: "ADDR SIZE TYPE NAME" for sized symbols of the unstripped build.
        var functions = Tools.Run("nm", "-S", "--defined-only", prog.Pie).Split('\n')
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(p => p.Length == 4 && p[2] is "t" or "T")
            .Select(p => (Start: Convert.ToUInt64(p[0], 16), Size: Convert.ToUInt64(p[1], 16), Name: p[3])).ToList();
        var fdeStarts = ReadelfFdes(prog.Stripped).Select(f => f.Start).ToHashSet();
        using var elf = ElfObjectFile.Open(prog.Stripped);
        Assert.False(elf.HasSymtab);
        var rec = FunctionRecovery.Recover(elf);
        int compared = 0;
        foreach (var f in functions.Where(f => fdeStarts.Contains(f.Start)))
        {
            var got = elf.FindSymbol(new Svma(f.Start)) is { } sym
                ? (sym.Start.Value, sym.Size)
                : rec.Find(new Svma(f.Start)) is { } r ? (r.Start.Value, r.Size) : default;
            Assert.True((f.Start, f.Size) == got, $"{f.Name}: symtab [0x{f.Start:x}, +0x{f.Size:x}), recovered [0x{got.Item1:x}, +0x{got.Item2:x})");
            compared++;
        }
        foreach (var name in CProgramFixture.Functions) Assert.Contains(functions, f => f.Name == name && fdeStarts.Contains(f.Start));
        Assert.True(compared >= CProgramFixture.Functions.Length, $"compared {compared}");
        var helper = functions.Single(f => f.Name == "xp_static_helper");
        Assert.Equal($"stripped+0x{helper.Start:x}", rec.Find(new Svma(helper.Start + 2))?.Name);
    }

    [Fact]
    public void PltEntriesAreNamedAsObjdumpNamesThem()
    {
        if (Skip()) return;
        var labels = PltLabel().Matches(Tools.Run("objdump", "-d", prog.Stripped))
            .Select(m => (Convert.ToUInt64(m.Groups[1].Value, 16), m.Groups[2].Value)).ToHashSet();
        Assert.NotEmpty(labels); // printf, atol
        using var elf = ElfObjectFile.Open(prog.Stripped);
        var rec = FunctionRecovery.Recover(elf);
        var ours = rec.Functions.Where(f => f.Source == RecoveredFrom.Plt).Select(f => (f.Start.Value, f.Name)).ToHashSet();
        Assert.Equal(labels.OrderBy(l => l.Item1), ours.OrderBy(l => l.Item1));
    }

    [Theory]
    [InlineData("/usr/lib/x86_64-linux-gnu/liblzma.so.5")]
    [InlineData("/usr/lib/x86_64-linux-gnu/libc.so.6")]
    public void EveryAddressEhFrameCoversHasAFunctionInRealLibraries(string path)
    {
        if (!File.Exists(path) || !Tools.Has("readelf")) { output.WriteLine($"skipped: {path} or readelf missing"); return; }
        using var elf = ElfObjectFile.Open(path);
        var rec = FunctionRecovery.Recover(elf);
        var fdes = ReadelfFdes(path);
        Assert.NotEmpty(fdes);
        int holes = 0;
        foreach (var (start, end) in fdes)
            foreach (var a in new[] { start, start + (end - start) / 2, end - 1 })
                if (elf.FindSymbol(new Svma(a)) == null && rec.Find(new Svma(a)) == null) holes++;
        output.WriteLine($"{path}: {fdes.Count} FDEs, {elf.SymbolCount} symbols, recovered plt {rec.Count(RecoveredFrom.Plt)} eh_frame {rec.Count(RecoveredFrom.EhFrame)} call {rec.Count(RecoveredFrom.CallTarget)}");
        Assert.Equal(0, holes);
    }

    [Fact]
    public void DiskCacheReturnsTheSameFunctionsWithoutRecovering()
    {
        if (Skip()) return;
        var cache = Directory.CreateTempSubdirectory("xenprof-cache-").FullName;
        try
        {
            var opts = new SymbolizerOptions { UseDebugFiles = false, UseSystemDebugRoot = false, KallsymsPath = "/nonexistent", CacheDirectory = cache };
            List<RecoveredFunction> first;
            using (var s = new Symbolizer(opts)) first = s.GetRecovery(prog.Stripped)!.Functions.ToList();
            var file = Assert.Single(Directory.GetFiles(cache));
            Assert.StartsWith("xenprof-functions 2 stripped", File.ReadLines(file).First());
            Assert.StartsWith(Tools.ReadelfBuildId(prog.Stripped)!, Path.GetFileName(file));
            using (var s = new Symbolizer(opts)) Assert.Equal(first, s.GetRecovery(prog.Stripped)!.Functions.ToList());
            // A copy of the same build under another name hits the same entry but is named after itself.
            var copy = Path.Combine(cache, "renamed");
            File.Copy(prog.Stripped, copy);
            using (var s = new Symbolizer(opts))
            {
                var renamed = s.GetRecovery(copy)!.Functions.ToList();
                Assert.Equal(first.Select(f => f.Start), renamed.Select(f => f.Start));
                Assert.All(renamed.Where(f => f.Source != RecoveredFrom.Plt), f => Assert.StartsWith("renamed+0x", f.Name));
            }
        }
        finally { Directory.Delete(cache, true); }
    }
}
