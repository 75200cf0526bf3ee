using System.Buffers.Binary;
using XenProf.Hypervisor.Xenoprof;
using Xunit;

namespace XenProf.Hypervisor.Tests.Xenoprof;

// Ring arithmetic on raw bytes (xenoprof_add_sample in xen/common/xenoprof.c): capacity size-1, no overwrite, wrap at event_size,
// head/tail validated on every read.
public class RingTests
{
    private static byte[] NewBuffer(uint size, uint vcpu = 0)
    {
        var b = new byte[XenoprofAbi.BufferSize((int)size)];
        XenoprofRing.Initialize(b, size, vcpu);
        return b;
    }

    private static EventLogEntry E(ulong pc) => new(pc, XenoprofMode.Kernel, 0);

    [Theory]
    [InlineData(0u, 0u, 16u, 15u)]
    [InlineData(5u, 5u, 16u, 15u)]
    [InlineData(15u, 0u, 16u, 0u)]
    [InlineData(4u, 5u, 16u, 0u)]
    [InlineData(5u, 4u, 16u, 14u)]
    [InlineData(0u, 8u, 16u, 7u)]
    public void FreeSpace(uint head, uint tail, uint size, uint free) => Assert.Equal(free, XenoprofRing.FreeSpace(head, tail, size));

    [Fact]
    public void FullAfterSizeMinusOneAndNeverOverwrites()
    {
        var b = NewBuffer(16);
        for (ulong i = 0; i < 15; i++) Assert.Equal(RingWrite.Stored, XenoprofRing.TryAdd(b, 16, E(i)));
        Assert.Equal(RingWrite.Full, XenoprofRing.TryAdd(b, 16, E(99)));
        var got = new List<EventLogEntry>();
        Assert.Equal(new DrainResult(15, false), XenoprofRing.Drain(b, got));
        Assert.Equal(Enumerable.Range(0, 15).Select(i => (ulong)i), got.Select(e => e.Eip));
        Assert.Equal(15u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(XenoprofBufLayout.EventTail)));
    }

    [Fact]
    public void WrapsAtEventSize()
    {
        var b = NewBuffer(4);
        var got = new List<EventLogEntry>();
        ulong next = 0;
        for (int round = 0; round < 5; round++)
        {
            for (int i = 0; i < 3; i++) Assert.Equal(RingWrite.Stored, XenoprofRing.TryAdd(b, 4, E(next++)));
            got.Clear();
            Assert.Equal(3, XenoprofRing.Drain(b, got).Entries);
            Assert.Equal(new[] { next - 3, next - 2, next - 1 }, got.Select(e => e.Eip));
        }
        var h = XenoprofBufHeader.Read(b);
        Assert.Equal(h.Head, h.Tail);
        Assert.Equal(15u % 4, h.Head);
    }

    [Theory]
    [InlineData(16u, 0u)] // head out of range
    [InlineData(0u, 16u)] // tail out of range
    [InlineData(0xffffffffu, 3u)]
    public void CorruptHeadOrTailIsCountedNotTrusted(uint head, uint tail)
    {
        var b = NewBuffer(16);
        XenoprofRing.TryAdd(b, 16, E(1));
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(XenoprofBufLayout.EventHead), head);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(XenoprofBufLayout.EventTail), tail);
        var before = b.ToArray();
        Assert.Equal(RingWrite.Corrupt, XenoprofRing.TryAdd(b, 16, E(2)));
        var got = new List<EventLogEntry>();
        Assert.Equal(new DrainResult(0, true), XenoprofRing.Drain(b, got));
        Assert.Empty(got);
        Assert.Equal(before, b); // neither side wrote anything
    }

    [Fact]
    public void ConsumerRefusesAnEventSizeLargerThanTheBytes()
    {
        var b = NewBuffer(16);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(XenoprofBufLayout.EventSize), 1000);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(XenoprofBufLayout.EventHead), 500);
        Assert.True(XenoprofRing.Drain(b, new List<EventLogEntry>()).Corrupt);
    }

    [Fact]
    public void CompatEntriesAreTwelveBytes()
    {
        var b = new byte[XenoprofAbi.BufferSize(4, compat: true)];
        XenoprofRing.Initialize(b, 4, 1);
        XenoprofRing.TryAdd(b, 4, new EventLogEntry(0xc0101234, XenoprofMode.User, 3), compat: true);
        XenoprofRing.TryAdd(b, 4, new EventLogEntry(0xc0105678, XenoprofMode.Xen, 2), compat: true);
        Assert.Equal(0xc0105678UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(48 + 12)));
        Assert.Equal(2, b[48 + 12 + 8]);
        Assert.Equal(2, b[48 + 12 + 9]);
        var got = new List<EventLogEntry>();
        XenoprofRing.Drain(b, got, compat: true);
        Assert.Equal(new EventLogEntry(0xc0105678, XenoprofMode.Xen, 2), got[1]);
    }
}

/// <summary>Buffers shorter than their header (found by fuzzing: an ArgumentOutOfRangeException escaped Drain).</summary>
public class RingShortBufferTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(47)]
    public void ShorterThanTheHeader_IsCorruptNotAnException(int length)
    {
        var entries = new List<EventLogEntry>();
        Assert.Equal(new DrainResult(0, true), XenoprofRing.Drain(new byte[length], entries));
        Assert.Equal(new DrainResult(0, true), XenoprofRing.Drain(new byte[length], entries, compat: true));
        Assert.Empty(entries);
    }
}
