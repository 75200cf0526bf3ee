using XenProf.Hypervisor.Xenoprof;
using Xunit;

namespace XenProf.Hypervisor.Tests.Xenoprof;

// The NMI path (nmi_callback in xen/arch/x86/oprofile/nmi_int.c, xenoprof_log_event in xen/common/xenoprof.c): samples land in the running VCPU's buffer inside the workload's ranges,
// call chains start with the TRACE_BEGIN escape, counters add up, and a seed fixes everything.
public class EmulatorSamplingTests
{
    private static (EmulatedHypervisor Xen, XenoprofBufferSet Buffers) Profile(ResolvedScenario s, int depth, int maxSamples = 2048)
    {
        var xen = new EmulatedHypervisor(s, TestScenarios.TempFile());
        using var d0 = xen.Connect(0);
        d0.Init();
        var gb = d0.GetBuffer(maxSamples);
        d0.SetActive(0);
        if (depth > 0) d0.SetBacktrace(depth);
        d0.Simple(XenoprofOp.ReserveCounters);
        d0.Counter(new XenoprofCounter(0, s.Source.Count, true, 0x3c, true, true, true, 0));
        d0.Simple(XenoprofOp.SetupEvents);
        d0.Simple(XenoprofOp.EnableVirq);
        d0.Simple(XenoprofOp.Start);
        return (xen, d0.MapBuffers(gb.BufGmaddr, gb.NBuf, gb.BufSize, 0, false));
    }

    private static void Drop(EmulatedHypervisor xen) { var p = xen.SharedMemoryPath; xen.Dispose(); File.Delete(p); }

    [Fact]
    public void SamplesLandInsideTheWorkloadRangesWithTheirModes()
    {
        var (xen, bufs) = Profile(TestScenarios.Make(domains: 1, pcpus: 1, durationMs: 1), depth: 0);
        xen.Advance(1_000_000); // 1 ms at 1000 MHz / 100000 = 10 overflows
        var entries = new List<EventLogEntry>();
        var r = XenoprofRing.Drain(bufs.Buffer(0), entries);
        Assert.False(r.Corrupt);
        Assert.Equal(10, entries.Count);
        foreach (var e in entries)
        {
            var range = e.Mode switch { XenoprofMode.Xen => TestScenarios.XenFn, XenoprofMode.Kernel => TestScenarios.KernelFn, _ => TestScenarios.UserFn };
            Assert.True(range.Contains(e.Eip), $"0x{e.Eip:x} outside its function ({e.Mode})");
        }
        var h = XenoprofBufHeader.Read(bufs.Buffer(0));
        Assert.Equal(10UL, h.Written);
        Assert.Equal((ulong)entries.Count(e => e.Mode == XenoprofMode.Kernel), h.KernelSamples);
        Assert.Equal(10, xen.Counters.Total);
        Assert.Equal(10, xen.Counters.Active);
        Drop(xen);
    }

    [Fact]
    public void CallChainsStartWithTheEscape()
    {
        var (xen, bufs) = Profile(TestScenarios.Make(domains: 1, pcpus: 1), depth: 4);
        xen.Advance(500_000);
        var entries = new List<EventLogEntry>();
        XenoprofRing.Drain(bufs.Buffer(0), entries);
        Assert.True(entries[0].IsTraceBegin);
        for (int i = 0; i < entries.Count; i++)
        {
            if (!entries[i].IsTraceBegin) continue;
            var sample = entries[i + 1];
            Assert.NotEqual(XenoprofAbi.EscapeCode, sample.Eip);
            if (sample.Mode != XenoprofMode.User) Assert.True(TestScenarios.XenCaller.Contains(entries[i + 2].Eip));
        }
        Drop(xen);
    }

    [Fact]
    public void FullBufferDropsAndCountsLost()
    {
        var (xen, bufs) = Profile(TestScenarios.Make(domains: 1, pcpus: 1), depth: 0, maxSamples: 16);
        xen.Advance(3_000_000); // 30 overflows into 15 slots
        var h = XenoprofBufHeader.Read(bufs.Buffer(0));
        Assert.Equal(15UL, h.Written);
        Assert.Equal(15UL, h.LostSamples);
        Assert.Equal(15, xen.Counters.Lost);
        Assert.Equal(30, xen.Counters.Total);
        Drop(xen);
    }

    [Fact]
    public void ACorruptHeadIsCountedByXen()
    {
        var (xen, bufs) = Profile(TestScenarios.Make(domains: 1, pcpus: 1), depth: 0, maxSamples: 16);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bufs.Buffer(0)[XenoprofBufLayout.EventHead..], 999);
        xen.Advance(1_000_000);
        Assert.Equal(10, xen.Counters.CorruptedBuffer);
        Assert.Equal(0UL, XenoprofBufHeader.Read(bufs.Buffer(0)).Written);
        Drop(xen);
    }

    [Fact]
    public void SameSeedSameSamplesOtherSeedOtherSamples()
    {
        byte[] Run(int seed)
        {
            var (xen, bufs) = Profile(TestScenarios.Make(domains: 1, pcpus: 2, seed: seed), depth: 2);
            xen.Advance(700_000);
            var bytes = Enumerable.Range(0, bufs.NBuf).SelectMany(i => bufs.Buffer(i).ToArray()).ToArray();
            Drop(xen);
            return bytes;
        }
        Assert.Equal(Run(1), Run(1));
        Assert.NotEqual(Run(1), Run(2));
    }

    [Fact]
    public void IdleAndUnprofiledDomainsCountAsOthers()
    {
        var s = TestScenarios.Make(domains: 2, pcpus: 1);
        var (xen, _) = Profile(s, depth: 0); // domain 1 shares the CPU but is neither active nor passive
        xen.Advance(200_000_000);
        Assert.True(xen.Counters.Others > 0);
        Assert.Equal(xen.Counters.Total, xen.Counters.Active + xen.Counters.Lost + xen.Counters.Others);
        Drop(xen);
    }
}

// A known seed gives the same samples in every process (no per-process hash randomization): golden counts.
public class EmulatorGoldenTests
{
    [Theory]
    [InlineData(7, 2, 100, "xen=339 kernel=480 user=181")]
    [InlineData(2006, 1, 50, "xen=172 kernel=234 user=94")]
    public void KnownSeedGivesKnownCounts(int seed, int pcpus, int ms, string expected)
    {
        var s = TestScenarios.Make(domains: 1, pcpus: pcpus, seed: seed);
        var xen = new EmulatedHypervisor(s, TestScenarios.TempFile());
        using var d0 = xen.Connect(0);
        d0.Init();
        d0.GetBuffer(8000);
        d0.SetActive(0);
        d0.Simple(XenoprofOp.ReserveCounters);
        d0.Counter(new XenoprofCounter(0, s.Source.Count, true, 0x3c, true, true, true, 0));
        d0.Simple(XenoprofOp.SetupEvents);
        d0.Simple(XenoprofOp.EnableVirq);
        d0.Simple(XenoprofOp.Start);
        xen.Advance(ms * 1_000_000L);
        var h = xen.BufferTotals(0);
        var p = xen.SharedMemoryPath;
        xen.Dispose();
        File.Delete(p);
        Assert.Equal(expected, $"xen={h.XenSamples} kernel={h.KernelSamples} user={h.UserSamples}");
    }
}
