using System.Buffers.Binary;
using XenProf.Hypervisor.Xenoprof;
using XenProf.Hypervisor.Xenoprof.Internal;
using Xunit;

namespace XenProf.Hypervisor.Tests.Xenoprof;

// PrivcmdHypercalls up to the ioctl boundary: the request number from include/uapi/xen/privcmd.h and the
// privcmd_hypercall block; a clear error where /dev/xen/privcmd is absent.
public class PrivcmdTests
{
    private sealed class FakeDevice : IPrivcmdDevice
    {
        public uint Request;
        public byte[] Block = [];
        public int Reply;
        public int Hypercall(uint request, ReadOnlySpan<byte> block) { Request = request; Block = block.ToArray(); return Reply; }
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
    public void MappingBuffersIsNotSupportedAndSaysWhy()
    {
        using var h = new PrivcmdHypercalls(new FakeDevice());
        Assert.Throws<NotSupportedException>(() => h.MapBuffers(0x1000, 1, 304, 0, false));
    }
}
