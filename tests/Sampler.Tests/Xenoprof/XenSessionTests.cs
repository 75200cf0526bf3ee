using XenProf.Sampler.Attribution;
using XenProf.Hypervisor.Binary;
using XenProf.Hypervisor.Xenoprof;
using XenProf.Sampler.Session;
using XenProf.Sampler.Store;
using XenProf.Sampler.Xenoprof;
using Xunit;

namespace XenProf.Sampler.Tests.Xenoprof;

// The daemon path against the emulated Xen, with made-up address ranges (no images needed): every sample Xen wrote
// is stored exactly once, per domain and per mode; passive samples carry their domain, as do their images.
public sealed class XenSessionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("xenprof-xen-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static readonly AddressRange XenFn = new(0xffff82d040215870, 0xffff82d040215a00);
    private static readonly AddressRange KernelFn = new(0xffffffff81a00000, 0xffffffff81a00400);
    private static readonly AddressRange UserFn = new(0x52b0f0, 0x52b400);

    private static ResolvedScenario Scenario(int seed = 11, int durationMs = 300, ulong count = 200_000, int drainUs = 500, int pcpus = 2, int domains = 4)
    {
        ResolvedDomain D(int id, int vcpus, params int[] pcpuList) => new(id, $"dom{id}", vcpus, pcpuList, id == 2 ? 0.3 : 0.9,
        [
            new ResolvedFunction("do_grant_table_op", "xen", XenoprofMode.Xen, XenFn.Start, XenFn.End, 2, [new AddressRange(0xffff82d040229a90, 0xffff82d040229c00)]),
            new ResolvedFunction("net_rx_action", "kernel", XenoprofMode.Kernel, KernelFn.Start, KernelFn.End, 3, [new AddressRange(0xffffffff81b00000, 0xffffffff81b00100)]),
            new ResolvedFunction("_PyEval_EvalFrameDefault", "python", XenoprofMode.User, UserFn.Start, UserFn.End, 2, [], 1000 + id),
        ], [new GuestProcess(1000 + id, "python3", "/usr/bin/python3.11", 0x41f000, 0x6d2000, 0x1f000)]);
        var src = new Scenario { Name = "unit", Seed = seed, Pcpus = pcpus, CpuMhz = 1000, Count = count, DurationMs = durationMs, DrainIntervalUs = drainUs };
        var list = new List<ResolvedDomain> { D(0, 2, 0, 1) };
        for (int i = 1; i < domains; i++) list.Add(D(i, 1, i % pcpus));
        return new ResolvedScenario(src, list, new Dictionary<string, string>());
    }

    private XenRunResult Run(ResolvedScenario s, XenSessionOptions o, string name)
    {
        var dir = new SessionDirectory(Path.Combine(_root, name));
        Directory.CreateDirectory(dir.Path);
        using var xen = new EmulatedHypervisor(s, Path.Combine(dir.Path, "buffers.bin"));
        return XenSession.RunEmulated(dir, o, xen);
    }

    // Stored samples per (domain, xenoprof mode), read back from the store: each sample carries the domain it ran in
    // (passive ones too), its mode follows its sampled frame's image kind.
    private static Dictionary<(int, int), long> StoredCounts(string storePath)
    {
        using var store = SessionStore.OpenRead(storePath);
        var images = store.ReadImages();
        var frames = store.ReadFrames();
        var stacks = store.ReadStacks();
        var counts = new Dictionary<(int, int), long>();
        foreach (var t in store.ReadStackTotals())
        {
            var img = images[frames[stacks[t.Stack].Frame].Image];
            int mode = img.Kind switch
            {
                ImageKind.Hypervisor => 2,
                ImageKind.Kernel or ImageKind.KernelImage => 1,
                _ when img.Path == DomainImages.NoXen => 2,
                _ when img.Path == DomainImages.NoVmlinux => 1,
                _ => 0,
            };
            counts[(t.Domain, mode)] = counts.GetValueOrDefault((t.Domain, mode)) + t.Weight;
        }
        return counts;
    }

    private static void AssertReconciles(XenRunResult r, IEnumerable<int> domains)
    {
        var stored = StoredCounts(r.StorePath);
        foreach (var d in domains)
        {
            var h = r.Written[d];
            Assert.True(h.Written > 0, $"domain {d} wrote nothing");
            Assert.Equal((long)h.UserSamples, stored.GetValueOrDefault((d, 0)));
            Assert.Equal((long)h.KernelSamples, stored.GetValueOrDefault((d, 1)));
            Assert.Equal((long)h.XenSamples, stored.GetValueOrDefault((d, 2)));
            Assert.Equal(r.Stored[d], new[] { (long)h.UserSamples, (long)h.KernelSamples, (long)h.XenSamples });
        }
        // Xen's global books balance: every overflow was stored, lost, dropped as invalid/corrupt, or belonged to others
        // (these runs lose no call-chain entries, which Xen would count as lost too, as xenoprof_log_event in xen/common/xenoprof.c does).
        var g = r.Global;
        Assert.Equal(g.Total, g.Active + g.Passive + g.Lost + g.InvalidBuffer + g.CorruptedBuffer + g.Others);
    }

    [Fact]
    public void ActiveDomainsReconcilePerDomainAndMode()
    {
        var r = Run(Scenario(), new XenSessionOptions { XenImage = "/boot/xen-syms-test", ActiveDomains = [1, 3] }, "active");
        AssertReconciles(r, [0, 1, 3]);
        Assert.True(r.Global.Others > 0, "domain 2 is not profiled and idle time exists");
        using var store = SessionStore.OpenRead(r.StorePath);
        var c = store.ReadCounters();
        Assert.Equal(r.Global.Total, c["xen.total_samples"]);
        Assert.Equal(r.Global.Lost, c.GetValueOrDefault("xen.lost_samples"));
        Assert.Equal((long)r.Written[1].Written, c["xen.dom1.kernel_samples"] + c["xen.dom1.user_samples"] + c["xen.dom1.xen_samples"]);
        var images = store.ReadImages().Values.ToList();
        Assert.Contains(images, i => i.Path == "/boot/xen-syms-test" && i.Kind == ImageKind.Hypervisor);
        Assert.Contains(images, i => i.Path == "/usr/bin/python3.11" && i.Kind == ImageKind.Elf);
        // user samples of an active domain map to the guest process's file offsets
        var frames = store.ReadFrames().Values.Where(f => store.ReadImages()[f.Image].Kind == ImageKind.Elf).ToList();
        Assert.All(frames, f => Assert.InRange(f.Offset, UserFn.Start - 0x41f000 + 0x1f000, UserFn.End - 0x41f000 + 0x1f000));
        Assert.Contains(store.ReadProcesses().Values, p => p.Domain == 3 && p.Pid == 1003);
    }

    [Fact]
    public void PassiveDomainsCarryTheirDomainOnSamplesAndImages()
    {
        var r = Run(Scenario(), new XenSessionOptions { XenImage = "/boot/xen-syms-test", PassiveDomains = [1, 3], PassiveImages = ["/tmp/vmlinux-1", "/tmp/vmlinux-3"] }, "passive");
        AssertReconciles(r, [0, 1, 3]);
        using var store = SessionStore.OpenRead(r.StorePath);
        var images = store.ReadImages().Values.ToList();
        foreach (var d in new[] { 1, 3 })
        {
            Assert.Contains(images, i => i.Domain == d && i.Path == $"/tmp/vmlinux-{d}" && i.Kind == ImageKind.KernelImage);
            Assert.Contains(images, i => i.Domain == d && i.Path == "/boot/xen-syms-test" && i.Kind == ImageKind.Hypervisor);
            // guest user space cannot be symbolized from dom0
            Assert.Contains(images, i => i.Domain == d && i.Path == DomainImages.Apps && i.Kind == ImageKind.Anonymous);
        }
        Assert.DoesNotContain(images, i => i.Path.StartsWith("domain", StringComparison.Ordinal));
        var meta = store.ReadMeta();
        Assert.Equal("1,3", meta[StoreSchema.PassiveDomainsKey]);
        Assert.True(store.ReadCounters()["xen.domain_switches"] > 0);
        var samples = store.ReadSamples().ToList();
        Assert.Equal([0, 1, 3], samples.Select(s => s.Domain).Distinct().Order());
        // Every frame of a passive sample is an image of its domain.
        var frames = store.ReadFrames();
        var stacks = store.ReadStacks();
        var byId = store.ReadImages();
        foreach (var s in samples.Where(s => s.Domain != 0))
            for (var st = s.Stack; st.Value != 0; st = stacks[st].Parent)
                Assert.Equal(s.Domain, byId[frames[stacks[st].Frame].Image].Domain);
        Assert.Contains(samples, s => s.Domain == 1 && s.Mode == SampleMode.GuestKernel);
        Assert.Equal(r.Stored[1].Sum(), samples.Count(s => s.Domain == 1));
    }

    [Fact]
    public void CallChainsAreStoredRootFirst()
    {
        var r = Run(Scenario(durationMs: 50), new XenSessionOptions { XenImage = "/boot/xen-syms-test", ActiveDomains = [1], CallgraphDepth = 4, ActiveBufferSamples = 256 }, "cg");
        AssertReconciles(r, [0, 1]);
        using var store = SessionStore.OpenRead(r.StorePath);
        var stacks = store.ReadStacks();
        var frames = store.ReadFrames();
        var deep = store.ReadStackTotals().Where(t => stacks[t.Stack].Parent.Value != 0).ToList();
        Assert.NotEmpty(deep);
        foreach (var t in deep)
        {
            var leaf = frames[stacks[t.Stack].Frame].Offset;
            var caller = frames[stacks[stacks[t.Stack].Parent].Frame].Offset;
            Assert.True(XenFn.Contains(leaf) || KernelFn.Contains(leaf));
            Assert.False(XenFn.Contains(caller) || KernelFn.Contains(caller));
        }
    }

    [Fact]
    public void SixteenEntryBufferOverflowsAndLostIsCounted()
    {
        // One CPU, Xen-mode work only (no VIRQ for Xen samples), a timer drain every 10 ms: 100 samples per 15 slots.
        var s = Scenario(durationMs: 100, count: 100_000, pcpus: 1, domains: 1);
        s = s with { Domains = [s.Domains[0] with { Vcpus = 1, Busy = 1.0, Workload = [s.Domains[0].Workload[0]] }] };
        var r = Run(s, new XenSessionOptions { XenImage = "/boot/xen-syms-test" }, "overflow");
        var h = r.Written[0];
        Assert.Equal(16, XenoprofAbi.ActiveBufferSamples);
        Assert.True(h.LostSamples > 0);
        Assert.Equal((ulong)r.Global.Total, h.Written + h.LostSamples);
        AssertReconciles(r, [0]);
        using var store = SessionStore.OpenRead(r.StorePath);
        Assert.Equal((long)h.LostSamples, store.ReadCounters()["xen.dom0.lost_samples"]);
    }

    [Fact]
    public void SameSeedSameStore()
    {
        var o = new XenSessionOptions { XenImage = "/boot/xen-syms-test", ActiveDomains = [1] };
        var a = StoredCounts(Run(Scenario(seed: 5), o, "a").StorePath);
        var b = StoredCounts(Run(Scenario(seed: 5), o, "b").StorePath);
        Assert.Equal(a.OrderBy(kv => kv.Key), b.OrderBy(kv => kv.Key));
    }

    [Theory]
    [InlineData("1,3", new[] { 1, 3 })]
    [InlineData("1 3", new[] { 1, 3 })]
    [InlineData("2;2,5", new[] { 2, 5 })]
    [InlineData("", new int[0])]
    public void DomainLists(string text, int[] ids) => Assert.Equal(ids, XenSessionOptions.ParseDomainList(text));

    [Theory]
    [InlineData(new[] { 1 }, new[] { 1 }, new string[0], "both active and passive")]
    [InlineData(new int[0], new[] { 1, 3 }, new[] { "a" }, "one per domain")]
    [InlineData(new int[0], new[] { 0 }, new string[0], "always active")]
    public void BadOptionsAreRefused(int[] active, int[] passive, string[] images, string message)
    {
        var e = Assert.Throws<XenProfUserException>(() => new XenSessionOptions { ActiveDomains = [.. active], PassiveDomains = [.. passive], PassiveImages = [.. images] }.Validate());
        Assert.Contains(message, e.Message);
    }
}

