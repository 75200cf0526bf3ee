using XenProf.Hypervisor.Binary.Elf;
using Xunit;
using XenProf.Reporter.Symbols;
using Xunit.Abstractions;

namespace XenProf.Reporter.Tests.Symbols;

public class ElfObjectFileTests(CProgramFixture prog, ITestOutputHelper output) : IClassFixture<CProgramFixture>
{
    private const string Libc = "/lib/x86_64-linux-gnu/libc.so.6";

    private bool Skip(string? reason)
    {
        if (reason == null) return false;
        output.WriteLine(reason);
        Console.WriteLine($"{GetType().Name}: {reason}");
        return true;
    }

    [Fact]
    public void LibcDynamicFunctionsMatchNm()
    {
        if (Skip(!File.Exists(Libc) ? $"skipped: {Libc} not present" : !Tools.Has("nm") ? "skipped: nm not installed" : null)) return;
        var nm = Tools.Nm("-D", "--defined-only", Libc).Where(e => e.Type is 'T' or 'W' or 'i').ToList();
        var namesAt = nm.GroupBy(e => e.Addr).ToDictionary(g => g.Key, g => g.Select(e => e.Name).ToHashSet());
        Assert.True(nm.Count > 500, $"nm listed only {nm.Count} functions");
        using var elf = ElfObjectFile.Open(Libc);
        int checkedCount = 0;
        foreach (var (addr, _, name) in nm)
        {
            var s = elf.FindSymbol(new Svma(addr));
            Assert.True(s.HasValue, $"{name} at 0x{addr:x}: no symbol");
            Assert.True(s.Value.Start.Value == addr, $"{name} at 0x{addr:x}: found {s.Value.Name} at {s.Value.Start}");
            // The kept name is one of the aliases nm lists at that address (or a .symtab-only alias, none in libc).
            Assert.Contains(s.Value.Name, namesAt[addr]);
            checkedCount++;
        }
        output.WriteLine($"checked {checkedCount} libc functions against nm -D");
    }

    [Fact]
    public void LibcBuildIdAndDebugLinkMatchReadelf()
    {
        if (Skip(!File.Exists(Libc) ? $"skipped: {Libc} not present" : !Tools.Has("readelf") ? "skipped: readelf not installed" : null)) return;
        using var elf = ElfObjectFile.Open(Libc);
        Assert.Equal(Tools.ReadelfBuildId(Libc), elf.BuildId);
        Assert.True(elf.Is64Bit);
        Assert.Equal(3, elf.ElfType);
        Assert.Equal(62, elf.Machine);
        Assert.False(elf.HasSymtab);
        Assert.NotNull(elf.DebugLink);
        Assert.EndsWith(".debug", elf.DebugLink);
        Assert.NotNull(elf.DebugLinkCrc);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CProgramFunctionsMatchNmThroughFileOffsets(bool noPie)
    {
        if (Skip(prog.SkipReason)) return;
        var path = noPie ? prog.NoPie : prog.Pie;
        var nm = Tools.Nm("--defined-only", path).ToDictionary(e => e.Name, e => e.Addr);
        var loads = Tools.ReadelfLoads(path);
        using var elf = ElfObjectFile.Open(path);
        Assert.Equal(noPie ? 2 : 3, elf.ElfType);
        Assert.True(elf.HasSymtab);
        Assert.Equal(Tools.ReadelfBuildId(path), elf.BuildId);
        Assert.Equal(loads.Count, elf.LoadSegments.Count);
        foreach (var fn in CProgramFixture.Functions)
        {
            ulong svma = nm[fn];
            var seg = loads.Single(l => svma >= l.Vaddr && svma < l.Vaddr + l.FileSz);
            foreach (ulong delta in new ulong[] { 0, 1, 4 })
            {
                var fo = new FileOffset(svma + delta - seg.Vaddr + seg.Off);
                Assert.True(elf.TryFileOffsetToSvma(fo, out var got), $"{fn}: {fo} not in a PT_LOAD");
                Assert.Equal(svma + delta, got.Value);
                var s = elf.FindSymbol(got);
                Assert.NotNull(s);
                Assert.Equal(fn, s.Value.Name);
                Assert.Equal(svma, s.Value.Start.Value);
                Assert.True(s.Value.Size > delta);
            }
        }
        Assert.False(elf.TryFileOffsetToSvma(new FileOffset(1UL << 40), out _));
    }

    [Fact]
    public void StrippedImageKeepsOnlyDynamicSymbolsUntilDebugFileAttached()
    {
        if (Skip(prog.SkipReason)) return;
        var nm = Tools.Nm("--defined-only", prog.Pie).ToDictionary(e => e.Name, e => e.Addr);
        using var stripped = ElfObjectFile.Open(prog.Stripped);
        Assert.False(stripped.HasSymtab);
        Assert.Equal(Path.GetFileName(prog.StrippedDebug), stripped.DebugLink);
        Assert.Null(stripped.FindSymbol(new Svma(nm["xp_static_helper"])));
        var debug = ElfObjectFile.Open(prog.StrippedDebug);
        Assert.Equal(stripped.BuildId, debug.BuildId);
        stripped.AttachDebugFile(debug);
        Assert.Equal(prog.StrippedDebug, stripped.DebugFilePath);
        foreach (var fn in CProgramFixture.Functions)
            Assert.Equal(fn, stripped.FindSymbol(new Svma(nm[fn] + 1))?.Name);
    }

    [Fact]
    public void AttachingDebugFileOfAnotherBuildThrows()
    {
        if (Skip(prog.SkipReason)) return;
        using var stripped = ElfObjectFile.Open(prog.Stripped);
        using var other = ElfObjectFile.Open(prog.OtherDebug);
        Assert.NotEqual(stripped.BuildId, other.BuildId);
        Assert.Throws<ArgumentException>(() => stripped.AttachDebugFile(other));
    }

    [Fact]
    public void DebugFileCandidatesFollowPerfOrder()
    {
        var c = DebugFileLocator.Candidates("/usr/lib/foo/libx.so", "abcdef12", "libx.so.debug", ["/opt/dbg", "/usr/lib/debug"]);
        Assert.Equal(new[]
        {
            "/opt/dbg/.build-id/ab/cdef12.debug",
            "/usr/lib/debug/.build-id/ab/cdef12.debug",
            "/usr/lib/foo/libx.so.debug",
            "/usr/lib/foo/.debug/libx.so.debug",
            "/opt/dbg/usr/lib/foo/libx.so.debug",
            "/usr/lib/debug/usr/lib/foo/libx.so.debug",
        }, c);
        Assert.Equal(new[] { "/a/.debug/b" }, DebugFileLocator.Candidates("/a/b", null, "b", []));
    }
}
