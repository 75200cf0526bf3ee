using System.Runtime.CompilerServices;
using XenProf.Hypervisor.PerfEvents;
using Xunit;

namespace XenProf.Hypervisor.Tests.PerfEvents;

public class PerfEventAttrTests
{
    [Fact]
    public unsafe void Layout_is_byte_exact_with_formats_1_2()
    {
        Assert.Equal(136, Unsafe.SizeOf<PerfEventAttr>());
        var a = new PerfEventAttr();
        byte* p = (byte*)&a;
        Assert.Equal(8, (byte*)&a.Config - p);
        Assert.Equal(40, (byte*)&a.Flags - p);
        Assert.Equal(72, (byte*)&a.BranchSampleType - p);
        Assert.Equal(108, (byte*)&a.SampleMaxStack - p);
        Assert.Equal(128, (byte*)&a.Config3 - p);
    }

    // perf's attr tests in INI spirit: options → the attr fields they must produce (bit numbers of the struct perf_event_attr bitfield, include/uapi/linux/perf_event.h).
    [Theory]
    [InlineData(false, false, 0, null, false, "disabled,sample_id_all")]
    [InlineData(false, true, 0, null, false, "disabled,sample_id_all,exclude_user")]
    [InlineData(true, false, 0, null, false, "disabled,sample_id_all,exclude_kernel")]
    [InlineData(false, false, 0, 1234, true, "disabled,sample_id_all,inherit,enable_on_exec")]
    [InlineData(false, false, 1, 1234, false, "disabled,sample_id_all,inherit")]
    public void Flags_from_options(bool exclKernel, bool exclUser, int index, int? pid, bool onExec, string expected)
    {
        var req = new PerfEventRequest("CPU_CLOCK", PerfType.Software, 0, 1000, exclKernel, exclUser);
        var a = PerfEventSampler.BuildAttr(req, index, new PerfSamplerOptions { Pid = pid, EnableOnExec = onExec });
        var sideband = PerfEventAttrFlags.Mmap | PerfEventAttrFlags.Mmap2 | PerfEventAttrFlags.Comm |
                       PerfEventAttrFlags.CommExec | PerfEventAttrFlags.Task;
        Assert.False(a.HasFlag(PerfEventAttrFlags.BuildId)); // see BuildAttr: build-id MMAP2s corrupt other perf users' records
        Assert.Equal(index == 0, a.HasFlag(sideband));
        var rest = (PerfEventAttrFlags)a.Flags & ~sideband;
        var names = new Dictionary<string, PerfEventAttrFlags>
        {
            ["disabled"] = PerfEventAttrFlags.Disabled, ["sample_id_all"] = PerfEventAttrFlags.SampleIdAll,
            ["exclude_user"] = PerfEventAttrFlags.ExcludeUser, ["exclude_kernel"] = PerfEventAttrFlags.ExcludeKernel,
            ["inherit"] = PerfEventAttrFlags.Inherit, ["enable_on_exec"] = PerfEventAttrFlags.EnableOnExec,
        };
        var want = expected.Split(',').Aggregate(PerfEventAttrFlags.None, (f, n) => f | names[n]);
        Assert.Equal(want, rest);
        Assert.Equal(1000UL, a.SamplePeriod);
        Assert.Equal(136u, a.Size);
    }

    [Fact]
    public void Build_id_is_bit_34() => Assert.Equal(1UL << 34, (ulong)PerfEventAttrFlags.BuildId);

    [Fact]
    public void Precise_ip_occupies_bits_15_and_16()
    {
        var a = new PerfEventAttr();
        a.PreciseIp = 3;
        Assert.Equal(3UL << 15, a.Flags);
        a.PreciseIp = 1;
        Assert.Equal(1, a.PreciseIp);
    }

    [Theory]
    [InlineData("0-1", "0,1")]
    [InlineData("0-3,6,8-9\n", "0,1,2,3,6,8,9")]
    [InlineData("5", "5")]
    public void Cpu_lists(string text, string expected) =>
        Assert.Equal(expected, string.Join(",", PerfEventSampler.ParseCpuList(text)));

    [Theory]
    [InlineData("a-b")]
    [InlineData("3-1")]
    [InlineData("1-2-3")]
    public void Bad_cpu_lists(string text) => Assert.Throws<FormatException>(() => PerfEventSampler.ParseCpuList(text));
}
