using Xunit;
using Xunit.Abstractions;
using XenProf.Reporter.Symbols;

namespace XenProf.Reporter.Tests.Symbols;

/// <summary>
/// perf's build-id cache on real input: a C program is built with gcc, added with
/// <c>perf --buildid-dir PRIVATE buildid-cache -a FILE</c> (perf 6.1 ignores <c>$PERF_BUILDID_DIR</c> and takes the
/// directory from <c>--buildid-dir</c>), then removed or rebuilt; the symbolizer must find the sampled build in the cache.
/// </summary>
public sealed class BuildIdCacheTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-bidcache-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private bool Skip()
    {
        string? why = !Environment.IsPrivilegedProcess ? "needs root to run perf buildid-cache (CI runs as root)"
            : !Tools.Has("perf") ? "perf is not installed (CI installs linux-perf)"
            : new[] { "gcc", "nm", "readelf" }.FirstOrDefault(t => !Tools.Has(t)) is { } t ? $"'{t}' is not installed (CI installs gcc and binutils)"
            : null;
        if (why == null) return false;
        output.WriteLine("skipped: " + why);
        Console.WriteLine($"{nameof(BuildIdCacheTests)}: skipped: {why}");
        return true;
    }

    private static readonly SymbolizerOptions Local = new()
    {
        UseSystemDebugRoot = false, KallsymsPath = "/nonexistent", UseRunningVdso = false, CacheDirectory = null, RecoverFunctions = false,
    };

    /// <summary>Builds <paramref name="source"/> at <paramref name="path"/> and returns its build-id and the file offset of each function.</summary>
    private static (string BuildId, Dictionary<string, ulong> Offsets) Build(string path, string source)
    {
        var src = path + ".c";
        File.WriteAllText(src, source);
        Tools.Run("gcc", "-O2", "-fno-omit-frame-pointer", "-o", path, src);
        var nm = Tools.Nm("--defined-only", path).ToDictionary(e => e.Name, e => e.Addr);
        var loads = Tools.ReadelfLoads(path);
        var offsets = CProgramFixture.Functions.ToDictionary(f => f, f =>
        {
            var seg = loads.Single(l => nm[f] >= l.Vaddr && nm[f] < l.Vaddr + l.FileSz);
            return nm[f] - seg.Vaddr + seg.Off;
        });
        return (Tools.ReadelfBuildId(path)!, offsets);
    }

    // A rebuild that moves every function: a new function first in .text.
    private static string Rebuilt => CProgramFixture.Source.Replace("#include <stdlib.h>",
        "#include <stdlib.h>\n__attribute__((noinline)) long xp_padding(long x) { long s = 0; for (long i = 0; i < x; i++) s += i * i * 17 + (s >> 3); return s; }");

    private string Cache(string name) => Path.Combine(_dir, name);

    private void PerfCache(string cache, string file) => output.WriteLine(Tools.Run("perf", "--buildid-dir", cache, "buildid-cache", "-v", "-a", file));

    [Fact]
    public void RemovedBinaryResolvesFromTheCache()
    {
        if (Skip()) return;
        var app = Path.Combine(_dir, "app");
        var (id, offsets) = Build(app, CProgramFixture.Source);
        var cache = Cache("cache");
        PerfCache(cache, app);
        var entry = new BuildIdCache(cache).Find(id);
        Assert.NotNull(entry);
        Assert.Equal(Path.Combine(cache, ".build-id", id[..2], id[2..], "elf"), entry.Value.ElfPath);
        File.Delete(app);

        using var s = new Symbolizer(Local with { BuildIdCacheDirectory = cache });
        foreach (var (fn, fo) in offsets) Assert.Equal(fn, s.Resolve(app, ObjectKind.Elf, fo + 1, id)?.Name);
        Assert.Empty(s.Warnings);
        Assert.Equal(entry.Value.ElfPath, s.GetImage(app, id)!.Path);
    }

    [Fact]
    public void StrippedBinaryFromTheCacheNamesRecoveredFunctionsAfterTheImage()
    {
        if (Skip()) return;
        var app = Path.Combine(_dir, "stripped-app");
        var (id, offsets) = Build(app, CProgramFixture.Source);
        Tools.Run("strip", "--strip-all", app);
        var cache = Cache("stripped-cache");
        PerfCache(cache, app);
        File.Delete(app);

        // The cache keeps the file as .../BUILD-ID/elf; an unnamed function is still IMAGE+0xSTART after the sampled image.
        using var s = new Symbolizer(Local with { BuildIdCacheDirectory = cache, RecoverFunctions = true });
        var names = offsets.Values.Select(fo => s.Resolve(app, ObjectKind.Elf, fo + 1, id)?.Name).ToList();
        output.WriteLine(string.Join(", ", names));
        Assert.All(names, n => Assert.StartsWith("stripped-app+0x", n));
    }

    [Fact]
    public void RebuiltBinaryResolvesFromTheCacheAndWarnsWithoutIt()
    {
        if (Skip()) return;
        var app = Path.Combine(_dir, "app");
        var (id, offsets) = Build(app, CProgramFixture.Source);
        var cache = Cache("cache");
        PerfCache(cache, app);
        File.Delete(app); // the cache holds a hard link to it: rebuild into a new inode
        var (newId, newOffsets) = Build(app, Rebuilt);
        Assert.NotEqual(id, newId);
        Assert.NotEqual(offsets["xp_alpha"], newOffsets["xp_alpha"]);

        // Samples recorded against the old build: the cache has it, the mapped path is not read.
        using (var s = new Symbolizer(Local with { BuildIdCacheDirectory = cache }))
        {
            foreach (var (fn, fo) in offsets) Assert.Equal(fn, s.Resolve(app, ObjectKind.Elf, fo, id)?.Name);
            Assert.Empty(s.Warnings);
            // Samples of the new build resolve against the file on disk (the cache has no copy of it).
            foreach (var (fn, fo) in newOffsets) Assert.Equal(fn, s.Resolve(app, ObjectKind.Elf, fo, newId)?.Name);
            Assert.Empty(s.Warnings);
        }

        // Without the cache the mismatch is reported, never silently mis-symbolized.
        using (var s = new Symbolizer(Local with { BuildIdCacheDirectory = null }))
        {
            Assert.Null(s.Resolve(app, ObjectKind.Elf, offsets["xp_alpha"], id));
            var w = Assert.Single(s.Warnings);
            Assert.Equal(app, w.Image);
            Assert.Equal($"build-id mismatch: samples expect {id} but the file has {newId} (rebuilt or upgraded since recording?); not symbolized", w.Message);
        }
    }

    [Fact]
    public void MismatchingCacheEntryIsIgnoredWithAWarning()
    {
        if (Skip()) return;
        var app = Path.Combine(_dir, "app");
        var (id, offsets) = Build(app, CProgramFixture.Source);
        var other = Path.Combine(_dir, "other");
        var (otherId, _) = Build(other, Rebuilt);
        // A cache whose entry for the program's build-id holds another program (stale or hand-edited).
        var cache = Cache("bad");
        var entryDir = Path.Combine(cache, app.TrimStart('/'), id);
        Directory.CreateDirectory(entryDir);
        File.Copy(other, Path.Combine(entryDir, "elf"));
        Directory.CreateDirectory(Path.Combine(cache, ".build-id", id[..2]));
        File.CreateSymbolicLink(Path.Combine(cache, ".build-id", id[..2], id[2..]), Path.Combine("..", "..", app.TrimStart('/'), id));

        // The mapped file still matches: it is used, and the bad entry is reported.
        using (var s = new Symbolizer(Local with { BuildIdCacheDirectory = cache }))
        {
            Assert.Equal("xp_alpha", s.Resolve(app, ObjectKind.Elf, offsets["xp_alpha"], id)?.Name);
            var w = Assert.Single(s.Warnings);
            Assert.Equal($"build-id cache entry {Path.Combine(cache, ".build-id", id[..2], id[2..], "elf")} has build-id {otherId}, expected {id}; ignored", w.Message);
        }

        // With the file gone too, nothing resolves: both problems are reported.
        File.Delete(app);
        using (var s = new Symbolizer(Local with { BuildIdCacheDirectory = cache }))
        {
            Assert.Null(s.Resolve(app, ObjectKind.Elf, offsets["xp_alpha"], id));
            Assert.Contains(s.Warnings, w => w.Message.StartsWith("build-id cache entry ", StringComparison.Ordinal));
            Assert.Contains(s.Warnings, w => w.Message.Contains("not found", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void OldLayoutAndUnrecordedBuildIdUseTheCachedCopy()
    {
        if (Skip()) return;
        var app = Path.Combine(_dir, "app");
        var (id, offsets) = Build(app, CProgramFixture.Source);
        // Older perf: the index links straight to the copied file.
        var cache = Cache("old");
        var copy = Path.Combine(cache, app.TrimStart('/'), id);
        Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
        File.Copy(app, copy);
        Directory.CreateDirectory(Path.Combine(cache, ".build-id", id[..2]));
        File.CreateSymbolicLink(Path.Combine(cache, ".build-id", id[..2], id[2..]), Path.Combine("..", "..", app.TrimStart('/'), id));
        var index = Path.Combine(cache, ".build-id", id[..2], id[2..]);
        Assert.Equal(new BuildIdCacheEntry(index, index, null), new BuildIdCache(cache).Find(id.ToUpperInvariant()));

        using var s = new Symbolizer(Local with { BuildIdCacheDirectory = cache });
        // No build-id recorded with the samples: the file's own build-id leads to the cache, as perf does.
        Assert.Equal(index, s.GetImage(app, null)!.Path);
        foreach (var (fn, fo) in offsets) Assert.Equal(fn, s.Resolve(app, ObjectKind.Elf, fo)?.Name);
        Assert.Empty(s.Warnings);
    }

    [Fact]
    public void LookupOfAbsentOrInvalidIdsFindsNothing()
    {
        var c = new BuildIdCache(_dir);
        Assert.Null(c.Find("0123456789abcdef"));
        Assert.Null(c.Find("not-hex!"));
        Assert.Null(c.Find("ab"));
        Assert.Equal(Path.Combine(_dir, ".build-id", "01", "23abcd"), c.IndexPath("0123ABCD"));
        Assert.Throws<ArgumentException>(() => c.IndexPath("xyz"));
    }
}
