using XenProf.Reporter.Flame;
using XenProf.Reporter.Profile;
using XenProf.Sampler.Store;

namespace XenProf.Reporter.Tests.Exports;

/// <summary>
/// A small Xen-shaped session built directly in a store, deterministic: dom0 with two processes (one with two
/// threads) running user, kernel and hypervisor code, and two passive domains (meta <c>xen_passive_domains</c>) whose
/// samples carry their domain and land in images of that domain (reported as <c>domainN-kernel</c>/<c>domainN-apps</c>); two events (CPU_CLOCK in ns, INST_RETIRED in counts).
/// Frames are named by a fake symbolizer: <c>sym_IMAGE_OFFSET</c> for named offsets, nothing for others.
/// </summary>
internal sealed class ExportSession : IDisposable
{
    public const ulong ClockPeriod = 1_000_000;
    public const ulong InstPeriod = 100_000;

    public string Dir { get; }
    public SessionStore Store { get; }
    public FlameSource Source { get; }
    public List<StoredSample> Samples { get; } = new();
    public StoredEvent Clock { get; }
    public StoredEvent Inst { get; }

    public ExportSession()
    {
        Dir = Directory.CreateTempSubdirectory("xenprof-exports-").FullName;
        var store = SessionStore.Create(Path.Combine(Dir, "samples.db"));
        Clock = store.AddEvent(new StoredEvent("CPU_CLOCK", 1, 0, ClockPeriod, 0, true, true, "ns", "CPU clock"));
        Inst = store.AddEvent(new StoredEvent("INST_RETIRED", 0, 1, InstPeriod, 0, true, true, "instructions", "Instructions retired"));
        store.SetDomain(0, "Domain-0");
        store.SetDomain(1, "guest1");
        store.SetDomain(2, "guest2");
        store.SetProcess(0, 100, 1, "server");
        store.SetThread(0, 100, 100, "server");
        store.SetThread(0, 101, 100, "worker");
        store.SetProcess(0, 200, 1, "batch job");
        store.SetThread(0, 200, 200, "batch job");
        store.SetMeta("hostname", "testhost");
        store.SetMeta(StoreSchema.PassiveDomainsKey, "1,2");

        var app = store.InternImage("/usr/bin/server", ImageKind.Elf, "0123456789abcdef");
        var libc = store.InternImage("/usr/lib/libc.so.6", ImageKind.Elf, null);
        var kernel = store.InternImage("[kernel.kallsyms]", ImageKind.Kernel, null);
        var xen = store.InternImage("xen-syms", ImageKind.Hypervisor, null);
        var g1k = store.InternImage("domain1-kernel", ImageKind.KernelImage, null, domain: 1);
        var g1a = store.InternImage("domain1-apps", ImageKind.Anonymous, null, domain: 1);
        var g2k = store.InternImage("domain2-kernel", ImageKind.KernelImage, null, domain: 2);

        StackId S(params (ImageId Image, ulong Offset)[] rootFirst)
        {
            var frames = rootFirst.Select(f => store.InternFrame(f.Image, f.Offset)).ToArray();
            return store.InternStack(frames);
        }

        var stacks = new (StackId Stack, int Domain, int Pid, int Tid, SampleMode Mode)[]
        {
            (S((libc, 0x10), (app, 0x100), (app, 0x200)), 0, 100, 100, SampleMode.User),
            (S((libc, 0x10), (app, 0x100), (app, 0x300)), 0, 100, 100, SampleMode.User),
            (S((libc, 0x10), (app, 0x100), (libc, 0x20), (kernel, 0xffffffff81000010)), 0, 100, 101, SampleMode.Kernel),
            (S((libc, 0x10), (app, 0x400), (app, 0x999)), 0, 100, 101, SampleMode.User),
            (S((libc, 0x10), (app, 0x500)), 0, 200, 200, SampleMode.User),
            (S((kernel, 0xffffffff81000020), (xen, 0xffff82d040200000)), 0, 0, 0, SampleMode.Hypervisor),
            (S((g1k, 0x1000)), 1, 0, 0, SampleMode.GuestKernel),
            (S((g1k, 0x1000), (g1k, 0x2000)), 1, 0, 0, SampleMode.GuestKernel),
            (S((g1a, 0x50)), 1, 0, 0, SampleMode.GuestUser),
            (S((g2k, 0x1000)), 2, 0, 0, SampleMode.GuestKernel),
        };

        // Deterministic mix: stack i is drawn with weight (i % 4) + 1 out of a 31-step cycle; time steps 1 ms per CPU.
        int[] cycle = [0, 0, 0, 1, 1, 2, 3, 0, 4, 5, 6, 7, 0, 1, 8, 9, 0, 0, 2, 3, 6, 1, 0, 4, 7, 0, 5, 1, 0, 2, 9];
        long t = 1_000_000_000;
        for (int i = 0; i < 3000; i++)
        {
            var (stack, dom, pid, tid, mode) = stacks[cycle[i % cycle.Length]];
            var ev = i % 5 == 4 ? Inst : Clock;
            t += 250_000 + (i % 7) * 10_000;
            var s = new StoredSample(t, i % 2, dom, pid, tid, ev.Id, stack, mode, 1, default, (long)ev.Count);
            store.AddSample(s);
            Samples.Add(s);
        }
        store.AddCounter(CounterNames.Samples, Samples.Count);
        store.Commit();
        Store = store;
        Source = new FlameSource(ProfileBuilder.Build(store, new FakeSymbolizer(), new ProfileOptions { WithStacks = true, WithSamples = true }));
    }

    public string PathOf(string name) => Path.Combine(Dir, name);

    public void Dispose()
    {
        Store.Dispose();
        Directory.Delete(Dir, recursive: true);
    }

    /// <summary>Names every frame whose offset is not 0x999 or 0x50: <c>IMAGE_BASENAME.fOFFSET</c> (hex); kernel frames as <c>k_OFFSET</c>.</summary>
    internal sealed class FakeSymbolizer : IFrameSymbolizer
    {
        public string? Symbolize(StoredImage image, ulong offset)
        {
            if (offset is 0x999 or 0x50) return null;
            if (image.Kind == ImageKind.Kernel) return $"k_{offset & 0xffff:x}";
            if (image.Kind == ImageKind.Hypervisor) return $"xen_{offset & 0xffff:x}";
            return $"{Path.GetFileName(image.Path).Replace('.', '_')}_f{offset:x}";
        }

        public IReadOnlyList<string> Warnings => [];
    }
}