// A guest-writable head out of range (the XSA-313 case): Xen counts corrupted samples, the daemon counts corrupt reads,
// and neither trusts the buffer.
public sealed class CorruptBufferTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("xenprof-corrupt-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void CorruptHeadIsCountedOnBothSidesAndNothingIsReadFromIt()
    {
        var src = new Scenario { Name = "corrupt", Seed = 3, Pcpus = 1, CpuMhz = 1000, Count = 100_000, DurationMs = 50 };
        var d0 = new ResolvedDomain(0, "Domain-0", 1, [], 1.0,
            [new ResolvedFunction("net_rx_action", "kernel", XenoprofMode.Kernel, 0xffffffff81a00000, 0xffffffff81a00400, 1, [])], []);
        var dir = new SessionDirectory(Path.Combine(_root, "s"));
        Directory.CreateDirectory(dir.Path);
        using var xen = new EmulatedHypervisor(new ResolvedScenario(src, [d0], new Dictionary<string, string>()), Path.Combine(dir.Path, "b.bin"));
        XenRunResult r;
        long storedBefore;
        using (var run = EmulatedXenRun.Open(dir, new XenSessionOptions(), xen))
        {
            run.Start();
            run.PumpTo(10_000_000);
            storedBefore = run.Samples;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(xen.RawBuffer(0, 0)[XenoprofBufLayout.EventHead..], 4096);
            run.PumpTo(30_000_000);
            r = run.Finish();
            Assert.Equal(storedBefore, run.Samples);
        }
        Assert.True(storedBefore > 0);
        Assert.Equal(200, r.Global.CorruptedBuffer); // 20 ms at 10 samples per ms, all refused by Xen
        using var store = SessionStore.OpenRead(r.StorePath);
        Assert.True(store.ReadCounters()["xen.dom0.corrupt_reads"] > 0);
        Assert.Equal(storedBefore, store.CountSamples());
    }
}
