using XenProf.Hypervisor.Binary;
using XenProf.Hypervisor.PerfEvents;
using XenProf.Hypervisor.PerfEvents.Records;
using Xunit;

namespace XenProf.Hypervisor.Tests.PerfEvents;

public class RecordDecodingTests
{
    private const string Path = "test.data";
    // The sampler's layout: IDENTIFIER|IP|TID|TIME|CPU|PERIOD|CALLCHAIN, sample_id_all.
    private static readonly SampleLayout Live = new(PerfEventSampler.SampleTypeFor(callchains: true), sampleIdAll: true);

    private static RawRecord Raw(byte[] bytes, long offset = 0x1000) => new(bytes, Path, offset);

    [Fact]
    public void Sample_with_callchain_and_markers()
    {
        var b = new RecordBytes(PerfRecordType.Sample, misc: 2 /* USER */)
            .U64(77)                      // IDENTIFIER
            .U64(0x401234)                // IP
            .U32(1234).U32(1235)          // pid, tid
            .U64(999_000_111)             // TIME
            .U32(1).U32(0)                // CPU, res
            .U64(1_000_000)               // PERIOD
            .U64(5)                       // callchain nr
            .U64(PerfContext.Kernel).U64(0xffffffff81000010).U64(PerfContext.User).U64(0x401234).U64(0x401100)
            .Build();
        var s = SampleRecord.Decode(Raw(b), Live);
        Assert.Equal(77UL, s.Id);
        Assert.Equal(0x401234UL, s.Ip);
        Assert.Equal((1234u, 1235u), (s.Pid, s.Tid));
        Assert.Equal(999_000_111UL, s.Time);
        Assert.Equal(1u, s.Cpu);
        Assert.Equal(1_000_000UL, s.Period);
        Assert.Equal(CpuMode.User, s.CpuMode);
        Assert.Equal(5, s.Callchain.Length);
        var frames = PerfContext.Split(s.Callchain, s.CpuMode);
        Assert.Equal(new[]
        {
            new CallchainFrame(CpuMode.Kernel, 0xffffffff81000010),
            new CallchainFrame(CpuMode.User, 0x401234),
            new CallchainFrame(CpuMode.User, 0x401100),
        }, frames);
    }

    [Fact]
    public void Callchain_split_handles_every_marker()
    {
        ulong[] chain = [0x10, PerfContext.Hv, 0x20, PerfContext.GuestKernel, 0x30, PerfContext.GuestUser, 0x40, PerfContext.Max + 5, 0x50];
        var frames = PerfContext.Split(chain, CpuMode.Kernel);
        Assert.Equal(new[] { CpuMode.Kernel, CpuMode.Hypervisor, CpuMode.GuestKernel, CpuMode.GuestUser, CpuMode.GuestUser },
            frames.Select(f => f.Mode).ToArray());
        Assert.Equal(new ulong[] { 0x10, 0x20, 0x30, 0x40, 0x50 }, frames.Select(f => f.Address).ToArray());
    }

