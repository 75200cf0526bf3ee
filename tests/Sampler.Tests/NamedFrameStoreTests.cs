using Microsoft.Data.Sqlite;
using XenProf.Sampler.Store;
using Xunit;

namespace XenProf.Sampler.Tests;

/// <summary>Schema v2's frame_names: frames a source names itself, their offsets, and what Validate checks.</summary>
public sealed class NamedFrameStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-named-").FullName;
    private string DbPath => Path.Combine(_dir, StoreSchema.FileName);

    public void Dispose() { SqliteConnection.ClearAllPools(); Directory.Delete(_dir, true); }

    [Fact]
    public void NamedFrames_AddressOrOrdinal_SurviveAppend()
    {
        FrameId hot, hotAgain, inlined, unknown, ordinal1, ordinal2;
        using (var s = SessionStore.Create(DbPath))
        {
            Assert.Equal(StoreSchema.Version.ToString(), s.ReadMeta()["schema_version"]);
            var app = s.InternImage("burner", ImageKind.Managed, null);
            var libc = s.InternImage("/usr/lib/libc.so.6", ImageKind.Elf, null);
            hot = s.InternNamedFrame(app, "Burner.Hot(int64)", 0x7f0010);
            hotAgain = s.InternNamedFrame(app, "Burner.Hot(int64)", 0x7f0010);
            inlined = s.InternNamedFrame(app, "Burner.Inner()", 0x7f0010); // same IP, an inlined function
            unknown = s.InternNamedFrame(libc, null, 0x7f1234);
            ordinal1 = s.InternNamedFrame(libc, "memcpy");
            ordinal2 = s.InternNamedFrame(libc, "memset");
            Assert.Equal(hot, hotAgain);
            Assert.NotEqual(hot, inlined);
        }
        using (var s = SessionStore.OpenForAppend(DbPath))
        {
            var app = s.InternImage("burner", ImageKind.Managed, null);
            Assert.Equal(hot, s.InternNamedFrame(app, "Burner.Hot(int64)", 0x7f0010));
            var libc = s.InternImage("/usr/lib/libc.so.6", ImageKind.Elf, null);
            Assert.Equal(ordinal1, s.InternNamedFrame(libc, "memcpy"));
        }
        using var r = SessionStore.OpenRead(DbPath);
        Assert.Empty(r.Validate());
        var names = r.ReadFrameNames();
        var frames = r.ReadFrames();
        Assert.Equal("Burner.Hot(int64)", names[hot]);
        Assert.Null(names[unknown]);
        Assert.Equal(0x7f0010UL, frames[inlined].Offset);
        Assert.Equal(1UL, frames[ordinal1].Offset);
        Assert.Equal(2UL, frames[ordinal2].Offset);
    }

    [Fact]
    public void Validate_FindsManagedFramesWithoutNames()
    {
        using var s = SessionStore.Create(DbPath);
        var app = s.InternImage("burner", ImageKind.Managed, null);
        s.InternFrame(app, 1);
        s.Commit();
        Assert.Contains(s.Validate(), p => p.Contains("managed-module frames without a name"));
    }
}
