using Xunit;
using XenProf.Reporter.Symbols;
using Xunit.Abstractions;

namespace XenProf.Reporter.Tests.Symbols;

public class SymbolizerTests(CProgramFixture prog, ITestOutputHelper output) : IClassFixture<CProgramFixture>
{
    private static readonly SymbolizerOptions Local = new() { UseSystemDebugRoot = false, KallsymsPath = "/nonexistent", UseRunningVdso = false, CacheDirectory = null };

    private bool Skip()
    {
        if (prog.SkipReason == null) return false;
        output.WriteLine(prog.SkipReason);
        Console.WriteLine($"{nameof(SymbolizerTests)}: {prog.SkipReason}");
        return true;
    }

    /// <summary>File offset of each function of <paramref name="path"/>, computed from nm and readelf -l.</summary>
    private static Dictionary<string, (ulong FileOffset, ulong Svma)> Offsets(string symbolsFrom, string path)
    {
        var nm = Tools.Nm("--defined-only", symbolsFrom).ToDictionary(e => e.Name, e => e.Addr);
        var loads = Tools.ReadelfLoads(path);
        return CProgramFixture.Functions.ToDictionary(f => f, f =>
        {
            var seg = loads.Single(l => nm[f] >= l.Vaddr && nm[f] < l.Vaddr + l.FileSz);
            return (nm[f] - seg.Vaddr + seg.Off, nm[f]);
        });
    }

    [Fact]
    public void ResolvesFileOffsetsOfUnstrippedProgram()
    {
        if (Skip()) return;
        using var s = new Symbolizer(Local);
        foreach (var (fn, (fo, svma)) in Offsets(prog.Pie, prog.Pie))
        {
            var r = s.Resolve(prog.Pie, ObjectKind.Elf, fo + 3);
            Assert.NotNull(r);
            Assert.Equal((fn, svma, 3UL), (r.Value.Name, r.Value.Start, r.Value.Offset));
        }
        Assert.Empty(s.Warnings);
    }

    [Fact]
    public void StrippedProgramUsesDebugLink()
    {
        if (Skip()) return;
        using var s = new Symbolizer(Local);
        foreach (var (fn, (fo, _)) in Offsets(prog.Pie, prog.Stripped))
            Assert.Equal(fn, s.Resolve(prog.Stripped, ObjectKind.Elf, fo)?.Name);
        Assert.Equal(prog.StrippedDebug, s.GetImage(prog.Stripped)!.DebugFilePath);
        Assert.Empty(s.Warnings);
    }

    [Fact]
    public void StrippedProgramWithoutDebugFilesKeepsDynamicSymbolsOnly()
    {
        if (Skip()) return;
        using var s = new Symbolizer(Local with { UseDebugFiles = false, RecoverFunctions = false });
        var offs = Offsets(prog.Pie, prog.Stripped);
        Assert.Null(s.Resolve(prog.Stripped, ObjectKind.Elf, offs["xp_static_helper"].FileOffset));
        // With recovery (the default) the same address names the function by image and start.
        using var r = new Symbolizer(Local with { UseDebugFiles = false });
        var (fo, svma) = offs["xp_static_helper"];
        Assert.Equal($"stripped+0x{svma:x}", r.Resolve(prog.Stripped, ObjectKind.Elf, fo + 1)?.Name);
    }

    [Fact]
    public void StrippedProgramUsesBuildIdDirectory()
    {
        if (Skip()) return;
        var root = Directory.CreateTempSubdirectory("xenprof-dbgroot-").FullName;
        var dir = Directory.CreateTempSubdirectory("xenprof-img-").FullName;
        try
        {
            var img = Path.Combine(dir, "stripped");
            File.Copy(prog.Stripped, img); // its debuglink target is not next to it here
            string id = Tools.ReadelfBuildId(img)!;
            var dbg = Path.Combine(root, ".build-id", id[..2], id[2..] + ".debug");
            Directory.CreateDirectory(Path.GetDirectoryName(dbg)!);
            File.Copy(prog.StrippedDebug, dbg);
            using var s = new Symbolizer(Local with { DebugDirectories = [root] });
            var offs = Offsets(prog.Pie, img);
            Assert.Equal("xp_static_helper", s.Resolve(img, ObjectKind.Elf, offs["xp_static_helper"].FileOffset)?.Name);
            Assert.Equal(dbg, s.GetImage(img)!.DebugFilePath);
        }
        finally { Directory.Delete(root, true); Directory.Delete(dir, true); }
    }