    [Fact]
    public void Sample_skips_every_variable_field_by_size()
    {
        var t = SampleFormat.Ip | SampleFormat.Tid | SampleFormat.Time | SampleFormat.Addr | SampleFormat.Id | SampleFormat.StreamId |
                SampleFormat.Cpu | SampleFormat.Period | SampleFormat.Read | SampleFormat.Callchain | SampleFormat.Raw |
                SampleFormat.BranchStack | SampleFormat.RegsUser | SampleFormat.StackUser | SampleFormat.Weight | SampleFormat.DataSrc |
                SampleFormat.Transaction | SampleFormat.RegsIntr | SampleFormat.PhysAddr | SampleFormat.Cgroup |
                SampleFormat.DataPageSize | SampleFormat.CodePageSize | SampleFormat.Aux;
        var layout = new SampleLayout(t, ReadFormat.Group | ReadFormat.Id | ReadFormat.TotalTimeEnabled, sampleIdAll: true,
            branchSampleType: BranchSampleType.HwIndex, sampleRegsUser: 0b111, sampleRegsIntr: 0b11);
        var b = new RecordBytes(PerfRecordType.Sample, misc: 1)
            .U64(0xffffffff81234567).U32(1).U32(2).U64(3).U64(0xdead).U64(42).U64(43).U32(1).U32(0).U64(500)
            .U64(2).U64(111).U64(10).U64(1).U64(11).U64(2)          // READ group: nr 2, time_enabled, {value,id}×2
            .U64(1).U64(0x1000)                                     // CALLCHAIN nr 1
            .U32(12).Zeros(12)                                      // RAW: size 12 (u32 + 12 = 16, aligned)
            .U64(2).U64(0x77).Zeros(48)                             // BRANCH_STACK: nr 2, hw_idx, 2×24
            .U64(2).Zeros(24)                                       // REGS_USER: abi 2, 3 regs
            .U64(16).Zeros(16).U64(8)                               // STACK_USER: size 16, bytes, dyn_size
            .U64(7).U64(8).U64(9)                                   // WEIGHT, DATA_SRC, TRANSACTION
            .U64(0)                                                 // REGS_INTR: abi 0 → no regs
            .U64(0x5000).U64(6).U64(4096).U64(4096)                 // PHYS_ADDR, CGROUP, DATA/CODE_PAGE_SIZE
            .U64(8).Zeros(8)                                        // AUX: size 8
            .Build();
        var s = SampleRecord.Decode(Raw(b), layout);
        Assert.Equal((0xffffffff81234567UL, 1u, 2u, 3UL, 0xdeadUL, 42UL, 43UL, 1u, 500UL),
            (s.Ip, s.Pid, s.Tid, s.Time, s.Addr, s.Id, s.StreamId, s.Cpu, s.Period));
        Assert.Equal(new ulong[] { 0x1000 }, s.Callchain);
        Assert.Equal(CpuMode.Kernel, s.CpuMode);

        // One byte pair short: the last field (AUX) no longer fits.
        var shortBytes = b.Take(b.Length - 8).ToArray();
        shortBytes[6] = (byte)(shortBytes.Length & 0xff); shortBytes[7] = (byte)(shortBytes.Length >> 8);
        var ex = Assert.Throws<MalformedDataException>(() => SampleRecord.Decode(Raw(shortBytes), layout));
        Assert.Equal("PERF_RECORD_SAMPLE.aux", ex.Structure);
    }

    private sealed class ArraySink : IPerfRecordSink
    {
        public readonly List<ulong[]> Chains = [];
        public void OnSample(int eventIndex, in SampleRecord sample) => Chains.Add(sample.Callchain);
    }

    [Fact]
    public void Sample_callchain_in_place_equals_the_copy_and_reaches_array_sinks_copied()
    {
        var layout = new SampleLayout(SampleFormat.Ip | SampleFormat.Tid | SampleFormat.Callchain | SampleFormat.Period);
        var b = new RecordBytes(PerfRecordType.Sample).U64(0x401000).U32(7).U32(8).U64(1000)
            .U64(4).U64(PerfContext.User).U64(0x401000).U64(0x401200).U64(0x7f0000001234).Build();
        var copy = SampleRecord.Decode(Raw(b), layout);
        var inPlace = SampleRecord.Decode(Raw(b), layout, out var chain);
        Assert.Empty(inPlace.Callchain);
        Assert.Equal(copy.Callchain, chain.ToArray());
        Assert.Equal((copy.Ip, copy.Pid, copy.Tid, copy.Period), (inPlace.Ip, inPlace.Pid, inPlace.Tid, inPlace.Period));

        // A sink that only takes arrays still gets the whole callchain, as its own copy.
        var sink = new ArraySink();
        new PerfRecordDecoder(layout).Deliver(Raw(b), sink);
        Assert.Equal(copy.Callchain, Assert.Single(sink.Chains));
    }

