using XenProf.Sampler.Store;
using Xunit;

namespace XenProf.Sampler.Tests;

/// <summary>The store's intern table, and a store reopened for appending that interns only after other writes.</summary>
public sealed class IdTableTests
{
    [Fact]
    public void Holds_every_key_through_growth_and_replaces_an_id()
    {
        var t = new IdTable();
        // Keys as the store makes them: sequential parents and frames, kernel-half offsets.
        for (int i = 1; i <= 100_000; i++) t.Set((ulong)i, 0xffffffff81000000UL + (ulong)i * 16, i);
        Assert.Equal(100_000, t.Count);
        for (int i = 1; i <= 100_000; i++)
        {
            Assert.True(t.TryGet((ulong)i, 0xffffffff81000000UL + (ulong)i * 16, out var id));
            Assert.Equal(i, id);
        }
        Assert.False(t.TryGet(1, 0xffffffff81000000UL, out _));
        Assert.False(t.TryGet(0, 0, out _));
        t.Set(7, 0xffffffff81000000UL + 7 * 16, 42);
        Assert.Equal(100_000, t.Count);
        Assert.True(t.TryGet(7, 0xffffffff81000000UL + 7 * 16, out var replaced));
        Assert.Equal(42, replaced);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Set(1, 2, 0));
    }

    [Fact]
    public void A_reopened_store_interns_the_same_ids_after_other_writes()
    {
        var db = Path.Combine(Directory.CreateTempSubdirectory("xenprof-idtable-").FullName, "samples.db");
        FrameId frame;
        StackId stack;
        using (var s = SessionStore.Create(db))
        {
            var img = s.InternImage("/usr/lib/libc.so.6", ImageKind.Elf, null);
            frame = s.InternFrame(img, 0x1234);
            stack = s.InternStack([s.InternFrame(img, 0x10), frame]);
            s.Commit();
        }
        using (var s = SessionStore.OpenForAppend(db))
        {
            s.SetMeta("symbol_cache", "x"); // a write that interns nothing comes first
            var img = s.InternImage("/usr/lib/libc.so.6", ImageKind.Elf, null);
            Assert.Equal(frame, s.InternFrame(img, 0x1234));
            Assert.Equal(stack, s.InternStack([s.InternFrame(img, 0x10), frame]));
            var fresh = s.InternFrame(img, 0x5678);
            Assert.True(fresh.Value > frame.Value);
            Assert.True(s.InternStack([fresh]).Value > stack.Value);
        }
        Directory.Delete(Path.GetDirectoryName(db)!, true);
    }
}
