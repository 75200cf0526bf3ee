using System.Buffers.Binary;
using System.Runtime.InteropServices;
using XenProf.Hypervisor.Xenoprof;
using XenProf.Hypervisor.Xenoprof.Internal;
using Xunit;

namespace XenProf.Hypervisor.Tests.Xenoprof;

// PrivcmdHypercalls up to the ioctl boundary: the request numbers from include/uapi/xen/privcmd.h and evtchn.h, the
// privcmd_hypercall and privcmd_mmapbatch_v2 blocks, the header checks on mapped buffers and the hypercall log; a clear
// error where /dev/xen/privcmd is absent. tests/XenOprof.Tests/XenQemuTests.cs runs the same code on a real Xen.
public class PrivcmdTests
{
    // Plays Linux and Xen: Map hands out zeroed native memory; MMAPBATCH_V2 "maps" it by writing one xenoprof_buf
    // header per buffer (as get_buffer leaves them) and the per-frame errors the test asks for.
    private sealed unsafe class FakeDevice : IPrivcmdDevice
    {
        public uint Request;
        public byte[] Block = [];
        public int Reply;
        public ulong[] Frames = [];
        public int FrameError;
        public uint EventSize = 16, NBuf = 1;
        public int BufSize = 304;
        public nint Mapped;
        public long MappedLength;
        public bool Unmapped;

        public int Hypercall(uint request, ReadOnlySpan<byte> block)
        {
            Request = request; Block = block.ToArray();
            if (request != PrivcmdHypercalls.IoctlMmapBatchV2) return Reply;
            int num = (int)BinaryPrimitives.ReadUInt32LittleEndian(block);
            var frames = (ulong*)BinaryPrimitives.ReadUInt64LittleEndian(block[16..]);
            var errors = (int*)BinaryPrimitives.ReadUInt64LittleEndian(block[24..]);
            Frames = new ReadOnlySpan<ulong>(frames, num).ToArray();
            if (FrameError != 0) { errors[num - 1] = FrameError; return 0; }
            var mem = new Span<byte>((void*)Mapped, (int)MappedLength);
            for (uint i = 0; i < NBuf; i++) XenoprofRing.Initialize(mem.Slice((int)i * BufSize, BufSize), EventSize, i);
            return 0;
        }

        public nint Map(long length)
        {
            MappedLength = length;
            return Mapped = (nint)NativeMemory.AlignedAlloc((nuint)length, 4096);
        }

        public void Unmap(nint address, long length)
        {
            Assert.Equal(Mapped, address);
            Unmapped = true;
            NativeMemory.AlignedFree((void*)address);
        }

        public void Dispose() { }
    }

    [Fact]
    public void IoctlNumberIsPrivcmdHypercall() => Assert.Equal(0x305000u, PrivcmdHypercalls.IoctlHypercall);