    [Fact]
    public void Sample_with_impossible_callchain_nr_names_its_offset()
    {
        var layout = new SampleLayout(SampleFormat.Ip | SampleFormat.Callchain);
        var b = new RecordBytes(PerfRecordType.Sample).U64(0x1).U64(1_000_000).U64(0).Build();
        var ex = Assert.Throws<MalformedDataException>(() => SampleRecord.Decode(Raw(b, 0x2000), layout));
        Assert.Equal(0x2000 + 16, ex.Offset);
        Assert.Equal("PERF_RECORD_SAMPLE.callchain", ex.Structure);
        Assert.Contains("nr 1000000", ex.Message);
    }

    [Fact]
    public void Sample_with_leftover_bytes_is_malformed()
    {
        var layout = new SampleLayout(SampleFormat.Ip);
        var b = new RecordBytes(PerfRecordType.Sample).U64(0x1).U64(0x2).Build();
        var ex = Assert.Throws<MalformedDataException>(() => SampleRecord.Decode(Raw(b), layout));
        Assert.Contains("8 bytes left", ex.Message);
    }

    [Fact]
    public void Mmap2_with_inode_and_trailer()
    {
        var b = new RecordBytes(PerfRecordType.Mmap2, misc: 2)
            .U32(100).U32(101).U64(0x7f0000000000).U64(0x21000).U64(0x1000)
            .U32(8).U32(1).U64(123456).U64(7)
            .U32(5).U32(2).Str("/usr/lib/libc.so.6")
            .Trailer(100, 101, 5555, 1, 77).Build();
        var m = Mmap2Record.Decode(Raw(b), Live);
        Assert.False(m.HasBuildId);
        Assert.True(m.IsExecutable);
        Assert.Equal((100u, 101u, 0x7f0000000000UL, 0x21000UL, 0x1000UL), (m.Pid, m.Tid, m.Address, m.Length, m.PageOffset));
        Assert.Equal((8u, 1u, 123456UL, 7UL), (m.Major, m.Minor, m.Inode, m.InodeGeneration));
        Assert.Equal((5u, 2u), (m.Protection, m.Flags));
        Assert.Equal("/usr/lib/libc.so.6", m.Filename);
        Assert.Empty(m.BuildId);
        Assert.True(m.SampleId.HasTime && m.SampleId.HasCpu && m.SampleId.HasId && m.SampleId.HasTid);
        Assert.False(m.SampleId.HasStreamId);
        Assert.Equal((100u, 101u, 5555UL, 1u, 77UL), (m.SampleId.Pid, m.SampleId.Tid, m.SampleId.Time, m.SampleId.Cpu, m.SampleId.Id));
    }

    [Fact]
    public void Mmap2_build_id_variant_and_data_mapping()
    {
        byte[] id = Enumerable.Range(0xa0, 20).Select(i => (byte)i).ToArray();
        var b = new RecordBytes(PerfRecordType.Mmap2, misc: (ushort)(2 | PerfRecordMisc.MmapBuildId | PerfRecordMisc.MmapData))
            .U32(1).U32(1).U64(0x400000).U64(0x1000).U64(0)
            .U8(20).U8(0).U16(0).Bytes(id)
            .U32(3).U32(2).Str("/bin/true")
            .Trailer(1, 1, 9, 0, 5).Build();
        var m = Mmap2Record.Decode(Raw(b), Live);
        Assert.True(m.HasBuildId);
        Assert.False(m.IsExecutable);
        Assert.Equal(id, m.BuildId);
        Assert.Equal("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3", m.BuildIdHex);
        Assert.Equal((0u, 0u, 0UL), (m.Major, m.Minor, m.Inode));
        Assert.Equal("/bin/true", m.Filename);
        Assert.Equal(9UL, m.SampleId.Time);
    }

