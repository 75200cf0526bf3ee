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
    public void ManyRows_WrittenInBatches_ReadBackWhole_AndAReadOnTheWriterSeesThem()
    {
        // More frames, stack nodes and totals than one 64-row INSERT holds, with a remainder, across two commits.
        var expected = new Dictionary<StackId, (StackId Parent, FrameId Frame)>();
        int samples = 0;
        using (var s = SessionStore.Create(DbPath))
        {
            var ev = s.AddEvent(Clock).Id;
            var exe = s.InternImage("/usr/bin/app", ImageKind.Elf, null);
            s.SetProcess(0, 7, 1, "app");
            for (int round = 0; round < 2; round++)
            {
                for (int i = 0; i < 1000; i++)
                {
                    // Stacks of depth 1-6 over 301 frames, so many share prefixes and many nodes are new.
                    var chain = Enumerable.Range(0, 1 + i % 6).Select(d => s.InternFrame(exe, 0x1000 + (ulong)((i * 7 + d * 13 + round) % 301) * 16)).ToArray();
                    var leaf = s.InternStack(chain);
                    var node = new StackId(0);
                    foreach (var f in chain)
                    {
                        var child = s.InternStack(node, f);
                        expected[child] = (node, f);
                        node = child;
                    }
                    Assert.Equal(leaf, node);
                    s.AddSample(new StoredSample(samples++, 0, 0, 7, 7, ev, leaf, SampleMode.User, 1));
                }
                Assert.Equal(expected.Count, s.ReadStacks().Count); // read on the writer, before the commit
                s.Commit();
            }
        }
        using var r = SessionStore.OpenRead(DbPath);
        Assert.Empty(r.Validate());
        var stacks = r.ReadStacks();
        Assert.Equal(expected.Count, stacks.Count);
        foreach (var (id, (parent, frame)) in expected)
        {
            Assert.Equal(parent, stacks[id].Parent);
            Assert.Equal(frame, stacks[id].Frame);
        }
        Assert.Equal(301, r.ReadFrames().Count);
        Assert.Equal(301, r.ReadFrames().Values.Select(f => f.Offset).Distinct().Count());
        Assert.Equal(samples, r.ReadStackTotals().Sum(t => t.Samples));
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
        Assert.Contains("schema version 3, this xenoprof reads version 5 (and migrates 4); re-record or re-import", e.Message);
    }

    [Fact]
    public void Each_sample_keeps_its_period_and_totals_sum_it()
    {
        using (var w = SessionStore.Create(DbPath))
        {
            var ev = w.AddEvent(Clock).Id;
            var st = w.InternStack([w.InternFrame(w.InternImage("/bin/x", ImageKind.Elf, null), 1)]);
            w.AddSample(new StoredSample(1, 0, 0, 1, 1, ev, st, SampleMode.User, 1, default, 250_000));
            w.AddSample(new StoredSample(2, 0, 0, 1, 1, ev, st, SampleMode.User, 1, default, 750_000));
            w.AddSample(new StoredSample(3, 0, 0, 1, 1, ev, st, SampleMode.User, 1)); // the event's 1 ms
        }
        using var r = SessionStore.OpenRead(DbPath);
        Assert.Equal([250_000L, 750_000L, 1_000_000L], r.ReadSamples().Select(x => x.Period));
        var t = r.ReadStackTotals().Single();
        Assert.Equal((3L, 3L, 2_000_000L), (t.Samples, t.Weight, t.Period));
        Assert.Equal(250_000.0 * 250_000 + 750_000.0 * 750_000 + 1e12, t.PeriodSquares);
        var windowed = r.ReadStackTotals(fromNs: 2, toNs: 4).Single();
        Assert.Equal((2L, 1_750_000L), (windowed.Samples, windowed.Period));
        Assert.Empty(r.Validate());
    }

    /// <summary>
    /// A store as schema version 4 wrote it, byte for byte: <c>stack_totals</c> without the period columns and 40-byte
    /// sample records (time, weight, stack, pid, tid, comm, event, cpu, domain, mode, reserved).
    /// </summary>
    private void WriteVersion4Store(int samples)
    {
        using (var s = SessionStore.Create(DbPath))
        {
            var ev = s.AddEvent(Clock).Id;
            s.InternStack([s.InternFrame(s.InternImage("/bin/x", ImageKind.Elf, null), 1)]);
            s.Commit();
        }
        SqliteConnection.ClearAllPools();
        using (var db = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            db.Open();
            using var c = db.CreateCommand();
            c.CommandText = $"""
                DROP TABLE stack_totals;
                CREATE TABLE stack_totals(event_id INTEGER NOT NULL, domain INTEGER NOT NULL, pid INTEGER NOT NULL,
                    comm_id INTEGER NOT NULL, stack_id INTEGER NOT NULL, samples INTEGER NOT NULL, weight INTEGER NOT NULL,
                    PRIMARY KEY(event_id, domain, pid, comm_id, stack_id)) WITHOUT ROWID;
                INSERT INTO stack_totals VALUES (1, 0, 7, 0, 1, {samples}, {samples + 1});
                UPDATE meta SET value = '4' WHERE key = 'schema_version';
                UPDATE meta SET value = '{samples * 40}' WHERE key = 'sample_log_bytes';
                """;
            c.ExecuteNonQuery();
        }
        var log = new byte[samples * 40];
        for (int i = 0; i < samples; i++)
        {
            var b = log.AsSpan(i * 40, 40);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b, 100 + i);
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b[8..], i == 0 ? 2 : 1); // the first stands for two samples
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b[16..], 1);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(b[20..], 7);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(b[24..], 7);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(b[32..], 1);
            b[38] = (byte)SampleMode.User;
        }
        File.WriteAllBytes(DbPath + "-samples", log);
    }

    [Fact]
    public void A_version_4_store_is_migrated_in_place_when_reopened_and_keeps_its_samples()
    {
        WriteVersion4Store(3);
        using (var w = SessionStore.OpenOrCreate(DbPath, out var existing))
        {
            Assert.Equal(3, existing);
            // Its 40-byte records stay as they were; new ones follow in the v5 layout.
            Assert.Equal(3 * 40, new FileInfo(DbPath + "-samples").Length);
            var ev = w.ReadEvents().Single().Id;
            w.AddSample(new StoredSample(200, 0, 0, 7, 7, ev, new StackId(1), SampleMode.User, 1, default, 400_000));
        }
        SqliteConnection.ClearAllPools();
        using var r = SessionStore.OpenRead(DbPath);
        Assert.Equal("5", r.ReadMeta()["schema_version"]);
        Assert.Equal(3 * 40 + 48, new FileInfo(DbPath + "-samples").Length);
        Assert.Equal(4, r.CountSamples());
        var all = r.ReadSamples();
        Assert.Equal([100L, 101L, 102L, 200L], all.Select(s => s.TimeNs));
        // Old records: weight × the event's configured count (1 ms); the new one its own period.
        Assert.Equal([2_000_000L, 1_000_000L, 1_000_000L, 400_000L], all.Select(s => s.Period));
        // Read from any position: inside the 40-byte records, at the first 48-byte one, at and past the end.
        for (int from = 0; from <= 5; from++)
            Assert.Equal(r.ReadSamplesUnordered().Skip(from), r.ReadSamplesFrom(from));
        var t = r.ReadStackTotals().Single();
        Assert.Equal((4L, 5L, 4_400_000L), (t.Samples, t.Weight, t.Period));
        Assert.Empty(r.Validate());
    }

    [Fact]
    public void A_version_4_store_is_migrated_when_opened_for_reading()
    {
        WriteVersion4Store(2);
        using (var r = SessionStore.OpenRead(DbPath))
        {
            Assert.Equal("5", r.ReadMeta()["schema_version"]);
            Assert.Equal(2, r.CountSamples());
            Assert.Equal((2L, 3L, 3_000_000L), (r.ReadStackTotals().Single().Samples, r.ReadStackTotals().Single().Weight, r.ReadStackTotals().Single().Period));
            Assert.Empty(r.Validate());
        }
        SqliteConnection.ClearAllPools();
        using var again = SessionStore.OpenRead(DbPath); // already v5: opened as it is
        Assert.Equal(2, again.CountSamples());
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
        using (var f = new FileStream(log, FileMode.Append)) f.Write(new byte[48 * 2 + 7]);
        using (var r = SessionStore.OpenRead(DbPath))
        {
            Assert.Equal(3, r.CountSamples());
            Assert.Equal([0L, 1L, 2L], r.ReadSamples().Select(x => x.TimeNs));
            Assert.Empty(r.Validate());
        }
        using (var w = SessionStore.OpenForAppend(DbPath))
        {
            Assert.Equal(3 * 48, new FileInfo(log).Length);
            w.AddSample(new StoredSample(3, 1, 0, 1, 2, ev, st, SampleMode.User, 5));
        }
        using var r2 = SessionStore.OpenRead(DbPath);
        Assert.Equal(4, r2.CountSamples());
        // No period given: five samples of the event's configured 1 ms.
        Assert.Equal(new StoredSample(3, 1, 0, 1, 2, ev, st, SampleMode.User, 5, default, 5_000_000), r2.ReadSamples().Last());
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
        using (var f = new FileStream(DbPath + "-samples", FileMode.Open)) f.SetLength(48 * 3);
        using var r = SessionStore.OpenRead(DbPath);
        Assert.Equal(3, r.ReadSamplesUnordered().Count());
        Assert.Equal(48, r.SampleLogBytesMissing);
        var problems = r.Validate();
        Assert.Contains(problems, p => p.Contains("48 bytes missing from the sample log"));
        Assert.Contains(problems, p => p.Contains("sample log holds 3 samples (weight 3, period 3000000) but stack_totals sums 4 (weight 4, period 4000000)"));
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

    [Fact]
    public void LeafTotals_SumStacksByLeaf_AndGoStaleWithNewSamplesOrAReset()
    {
        using var s = SessionStore.Create(DbPath);
        var ev = s.AddEvent(Clock).Id;
        var exe = s.InternImage("/usr/bin/app", ImageKind.Elf, null);
        var main = s.InternFrame(exe, 0x1100);
        var work = s.InternFrame(exe, 0x1200);
        var deep = s.InternStack([main, work]);
        var shallow = s.InternStack([work]);
        s.AddSample(new StoredSample(1, 0, 0, 7, 7, ev, deep, SampleMode.User, 1));
        s.AddSample(new StoredSample(2, 0, 0, 7, 7, ev, shallow, SampleMode.User, 1));
        s.AddSample(new StoredSample(3, 0, 0, 7, 7, ev, s.InternStack([main]), SampleMode.User, 1));
        s.Commit();

        var byFrame = s.ReadLeafFrameTotals().GroupBy(t => t.Frame).ToDictionary(g => g.Key, g => g.Sum(t => t.Samples));
        Assert.Equal(2, byFrame[work]);
        Assert.Equal(1, byFrame[main]);

        s.WriteLeafTotals([new LeafTotal(ev, 0, 7, default, exe, "work", 2, 2, 2_000_000, 2e12), new LeafTotal(ev, 0, 7, default, exe, null, 1, 1, 1_000_000, 1e12)],
            "config-a", s.CountSamples());
        s.Commit();
        var read = s.ReadLeafTotals("config-a");
        Assert.NotNull(read);
        Assert.Equal(["work", null], read.Select(t => t.Name));
        Assert.Null(s.ReadLeafTotals("config-b"));

        s.AddSample(new StoredSample(4, 0, 0, 7, 7, ev, deep, SampleMode.User, 1));
        s.Commit();
        Assert.Null(s.ReadLeafTotals("config-a")); // four samples now, the totals sum three

        s.WriteLeafTotals([], "config-a", s.CountSamples());
        s.Commit();
        Assert.NotNull(s.ReadLeafTotals("config-a"));
        s.ClearSamples();
        Assert.Null(s.ReadLeafTotals("config-a"));
    }
}