    [Fact]
    public void HypercallBlockCarriesXenoprofOpSubOpAndArgument()
    {
        var dev = new FakeDevice { Reply = XenoprofAbi.EPERM };
        using var h = new PrivcmdHypercalls(dev);
        var arg = new byte[8];
        Assert.Equal(XenoprofAbi.EPERM, h.Op(XenoprofOp.Start, arg));
        Assert.Equal(0x305000u, dev.Request);
        Assert.Equal(48, dev.Block.Length);
        Assert.Equal(31UL, BinaryPrimitives.ReadUInt64LittleEndian(dev.Block));
        Assert.Equal(9UL, BinaryPrimitives.ReadUInt64LittleEndian(dev.Block.AsSpan(8)));
        Assert.NotEqual(0UL, BinaryPrimitives.ReadUInt64LittleEndian(dev.Block.AsSpan(16)));
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(dev.Block.AsSpan(24)));
        h.Op(XenoprofOp.Stop, Span<byte>.Empty);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(dev.Block.AsSpan(16)));
    }

    [Fact]
    public void MissingDeviceSaysSoClearly()
    {
        var e = Assert.Throws<XenUnavailableException>(() => PrivcmdHypercalls.Open("/nonexistent/xen/privcmd"));
        Assert.Contains("not a Xen dom0", e.Message);
        Assert.Contains("--hypervisor=emulated", e.Message);
    }

    [Fact]
    public void IoctlNumbersMatchLinuxUapi()
    {
        Assert.Equal(0x205004u, PrivcmdHypercalls.IoctlMmapBatchV2);
        Assert.Equal(0x44500u, XenEventChannel.IoctlBindVirq);
        Assert.Equal(0x7FF0, PrivcmdHypercalls.DomidSelf);
    }

    [Fact]
    public unsafe void MapBuffersMapsTheMachineFramesAsDomidSelfAndChecksEachHeader()
    {
        // Two VCPUs, 16 entries each: bufsize 48 + 16*16 = 304, both in one page at machine address 0x1234000.
        var dev = new FakeDevice { NBuf = 2 };
        var log = new StringWriter();
        using var h = new PrivcmdHypercalls(dev, log: log);
        var set = h.MapBuffers(0x1234000, 2, 304, 0, passive: false);
        Assert.Equal(PrivcmdHypercalls.IoctlMmapBatchV2, dev.Request);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(dev.Block));
        Assert.Equal(0x7FF0, BinaryPrimitives.ReadUInt16LittleEndian(dev.Block.AsSpan(4)));
        Assert.Equal((ulong)dev.Mapped, BinaryPrimitives.ReadUInt64LittleEndian(dev.Block.AsSpan(8)));
        Assert.Equal([0x1234UL], dev.Frames);
        Assert.Equal(1u, XenoprofBufHeader.Read(set.Buffer(1)).VcpuId);
        Assert.Equal(16u, XenoprofBufHeader.Read(set.Buffer(0)).Size);
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("IOCTL_PRIVCMD_MMAPBATCH_V2 (dom=DOMID_SELF, mfn=0x1234, 1 pages", lines[0]);
        Assert.EndsWith("-> 0", lines[0]);
        Assert.Contains("buffer 1: vcpu_id=1 event_size=16 event_head=0 event_tail=0", lines[2]);
        h.Dispose();
        Assert.True(dev.Unmapped);
    }

    [Fact]
    public void RefusedFrameUnmapsAndNamesTheFrame()
    {
        var dev = new FakeDevice { FrameError = -1 };
        using var h = new PrivcmdHypercalls(dev);
        var e = Assert.Throws<XenoprofMappingException>(() => h.MapBuffers(0x2000000, 1, 8192, 0, false));
        Assert.Contains("mfn 0x2001", e.Message);
        Assert.Contains("errno 1", e.Message);
        Assert.True(dev.Unmapped);
    }

    [Fact]
    public void HeaderThatDoesNotMatchTheGeometryIsRefused()
    {
        var dev = new FakeDevice { EventSize = 99 };
        using var h = new PrivcmdHypercalls(dev);
        var e = Assert.Throws<XenoprofMappingException>(() => h.MapBuffers(0x1000, 1, 304, 0, false));
        Assert.Contains("event_size=99", e.Message);
    }

    [Fact]
    public void LogDecodesInitAndNamesErrors()
    {
        var dev = new FakeDevice();
        var log = new StringWriter();
        using var h = new PrivcmdHypercalls(dev, log: log);
        var arg = new byte[XenoprofInit.Size];
        new XenoprofInit(4, true, "x86-64/hammer").Write(arg);
        h.Op(XenoprofOp.Init, arg);
        dev.Reply = XenoprofAbi.EBUSY;
        h.Op(XenoprofOp.ReserveCounters, Span<byte>.Empty);
        Assert.Equal(["XENOPROF_init -> 0 (num_events=4, is_primary=1, cpu_type=x86-64/hammer)", "XENOPROF_reserve_counters -> -EBUSY"],
            log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public void MissingEventChannelDeviceSaysWhichDriver()
    {
        var e = Assert.Throws<XenUnavailableException>(() => XenEventChannel.BindVirq(devicePath: "/nonexistent/xen/evtchn"));
        Assert.Contains("modprobe xen-evtchn", e.Message);
    }

    [Theory]
    [InlineData("x86-64/hammer", "CPU_CLK_UNHALTED", 0x76u, 0u)]
    [InlineData("x86-64/family10", "INST_RETIRED", 0xc0u, 0u)]
    [InlineData("i386/arch_perfmon", "CPU_CLK_UNHALTED", 0x3cu, 0u)]
    [InlineData("i386/core_2", "LLC_MISSES", 0x2eu, 0x41u)]
    public void NativeEventCodesPerCpuType(string cpuType, string name, uint code, uint mask) =>
        Assert.Equal((code, mask), XenoprofNativeEvents.Resolve(cpuType, name));

    [Fact]
    public void UnknownCpuTypeOrEventIsAUserError()
    {
        Assert.Contains("i386/p4", Assert.Throws<XenProf.Hypervisor.Binary.XenProfUserException>(() => XenoprofNativeEvents.Resolve("i386/p4", "CPU_CLK_UNHALTED")).Message);
        Assert.Contains("CPU_CLOCK has no code", Assert.Throws<XenProf.Hypervisor.Binary.XenProfUserException>(() => XenoprofNativeEvents.Resolve("x86-64/hammer", "CPU_CLOCK")).Message);
    }
}