    [Fact]
    public void Mmap2_too_small_names_record_and_offset()
    {
        var b = new RecordBytes(PerfRecordType.Mmap2).U32(1).U32(1).U64(0).Build(); // size 24
        var ex = Assert.Throws<MalformedDataException>(() => Mmap2Record.Decode(Raw(b, 0x1a2f8), Live));
        Assert.Equal(0x1a2f8, ex.Offset);
        Assert.Equal(Path, ex.Path);
        Assert.Equal("PERF_RECORD_MMAP2", ex.Structure);
        Assert.Equal("test.data: offset 0x1a2f8: PERF_RECORD_MMAP2: declares size 24, smaller than its 104-byte minimum (header 8 + body 64 + sample_id 32)", ex.Message);
    }

    [Fact]
    public void Header_declaring_less_than_eight_bytes_is_malformed()
    {
        var b = new RecordBytes(PerfRecordType.Comm).U64(0).Build(declaredSize: 4);
        var ex = Assert.Throws<MalformedDataException>(() => new RawRecord(b, Path, 64));
        Assert.Equal(64, ex.Offset);
        Assert.Contains("PERF_RECORD_COMM declares size 4", ex.Message);
        var big = new RecordBytes(PerfRecordType.Comm).U64(0).Build(declaredSize: 400);
        Assert.Throws<MalformedDataException>(() => new RawRecord(big, Path, 64));
    }

    [Fact]
    public void Mmap_without_trailer()
    {
        var b = new RecordBytes(PerfRecordType.Mmap, misc: 1).U32(uint.MaxValue).U32(0).U64(0xffffffff81000000).U64(0x1000000).U64(0)
            .Str("[kernel.kallsyms]_text").Build();
        var m = MmapRecord.Decode(Raw(b), new SampleLayout(SampleFormat.Ip));
        Assert.Equal(CpuMode.Kernel, m.CpuMode);
        Assert.Equal("[kernel.kallsyms]_text", m.Filename);
        Assert.Equal(uint.MaxValue, m.Pid);
        Assert.False(m.SampleId.IsPresent);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(PerfRecordMisc.CommExec, true)]
    public void Comm(ushort misc, bool isExec)
    {
        var b = new RecordBytes(PerfRecordType.Comm, misc).U32(10).U32(11).Str("busy-loop").Trailer(10, 11, 1, 0, 77).Build();
        var c = CommRecord.Decode(Raw(b), Live);
        Assert.Equal((10u, 11u, "busy-loop", isExec), (c.Pid, c.Tid, c.Comm, c.IsExec));
        Assert.Equal(77UL, c.SampleId.Id);
    }

    [Fact]
    public void Fork_and_exit()
    {
        var f = ForkRecord.Decode(Raw(new RecordBytes(PerfRecordType.Fork).U32(20).U32(10).U32(21).U32(11).U64(12345).Trailer(20, 21, 12345, 1, 77).Build()), Live);
        Assert.Equal((20u, 10u, 21u, 11u, 12345UL), (f.Pid, f.ParentPid, f.Tid, f.ParentTid, f.Time));
        var e = ExitRecord.Decode(Raw(new RecordBytes(PerfRecordType.Exit).U32(20).U32(10).U32(20).U32(10).U64(999).Trailer(20, 20, 999, 0, 77).Build()), Live);
        Assert.Equal((20u, 10u, 20u, 10u, 999UL), (e.Pid, e.ParentPid, e.Tid, e.ParentTid, e.Time));
        Assert.Throws<ArgumentException>(() => ExitRecord.Decode(Raw(new RecordBytes(PerfRecordType.Fork).Zeros(24).Trailer(0, 0, 0, 0, 0).Build()), Live));
    }

