using System.Buffers.Binary;
using XenProf.Hypervisor.Xenoprof;
using Xunit;

namespace XenProf.Hypervisor.Tests.Xenoprof;

// Struct sizes and field offsets of xen/include/public/xenoprof.h (native offsets as gcc lays
// them out for x86_64; compat with 4-byte-aligned u64, as Xen's -m32 generated compat headers do):
// one data line per (structure, field, native offset, compat offset).
public class AbiLayoutTests
{
    [Theory]
    [InlineData("xenoprof_init", 72, 72)]
    [InlineData("xenoprof_get_buffer", 24, 20)]
    [InlineData("xenoprof_passive", 24, 24)]
    [InlineData("xenoprof_counter", 48, 40)]
    [InlineData("event_log", 16, 12)]
    [InlineData("xenoprof_buf", 64, 60)]
    [InlineData("xenoprof_buf header", 48, 48)]
    public void StructSizes(string structure, int native, int compat)
    {
        int Size(bool c) => structure switch
        {
            "xenoprof_init" => XenoprofInit.Size,
            "xenoprof_get_buffer" => XenoprofGetBuffer.Size(c),
            "xenoprof_passive" => XenoprofPassive.Size,
            "xenoprof_counter" => XenoprofCounter.Size(c),
            "event_log" => EventLogLayout.Size(c),
            "xenoprof_buf" => XenoprofBufLayout.StructSize(c),
            "xenoprof_buf header" => XenoprofBufLayout.HeaderSize,
            _ => throw new ArgumentException(structure),
        };
        Assert.Equal(native, Size(false));
        Assert.Equal(compat, Size(true));
    }

    [Theory]
    [InlineData("event_head", 0)]
    [InlineData("event_tail", 4)]
    [InlineData("event_size", 8)]
    [InlineData("vcpu_id", 12)]
    [InlineData("xen_samples", 16)]
    [InlineData("kernel_samples", 24)]
    [InlineData("user_samples", 32)]
    [InlineData("lost_samples", 40)]
    [InlineData("event_log", 48)]
    public void XenoprofBufOffsets(string field, int offset)
    {
        int actual = field switch
        {
            "event_head" => XenoprofBufLayout.EventHead, "event_tail" => XenoprofBufLayout.EventTail,
            "event_size" => XenoprofBufLayout.EventSize, "vcpu_id" => XenoprofBufLayout.VcpuId,
            "xen_samples" => XenoprofBufLayout.XenSamples, "kernel_samples" => XenoprofBufLayout.KernelSamples,
            "user_samples" => XenoprofBufLayout.UserSamples, "lost_samples" => XenoprofBufLayout.LostSamples,
            "event_log" => XenoprofBufLayout.EventLog, _ => throw new ArgumentException(field),
        };
        Assert.Equal(offset, actual);
    }

