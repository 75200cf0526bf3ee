using Microsoft.Data.Sqlite;
using XenProf.Sampler.Store;
using Xunit;

namespace XenProf.Sampler.Tests;

public sealed class StoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-store-").FullName;
    private string DbPath => Path.Combine(_dir, StoreSchema.FileName);

    public void Dispose() { SqliteConnection.ClearAllPools(); Directory.Delete(_dir, true); }

    private static StoredEvent Clock => new("CPU_CLOCK", 1, 0, 1_000_000, 0, true, true, "ns", "CPU clock");

    [Fact]
    public void RoundTrip_StacksAreAPrefixTree_TotalsGroupByStack()
    {
        using (var s = SessionStore.Create(DbPath))
        {
            var ev = s.AddEvent(Clock).Id;
            var exe = s.InternImage("/usr/bin/app", ImageKind.Elf, "ab12");
            var kernel = s.InternImage("[kernel.kallsyms]", ImageKind.Kernel, null);
            var main = s.InternFrame(exe, 0x1100);
            var work = s.InternFrame(exe, 0x1200);
            var sys = s.InternFrame(kernel, 0xffffffff81000000);
            var a = s.InternStack([main, work]);
            var b = s.InternStack([main, work, sys]);
            Assert.Equal(a, s.InternStack([main, work]));          // interned
            Assert.Equal(a, s.ReadStacksFor(b).Parent);             // b's parent is a
            s.SetProcess(0, 42, 1, "app");
            for (int i = 0; i < 3; i++) s.AddSample(new StoredSample(i, 0, 0, 42, 42, ev, a, SampleMode.User, 1));
            s.AddSample(new StoredSample(9, 1, 0, 42, 43, ev, b, SampleMode.Kernel, 1));
            s.AddCounter(CounterNames.LostSamples, 5);
            s.AddCounter(CounterNames.LostSamples, 2);
            s.Commit();
        }
        using var r = SessionStore.OpenRead(DbPath);
        Assert.Empty(r.Validate());
        var totals = r.ReadStackTotals().OrderBy(t => t.Stack.Value).ToList();
        Assert.Equal([3L, 1L], totals.Select(t => t.Samples));
        Assert.Equal(7, r.ReadCounters()[CounterNames.LostSamples]);
        Assert.Equal("app", r.ReadProcesses()[(0, 42)].Comm);
        Assert.Equal(0xffffffff81000000UL, r.ReadFrames().Values.Single(f => f.Image.Value == 2).Offset);
        Assert.Equal([0L, 1L, 2L, 9L], r.ReadSamples().Select(x => x.TimeNs));
        Assert.Equal("ab12", r.ReadImages().Values.Single(i => i.Kind == ImageKind.Elf).BuildId);
    }

    [Fact]
    public void Images_are_keyed_by_domain_path_and_build_id()
    {
        ImageId dom0, dom1;
        using (var s = SessionStore.Create(DbPath))
        {
            dom0 = s.InternImage("/boot/vmlinux", ImageKind.KernelImage, null);
            dom1 = s.InternImage("/boot/vmlinux", ImageKind.KernelImage, null, domain: 1);
            Assert.NotEqual(dom0, dom1);
            Assert.Equal(dom1, s.InternImage("/boot/vmlinux", ImageKind.KernelImage, null, domain: 1));
            s.Commit();
        }
        using (var s = SessionStore.OpenForAppend(DbPath))
        {
            Assert.Equal(dom1, s.InternImage("/boot/vmlinux", ImageKind.KernelImage, null, domain: 1)); // reloaded with its domain
            Assert.Equal(2, s.SetMissingBuildId("/boot/vmlinux", "cafe"));
            Assert.Equal(dom1, s.InternImage("/boot/vmlinux", ImageKind.KernelImage, "cafe", domain: 1));
            Assert.Equal(dom0, s.InternImage("/boot/vmlinux", ImageKind.KernelImage, "cafe"));
        }
        using var r = SessionStore.OpenRead(DbPath);
        var images = r.ReadImages();
        Assert.Equal(0, images[dom0].Domain);
        Assert.Equal(1, images[dom1].Domain);
    }

    [Fact]
    public void A_version_3_store_is_refused_for_appending()
    {
        using (var s = SessionStore.Create(DbPath)) s.SetMeta("schema_version", "3");
        SqliteConnection.ClearAllPools();
        var e = Assert.Throws<StoreException>(() => SessionStore.OpenForAppend(DbPath));
        Assert.Contains("schema version 3, this xenoprof reads version 4; re-record or re-import", e.Message);
    }

    [Fact]
    public void Append_KeepsInternedIds()
    {
        FrameId f;
        StackId st;
        using (var s = SessionStore.Create(DbPath))
        {
            var img = s.InternImage("/bin/x", ImageKind.Elf, null);
            f = s.InternFrame(img, 10);
            st = s.InternStack([f]);
        }
        using (var s = SessionStore.OpenForAppend(DbPath))
        {
            var img = s.InternImage("/bin/x", ImageKind.Elf, null);
            Assert.Equal(f, s.InternFrame(img, 10));
            Assert.Equal(st, s.InternStack([f]));
            Assert.NotEqual(st, s.InternStack([f, s.InternFrame(img, 20)]));
        }
        using var r = SessionStore.OpenRead(DbPath);
        Assert.Empty(r.Validate());
        Assert.Equal(2, r.ReadStacks().Count);
    }

    [Fact]
    public void ReaderSeesCommittedSamplesWhileWriterIsOpen()
    {
        using var w = SessionStore.Create(DbPath);
        var ev = w.AddEvent(Clock).Id;
        var st = w.InternStack([w.InternFrame(w.InternImage("/bin/x", ImageKind.Elf, null), 1)]);
        w.AddSample(new StoredSample(1, 0, 0, 1, 1, ev, st, SampleMode.User, 1));
        w.Commit();
        w.AddSample(new StoredSample(2, 0, 0, 1, 1, ev, st, SampleMode.User, 1)); // not committed yet
        using var r = SessionStore.OpenRead(DbPath);
        Assert.Equal(1, r.CountSamples());
    }

    [Fact]
    public void SampleLog_UncommittedTailIsIgnoredAndCutOnAppend()
    {
        StackId st;
        EventId ev;
        using (var w = SessionStore.Create(DbPath))
        {
            ev = w.AddEvent(Clock).Id;
            st = w.InternStack([w.InternFrame(w.InternImage("/bin/x", ImageKind.Elf, null), 1)]);
            for (int i = 0; i < 3; i++) w.AddSample(new StoredSample(i, 0, 0, 1, 1, ev, st, SampleMode.User, 1));
            w.Commit();
        }
        // A crash after an append but before its commit leaves bytes past the committed length.
        var log = DbPath + "-samples";
        using (var f = new FileStream(log, FileMode.Append)) f.Write(new byte[40 * 2 + 7]);
        using (var r = SessionStore.OpenRead(DbPath))
        {
            Assert.Equal(3, r.CountSamples());
            Assert.Equal([0L, 1L, 2L], r.ReadSamples().Select(x => x.TimeNs));
            Assert.Empty(r.Validate());
        }
        using (var w = SessionStore.OpenForAppend(DbPath))
        {
            Assert.Equal(3 * 40, new FileInfo(log).Length);
            w.AddSample(new StoredSample(3, 1, 0, 1, 2, ev, st, SampleMode.User, 5));
        }
        using var r2 = SessionStore.OpenRead(DbPath);
        Assert.Equal(4, r2.CountSamples());
        Assert.Equal(new StoredSample(3, 1, 0, 1, 2, ev, st, SampleMode.User, 5), r2.ReadSamples().Last());
        Assert.Equal((4L, 8L), (r2.ReadStackTotals().Single().Samples, r2.ReadStackTotals().Single().Weight));
        Assert.Empty(r2.Validate());
    }

    [Fact]
    public void SampleLog_MissingBytesAreReportedNotInvented()
    {
        using (var w = SessionStore.Create(DbPath))
        {
            var ev = w.AddEvent(Clock).Id;
            var st = w.InternStack([w.InternFrame(w.InternImage("/bin/x", ImageKind.Elf, null), 1)]);
            for (int i = 0; i < 4; i++) w.AddSample(new StoredSample(i, 0, 0, 1, 1, ev, st, SampleMode.User, 1));
        }
        using (var f = new FileStream(DbPath + "-samples", FileMode.Open)) f.SetLength(40 * 3);
        using var r = SessionStore.OpenRead(DbPath);
        Assert.Equal(3, r.ReadSamplesUnordered().Count());
        Assert.Equal(40, r.SampleLogBytesMissing);
        var problems = r.Validate();
        Assert.Contains(problems, p => p.Contains("40 bytes missing from the sample log"));
        Assert.Contains(problems, p => p.Contains("sample log holds 3 samples (weight 3) but stack_totals sums 4"));
    }

    [Fact]
    public void SampleLog_TimeWindowsOutOfOrderRingsAndReset()
    {
        using var w = SessionStore.Create(DbPath);
        var ev = w.AddEvent(Clock).Id;
        var img = w.InternImage("/bin/x", ImageKind.Elf, null);
        var a = w.InternStack([w.InternFrame(img, 1)]);
        var b = w.InternStack([w.InternFrame(img, 2)]);
        // Two rings drained in turn: times interleave in storage order; equal times keep storage order.
        long[] times = [10, 30, 20, 20, 40, 5];
        for (int i = 0; i < times.Length; i++) w.AddSample(new StoredSample(times[i], i, 0, 7, 7, ev, i % 2 == 0 ? a : b, SampleMode.User, 1));
        w.Commit();
        using (var r = SessionStore.OpenRead(DbPath))
        {
            Assert.Equal([5L, 10, 20, 20, 30, 40], r.ReadSamples().Select(s => s.TimeNs));
            Assert.Equal([2, 3], r.ReadSamples().Where(s => s.TimeNs == 20).Select(s => s.Cpu));
            var window = r.ReadStackTotals(fromNs: 10, toNs: 30).ToList();
            Assert.Equal([(a, 2L), (b, 1L)], window.Select(t => (t.Stack, t.Samples)));
            Assert.Equal(5, r.FirstSampleTime());
        }
        w.ClearSamples();
        using var r2 = SessionStore.OpenRead(DbPath);
        Assert.Equal(0, r2.CountSamples());
        Assert.Empty(r2.ReadStackTotals());
        Assert.Null(r2.FirstSampleTime());
        Assert.Empty(r2.Validate());
    }

    [Fact]
    public void Validate_FindsDanglingReferences()
    {
        using (var s = SessionStore.Create(DbPath))
        {
            var ev = s.AddEvent(Clock).Id;
            s.AddSample(new StoredSample(1, 0, 0, 1, 1, ev, new StackId(99), SampleMode.User, 1));
        }
        using var r = SessionStore.OpenRead(DbPath);
        Assert.Contains(r.Validate(), p => p.Contains("unknown or empty stack"));
    }

    [Fact]
    public void OpenRead_RefusesMissingAndForeignFiles()
    {
        Assert.Contains("no session store", Assert.Throws<StoreException>(() => SessionStore.OpenRead(DbPath)).Message);
        File.WriteAllText(DbPath, "not a database at all, just text that is long enough to be a header........");
        Assert.Throws<StoreException>(() => SessionStore.OpenRead(DbPath));
    }
}