    [Fact]
    public void Lost_throttle_unthrottle_and_lost_samples()
    {
        var l = LostRecord.Decode(Raw(new RecordBytes(PerfRecordType.Lost).U64(77).U64(1100).Trailer(0, 0, 5, 1, 77).Build()), Live);
        Assert.Equal((77UL, 1100UL), (l.Id, l.Lost));
        var t = ThrottleRecord.Decode(Raw(new RecordBytes(PerfRecordType.Throttle).U64(1000).U64(77).U64(78).Trailer(0, 0, 1000, 0, 77).Build()), Live);
        Assert.Equal((false, 1000UL, 77UL, 78UL), (t.IsUnthrottle, t.Time, t.Id, t.StreamId));
        var u = ThrottleRecord.Decode(Raw(new RecordBytes(PerfRecordType.Unthrottle).U64(2000).U64(77).U64(78).Trailer(0, 0, 2000, 0, 77).Build()), Live);
        Assert.True(u.IsUnthrottle);
        var ls = LostSamplesRecord.Decode(Raw(new RecordBytes(PerfRecordType.LostSamples).U64(3).Trailer(0, 0, 1, 0, 77).Build()), Live);
        Assert.Equal(3UL, ls.Lost);
    }

    private sealed class Collecting : IPerfRecordSink
    {
        public readonly List<string> Seen = new();
        public void OnSample(int eventIndex, in SampleRecord sample) => Seen.Add($"sample {eventIndex} {sample.Ip:x}");
        public void OnComm(in CommRecord comm) => Seen.Add($"comm {comm.Comm}");
        public void OnLost(in LostRecord lost) => Seen.Add($"lost {lost.Lost}");
        public void OnUnknown(in RawRecord raw) => Seen.Add($"unknown {(uint)raw.Type} {raw.Size}");
        // OnMmap2, OnFork… keep their no-op defaults.
    }

    [Fact]
    public void Decoder_dispatches_maps_ids_counts_and_keeps_unknown_raw()
    {
        var decoder = new PerfRecordDecoder(Live, new Dictionary<ulong, int> { [77] = 0, [78] = 1 });
        var sink = new Collecting();
        byte[][] records =
        [
            new RecordBytes(PerfRecordType.Sample).U64(78).U64(0xabc).U32(1).U32(1).U64(1).U32(0).U32(0).U64(1).U64(0).Build(),
            new RecordBytes(PerfRecordType.Sample).U64(99).U64(0xdef).U32(1).U32(1).U64(1).U32(0).U32(0).U64(1).U64(0).Build(),
            new RecordBytes(PerfRecordType.Comm).U32(1).U32(1).Str("x").Trailer(1, 1, 1, 0, 77).Build(),
            new RecordBytes(PerfRecordType.Lost).U64(77).U64(10).Trailer(1, 1, 1, 0, 77).Build(),
            new RecordBytes(PerfRecordType.Mmap2).U32(1).U32(1).Zeros(56).Str("/x").Trailer(1, 1, 1, 0, 77).Build(),
            new RecordBytes((PerfRecordType)14).Trailer(1, 1, 1, 0, 77).Build(),                 // SWITCH
            new RecordBytes((PerfRecordType)200).U64(1).Build(),                                  // never defined
        ];
        foreach (var r in records) decoder.Deliver(Raw(r), sink);
        Assert.Equal(new[] { "sample 1 abc", "sample -1 def", "comm x", "lost 10", "unknown 14 40", "unknown 200 16" }, sink.Seen);
        Assert.Equal(2, decoder.Counts[PerfRecordType.Sample]);
        Assert.Equal(1, decoder.Counts[PerfRecordType.Mmap2]);
        Assert.Equal(7, decoder.Counts.Total);
        Assert.Equal(2, decoder.Counts.Unknown);
        Assert.Equal(1, decoder.Counts.UnattributedSamples);
        Assert.Equal(10UL, decoder.Counts.Lost);
        Assert.Equal("PERF_RECORD_SWITCH_CPU_WIDE", PerfRecordNames.Of((PerfRecordType)15));
        Assert.Equal("PERF_RECORD_TYPE_200", PerfRecordNames.Of((PerfRecordType)200));
    }
}