    [Theory]
    [InlineData(0, 0, 0)] // ind
    [InlineData(1, 8, 4)] // count
    [InlineData(2, 16, 12)] // enabled
    [InlineData(3, 20, 16)] // event
    [InlineData(4, 24, 20)] // hypervisor
    [InlineData(5, 28, 24)] // kernel
    [InlineData(6, 32, 28)] // user
    [InlineData(7, 40, 32)] // unit_mask
    public void CounterFieldsLandAtTheirOffsets(int field, int native, int compat)
    {
        Assert.Equal(native, XenoprofCounter.Offsets(false)[field]);
        Assert.Equal(compat, XenoprofCounter.Offsets(true)[field]);
        var c = new XenoprofCounter(3, 0x1122334455667788, true, 0x3c, true, true, false, 0xabcd);
        foreach (var compatAbi in new[] { false, true })
        {
            var b = new byte[48];
            c.Write(b, compatAbi);
            Assert.Equal(c, XenoprofCounter.Read(b, compatAbi));
            Assert.Equal(0x1122334455667788UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(compatAbi ? 4 : 8)));
            Assert.Equal(0xabcdUL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(compatAbi ? 32 : 40)));
        }
    }

    [Fact]
    public void GetBufferAndPassiveGmaddrOffsets()
    {
        var b = new byte[24];
        new XenoprofGetBuffer(16, 2, 304, 0xdeadbeef000).Write(b);
        Assert.Equal(0xdeadbeef000UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(16)));
        Array.Clear(b);
        new XenoprofGetBuffer(16, 2, 304, 0xdeadbeef000).Write(b, compat: true);
        Assert.Equal(0xdeadbeef000UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(12)));
        Assert.Equal(new XenoprofGetBuffer(16, 2, 304, 0xdeadbeef000), XenoprofGetBuffer.Read(b, compat: true));

        var p = new byte[24];
        new XenoprofPassive(3, 2048, 1, 32816, 0x1000).Write(p);
        Assert.Equal(3, BinaryPrimitives.ReadUInt16LittleEndian(p));
        Assert.Equal(2048, BinaryPrimitives.ReadInt32LittleEndian(p.AsSpan(4)));
        Assert.Equal(32816, BinaryPrimitives.ReadInt32LittleEndian(p.AsSpan(12)));
        Assert.Equal(0x1000UL, BinaryPrimitives.ReadUInt64LittleEndian(p.AsSpan(16)));
    }

    [Fact]
    public void InitCarriesCpuTypeAsCString()
    {
        var b = new byte[XenoprofInit.Size];
        new XenoprofInit(8, true, "i386/arch_perfmon").Write(b);
        Assert.Equal(8, BinaryPrimitives.ReadInt32LittleEndian(b));
        Assert.Equal(1, BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(4)));
        Assert.Equal((byte)'i', b[8]);
        Assert.Equal(0, b[8 + "i386/arch_perfmon".Length]);
        Assert.Equal(new XenoprofInit(8, true, "i386/arch_perfmon"), XenoprofInit.Read(b));
    }

    // Op numbers are ABI (XENOPROF_* in xen/include/public/xenoprof.h).
    [Theory]
    [InlineData(XenoprofOp.Init, 0)] [InlineData(XenoprofOp.ResetActiveList, 1)] [InlineData(XenoprofOp.ResetPassiveList, 2)]
    [InlineData(XenoprofOp.SetActive, 3)] [InlineData(XenoprofOp.SetPassive, 4)] [InlineData(XenoprofOp.ReserveCounters, 5)]
    [InlineData(XenoprofOp.Counter, 6)] [InlineData(XenoprofOp.SetupEvents, 7)] [InlineData(XenoprofOp.EnableVirq, 8)]
    [InlineData(XenoprofOp.Start, 9)] [InlineData(XenoprofOp.Stop, 10)] [InlineData(XenoprofOp.DisableVirq, 11)]
    [InlineData(XenoprofOp.ReleaseCounters, 12)] [InlineData(XenoprofOp.Shutdown, 13)] [InlineData(XenoprofOp.GetBuffer, 14)]
    [InlineData(XenoprofOp.SetBacktrace, 15)] [InlineData(XenoprofOp.GetIbsCaps, 16)] [InlineData(XenoprofOp.IbsCounter, 17)]
    public void OpNumbers(XenoprofOp op, int value) => Assert.Equal(value, (int)op);

    // Buffer sizing examples (derived from alloc_xenoprof_struct in xen/common/xenoprof.c): max entries per VCPU so that all VCPUs fit in 32 pages.
    [Theory]
    [InlineData(1, 8189)]
    [InlineData(4, 2045)]
    [InlineData(8, 1021)]
    [InlineData(16, 509)]
    [InlineData(32, 253)]
    public void MaxSamplesClip(int vcpus, int max)
    {
        Assert.Equal(max, XenoprofAbi.ClipMaxSamples(int.MaxValue, vcpus));
        Assert.Equal(16, XenoprofAbi.ClipMaxSamples(16, vcpus));
        Assert.Equal(48 + 16 * 16, XenoprofAbi.BufferSize(16));
    }

    [Fact]
    public void ModesAndEscape()
    {
        Assert.Equal(0, (int)XenoprofMode.User);
        Assert.Equal(1, (int)XenoprofMode.Kernel);
        Assert.Equal(2, (int)XenoprofMode.Xen);
        Assert.Equal(ulong.MaxValue, XenoprofAbi.EscapeCode);
        Assert.True(EventLogEntry.TraceBeginEscape(XenoprofMode.Kernel).IsTraceBegin);
        Assert.Equal(1, XenoprofAbi.TraceBegin);
        Assert.Equal(31, XenoprofAbi.HypercallNumber);
        Assert.Equal(7, XenoprofAbi.VirqXenoprof);
    }
}
