using XenProf.Hypervisor.Binary;
using XenProf.Sampler.Import;
using XenProf.Sampler.Session;
using Xunit;

namespace XenProf.Sampler.Tests.Import;

/// <summary>
/// Truncated, corrupt and foreign input: an error naming the file, the byte offset and the structure expected; what
/// was read before is kept and the bytes skipped are counted. Built from peer-data files cut or patched in memory.
/// </summary>
public sealed class PerfDataBadInputTests
{
    private static string? Source => PeerData.Root == null ? null : Path.Combine(PeerData.Root, "perf-data-converter", "quipper", "perf.data.i686-3.4");

    private static string Temp(byte[] bytes)
    {
        var p = Path.Combine(Path.GetTempPath(), "xenprof-bad-" + Guid.NewGuid().ToString("N")[..8] + ".data");
        File.WriteAllBytes(p, bytes);
        return p;
    }

    private static SessionDirectory NewDir() => new(Path.Combine(Path.GetTempPath(), "xenprof-bad-" + Guid.NewGuid().ToString("N")[..8]));

    [Fact]
    public void TruncatedDataKeepsWhatWasReadAndCountsSkippedBytes()
    {
        if (Source == null) return;
        var all = File.ReadAllBytes(Source);
        var whole = TraceImport.Import(Source, NewDir());
        // Cut in the middle of the data section (the header still declares the full size).
        var cut = Temp(all[..(all.Length * 19 / 20 + 3)]);
        var r = TraceImport.Import(cut, NewDir());
        Assert.NotNull(r.Error);
        Assert.Equal(cut, r.Error!.Path);
        Assert.Contains("offset 0x", r.Error.Message);
        Assert.True(r.BytesSkipped > 0);
        Assert.True(r.Samples > 0 && r.Samples < whole.Samples, $"kept {r.Samples} of {whole.Samples}");
    }

    [Fact]
    public void CorruptRecordSizeStopsThereWithTheRecordType()
    {
        if (Source == null) return;
        var all = File.ReadAllBytes(Source);
        var reader = XenProf.Sampler.Import.PerfData.PerfDataReader.Open(Source);
        long data = reader.DataOffset;
        reader.Dispose();
        // Zero the size of the first record: "declares size 0, smaller than the 8-byte header".
        all[data + 6] = 0; all[data + 7] = 0;
        var p = Temp(all);
        var r = TraceImport.Import(p, NewDir());
        Assert.NotNull(r.Error);
        Assert.Equal(data, r.Error!.Offset);
        Assert.Equal("perf_event_header", r.Error.Structure);
        Assert.Contains("declares size 0", r.Error.Message);
    }

    [Fact]
    public void UnknownVersionAndForeignFilesAreRejectedAtTheHeader()
    {
        var notPerf = Temp("hello, this is not a perf.data file at all"u8.ToArray());
        var e = Assert.Throws<MalformedDataException>(() => TraceImport.Import(notPerf, NewDir()));
        Assert.Equal(0, e.Offset);

        var badSize = new byte[200];
        "PERFILE2"u8.CopyTo(badSize);
        badSize[8] = 99; // header size 99: neither 104, 72 nor 16
        var e2 = Assert.Throws<MalformedDataException>(() => TraceImport.Import(Temp(badSize), NewDir()));
        Assert.Equal(8, e2.Offset);
        Assert.Equal("perf_file_header", e2.Structure);
    }
}
