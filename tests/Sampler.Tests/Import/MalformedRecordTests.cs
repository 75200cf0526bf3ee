using System.Buffers.Binary;
using XenProf.Hypervisor.PerfEvents.Records;
using XenProf.Sampler.Import.PerfData;
using Xunit;
using Xunit.Abstractions;

namespace XenProf.Sampler.Tests.Import;

/// <summary>A record whose size frames it soundly but whose body is malformed is skipped and counted; the rest of the file is read.</summary>
public sealed class MalformedRecordTests(ITestOutputHelper output)
{
    private sealed class Counter : IPerfDataSink
    {
        public int Samples, Mmap2;
        public void OnSample(int eventIndex, in SampleRecord sample) => Samples++;
        public void OnMmap2(in Mmap2Record mmap) => Mmap2++;
    }

    [Fact]
    public void Mmap2WithImpossibleBuildIdSize_IsSkippedAndCounted()
    {
        if (PeerData.Root == null) { output.WriteLine("SKIPPED: ../shared/peer-data not found"); return; }
        var src = Path.Combine(PeerData.Root, "linux-perf-data", "sleep.data");
        var bytes = File.ReadAllBytes(src);
        // perf_file_header: data section {offset, size} at byte 40 (tools/perf/Documentation/perf.data-file-format.txt); walk records to the first MMAP2.
        long pos = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(40));
        long end = pos + BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(48));
        long mmap2 = -1;
        while (pos + 8 <= end)
        {
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)pos));
            ushort size = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)pos + 6));
            if (type == 10) { mmap2 = pos; break; }
            if (size == 0) break;
            pos += size;
        }
        Assert.True(mmap2 > 0, "sleep.data has an MMAP2 record");

        Counter Read(byte[] data, out PerfDataReadResult result)
        {
            var file = Path.Combine(Path.GetTempPath(), "xenprof-malformed-" + Guid.NewGuid().ToString("N")[..8] + ".data");
            File.WriteAllBytes(file, data);
            try
            {
                using var reader = PerfDataReader.Open(file);
                var sink = new Counter();
                result = reader.Read(sink);
                return sink;
            }
            finally { File.Delete(file); }
        }

        var good = Read(bytes, out var goodResult);
        var bad = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(bad.AsSpan((int)mmap2 + 4), (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(bad.AsSpan((int)mmap2 + 4)) | 0x4000));
        bad[mmap2 + 40] = 254; // build_id_size where maj would be: more than the 20-byte field
        var skipped = Read(bad, out var badResult);

        Assert.Null(badResult.Error);
        Assert.Equal(1, badResult.MalformedRecords);
        Assert.Contains($"offset 0x{mmap2 + 40:x}", badResult.FirstMalformedRecord!.Message);
        Assert.Equal(good.Samples, skipped.Samples);
        Assert.Equal(good.Mmap2 - 1, skipped.Mmap2);
        Assert.Equal(goodResult.Records, badResult.Records);
    }
}
