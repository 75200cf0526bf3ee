using XenProf.Hypervisor.PerfEvents;
using XenProf.Hypervisor.PerfEvents.Records;
using Xunit;

namespace XenProf.Hypervisor.Tests.PerfEvents;

public class SampleLayoutTests
{
    // One case per line: sample_type bits (names joined by |), read_format, sample_id_all →
    //   trailer size, SAMPLE id offset, trailer id distance from end, SAMPLE time offset, trailer time distance, READ block size.
    // Sources: include/uapi/linux/perf_event.h (enum perf_event_sample_format, enum perf_event_read_format,
    // PERF_RECORD_SAMPLE, struct sample_id) and perf_output_sample in kernel/events/core.c.
    private const string Cases = """
        # sample_type                                 | read_format           | all | trailer | sid | tid | stime | ttime | read
        IP|TID|TIME|CPU|PERIOD|IDENTIFIER             | None                  | 1   | 32      | 0   | 8   | 24    | 24    | 8
        IP|TID|TIME|CPU|PERIOD|IDENTIFIER|CALLCHAIN   | None                  | 0   | 0       | 0   | -1  | 24    | -1    | 8
        IP|TID|TIME|ID|CPU|PERIOD                     | None                  | 1   | 32      | 24  | 16  | 16    | 24    | 8
        IP|TID|TIME|ADDR|ID|STREAM_ID|CPU             | TotalTimeEnabled|Id    | 1   | 40      | 32  | 24  | 16    | 32    | 24
        IP|PERIOD                                     | None                  | 1   | 0       | -1  | -1  | -1    | -1    | 8
        IP|TID|READ                                   | Group|Id|Lost         | 1   | 8       | -1  | -1  | -1    | -1    | -1
        TIME                                          | TotalTimeRunning      | 1   | 8       | -1  | -1  | 0     | 8     | 16
        IDENTIFIER|ID|TIME                            | None                  | 1   | 24      | 0   | 8   | 8     | 24    | 8
        """;

    public static IEnumerable<object[]> Rows() =>
        Cases.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
             .Select(l => new object[] { l });

    [Theory]
    [MemberData(nameof(Rows))]
    public void Layout(string line)
    {
        // Columns are separated by " | "; bit lists inside a column use a bare "|".
        var cols = line.Split(" | ", StringSplitOptions.TrimEntries);
        Assert.Equal(9, cols.Length);
        var t = ParseBits<SampleFormat>(cols[0]);
        var rf = cols[1] == "None" ? ReadFormat.None : ParseBits<ReadFormat>(cols[1]);
        var layout = new SampleLayout(t, rf, cols[2] == "1");
        var actual = new[] { layout.TrailerSize, layout.SampleIdOffset, layout.TrailerIdFromEnd, layout.SampleTimeOffset, layout.TrailerTimeFromEnd, layout.ReadBlockSize };
        var expected = cols.Skip(3).Select(int.Parse).ToArray();
        Assert.Equal(expected, actual);
    }

    private static T ParseBits<T>(string s) where T : struct, Enum
    {
        ulong v = 0;
        foreach (var name in s.Split('|', StringSplitOptions.TrimEntries))
            v |= Convert.ToUInt64(Enum.Parse<T>(name.Replace("_", ""), ignoreCase: true));
        return (T)Enum.ToObject(typeof(T), v);
    }

    [Fact]
    public void Group_read_sizes_and_registers()
    {
        var l = new SampleLayout(SampleFormat.Read | SampleFormat.RegsUser, ReadFormat.Group | ReadFormat.Id | ReadFormat.TotalTimeEnabled | ReadFormat.TotalTimeRunning,
            sampleRegsUser: 0xff, sampleRegsIntr: 0x3, branchSampleType: BranchSampleType.Counters);
        Assert.Equal(24, l.ReadGroupHeaderSize);
        Assert.Equal(16, l.ReadValueSize);
        Assert.Equal(8, l.RegsUserCount);
        Assert.Equal(2, l.RegsIntrCount);
        Assert.True(l.BranchHasCounters);
        Assert.False(l.BranchHasHwIndex);
    }

    [Fact]
    public void Id_and_time_found_without_decoding()
    {
        var live = new SampleLayout(PerfEventSampler.SampleTypeFor(false), sampleIdAll: true);
        var sample = new RecordBytes(PerfRecordType.Sample).U64(77).U64(1).U32(2).U32(3).U64(4444).U32(0).U32(0).U64(1).Build();
        Assert.True(live.TryGetId(new RawRecord(sample, "t", 0), out ulong id));
        Assert.Equal(77UL, id);
        Assert.True(live.TryGetTime(new RawRecord(sample, "t", 0), out ulong time));
        Assert.Equal(4444UL, time);
        var comm = new RecordBytes(PerfRecordType.Comm).U32(1).U32(1).Str("a").Trailer(1, 1, 5555, 1, 78).Build();
        Assert.True(live.TryGetId(new RawRecord(comm, "t", 0), out id));
        Assert.Equal(78UL, id);
        Assert.True(live.TryGetTime(new RawRecord(comm, "t", 0), out time));
        Assert.Equal(5555UL, time);
        var tool = new RecordBytes(PerfRecordType.FinishedRound).Build();
        Assert.False(live.TryGetTime(new RawRecord(tool, "t", 0), out _));
    }

    [Fact]
    public void Attr_gives_the_layout_it_produces()
    {
        var a = PerfEventSampler.BuildAttr(new PerfEventRequest("CPU_CLOCK", PerfType.Software, 0, 1_000_000), 0, new PerfSamplerOptions { Callchains = true });
        var l = SampleLayout.From(a);
        Assert.True(l.SampleIdAll);
        Assert.Equal(32, l.TrailerSize);
        Assert.True((l.SampleType & SampleFormat.Callchain) != 0);
    }
}
