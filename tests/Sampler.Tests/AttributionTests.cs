using Microsoft.Data.Sqlite;
using XenProf.Hypervisor.PerfEvents.Records;
using XenProf.Sampler.Attribution;
using XenProf.Sampler.Store;
using Xunit;

namespace XenProf.Sampler.Tests;

public sealed class AttributionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xenprof-attr-").FullName;
    private readonly SessionStore _store;
    private readonly EventId _ev;

    public AttributionTests()
    {
        _store = SessionStore.Create(Path.Combine(_dir, StoreSchema.FileName));
        _ev = _store.AddEvent(new StoredEvent("CPU_CLOCK", 1, 0, 1000000, 0, true, true, "ns", "clock")).Id;
    }

    public void Dispose() { _store.Dispose(); SqliteConnection.ClearAllPools(); Directory.Delete(_dir, true); }

    private static readonly KernelLayout Kernel = KernelLayout.Parse([
        "nf_tables 352256 0 - Live 0xffffffffc0a00000",
        "xfs 2510848 1 - Live 0xffffffffc0200000",
    ]);

    /// <summary>Frames of every stored sample, leaf first, as "image@offset".</summary>
    private List<string> SampleStacks()
    {
        _store.Commit();
        var images = _store.ReadImages();
        var frames = _store.ReadFrames();
        var stacks = _store.ReadStacks();
        return _store.ReadSamples().Select(s =>
        {
            var parts = new List<string>();
            for (var id = s.Stack; id.Value != 0; id = stacks[id].Parent)
            {
                var f = frames[stacks[id].Frame];
                parts.Add($"{images[f.Image].Path}@{f.Offset:x}");
            }
            return string.Join(" < ", parts);
        }).ToList();
    }

    [Theory]
    // existing mappings "start-limit" ... ; new mapping ; expected result (sorted) 
    [InlineData("1000-2000", "1800-2800", "1000-1800 1800-2800")]
    [InlineData("1000-2000", "1200-1400", "1000-1200 1200-1400 1400-2000")]
    [InlineData("1000-2000 3000-4000", "0-5000", "0-5000")]
    [InlineData("1000-2000", "2000-3000", "1000-2000 2000-3000")]
    public void AddressSpace_NewMappingReplacesWhatItOverlaps(string existing, string added, string expected)
    {
        static Mapping M(string r)
        {
            var p = r.Split('-');
            return new Mapping(Convert.ToUInt64(p[0], 16), Convert.ToUInt64(p[1], 16), 0, new ImageId(1), ImageKind.Elf, "x");
        }
        var space = new AddressSpace();
        foreach (var r in existing.Split(' ')) space.Add(M(r));
        space.Add(M(added));
        Assert.Equal(expected, string.Join(" ", space.Mappings.Select(m => $"{m.Start:x}-{m.Limit:x}")));
    }

    [Fact]
    public void AddressSpace_TrimmedElfMappingKeepsItsFileOffset()
    {
        var space = new AddressSpace();
        space.Add(new Mapping(0x1000, 0x3000, 0x400, new ImageId(1), ImageKind.Elf, "lib"));
        space.Add(new Mapping(0x1000, 0x2000, 0, new ImageId(2), ImageKind.Anonymous, "//anon"));
        var tail = space.Find(0x2800)!;
        Assert.Equal(0x2000UL, tail.Start);
        Assert.Equal(0x400UL + 0x1800, tail.FrameOffset(0x2800)); // still addr - original start + pgoff
    }

    [Theory]
    [InlineData("55d0c0a00000-55d0c0a01000 r-xp 00001000 08:01 1234 /usr/bin/app", true, 0x1000, "/usr/bin/app")]
    [InlineData("7f1e00000000-7f1e00021000 rw-p 00000000 00:00 0 ", false, 0, "//anon")]
    [InlineData("7ffc1a9fe000-7ffc1aa00000 r-xp 00000000 00:00 0                          [vdso]", true, 0, "[vdso]")]
    [InlineData("7f00-7f10 r-xp 00000000 00:00 0 /memfd:doublemapper (deleted)", true, 0, "/memfd:doublemapper (deleted)")]
    public void ProcMapsLine_Parses(string line, bool exec, ulong offset, string path)
    {
        Assert.True(ProcMapsLine.TryParse(line, out var m));
        Assert.Equal(exec, m.Executable);
        Assert.Equal(offset, m.Offset);
        Assert.Equal(path, m.Path);
    }

    [Theory]
    [InlineData("/usr/lib/x86_64-linux-gnu/libc.so.6", ImageKind.Elf)]
    [InlineData("[vdso]", ImageKind.Vdso)]
    [InlineData("//anon", ImageKind.Anonymous)]
    [InlineData("[heap]", ImageKind.Anonymous)]
    [InlineData("/memfd:doublemapper (deleted)", ImageKind.Anonymous)]
    [InlineData("/tmp/old-binary (deleted)", ImageKind.Anonymous)]
    public void ClassifyMapping(string name, ImageKind kind) => Assert.Equal(kind, Attributor.ClassifyMapping(name));

    [Fact]
    public void KernelLayout_NamesModulesAsPerfDoes()
    {
        Assert.Equal("[nf_tables]", Kernel.ImageFor(0xffffffffc0a00010));
        Assert.Equal("[xfs]", Kernel.ImageFor(0xffffffffc0200000));
        Assert.Equal("[kernel.kallsyms]", Kernel.ImageFor(0xffffffff81000000));
        Assert.Equal("[kernel.kallsyms]", Kernel.ImageFor(0xffffffffc0a00000 + 352256));
    }

    [Fact]
    public void Sample_UserAndKernelCallchain_ResolvesEachFrameToItsImage()
    {
        var a = new Attributor(_store, Kernel);
        a.Comm(7, 7, "app", exec: false);
        a.Mmap(7, 0x5000, 0x2000, 0x1000, "/usr/bin/app", "beef", executable: true, timeNs: 0);
        a.Mmap(7, 0x9000, 0x1000, 0, "/usr/lib/data", null, executable: false, timeNs: 0); // data: ignored
        ulong[] chain = [unchecked((ulong)-128L), 0xffffffff81000010, 0xffffffffc0a00020, unchecked((ulong)-512L), 0x5010, 0x6ff0, 0x9000];
        a.Sample(_ev, 1, 0, 7, 7, 0xffffffff81000010, chain, SampleMode.Kernel);
        Assert.Equal(["[kernel.kallsyms]@ffffffff81000010 < [nf_tables]@ffffffffc0a00020 < /usr/bin/app@1010 < /usr/bin/app@2ff0 < [unknown]@9000"], SampleStacks());
        Assert.Equal(0, a.UnmappedSamples);
        Assert.Equal("beef", _store.ReadImages().Values.Single(i => i.Path == "/usr/bin/app").BuildId);
    }

    [Fact]
    public void ExecForgetsOldMappings_ForkCopiesThem()
    {
        var a = new Attributor(_store, Kernel);
        a.Comm(10, 10, "sh", false);
        a.Mmap(10, 0x1000, 0x1000, 0, "/bin/sh", null, true, 0);
        a.Fork(11, 10, 11, 10);
        a.Sample(_ev, 1, 0, 11, 11, 0x1100, [], SampleMode.User);     // child sees parent's mapping
        a.Comm(10, 10, "app", exec: true);
        a.Sample(_ev, 2, 0, 10, 10, 0x1100, [], SampleMode.User);     // gone after exec
        Assert.Equal(["/bin/sh@100", "[unknown]@1100"], SampleStacks());
        Assert.Equal(1, a.UnmappedSamples);
        Assert.Equal("app", _store.ReadProcesses()[(0, 10)].Comm);
        Assert.Equal("sh", _store.ReadProcesses()[(0, 11)].Comm);
    }

    [Fact]
    public void ExecKeepsOldMappingsInPerfRecordMode_AsPerfDoes()
    {
        var a = new Attributor(_store, Kernel) { ModeFromRecords = true };
        a.Comm(10, 10, "sh", false);
        a.Mmap(10, 0x1000, 0x1000, 0, "/bin/sh", null, true, 0);
        a.Comm(10, 10, "app", exec: true);
        a.Sample(_ev, 1, 0, 10, 10, 0x1100, [], SampleMode.User);     // inside execve: still the old image
        a.Mmap(10, 0x1000, 0x1000, 0, "/bin/app", null, true, 0);
        a.Sample(_ev, 2, 0, 10, 10, 0x1100, [], SampleMode.User);     // the new image replaced it
        Assert.Equal(["/bin/sh@100", "/bin/app@100"], SampleStacks());
        Assert.Equal(0, a.UnmappedSamples);
    }

    [Fact]
    public void RepeatedCallchain_FollowsMappingChangesOfItsProcessOnly()
    {
        var a = new Attributor(_store, Kernel) { ModeFromRecords = true };
        ulong[] chain = [unchecked((ulong)-512L), 0x1100, 0x1200];
        a.Sample(_ev, 1, 0, 20, 20, 0x1100, chain, SampleMode.User);          // nothing mapped yet
        a.Mmap(21, 0x1000, 0x1000, 0, "/bin/other", null, true, 0);          // another process's mapping
        a.Sample(_ev, 2, 0, 20, 20, 0x1100, chain, SampleMode.User);
        a.Mmap(20, 0x1000, 0x1000, 0x3000, "/bin/app", null, true, 0);
        a.Sample(_ev, 3, 0, 20, 20, 0x1100, chain, SampleMode.User);          // same raw chain, now mapped
        a.Sample(_ev, 4, 0, 20, 20, 0x1100, chain, SampleMode.User);
        a.Sample(_ev, 5, 0, 20, 20, 0x1100, chain.AsSpan(0, 2), SampleMode.User); // a prefix is another stack
        a.Mmap(20, 0x1000, 0x1000, 0, "/bin/app2", null, true, 0);           // exec's new image over the old
        a.Sample(_ev, 6, 0, 20, 20, 0x1100, chain, SampleMode.User);
        Assert.Equal([
            "[unknown]@1100 < [unknown]@1200", "[unknown]@1100 < [unknown]@1200",
            "/bin/app@3100 < /bin/app@3200", "/bin/app@3100 < /bin/app@3200", "/bin/app@3100",
            "/bin/app2@100 < /bin/app2@200"], SampleStacks());
        Assert.Equal(2, a.UnmappedSamples);
    }

    [Fact]
    public void RecordsFromDifferentRingsAreAttributedInTimeOrder()
    {
        var a = new Attributor(_store, Kernel);
        var sink = new PerfRecordAttribution(a, _store, [_ev]);
        var tidTime = SampleFormat.Tid | SampleFormat.Time;
        IPerfRecordSink s = sink;
        // Pass 1: ring of cpu 1 holds a sample at t=20 in a mapping announced on cpu 0 at t=10, read later.
        s.OnSample(0, new SampleRecord(SampleFormat.Ip | tidTime, 2, 0, 0x4010, 5, 5, 20, 0, 0, 1, 1, []));
        sink.EndPass();
        s.OnMmap2(new Mmap2Record(0, 5, 5, 0x4000, 0x1000, 0, 0, 0, 0, 0, [], 5, 2, "/usr/bin/late", new SampleId(tidTime, 5, 5, 10, 0, 0, 0)));
        s.OnComm(new CommRecord(0, 5, 5, "late", new SampleId(tidTime, 5, 5, 5, 0, 0, 0)));
        sink.EndPass();
        sink.Flush();
        Assert.Equal(["/usr/bin/late@10"], SampleStacks());
        Assert.Equal(0, _store.ReadCounters().GetValueOrDefault(CounterNames.UnmappedSamples));
        Assert.Equal(1, _store.ReadCounters()[CounterNames.Samples]);
    }

    [Fact]
    public void InterleavedRingsAreMergedStablyAcrossRounds()
    {
        var a = new Attributor(_store, Kernel) { ModeFromRecords = true };
        var sink = new PerfRecordAttribution(a, _store, [_ev]);
        var f = SampleFormat.Ip | SampleFormat.Tid | SampleFormat.Time | SampleFormat.Cpu;
        IPerfRecordSink s = sink;
        a.Mmap(5, 0x4000, 0x1000, 0, "/usr/bin/app", null, true, 0);
        // Three rings read in turn, each in time order; equal times keep the order they were read in.
        void Ring(uint cpu, params ulong[] times) { foreach (var t in times) s.OnSample(0, new SampleRecord(f, 2, 0, 0x4000 + t, 5, 5, t, 0, 0, cpu, 1, [])); }
        Ring(0, 1, 4, 9, 12);
        Ring(1, 2, 4, 10);
        Ring(2, 3, 11, 30);
        sink.EndPass();                 // nothing released yet: the previous pass ended at time 0
        Assert.Equal(10, sink.Pending);
        Ring(0, 13);
        Ring(1, 40);
        sink.EndPass();                 // releases everything up to 30, the newest of the first pass
        Assert.Equal(1, sink.Pending);
        sink.Flush();
        var got = _store.ReadSamplesUnordered().Select(x => (x.TimeNs, x.Cpu)).ToList(); // storage order = attribution order
        Assert.Equal([(1L, 0), (2, 1), (3, 2), (4, 0), (4, 1), (9, 0), (10, 1), (11, 2), (12, 0), (13, 0), (30, 2), (40, 1)], got);
    }

    [Fact]
    public void GuestAndHypervisorModesGetTheirOwnImages()
    {
        var a = new Attributor(_store, Kernel) { ModeFromRecords = true };
        // A perf kvm style sample: guest user leaf, guest kernel caller; then a hypervisor one.
        ulong[] guest = [PerfContext.GuestUser, 0x401000, PerfContext.GuestKernel, 0xffffffff81234567];
        a.Sample(_ev, 1, 0, 4242, 4242, 0x401000, guest, SampleMode.GuestUser);
        a.Sample(_ev, 2, 0, -1, -1, 0xffff82d040200000, [], SampleMode.Hypervisor);
        Assert.Equal(["[apps]@401000 < no-vmlinux@ffffffff81234567", "[hypervisor]@ffff82d040200000"], SampleStacks());
        Assert.Equal(0, a.UnmappedSamples);
        var images = _store.ReadImages().Values.ToList();
        Assert.Equal(ImageKind.Hypervisor, images.Single(i => i.Path == "[hypervisor]").Kind);
        Assert.Equal(0, images.Single(i => i.Path == "[hypervisor]").Domain);
        // The guest's frames are images of its own domain (its pid on the host), and so is the sample.
        Assert.All(images.Where(i => i.Path is "[apps]" or "no-vmlinux"), i => Assert.Equal(4242, i.Domain));
        Assert.Equal([4242, 0], _store.ReadSamples().Select(s => s.Domain));
        Assert.Equal("4242", _store.ReadMeta()[StoreSchema.PassiveDomainsKey]);
    }

    [Fact]
    public void Named_frames_are_stored_with_their_names_in_their_images()
    {
        var a = new Attributor(_store, Kernel);
        ulong[] ips = [0x10, 0x20];
        NamedFrame[] names = [new("[kernel.kallsyms]", ImageKind.Kernel, "schedule"), new("/usr/bin/app", ImageKind.Elf, null)];
        a.Sample(new RawSample(0, SampleMode.Kernel, 7, 8, 1, 100, 0x10, ips, _ev) { Names = names, Comm = "app" });
        a.Sample(new RawSample(0, SampleMode.Kernel, 7, 8, 1, 101, 0x10, ips, _ev) { Names = names, Comm = "app" });
        Assert.Equal(["[kernel.kallsyms]@10 < /usr/bin/app@20", "[kernel.kallsyms]@10 < /usr/bin/app@20"], SampleStacks());
        Assert.Equal(2, _store.ReadFrameNames().Count);
        Assert.Contains(_store.ReadFrameNames().Values, n => n == "schedule");
        Assert.Contains(_store.ReadFrameNames().Values, n => n == null); // perf's [unknown]: no symbol
        Assert.Equal("app", _store.ReadComms()[_store.ReadSamples().First().Comm]);
        Assert.Throws<ArgumentException>(() => a.Sample(new RawSample(0, SampleMode.User, 7, 8, 1, 102, 0x10, ips, _ev) { Names = names[..1] }));
    }

    [Fact]
    public void A_configured_passive_domain_gets_its_own_images_and_is_listed_in_meta()
    {
        var a = new Attributor(_store, Kernel);
        a.ConfigureDomain(2, new DomainImages
        {
            Hypervisor = new ConfiguredImage("/boot/xen-syms", ImageKind.Hypervisor),
            Kernel = new ConfiguredImage(DomainImages.NoVmlinux, ImageKind.Anonymous),
            User = new ConfiguredImage(DomainImages.Apps, ImageKind.Anonymous),
            Passive = true,
        });
        a.Sample(new RawSample(2, SampleMode.GuestKernel, 0, 0, 0, 1, 0xffffffff81000010, [0xffffffff81000010, 0xffffffff81000020], _ev));
        a.Sample(new RawSample(2, SampleMode.Hypervisor, 0, 0, 0, 2, 0xffff82d040200000, [], _ev));
        a.Sample(new RawSample(2, SampleMode.GuestUser, 0, 0, 0, 3, 0x401000, [], _ev));
        Assert.Equal(["no-vmlinux@ffffffff81000010 < no-vmlinux@ffffffff81000020", "/boot/xen-syms@ffff82d040200000", "[apps]@401000"], SampleStacks());
        Assert.All(_store.ReadImages().Values, i => Assert.Equal(2, i.Domain));
        Assert.All(_store.ReadSamples(), s => Assert.Equal(2, s.Domain));
        Assert.Equal("2", _store.ReadMeta()[StoreSchema.PassiveDomainsKey]);
    }

    [Fact]
    public void SamplesCarryTheirThreadsNameAtTheTime()
    {
        var a = new Attributor(_store, Kernel) { ModeFromRecords = true };
        a.Comm(30, 30, "bash", exec: false);
        a.Fork(31, 30, 31, 30);                                         // child of bash, before its exec
        a.Sample(_ev, 1, 0, 31, 31, 0x1000, [], SampleMode.User);
        a.Comm(31, 31, "hotloop", exec: true);
        a.Sample(_ev, 2, 0, 31, 31, 0x1000, [], SampleMode.User);
        a.Fork(31, 31, 32, 31);                                         // a thread of hotloop
        a.Sample(_ev, 3, 0, 31, 32, 0x1000, [], SampleMode.User);
        a.Comm(31, 32, "worker", exec: false);                          // renamed (prctl)
        a.Sample(_ev, 4, 0, 31, 32, 0x1000, [], SampleMode.User);
        a.Sample(_ev, 5, 0, 99, 99, 0x1000, [], SampleMode.User);       // never named
        _store.Commit();
        var comms = _store.ReadComms();
        string Name(CommId c) => c.Value == 0 ? "?" : comms[c];
        Assert.Equal(["bash", "hotloop", "hotloop", "worker", "?"], _store.ReadSamplesUnordered().Select(x => Name(x.Comm)));
        // Totals keep the names apart too: the same stack of pid 31 under two names.
        Assert.Equal(3, _store.ReadStackTotals().Count(t => t.Pid == 31));
        Assert.Equal("hotloop", _store.ReadProcesses()[(0, 31)].Comm);
    }

    [Fact]
    public void SynthesizeFromProc_ReadsThisProcessMappings()
    {
        var a = new Attributor(_store, Kernel);
        Assert.True(a.SynthesizeFromProc(Environment.ProcessId));
        _store.Commit();
        Assert.Contains(_store.ReadImages().Values, i => i.Path.EndsWith("libc.so.6", StringComparison.Ordinal) || i.Path.Contains("libcoreclr"));
        Assert.False(a.SynthesizeFromProc(int.MaxValue - 1));
    }
}