    [Fact]
    public void DebugFileOfAnotherBuildIsRejectedWithWarning()
    {
        if (Skip()) return;
        var dir = Directory.CreateTempSubdirectory("xenprof-img-").FullName;
        try
        {
            var img = Path.Combine(dir, "stripped");
            File.Copy(prog.Stripped, img);
            File.Copy(prog.OtherDebug, Path.Combine(dir, "stripped.debug")); // debuglink name, wrong build
            using var s = new Symbolizer(Local with { RecoverFunctions = false });
            var offs = Offsets(prog.Pie, img);
            Assert.Null(s.Resolve(img, ObjectKind.Elf, offs["xp_static_helper"].FileOffset));
            var w = Assert.Single(s.Warnings);
            Assert.Equal(img, w.Image);
            Assert.Contains("build-id", w.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ExpectedBuildIdMismatchLeavesFramesUnresolved()
    {
        if (Skip()) return;
        using var s = new Symbolizer(Local);
        var offs = Offsets(prog.Pie, prog.Pie);
        string id = Tools.ReadelfBuildId(prog.Pie)!;
        Assert.Equal("xp_alpha", s.Resolve(prog.Pie, ObjectKind.Elf, offs["xp_alpha"].FileOffset, id.ToUpperInvariant())?.Name);
        Assert.Equal("xp_alpha", s.Resolve(prog.Pie, ObjectKind.Elf, offs["xp_alpha"].FileOffset, id + "00000000")?.Name); // zero-padded 20→24 bytes
        Assert.Empty(s.Warnings);
        string wrong = new('a', 40);
        Assert.Null(s.Resolve(prog.Pie, ObjectKind.Elf, offs["xp_alpha"].FileOffset, wrong));
        Assert.Null(s.Resolve(prog.Pie, ObjectKind.Elf, offs["xp_beta"].FileOffset, wrong));
        var w = Assert.Single(s.Warnings);
        Assert.Contains($"build-id mismatch: samples expect {wrong} but the file has {id}", w.Message);
    }

    [Fact]
    public void KindsWithoutSymbolsResolveNothing()
    {
        using var s = new Symbolizer(Local);
        Assert.Null(s.Resolve("//anon", ObjectKind.Anonymous, 0x1000));
        Assert.Null(s.Resolve("[vdso]", ObjectKind.Vdso, 0x1000));
        Assert.Null(s.Resolve("[vsyscall]", ObjectKind.Unknown, 0x1000));
        Assert.Empty(s.Warnings);
    }

    [Fact]
    public void VdsoFramesResolveAgainstRunningKernelVdso()
    {
        var bytes = VdsoImage.ReadCurrent();
        if (bytes == null || !Tools.Has("nm")) { output.WriteLine("skipped: no readable [vdso] or no nm"); return; }
        var path = Path.Combine(Path.GetTempPath(), $"xenprof-vdso-{Environment.ProcessId}.so");
        File.WriteAllBytes(path, bytes);
        try
        {
            var nm = Tools.Nm("-D", "--defined-only", path).Where(e => e.Type is 'T' or 'W').ToList();
            Assert.Contains(nm, e => e.Name == "__vdso_clock_gettime");
            using var s = new Symbolizer(Local with { UseRunningVdso = true });
            var loads = Tools.ReadelfLoads(path);
            foreach (var (addr, _, name) in nm)
            {
                var seg = loads.Single(l => addr >= l.Vaddr && addr < l.Vaddr + l.FileSz);
                var r = s.Resolve("[vdso]", ObjectKind.Vdso, addr - seg.Vaddr + seg.Off + 1);
                Assert.NotNull(r);
                Assert.Equal(addr, r.Value.Start);
                Assert.Contains(r.Value.Name, nm.Where(e => e.Addr == addr).Select(e => e.Name));
            }
            Assert.Empty(s.Warnings);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ReloadsAnImageThatChangedOnDisk()
    {
        if (Skip()) return;
        var dir = Directory.CreateTempSubdirectory("xenprof-img-").FullName;
        try
        {
            var img = Path.Combine(dir, "prog");
            File.Copy(prog.Pie, img);
            using var s = new Symbolizer(Local);
            var first = s.GetImage(img);
            Assert.NotNull(first);
            Thread.Sleep(1100);
            Assert.Same(first, s.GetImage(img)); // unchanged: same instance after revalidation
            var next = Path.Combine(dir, "prog.new"); // replaced by rename, as package managers do
            File.Copy(prog.NoPie, next);
            File.SetLastWriteTimeUtc(next, DateTime.UtcNow.AddMinutes(1));
            File.Move(next, img, overwrite: true);
            Thread.Sleep(1100);
            var second = s.GetImage(img);
            Assert.NotSame(first, second);
            Assert.Equal(2, second!.ElfType);
            Assert.Contains(s.Warnings, w => w.Message.Contains("changed on disk"));
        }
        finally { Directory.Delete(dir, true); }
    }
}
