using System.Runtime.InteropServices;
using XenProf.Hypervisor.Binary;
using XenProf.Hypervisor.PerfEvents;
using XenProf.Hypervisor.PerfEvents.Records;
using Xunit;

namespace XenProf.Hypervisor.Tests.PerfEvents;

/// <summary>A ring laid out like perf_event_mmap_page + data (include/uapi/linux/perf_event.h), in native memory, written by the test as the kernel would.</summary>
internal sealed unsafe class FakeRing : IDisposable
{
    public const int Page = 4096;
    public readonly byte* Base;
    public readonly int DataSize;
    private ulong _head;

    public FakeRing(int dataSize, ulong start = 0, bool legacyNoDataOffset = false)
    {
        DataSize = dataSize;
        Base = (byte*)NativeMemory.AllocZeroed((nuint)(Page + dataSize));
        if (!legacyNoDataOffset) { *(ulong*)(Base + 1040) = Page; *(ulong*)(Base + 1048) = (ulong)dataSize; }
        _head = start;
        *(ulong*)(Base + 1024) = start;
        *(ulong*)(Base + 1032) = start;
    }

    public long Length => Page + DataSize;
    public ulong Tail => *(ulong*)(Base + 1032);

    /// <summary>Writes a record at the head (wrapping) and publishes the new head.</summary>
    public void Write(byte[] record)
    {
        for (int i = 0; i < record.Length; i++) Base[Page + (int)((_head + (ulong)i) % (ulong)DataSize)] = record[i];
        _head += (ulong)record.Length;
        Volatile.Write(ref *(ulong*)(Base + 1024), _head);
    }

    public PerfRing Open() => new((IntPtr)Base, Length, Page, "fake ring");
    public void Dispose() => NativeMemory.Free(Base);
}

public class PerfRingTests
{
    private static readonly SampleLayout Live = new(PerfEventSampler.SampleTypeFor(callchains: false), sampleIdAll: true);

    private static byte[] Sample(ulong ip) =>
        new RecordBytes(PerfRecordType.Sample, 2).U64(77).U64(ip).U32(10).U32(11).U64(ip * 10).U32(0).U32(0).U64(1000).Build(); // 56 bytes

    private sealed class Ips : IPerfRecordSink
    {
        public readonly List<ulong> Seen = new();
        public readonly List<string> Comms = new();
        public void OnSample(int eventIndex, in SampleRecord s) => Seen.Add(s.Ip);
        public void OnComm(in CommRecord c) => Comms.Add(c.Comm);
    }

    [Fact]
    public void Reads_records_that_wrap_the_ring_end_and_releases_the_tail()
    {
        // 256-byte ring starting 40 bytes before the end: the first 56-byte sample straddles the boundary.
        using var fake = new FakeRing(256, start: 256 - 40);
        using var ring = fake.Open();
        var sink = new Ips();
        var decoder = new PerfRecordDecoder(Live);
        fake.Write(Sample(1));
        fake.Write(new RecordBytes(PerfRecordType.Comm).U32(10).U32(10).Str("wrapped-comm").Trailer(10, 10, 1, 0, 77).Build());
        fake.Write(Sample(2));
        Assert.Equal(3, ring.Drain(decoder, sink));
        Assert.Equal(new ulong[] { 1, 2 }, sink.Seen);
        Assert.Equal(new[] { "wrapped-comm" }, sink.Comms);
        Assert.Equal(1, ring.WrappedRecords);
        Assert.Equal(256UL - 40 + 56 + 64 + 56, fake.Tail); // COMM: 8 header + 8 pid/tid + 16 name + 32 trailer

        // Keep going round several times, mixing record sizes so the header itself sometimes straddles.
        ulong ip = 3;
        for (int round = 0; round < 20; round++)
        {
            fake.Write(Sample(ip++));
            fake.Write(new RecordBytes(PerfRecordType.Comm).U32(1).U32(1).Str(new string('c', round % 13)).Trailer(1, 1, 1, 0, 77).Build());
            fake.Write(Sample(ip++));
            ring.Drain(decoder, sink);
        }
        Assert.Equal(Enumerable.Range(1, 42).Select(i => (ulong)i), sink.Seen);
        Assert.True(ring.WrappedRecords > 5);
        Assert.Equal(0UL, ring.Pending);
    }

    [Fact]
    public void Nothing_to_read_returns_false_and_new_data_is_seen_later()
    {
        using var fake = new FakeRing(128);
        using var ring = fake.Open();
        Assert.False(ring.TryRead(out _));
        fake.Write(Sample(9));
        Assert.True(ring.TryRead(out var r));
        Assert.Equal(PerfRecordType.Sample, r.Type);
        Assert.Equal(0, r.Offset);
        ring.Release();
        Assert.Equal(56UL, fake.Tail);
        Assert.False(ring.TryRead(out _));
    }

    [Fact]
    public void Legacy_control_page_without_data_offset_uses_the_second_page()
    {
        using var fake = new FakeRing(4096, legacyNoDataOffset: true);
        using var ring = fake.Open();
        Assert.Equal(4096UL, ring.DataSize);
        fake.Write(Sample(5));
        var sink = new Ips();
        ring.Drain(new PerfRecordDecoder(Live), sink);
        Assert.Equal(new ulong[] { 5 }, sink.Seen);
    }

    [Fact]
    public unsafe void Record_beyond_head_is_malformed_with_ring_position()
    {
        using var fake = new FakeRing(256, start: 512);
        using var ring = fake.Open();
        var rec = Sample(1);
        rec[6] = 200; // declares 200 bytes, only 56 published
        fake.Write(rec);
        var ex = Assert.Throws<MalformedDataException>(() => ring.TryRead(out _));
        Assert.Equal(512, ex.Offset);
        Assert.Equal("fake ring", ex.Path);
    }

    [Fact]
    public void Data_size_must_be_a_power_of_two()
    {
        using var fake = new FakeRing(96 * 2);
        Assert.Throws<ArgumentException>(() => fake.Open());
    }
}
